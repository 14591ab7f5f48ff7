"""Local dates and hours in a person's time zone, for daily emails sent by hourly cron runs
(the notification digest, the care reminder). Knows no model: callers pass IANA zone names.

"Due at local hour H" means the local wall clock at the run's instant reads H:00 or later on
that local date. Read off the wall clock this way, a day whose H:00 does not exist (spring
forward: 02:00 in New York on 2026-03-08) is still due from the first run after the jump
(03:00 EDT), and a day whose H:00 occurs twice (fall back: 01:00 on 2026-11-01) is due from
its first occurrence; the once-a-day promise itself comes from the caller's (person, local
date) unique key, not from this arithmetic."""

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` named ``name`` (an IANA name such as ``"Australia/Sydney"``); UTC when
    the name is unknown to this machine's tz database (never raises)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_date_from_hour(*, now: datetime, time_zone: str, hour: int) -> date | None:
    """The local date in ``time_zone`` (IANA name; UTC when unknown) at the aware instant
    ``now`` when the local clock then reads ``hour`` (0-23) o'clock or later; ``None`` while
    it is earlier in the local day. E.g. 12:59 UTC on 2026-01-10 is 07:59 in New York: ``None``
    for hour 8; 13:00 UTC gives ``date(2026, 1, 10)``. Raises ``ValueError`` for a naive
    ``now`` (a date would silently depend on the server's zone)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    local = now.astimezone(zone(time_zone))
    return local.date() if local.hour >= hour else None
