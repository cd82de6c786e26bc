"""The round-up as MIME: rendered once per issue, filled in per subscriber.

The templates are rendered, the CSS inlined, the headers encoded and the bodies
quoted-printable encoded once per issue but for the lines holding the token; per
subscriber only the address, Message-ID, Date and unsubscribe token are filled in, which
keeps a worker fast and its memory flat.
"""

import binascii
import dataclasses
import email.message
import email.policy
import email.utils
import functools
import uuid

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone

from newsletter.bounces.returnpath import return_path_for
from newsletter.emails import absolute_url, render_roundup
from newsletter.tokens import make_unsubscribe_token
from newsroom.mail import needs_smtputf8

TOKEN_SLOT = "NEWSLETTERUNSUBSCRIBETOKEN"
POLICY = email.policy.SMTP


class RawMIME:
    """A prepared message that backends serialise as is (they call message().as_bytes())."""

    def __init__(self, raw):
        self.raw = raw

    def as_bytes(self, *args, **kwargs):
        return self.raw

    def as_string(self, *args, **kwargs):
        return self.raw.decode("utf-8", "replace")

    def get_charset(self):
        return None

    def parsed(self):
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    def __getitem__(self, name):
        return self.parsed()[name]


class PreparedEmail(EmailMessage):
    """An EmailMessage whose MIME bytes were assembled ahead of time."""

    def __init__(self, *, raw, from_email, to, subject, body, html, headers):
        super().__init__(subject, body, from_email, [to], headers=headers)
        self.raw = raw
        self.alternatives = [(html, "text/html")]

    def message(self, *, policy=POLICY):
        return RawMIME(self.raw)


def _header(name, value):
    return POLICY.fold_binary(name, value)


def _plain_header(name, value):
    """An ASCII header as is: no encoded words, which would hide a URL from mail clients.

    Anything else (non-ASCII, a line break, a line past SMTP's 998 limit) goes through
    the email package's folding.
    """
    line = f"{name}: {value}\r\n"
    if line.isascii() and "\n" not in value and "\r" not in value and len(line) <= 998:
        return line.encode("ascii")
    return _header(name, value)


def _address_header(name, address):
    """An address as is: UTF-8 for a non-ASCII local part (RFC 6532, sent with SMTPUTF8),
    which the email package would otherwise turn into an undeliverable encoded word."""
    if needs_smtputf8(address) and not any(char in address for char in "\r\n"):
        return f"{name}: {address}\r\n".encode()
    return _plain_header(name, address)


def _qp(text):
    data = binascii.b2a_qp(text.encode("utf-8"), istext=True)
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _qp_template(text):
    """`text` quoted-printable encoded ahead of time, but for the lines holding TOKEN_SLOT.

    Returns bytes for the fixed stretches and str for each line to encode per subscriber.
    b2a_qp works line by line (soft breaks, trailing blanks, a lone dot all look only at
    their own line), so encoding the lines apart gives exactly the bytes of encoding the
    whole, for the cost of the few lines that differ.
    """
    *lines, last = text.split("\n")
    parts, fixed = [], []
    for line in [f"{line}\n" for line in lines] + [last]:
        if TOKEN_SLOT in line:
            if fixed:
                parts.append(_qp("".join(fixed)))
                fixed = []
            parts.append(line)
        else:
            fixed.append(line)
    if fixed:
        parts.append(_qp("".join(fixed)))
    return parts


def _fill_qp(parts, token):
    return b"".join(
        part if isinstance(part, bytes) else _qp(part.replace(TOKEN_SLOT, token)) for part in parts
    )


def _unsubscribe_header(url, mailto):
    """RFC 2369: the two URIs as they are, folded between them, never encoded."""
    first, second = f"List-Unsubscribe: <{url}>,", f" <{mailto}>"
    if all(line.isascii() and len(line) <= 996 for line in (first, second)) and not any(
        char in url + mailto for char in "\r\n"
    ):
        return f"{first}\r\n{second}\r\n".encode("ascii")
    return _header("List-Unsubscribe", f"<{url}>, <{mailto}>")


@dataclasses.dataclass
class PreparedRoundup:
    """One issue rendered once; `message_for()` fills in a subscriber."""

    subject: str
    from_email: str
    text: str
    html: str
    head: bytes  # headers shared by every copy
    boundary: str
    list_id: str
    issue_id: int | None = None  # names each copy in its return path (bounces.returnpath)

    @classmethod
    def for_issue(cls, issue, *, subject_prefix=""):
        unsubscribe_url = cls.unsubscribe_url(TOKEN_SLOT)
        text, html = render_roundup(issue, unsubscribe_url=unsubscribe_url)
        subject = f"{subject_prefix}{issue.subject}"
        list_id = f"{settings.SITE_NAME} weekly round-up <roundup.{settings.SITE_HOST}>"
        boundary = f"=_nl_{uuid.uuid4().hex}"
        head = b"".join(
            [
                _header("From", settings.DEFAULT_FROM_EMAIL),
                _header("Subject", subject),
                _header("List-Id", list_id),
                _header("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
                _header("Precedence", "bulk"),
                _header("MIME-Version", "1.0"),
                _header("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
            ]
        )
        return cls(
            subject=subject,
            from_email=settings.DEFAULT_FROM_EMAIL,
            text=text,
            html=html,
            head=head,
            boundary=boundary,
            list_id=list_id,
            issue_id=issue.pk,
        )

    @staticmethod
    def unsubscribe_url(token):
        return absolute_url(reverse("newsletter:unsubscribe", kwargs={"token": token}))

    @functools.cached_property
    def _unsubscribe_template(self):
        return self.unsubscribe_url(TOKEN_SLOT)  # reversed once, not per subscriber

    @functools.cached_property
    def _encoded_text(self):
        return _qp_template(self.text)

    @functools.cached_property
    def _encoded_html(self):
        return _qp_template(self.html)

    def message_for(self, subscriber, *, token=None):
        token = token or make_unsubscribe_token(subscriber)
        url = self._unsubscribe_template.replace(TOKEN_SLOT, token)
        mailto = f"mailto:{settings.NEWSLETTER_UNSUBSCRIBE_MAILTO}?subject=unsubscribe%20{token}"
        headers = {
            "To": subscriber.email,
            "Date": email.utils.format_datetime(timezone.now()),
            "Message-ID": email.utils.make_msgid(domain=settings.SITE_HOST),
            "List-Unsubscribe": f"<{url}>, <{mailto}>",
        }
        unsubscribe = _unsubscribe_header(url, mailto)
        text = self.text.replace(TOKEN_SLOT, token)
        html = self.html.replace(TOKEN_SLOT, token)
        b = self.boundary.encode()
        raw = b"".join(
            [
                self.head,
                _address_header("To", headers["To"]),
                _plain_header("Date", headers["Date"]),
                _plain_header("Message-ID", headers["Message-ID"]),
                unsubscribe,
                b"\r\n--",
                b,
                b'\r\nContent-Type: text/plain; charset="utf-8"\r\n'
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                _fill_qp(self._encoded_text, token),
                b"\r\n--",
                b,
                b'\r\nContent-Type: text/html; charset="utf-8"\r\n'
                b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
                _fill_qp(self._encoded_html, token),
                b"\r\n--",
                b,
                b"--\r\n",
            ]
        )
        headers.pop("To")
        headers["List-Id"] = self.list_id
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message = PreparedEmail(
            raw=raw,
            from_email=self.from_email,
            to=subscriber.email,
            subject=self.subject,
            body=text,
            html=html,
            headers=headers,
        )
        message.return_path = return_path_for(issue_id=self.issue_id, subscriber_id=subscriber.pk)
        return message
