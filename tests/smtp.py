"""A real SMTP server for tests and benchmarks: aiosmtpd on 127.0.0.1, a free port."""

import email
import email.policy
import socket
import threading

from aiosmtpd.controller import Controller


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """Stores every accepted message. Hooks let a test answer RCPT or DATA differently.

    rcpt_reply(address) -> an SMTP reply string to refuse with, or None to accept.
    data_reply(envelope) -> a reply string to refuse with, or None to accept; if it
    raises, the connection drops as if the server had crashed.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.envelopes = []
        self.rcpt_reply = None
        self.data_reply = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply and (reply := self.rcpt_reply(address)):
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            try:
                reply = self.data_reply(envelope)
            except Exception:
                # A crashing server: the connection drops before the message is accepted.
                server.transport.abort()
                return "421 4.3.0 Server crashed"
            if reply:
                return reply
        with self.lock:
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    # Methods, not properties: aiosmtpd inspects the handler's attributes on every connection.
    def messages(self):
        with self.lock:
            return [
                email.message_from_bytes(content, policy=email.policy.default)
                for _, _, content in self.envelopes
            ]

    def recipients(self):
        with self.lock:
            return [rcpt for _, rcpts, _ in self.envelopes for rcpt in rcpts]


def start_sink(sink=None, *, port=None):
    sink = sink or Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    return sink, controller


def mailers_for(port):
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
        }
    }
