"""The ``plant-stats`` weekly series (issue 13, section 2): one ``GROUP BY`` on whole weeks
before ``now`` gives exactly what the 13 filtered counts it replaced gave, boundary instants
included. The reference below is that former implementation, kept here as the oracle."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.plants.models import PlantIdentificationRequest
from apps.plants.selectors import plant_stats_for_user
from tests import factories

pytestmark = pytest.mark.django_db

WEEK = timedelta(weeks=1)
MICRO = timedelta(microseconds=1)


def reference_stats(*, user, now: datetime) -> dict:
    """The former ``plant_stats_for_user`` (13 ``Count(filter=Q(...))`` aggregates)."""
    weeks = settings.DASHBOARD_SPARKLINE_WEEKS
    window_start = now - timedelta(weeks=weeks)
    aggregates = {"searches_this_week": Count("id", filter=Q(created_at__gt=now - timedelta(days=7)))}
    for index in range(weeks):
        low = window_start + timedelta(weeks=index)
        bucket = Q(created_at__gt=low)
        if index < weeks - 1:
            bucket &= Q(created_at__lte=low + timedelta(weeks=1))
        aggregates[f"week_{index}"] = Count("id", filter=bucket)
    row = PlantIdentificationRequest.objects.filter(owner=user, created_at__gt=window_start).aggregate(**aggregates)
    return {
        "total_identified": user.identified_plant_count,
        "total_searches": user.identification_request_count,
        "searches_this_week": row["searches_this_week"],
        "saved_care_cards": user.care_card_count,
        "weekly_searches": [row[f"week_{index}"] for index in range(weeks)],
    }


def _requests(owner, instants) -> None:
    PlantIdentificationRequest.objects.bulk_create(
        factories.IdentificationRequestFactory.build(owner=owner, created_at=instant, thumbnail="")
        for instant in instants
    )


def test_boundary_instants_fall_in_the_same_week_as_before(gardener):
    """Every week boundary (``now - k weeks`` for k = 0..13), one microsecond either side of
    it, and a row in the future: the same counts as the reference, and the boundary itself
    belongs to the older week (``created_at <= low + 1 week``)."""
    now = datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC)  # a DST change in Europe: UTC ignores it
    instants = [now - k * WEEK + delta for k in range(14) for delta in (-MICRO, timedelta(0), MICRO)]
    _requests(gardener, instants + [now + timedelta(days=3)])
    stats = plant_stats_for_user(user=gardener, now=now)
    assert stats == reference_stats(user=gardener, now=now)
    # now - 12 weeks is outside the window (created_at > window start); now - 12 weeks + 1 µs is
    # in the oldest week; now - 1 week belongs to the week before the newest.
    assert stats["weekly_searches"][0] == 3  # -12w+1µs, -11w-1µs, -11w
    assert stats["searches_this_week"] == stats["weekly_searches"][-1] == 5  # -1w+1µs, -1µs, now, +1µs, +3 days


instant_offsets = st.one_of(
    # anywhere from two weeks ahead to fourteen weeks back, to the microsecond
    st.integers(min_value=-2 * 7 * 86400 * 10**6, max_value=14 * 7 * 86400 * 10**6).map(
        lambda micro: -timedelta(microseconds=micro)
    ),
    # a week boundary, exactly or a microsecond off
    st.tuples(st.integers(0, 13), st.sampled_from([-1, 0, 1])).map(lambda kd: -kd[0] * WEEK + kd[1] * MICRO),
)


@hypothesis_settings(
    max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    now=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
    offsets=st.lists(instant_offsets, max_size=30),
)
def test_the_group_by_equals_the_filtered_counts(gardener, now, offsets):
    """Random ``now`` and random request times (uniform, and on week boundaries to the
    microsecond): the ``GROUP BY`` selector returns exactly the reference's dict."""
    with transaction.atomic():
        _requests(gardener, [now + offset for offset in offsets])
        assert plant_stats_for_user(user=gardener, now=now) == reference_stats(user=gardener, now=now)
        transaction.set_rollback(True)


def test_one_statement(gardener, django_assert_num_queries):
    """The series is one SQL statement whatever the number of requests."""
    _requests(gardener, [datetime.now(UTC) - timedelta(days=day) for day in range(90)])
    with django_assert_num_queries(1):
        stats = plant_stats_for_user(user=gardener)
    assert sum(stats["weekly_searches"]) == 84
