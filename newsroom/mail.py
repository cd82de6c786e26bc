"""Django's SMTP backend plus SMTPUTF8 (RFC 6531), for addresses like zoë@example.com.

Django's backend refuses a non-ASCII local part (it IDNA-encodes domains, but nothing
can encode the part before the "@"). Mail servers that announce SMTPUTF8 (Postfix 3,
Exim 4.86+, Gmail, Microsoft 365 …) accept them: we then send with the SMTPUTF8
parameter and UTF-8 headers. A server that does not announce it is refused the
message with a clear 553 5.6.7 error (RFC 6531's "non-ASCII addresses not permitted"),
as that server itself would answer, so the newsletter records a failed delivery and
carries on; ASCII addresses are sent exactly as Django sends them.
"""

import email.policy
import email.utils
import smtplib

from django.core.mail.backends import smtp

NOT_SUPPORTED = b"5.6.7 The mail server does not announce SMTPUTF8, needed for this address"


def needs_smtputf8(address):
    local = email.utils.parseaddr(address)[1].rpartition("@")[0] or str(address)
    return not local.isascii()


def envelope_recipient(mailer, connection, address):
    """(address for RCPT TO, MAIL FROM options) on an open smtplib `connection`."""
    if not needs_smtputf8(address):
        return mailer.prep_address(address), ()
    connection.ehlo_or_helo_if_needed()
    if not connection.has_extn("smtputf8"):
        raise smtplib.SMTPRecipientsRefused({address: (553, NOT_SUPPORTED)})
    return mailer.prep_address(address, force_ascii=False), ("SMTPUTF8",)


class EmailBackend(smtp.EmailBackend):
    def _send(self, email_message):
        addresses = [email_message.from_email, *email_message.recipients()]
        if not email_message.recipients() or not any(map(needs_smtputf8, addresses)):
            return super()._send(email_message)
        try:
            self.connection.ehlo_or_helo_if_needed()
            if not self.connection.has_extn("smtputf8"):
                raise smtplib.SMTPRecipientsRefused(
                    {a: (553, NOT_SUPPORTED) for a in addresses if needs_smtputf8(a)}
                )
            self.connection.sendmail(
                self.prep_address(email_message.from_email, force_ascii=False),
                [self.prep_address(a, force_ascii=False) for a in email_message.recipients()],
                email_message.message(policy=email.policy.SMTPUTF8).as_bytes(),
                mail_options=["SMTPUTF8"],
            )
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True
