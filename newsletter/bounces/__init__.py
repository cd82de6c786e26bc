"""Bounces and complaints: what the mail system tells us after a message has left.

- `returnpath`: the signed per-message envelope sender (VERP) that names the copy;
- `reports`: reading a bounce (RFC 3464 DSNs and the common non-standard shapes), a
  complaint (RFC 5965 ARF) or a mail to the `mailto:` unsubscribe address;
- `services`: the rules (hard bounce, soft bounces in a row, complaint, unsubscribe);
- `mailbox`: the IMAP or POP3 mailbox they arrive in (BOUNCE_MAILBOX_URL);
- `webhooks`: Amazon SES (SNS), Postmark, Mailgun and SendGrid, each verified.

They live apart from newsletter/services.py, which several people change at once.
"""
