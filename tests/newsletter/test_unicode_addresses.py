"""Addresses with a non-ASCII local part (zoë@example.com) at send time: SMTPUTF8."""

import email
import email.policy
import smtplib

import pytest
from aiosmtpd.controller import Controller

from newsletter import sending, services
from newsletter.models import Delivery, Subscriber
from newsletter.sending import deliver
from newsletter.tasks import send_confirmation_email
from tests.factories import IssueFactory, SubscriberFactory
from tests.smtp import Sink, free_port

pytestmark = pytest.mark.django_db


class RecordingSink(Sink):
    async def handle_DATA(self, server, session, envelope):
        self.mail_options = list(envelope.mail_options)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture(params=[True, False], ids=["smtputf8", "ascii-only"])
def server(request, settings):
    sink = RecordingSink()
    controller = Controller(
        sink, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=request.param
    )
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "newsroom.mail.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 10},
        }
    }
    sink.smtputf8 = request.param
    yield sink
    controller.stop()


def _send_roundup():
    issue = IssueFactory()
    services.start_sending(issue=issue, enqueue=False)
    sending.create_deliveries(issue)
    deliver(issue.pk, wait=lambda seconds: None)
    return issue


def test_a_roundup_reaches_a_unicode_address_when_the_server_speaks_smtputf8(server):
    zoe = SubscriberFactory(email="zoë@example.com")
    SubscriberFactory(email="ann@example.com")
    _send_roundup()
    delivery = Delivery.objects.get(subscriber=zoe)
    if server.smtputf8:
        assert delivery.status == Delivery.Status.SENT
        assert sorted(server.recipients()) == ["ann@example.com", "zoë@example.com"]
        message = next(m for m in server.messages() if "zo" in m["To"])
        assert message["To"] == "zoë@example.com"
    else:
        # Refused as the server itself would: this copy fails, the others go.
        assert delivery.status == Delivery.Status.FAILED
        assert "5.6.7" in delivery.error and "SMTPUTF8" in delivery.error
        assert server.recipients() == ["ann@example.com"]
        assert Subscriber.objects.get(pk=zoe.pk).status == Subscriber.Status.ACTIVE
    assert Delivery.objects.get(subscriber__email="ann@example.com").status == "sent"


def test_a_confirmation_reaches_a_unicode_address_over_smtputf8(server):
    zoe = SubscriberFactory(email="zoë@example.com", status="pending", confirmed_at=None)
    if not server.smtputf8:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            send_confirmation_email.call(zoe.pk)
        return
    send_confirmation_email.call(zoe.pk)
    assert server.recipients() == ["zoë@example.com"]
    assert "SMTPUTF8" in server.mail_options
    [(_, _, content)] = server.envelopes
    parsed = email.message_from_bytes(content, policy=email.policy.default)
    assert parsed["To"] == "zoë@example.com"
