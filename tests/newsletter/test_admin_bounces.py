"""The subscriber admin: bounce history and the suppress / unsuppress actions."""

import pytest
from django.contrib.admin.models import LogEntry
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from newsletter.bounces.services import record_event
from newsletter.models import BounceEvent, Delivery, Subscriber
from tests.factories import IssueFactory, SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    user = UserFactory(is_staff=True, is_superuser=True, email="editor@example.com")
    client.force_login(user)
    return user


def _events(subscriber, count):
    issue = IssueFactory(subject="The week of 23 November")
    delivery = Delivery.objects.create(issue=issue, subscriber=subscriber, status="sent")
    for n in range(count):
        record_event(
            subscriber=subscriber,
            delivery=delivery if n == 0 else None,
            kind=BounceEvent.Kind.SOFT,
            source=BounceEvent.Source.MAILBOX,
            status_code="4.2.2",
            diagnostic=f"452 4.2.2 mailbox full (report {n})",
            reference=f"<report-{issue.pk}-{n}@mx.example.org>",
        )


def test_the_subscriber_page_shows_the_bounce_history_in_a_fixed_number_of_queries(
    client, editor, django_assert_max_num_queries
):
    subscriber = SubscriberFactory()
    _events(subscriber, 1)
    url = f"/admin/newsletter/subscriber/{subscriber.pk}/change/"
    with CaptureQueriesContext(connection) as one_event:
        response = client.get(url)
    assert "Bounce history" in response.text
    assert "452 4.2.2 mailbox full (report 0)" in response.text
    assert "The week of 23 November" in response.text
    _events(subscriber, 10)
    with django_assert_max_num_queries(len(one_event)):
        response = client.get(url)
    assert response.text.count("mailbox full (report") == 11


def test_saving_the_subscriber_form_unchanged_changes_nothing(client, editor):
    subscriber = SubscriberFactory(is_suppressed=True, status="unsubscribed")
    _events(subscriber, 2)
    before = list(Subscriber.objects.values())
    response = client.post(
        f"/admin/newsletter/subscriber/{subscriber.pk}/change/",
        {
            "email": subscriber.email,
            "status": "unsubscribed",
            "is_suppressed": "on",
            "bounce_events-TOTAL_FORMS": "2",
            "bounce_events-INITIAL_FORMS": "2",
            "bounce_events-MIN_NUM_FORMS": "0",
            "bounce_events-MAX_NUM_FORMS": "1000",
            **{
                f"bounce_events-{i}-id": str(pk)
                for i, pk in enumerate(subscriber.bounce_events.values_list("pk", flat=True))
            },
            **{f"bounce_events-{i}-subscriber": str(subscriber.pk) for i in range(2)},
        },
    )
    assert response.status_code == 302
    assert list(Subscriber.objects.values()) == before
    assert BounceEvent.objects.count() == 2


def test_bulk_suppress_and_unsuppress(client, editor, django_capture_on_commit_callbacks):
    chosen = SubscriberFactory.create_batch(2)
    other = SubscriberFactory()
    ids = [str(s.pk) for s in chosen]
    response = client.post(
        "/admin/newsletter/subscriber/", {"action": "suppress", "_selected_action": ids}
    )
    assert response.status_code == 302
    assert set(Subscriber.objects.filter(is_suppressed=True)) == set(chosen)
    assert list(Subscriber.objects.active()) == [other]
    assert LogEntry.objects.filter(change_message="Suppressed.").count() == 2
    # A suppressed address that signs up again is sent nothing.
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/newsletter/", {"email": chosen[0].email, "source": "/"})
    assert not mail.outbox
    client.post("/admin/newsletter/subscriber/", {"action": "unsuppress", "_selected_action": ids})
    assert not Subscriber.objects.filter(is_suppressed=True).exists()
    assert Subscriber.objects.active().count() == 3


def test_the_suppressed_filter_lists_only_suppressed_addresses(client, editor):
    suppressed = SubscriberFactory(is_suppressed=True)
    SubscriberFactory()
    response = client.get("/admin/newsletter/subscriber/?is_suppressed__exact=1")
    assert list(response.context["cl"].result_list) == [suppressed]


def test_the_bounce_list_shows_every_event_and_searches_by_address(client, editor):
    ann = SubscriberFactory(email="ann@example.org")
    _events(ann, 2)
    _events(SubscriberFactory(email="bob@example.org"), 1)
    response = client.get("/admin/newsletter/bounceevent/?q=ann@example.org")
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 2
