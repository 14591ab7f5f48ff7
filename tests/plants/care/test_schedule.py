"""Due-date arithmetic (issue 14): local dates across time zones and DST changes, and the
growing-season rule in both hemispheres."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from apps.plants.care import schedule


def test_local_today_differs_by_zone_at_the_same_instant():
    instant = datetime(2026, 3, 1, 13, 30, tzinfo=UTC)
    assert schedule.local_today("Australia/Sydney", now=instant) == date(2026, 3, 2)  # 00:30 AEDT
    assert schedule.local_today("America/New_York", now=instant) == date(2026, 3, 1)  # 08:30 EST
    assert schedule.local_today("Asia/Kolkata", now=datetime(2026, 3, 1, 18, 29, tzinfo=UTC)) == date(2026, 3, 1)
    assert schedule.local_today("Asia/Kolkata", now=datetime(2026, 3, 1, 18, 30, tzinfo=UTC)) == date(2026, 3, 2)


def test_unknown_zone_reads_as_utc():
    instant = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert schedule.local_today("Mars/Olympus_Mons", now=instant) == date(2026, 3, 1)


def test_an_interval_spanning_a_dst_change_moves_whole_local_days():
    # New York springs forward on 2026-03-08, Sydney falls back on 2026-04-05.
    assert schedule.next_due_on(after=date(2026, 3, 5), interval_days=7, growing_season_only=False, southern=False) == (
        date(2026, 3, 12)
    )
    assert schedule.next_due_on(after=date(2026, 4, 1), interval_days=7, growing_season_only=False, southern=True) == (
        date(2026, 4, 8)
    )
    # The gardener's "today" right after each change still is the calendar date on their clock.
    assert schedule.local_today("America/New_York", now=datetime(2026, 3, 8, 7, 30, tzinfo=UTC)) == date(2026, 3, 8)
    assert schedule.local_today("Australia/Sydney", now=datetime(2026, 4, 4, 14, 30, tzinfo=UTC)) == date(2026, 4, 5)


def test_growing_season_in_both_hemispheres():
    assert schedule.in_growing_season(date(2026, 6, 15), southern=False)
    assert not schedule.in_growing_season(date(2026, 6, 15), southern=True)
    assert schedule.in_growing_season(date(2026, 12, 15), southern=True)
    assert not schedule.in_growing_season(date(2026, 12, 15), southern=False)
    # Seasonal tasks falling outside the season wait for its first day.
    north = schedule.next_due_on(after=date(2026, 9, 20), interval_days=30, growing_season_only=True, southern=False)
    assert north == date(2027, 3, 1)
    south = schedule.next_due_on(after=date(2026, 3, 20), interval_days=30, growing_season_only=True, southern=True)
    assert south == date(2026, 9, 1)
    assert schedule.is_southern(Decimal("-33.87")) and not schedule.is_southern(None)


@given(
    after=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    interval=st.integers(min_value=1, max_value=730),
    seasonal=st.booleans(),
    southern=st.booleans(),
)
def test_next_due_is_at_least_one_interval_later_and_in_season_when_seasonal(after, interval, seasonal, southern):
    due = schedule.next_due_on(after=after, interval_days=interval, growing_season_only=seasonal, southern=southern)
    assert due >= after + timedelta(days=interval)
    if seasonal:
        assert schedule.in_growing_season(due, southern=southern)
        # ... and no later than needed: the first in-season day on or after the plain date.
        plain = after + timedelta(days=interval)
        assert all(
            not schedule.in_growing_season(plain + timedelta(days=d), southern=southern)
            for d in range((due - plain).days)
        )
    else:
        assert due == after + timedelta(days=interval)
