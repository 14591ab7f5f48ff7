"""Due-date arithmetic for care tasks (issue 14): pure functions over calendar dates, no SQL.

A due date is a date in the gardener's time zone. Adding an interval adds whole calendar days,
so a DST change (a 23- or 25-hour day) or a half-hour UTC offset never moves a task by a day;
only "what is today for this gardener" needs the zone (``local_today``)."""

from datetime import UTC, date, datetime, timedelta

from apps.core.localtime import zone

# The growing season in which fertilizing is due (issue 14): March to September inclusive in
# the northern hemisphere, mirrored (September to March) in the southern one.
NORTHERN_GROWING_MONTHS = frozenset(range(3, 10))
SOUTHERN_GROWING_MONTHS = frozenset({9, 10, 11, 12, 1, 2, 3})


def local_today(time_zone: str, *, now: datetime | None = None) -> date:
    """The calendar date in ``time_zone`` (IANA name) at the aware instant ``now`` (default:
    the current time). E.g. 2026-03-01 13:30 UTC is 2026-03-02 in Australia/Sydney."""
    return (now or datetime.now(UTC)).astimezone(zone(time_zone)).date()


def is_southern(home_latitude) -> bool:
    """Whether a home latitude (degrees, ``Decimal``/``float``, north positive; ``None`` when
    the gardener gave none) lies in the southern hemisphere. No home location: northern."""
    return home_latitude is not None and home_latitude < 0


def in_growing_season(day: date, *, southern: bool) -> bool:
    """Whether ``day`` falls in the growing season (whole months, see the module constants)."""
    return day.month in (SOUTHERN_GROWING_MONTHS if southern else NORTHERN_GROWING_MONTHS)


def growing_season_start_after(day: date, *, southern: bool) -> date:
    """The first day of the next growing season strictly after ``day`` when ``day`` lies outside
    one (1 March in the north, 1 September in the south); ``day`` itself when inside."""
    if in_growing_season(day, southern=southern):
        return day
    start_month = 9 if southern else 3
    year = day.year if day.month < start_month else day.year + 1
    return date(year, start_month, 1)


def next_due_on(*, after: date, interval_days: int, growing_season_only: bool, southern: bool) -> date:
    """The date a task is next due when last done (or started) on ``after``: ``interval_days``
    whole days later, moved to the next season's first day when the task is due only in the
    growing season and that date falls outside it."""
    due = after + timedelta(days=interval_days)
    if growing_season_only:
        due = growing_season_start_after(due, southern=southern)
    return due
