import datetime

import pytest
from django.db import IntegrityError
from django.utils import timezone

from newsletter.charts import nice_ceiling, weekly_chart
from newsletter.models import Subscriber, normalize_email
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Ann@Example.COM ", "Ann@example.com"),
        ("x@Y.org", "x@y.org"),
        ("no-at-sign", "no-at-sign"),
    ],
)
def test_normalize_email_trims_and_lower_cases_the_domain(raw, clean):
    assert normalize_email(raw) == clean


def test_the_same_address_in_another_case_is_refused_by_the_database():
    SubscriberFactory(email="ann@example.com")
    with pytest.raises(IntegrityError):
        Subscriber.objects.bulk_create([Subscriber(email="ANN@example.com")])


def test_counts_by_status_include_empty_statuses():
    SubscriberFactory.create_batch(2)
    assert Subscriber.objects.counts_by_status() == {
        "pending": 0, "active": 2, "unsubscribed": 0, "bounced": 0
    }  # fmt: skip


def test_weekly_activity_counts_each_event_in_its_week(django_assert_num_queries):
    now = timezone.now()
    SubscriberFactory(signed_up_at=now, confirmed_at=now)
    SubscriberFactory(
        signed_up_at=now - datetime.timedelta(weeks=1),
        confirmed_at=now - datetime.timedelta(weeks=1),
        unsubscribed_at=now,
        status="unsubscribed",
    )
    with django_assert_num_queries(3):
        rows = Subscriber.objects.weekly_activity(weeks=4, now=now)
    assert len(rows) == 4
    assert rows[-1] | {"week": None} == {
        "week": None,
        "signups": 1,
        "confirmations": 1,
        "unsubscribes": 1,
    }
    assert (rows[-2]["signups"], rows[-2]["confirmations"]) == (1, 1)


def test_the_chart_scales_bars_to_a_round_maximum():
    assert [nice_ceiling(v) for v in (0, 1, 3, 7, 11, 480)] == [1, 1, 5, 10, 20, 500]
    rows = [
        {"week": datetime.date(2026, 11, 2), "signups": 10, "confirmations": 5, "unsubscribes": 0},
        {"week": datetime.date(2026, 11, 9), "signups": 0, "confirmations": 0, "unsubscribes": 0},
    ]
    chart = weekly_chart(rows, height=244)
    tallest = chart["groups"][0]["bars"][0]
    assert tallest["height"] == 190.0 and chart["groups"][0]["bars"][1]["height"] == 95.0
    assert chart["groups"][1]["bars"][0]["height"] == 0
