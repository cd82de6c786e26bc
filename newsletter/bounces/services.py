"""The rules for what comes back, in one place whatever the source.

- a hard bounce marks the subscriber bounced at once;
- soft bounces mark them bounced when the last NEWSLETTER_SOFT_BOUNCE_LIMIT round-ups
  sent to them all came back soft: a copy that did not come back (a delivery) breaks
  the run, so the count starts again after any successful week;
- a complaint unsubscribes and suppresses (never email this address again, even if a
  sign-up asks for it);
- a mail to the unsubscribe address unsubscribes.

Each event is kept (BounceEvent) for the subscriber's history in the admin. The same
report read twice (a mailbox read again after a crash, a webhook retried) counts once.
"""

import dataclasses
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from newsletter.bounces import reports
from newsletter.models import BounceEvent, Delivery, Subscriber
from newsletter.tokens import TokenInvalid, read_unsubscribe_token

logger = logging.getLogger(__name__)

Kind = BounceEvent.Kind


@dataclasses.dataclass
class Outcome:
    """What handling one message or notification did, for logs and command output."""

    recorded: list = dataclasses.field(default_factory=list)  # BounceEvents
    duplicates: int = 0
    unmatched: int = 0  # about no subscriber we can identify
    ignored: str = ""  # why nothing was done, when nothing was

    @property
    def handled(self):
        return bool(self.recorded or self.duplicates)

    def __str__(self):
        if self.recorded:
            return "; ".join(
                f"{event.get_kind_display()} for {event.subscriber.email}"
                + (f" ({event.status_code})" if event.status_code else "")
                for event in self.recorded
            )
        if self.duplicates:
            return "already recorded"
        return self.ignored or "nothing to do"


def record_event(
    *, subscriber, kind, source, delivery=None, status_code="", diagnostic="", reference=""
):
    """Keep one event and apply its rule. None when the same report was recorded before."""
    now = timezone.now()
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber.pk).first()
        if subscriber is None:  # erased meanwhile ("Delete my data"): nothing to keep
            return None
        try:
            with transaction.atomic():
                event = BounceEvent.objects.create(
                    subscriber=subscriber,
                    delivery=delivery,
                    kind=kind,
                    source=source,
                    status_code=(status_code or "")[:16],
                    diagnostic=(diagnostic or "")[:2000],
                    reference=(reference or "")[:255],
                    received_at=now,
                )
        except IntegrityError:
            return None
        changed = []
        if kind == Kind.HARD or (kind == Kind.SOFT and _soft_limit_reached(subscriber)):
            if subscriber.status in (Subscriber.Status.ACTIVE, Subscriber.Status.PENDING):
                subscriber.status = Subscriber.Status.BOUNCED
                subscriber.bounced_at = now
                changed += ["status", "bounced_at"]
        elif kind in (Kind.COMPLAINT, Kind.UNSUBSCRIBE):
            if subscriber.status != Subscriber.Status.UNSUBSCRIBED:
                subscriber.status = Subscriber.Status.UNSUBSCRIBED
                subscriber.unsubscribed_at = now
                changed += ["status", "unsubscribed_at"]
            if kind == Kind.COMPLAINT and not subscriber.is_suppressed:
                subscriber.is_suppressed = True
                changed.append("is_suppressed")
        if changed:
            subscriber.save(update_fields=changed)
    event.subscriber = subscriber
    logger.info("Newsletter: %s for subscriber %s (%s)", kind, subscriber.pk, source)
    return event


def soft_bounce_run(subscriber, *, limit=None):
    """How many of the latest round-ups sent to `subscriber` came back soft, in a row.

    A copy the server accepted and nothing came back for breaks the run; a copy that
    failed for another reason (no bounce event) neither counts nor breaks it.
    """
    limit = max(1, limit or settings.NEWSLETTER_SOFT_BOUNCE_LIMIT)
    # Deliveries are created when an issue starts sending: newest first by primary key.
    recent = list(
        Delivery.objects.filter(
            subscriber=subscriber, status__in=[Delivery.Status.SENT, Delivery.Status.FAILED]
        )
        .order_by("-pk")
        .values_list("pk", "status")[: 3 * limit]
    )
    soft = set(
        BounceEvent.objects.filter(
            delivery__in=[pk for pk, _ in recent], kind=Kind.SOFT
        ).values_list("delivery_id", flat=True)
    )
    run = 0
    for delivery_id, status in recent:
        if delivery_id in soft:
            run += 1
            if run >= limit:
                break
        elif status == Delivery.Status.SENT:
            break
    return run


def _soft_limit_reached(subscriber):
    return soft_bounce_run(subscriber) >= max(1, settings.NEWSLETTER_SOFT_BOUNCE_LIMIT)


def record_rejection(*, delivery, error, hard):
    """A refusal in the SMTP conversation itself (the worker's mark_failed): a hard
    bounce for "no such user", a soft one for anything else."""
    return record_event(
        subscriber=Subscriber(pk=delivery.subscriber_id),
        delivery=delivery,
        kind=Kind.HARD if hard else Kind.SOFT,
        source=BounceEvent.Source.SMTP,
        status_code=next(iter(reports.STATUS.findall(error)), ""),
        diagnostic=error,
        reference=f"delivery-{delivery.pk}",
    )


def latest_delivery(subscriber, *, before=None):
    """The round-up copy a provider's report about `subscriber` most likely concerns."""
    deliveries = Delivery.objects.filter(subscriber=subscriber, status=Delivery.Status.SENT)
    if before is not None:
        deliveries = deliveries.filter(sent_at__lte=before)
    return deliveries.order_by("-sent_at", "-pk").first()


# ---------------------------------------------------------------------------
# A returned message (mailbox or pipe)


def handle_message(raw, *, source, envelope_recipient=""):
    """Read one message that came back and apply what it says. Returns an Outcome."""
    report = reports.parse(raw, envelope_recipient=envelope_recipient)
    outcome = Outcome()
    if report.kind is None:
        outcome.ignored = f"not a bounce, complaint or unsubscribe request ({report.form})"
        return outcome
    targets = []  # (subscriber, delivery)
    for token in report.unsubscribe_tokens:
        try:
            subscriber = read_unsubscribe_token(token)
        except TokenInvalid:
            continue
        targets.append((subscriber, None))
    if not targets:
        for token in report.tokens:
            subscriber = Subscriber.objects.filter(pk=token.subscriber_id).first()
            if subscriber is None:
                continue
            delivery = None
            if token.issue_id:
                delivery = Delivery.objects.filter(
                    issue_id=token.issue_id, subscriber=subscriber
                ).first()
            targets.append((subscriber, delivery))
    if report.kind in (Kind.COMPLAINT, Kind.UNSUBSCRIBE):
        # The copy a complaint is about, for the history, when the original named it.
        by_token = {t.subscriber_id: t for t in report.tokens}
        targets = [
            (subscriber, delivery or _delivery_for(by_token.get(subscriber.pk), subscriber))
            for subscriber, delivery in targets
        ]
    if not targets:
        outcome.unmatched += 1
        outcome.ignored = (
            f"a {report.form} ({report.kind}) that names no copy of ours by a signed token"
        )
        logger.warning("Newsletter: %s; recipients named: %s", outcome.ignored, report.recipients)
        return outcome
    for subscriber, delivery in targets:
        event = record_event(
            subscriber=subscriber,
            delivery=delivery,
            kind=report.kind,
            source=source,
            status_code=report.status_code,
            diagnostic=report.diagnostic,
            reference=report.reference,
        )
        if event is None:
            outcome.duplicates += 1
        else:
            outcome.recorded.append(event)
    return outcome


def _delivery_for(token, subscriber):
    if token is None or not token.issue_id:
        return None
    return Delivery.objects.filter(issue_id=token.issue_id, subscriber=subscriber).first()


# ---------------------------------------------------------------------------
# A provider's notification (webhooks)


def handle_notification(
    *,
    email,
    kind,
    source,
    reference="",
    status_code="",
    diagnostic="",
    occurred_at=None,
    hints="",
):
    """Apply a provider's verified report about `email`.

    The provider signed it, so its recipient address is trusted. `hints` is any text
    of the report that may hold our return-path token (the envelope sender SES reports,
    the original headers), which names the exact copy when present.
    """
    outcome = Outcome()
    token = next(iter(reports.returnpath.find_tokens(hints)), None)
    subscriber = None
    if token is not None:
        subscriber = Subscriber.objects.filter(pk=token.subscriber_id).first()
    if subscriber is None:
        subscriber = Subscriber.objects.with_email(email or "").first()
    if subscriber is None:
        outcome.unmatched += 1
        outcome.ignored = "no subscriber with that address"
        return outcome
    if token is not None:
        delivery = _delivery_for(token, subscriber)
    else:
        delivery = latest_delivery(subscriber, before=occurred_at)
    event = record_event(
        subscriber=subscriber,
        delivery=delivery,
        kind=kind,
        source=source,
        status_code=status_code,
        diagnostic=diagnostic,
        reference=reference,
    )
    if event is None:
        outcome.duplicates += 1
    else:
        outcome.recorded.append(event)
    return outcome
