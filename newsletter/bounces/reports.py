"""Reading a message that came back: a bounce, a complaint or an unsubscribe request.

- A bounce in the standard form (RFC 3464: multipart/report with a message/delivery-status
  part), as Postfix, Sendmail, Exim 4, Gmail and Microsoft 365 send, is read field by
  field: the Action, the Status (RFC 3463) and the Diagnostic-Code of each recipient.
  A bounce in one of the older plain-text shapes (qmail, Exim without DSNs, Exchange,
  Yahoo …) is recognised by flufl.bounce, GNU Mailman's bounce detectors, which have
  met two decades of them; its codes are then read from the human-readable text.
- A complaint (RFC 5965 ARF: multipart/report with a message/feedback-report part) from
  a mailbox provider's feedback loop names the copy through the original message it
  encloses: its List-Unsubscribe link or its Return-Path.
- A mail to the `mailto:` of List-Unsubscribe carries the signed unsubscribe token in
  its subject ("unsubscribe <token>"), as our List-Unsubscribe header asks.

Which subscriber a report is about is never taken from an address it names (anyone can
write "user unknown: ann@example.com"): only from a signed token, either the return-path
token the report was sent to (see returnpath) or the unsubscribe token of the original.
"""

import dataclasses
import email
import email.header
import email.policy
import logging
import re
from urllib.parse import unquote

from flufl.bounce import all_failures

from newsletter.bounces import returnpath

logger = logging.getLogger(__name__)

HARD, SOFT, COMPLAINT, UNSUBSCRIBE = "hard", "soft", "complaint", "unsubscribe"

STATUS = re.compile(r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.])")
REPLY = re.compile(r"(?<![\d.])([245]\d\d)(?:[ -]|$)", re.MULTILINE)
MAILBOX_FULL = re.compile(
    r"mailbox (is )?full|over ?quota|quota (exceeded|full)|exceeded (its )?storage|"
    r"insufficient (disk )?space|mailbox size limit",
    re.IGNORECASE,
)
NO_SUCH_ADDRESS = re.compile(
    r"user unknown|unknown (user|recipient)|no such (user|mailbox|recipient|address)|"
    r"does not exist|doesn't exist|recipient not found|address rejected|"
    r"invalid (recipient|mailbox|address)|mailbox unavailable|account (is )?disabled",
    re.IGNORECASE,
)
# Feedback-Type values (RFC 5965 and its registry) that mean "this reader complained".
COMPLAINT_TYPES = {"abuse", "fraud", "virus", "other"}
# A signed unsubscribe token: django.core.signing's alphabet.
UNSUBSCRIBE_IN_URL = re.compile(r"/newsletter/unsubscribe/([A-Za-z0-9_\-:.]+)/")
UNSUBSCRIBE_IN_SUBJECT = re.compile(r"unsubscribe\s+([A-Za-z0-9_\-:.]{20,})", re.IGNORECASE)
MAX_DIAGNOSTIC = 1000


@dataclasses.dataclass
class Report:
    """What a returned message says. `kind` None: nothing to act on (a delay warning,
    an auto-reply, a "not spam" report, mail we do not recognise)."""

    kind: str | None = None
    form: str = "unrecognised"  # dsn, arf, plain-text bounce, unsubscribe request
    status_code: str = ""
    diagnostic: str = ""
    reference: str = ""
    tokens: list = dataclasses.field(default_factory=list)  # returnpath.ReturnPathToken
    unsubscribe_tokens: list = dataclasses.field(default_factory=list)
    recipients: list = dataclasses.field(default_factory=list)  # as named: shown, not trusted


def failure_kind(status, text):
    """HARD or SOFT for a delivery that failed with `status` (RFC 3463) and `text`.

    Hard: the address is wrong or gone (5.1.x, 5.2.1, 5.4.4 …). Soft: it may work
    next week: any 4.x.x; a full mailbox (5.2.2, 552) or a message too large; and a
    policy refusal (5.7.x: spam blocks, authentication), which is about the sender or
    the content rather than the address, unless it says the address does not exist.
    Soft bounces mark the subscriber bounced only when NEWSLETTER_SOFT_BOUNCE_LIMIT
    copies in a row come back.
    """
    status = status or ""
    text = text or ""
    if not status or status.endswith(".0.0"):
        status = next(iter(STATUS.findall(text)), status)
    if status.startswith("4"):
        return SOFT
    if status in {"5.2.2", "5.2.3", "5.3.4"} or MAILBOX_FULL.search(text):
        return SOFT
    if status.startswith("5.7"):
        return HARD if NO_SUCH_ADDRESS.search(text) else SOFT
    if status.startswith("5"):
        return HARD
    reply = next(iter(REPLY.findall(text)), "")
    if reply.startswith("4") or reply == "552":
        return SOFT
    return HARD


def parse(raw, *, envelope_recipient=""):
    """The Report for one message, given as bytes (what the MTA or the mailbox handed us)."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    report = Report(reference=_header(message, "Message-ID")[:255])
    report.tokens = _tokens(message, envelope_recipient)
    if _parts(message, "message/feedback-report"):
        _read_arf(message, report)
    elif _parts(message, "message/delivery-status"):
        _read_dsn(message, report)
    if report.form == "unrecognised":
        subject = _header(message, "Subject")
        match = UNSUBSCRIBE_IN_SUBJECT.search(unquote(subject))
        if match and not _is_automatic(message):
            report.form, report.kind = "unsubscribe request", UNSUBSCRIBE
            report.unsubscribe_tokens = [match.group(1)]
            report.diagnostic = f"Subject: {subject}"[:MAX_DIAGNOSTIC]
        else:
            _read_plain_bounce(message, report)
    if report.kind in (HARD, SOFT) and not report.tokens:
        # A bounce that names no copy of ours by a signed token: its original (if it
        # encloses one) may still carry the token in Return-Path.
        report.tokens = returnpath.find_tokens(_enclosed_text(message))
    return report


# ---------------------------------------------------------------------------


def _header(message, name):
    value = message.get(name)
    if value is None:
        return ""
    try:
        return str(email.header.make_header(email.header.decode_header(str(value)))).strip()
    except (UnicodeError, LookupError, email.errors.HeaderParseError):
        return str(value).strip()


def _parts(message, content_type):
    return [part for part in message.walk() if part.get_content_type() == content_type]


def _is_automatic(message):
    """An auto-reply (RFC 3834) asks for nothing, whatever its subject echoes."""
    return _header(message, "Auto-Submitted").lower() not in ("", "no")


def _tokens(message, envelope_recipient):
    """Return-path tokens in the addresses the report was delivered to."""
    places = [envelope_recipient]
    for name in ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To"):
        places.extend(str(value) for value in message.get_all(name, []))
    return returnpath.find_tokens(" ".join(places))


def _text(part):
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


def _enclosed_text(message):
    """The original message (or its headers) a report encloses, as text."""
    chunks = []
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            for inner in part.get_payload() or []:
                chunks.append(inner.as_string() if hasattr(inner, "as_string") else str(inner))
        elif content_type == "text/rfc822-headers":
            chunks.append(_text(part))
    return "\n".join(chunks)


def _field_blocks(part):
    """The header blocks of a message/delivery-status or message/feedback-report part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload
    text = payload if isinstance(payload, str) else ""
    return [email.message_from_string(block.strip() + "\n") for block in re.split(r"\n\s*\n", text)]


def _value(block, name):
    value = str(block.get(name, "") or "").strip()
    return " ".join(value.split())


def _read_dsn(message, report):
    report.form = "dsn"
    failed, delayed = [], []
    for part in _parts(message, "message/delivery-status"):
        for block in _field_blocks(part):
            action = _value(block, "Action").lower()
            if not action:
                continue
            recipient = _value(block, "Final-Recipient") or _value(block, "Original-Recipient")
            entry = (
                _value(block, "Status"),
                re.sub(r"^(smtp|x-[\w-]+);\s*", "", _value(block, "Diagnostic-Code"), flags=re.I),
                recipient.partition(";")[2].strip() or recipient,
            )
            # opensmtpd writes "Action: error"; some servers add comments after the word.
            if action.startswith(("failed", "error")):
                failed.append(entry)
            elif action.startswith("delayed"):
                delayed.append(entry)
    entries = failed or delayed
    if entries:
        status, diagnostic, _ = entries[0]
        report.status_code = (status.split() or [""])[0][:16]
        report.diagnostic = (diagnostic or _human_text(message))[:MAX_DIAGNOSTIC]
        report.recipients = [recipient for _, _, recipient in entries]
    if failed:
        report.kind = failure_kind(report.status_code, report.diagnostic)
    # Only delayed (or delivered, relayed, expanded): a warning, nothing has failed yet.


def _read_arf(message, report):
    report.form = "arf"
    [part, *_] = _parts(message, "message/feedback-report")
    fields = {}
    for block in _field_blocks(part):
        for name, value in block.items():
            fields.setdefault(name.lower(), " ".join(str(value).split()))
    feedback_type = fields.get("feedback-type", "").lower()
    report.diagnostic = "; ".join(
        f"{name}: {fields[name.lower()]}"
        for name in ("Feedback-Type", "User-Agent", "Source-IP", "Arrival-Date", "Reported-Domain")
        if fields.get(name.lower())
    )[:MAX_DIAGNOSTIC]
    report.status_code = feedback_type[:16]
    if fields.get("original-rcpt-to"):
        report.recipients = [fields["original-rcpt-to"]]
    enclosed = _enclosed_text(message)
    report.unsubscribe_tokens = list(dict.fromkeys(UNSUBSCRIBE_IN_URL.findall(enclosed)))
    report.tokens = report.tokens or returnpath.find_tokens(enclosed)
    if feedback_type in COMPLAINT_TYPES:
        report.kind = COMPLAINT


def _human_text(message):
    """The first text/plain part: the explanation a bounce starts with."""
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            text = _text(part)
            # qmail and others append the original below a marker: codes there are ours.
            return re.split(
                r"^-{2,}\s*(Below this line|Original message|Forwarded message)",
                text,
                maxsplit=1,
                flags=re.IGNORECASE | re.MULTILINE,
            )[0]
    return ""


def _read_plain_bounce(message, report):
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # heuristics meeting broken mail (e.g. an undecodable From header)
        logger.warning("flufl.bounce could not read a message", exc_info=True)
        return
    if not (temporary or permanent):
        return
    report.form = "plain-text bounce"
    report.recipients = sorted(
        address.decode("ascii", "replace") for address in permanent or temporary
    )
    text = _human_text(message)
    lines = [line.strip() for line in text.splitlines()]
    reason = next((line for line in lines if STATUS.search(line)), "") or next(
        (line for line in lines if REPLY.search(line)), ""
    )
    report.diagnostic = (reason or " ".join(text.split()))[:MAX_DIAGNOSTIC]
    report.status_code = next(iter(STATUS.findall(reason)), "")
    if permanent:
        report.kind = failure_kind(report.status_code, reason or text)
    # Only temporary: a "still trying" warning.
