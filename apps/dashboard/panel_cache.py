"""Dashboard panel fragments cached in Redis (issue 13, part 1).

A panel's HTML is stored under a key made of the panel's name, the gardener's id, their
``panel_version`` (``accounts.User``; every service that changes what one of their panels shows
bumps it in the same transaction, ``apps.accounts.panel_versions``) and a digest of the user-row
fields panels read (counters, trust level, join date, time zone, moderator flag), so a change
of those made outside the services (a recount, the user admin) also reaches a new key. The
admins of rows panels show (care cards, requests, species, forums) bump the versions of the
gardeners concerned (``PanelVersionAdminMixin``). The user row is loaded
by the session's user lookup anyway: a hit costs one cache ``GET`` and no SQL.

Time never makes a stored fragment stale: each entry expires at the first moment its text
would read differently because time passed (``changes_at``), and never later than
``DASHBOARD_PANEL_CACHE_MAX_SECONDS``:

- relative times ("5 minutes ago", Django's ``naturaltime``): at the next second, minute or
  hour of the oldest-changing one (``relative_times_change_at``); the browser also rewrites
  them itself (``static/js/relative-time.js``), the server text being the no-JavaScript
  fallback;
- rolling windows ("this week", the 12-week sparkline, the last 30 days): when the next row
  crosses a window boundary (``apps.dashboard.selectors``);
- days to the next trust level: at the next whole day of account age;
- what is due today (``care-due``, issue 14): at the gardener's next local midnight
  (``local_midnight_after``); its key also holds the gardener's local date, so a request made
  after midnight never reads the day before's entry, whatever the clocks say.

Stored HTML holds no per-browser token or nonce. Most cached panels have no forms (the
moderators' review-queue panel, whose counts are site-wide, is not cached). ``care-due`` has
forms (Done, Snooze), and its choice (issue 14) is: cached only when htmx requests it, and
then its forms carry no CSRF field, because every htmx request sends the token in the
``X-CSRFToken`` header that ``base.html`` sets on ``<body>`` (``hx-headers``) outside any
panel. The page without JavaScript (``/dashboard/?all=1``) renders those forms with
``{% csrf_token %}`` and neither reads nor writes the cache (``Panel.has_forms`` in
``apps.dashboard.views``). The cached HTML is the same for every browser of the gardener. A cache error is a
miss, never an error: reads and writes go through Django's cache, which the settings configure
to ignore Redis failures, and anything still raised is logged and treated as a miss.
"""

import hashlib
import logging
import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.accounts.models import USER_COUNTERS, User
from apps.core.permissions import is_moderator
from apps.plants.care.schedule import local_today, zone

logger = logging.getLogger(__name__)

KEY_PREFIX = "dashboard-panel:v1"

# The user-row fields some panel shows or depends on (trust progress, counters, the time zone
# in which ``<time datetime>`` is written).
USER_FIELDS = ("trust_level", *USER_COUNTERS, "date_joined", "time_zone")

# Panels whose text depends on the gardener's local date: their key holds it.
LOCAL_DAY_PANELS = frozenset({"care-due"})


def panel_cache_enabled() -> bool:
    """``DASHBOARD_PANEL_CACHE`` (on by default; the test settings turn it off, so SPEC's query
    budgets, which are counted with caching off, stay exact)."""
    return settings.DASHBOARD_PANEL_CACHE


def panel_cache_key(*, name: str, user: User, now: datetime | None = None) -> str:
    """The cache key of panel ``name`` (a ``PANELS`` name) for the signed-in ``user`` (a loaded
    row); for a panel of ``LOCAL_DAY_PANELS`` it also holds the gardener's local date at
    ``now`` (default: the current time). Reads only the row already in memory: no SQL."""
    row = tuple(str(getattr(user, field)) for field in USER_FIELDS) + (str(is_moderator(user)),)
    digest = hashlib.blake2b("\x1f".join(row).encode(), digest_size=8).hexdigest()
    day = f":{local_today(user.time_zone, now=now).isoformat()}" if name in LOCAL_DAY_PANELS else ""
    return f"{KEY_PREFIX}:{name}:{user.pk}:{user.panel_version}:{digest}{day}"


def panel_cache_get(key: str) -> str | None:
    """The stored HTML, or ``None`` on a miss or when the cache cannot be reached."""
    try:
        return cache.get(key)
    except Exception:
        logger.warning("dashboard panel cache read failed; rendering instead", exc_info=True)
        return None


def panel_cache_set(key: str, html: str, *, changes_at: datetime | None, now: datetime | None = None) -> bool:
    """Store ``html`` until ``changes_at`` (an aware datetime; ``None``: nothing in it changes
    with time), at most ``DASHBOARD_PANEL_CACHE_MAX_SECONDS``. The lifetime is rounded down to
    whole seconds; under one second nothing is stored. Returns True when stored; a cache
    failure is logged and returns False."""
    now = now or timezone.now()
    seconds = settings.DASHBOARD_PANEL_CACHE_MAX_SECONDS
    if changes_at is not None:
        seconds = min(seconds, math.floor((changes_at - now).total_seconds()))
    if seconds < 1:
        return False
    try:
        cache.set(key, html, timeout=seconds)
    except Exception:
        logger.warning("dashboard panel cache write failed", exc_info=True)
        return False
    return True


def relative_time_changes_at(stamp: datetime, *, now: datetime) -> datetime:
    """When Django's ``naturaltime`` of the past moment ``stamp`` next reads differently:
    it counts seconds below a minute, minutes below an hour, hours below a day, and beyond
    that days and hours, weeks and days, months or years (``timesince``, two units), each of
    which changes only on a whole hour of the age. A future ``stamp`` (clock skew): in a
    second."""
    age = (now - stamp).total_seconds()
    if age < 0:
        return now + timedelta(seconds=1)
    unit = 1 if age < 60 else 60 if age < 3600 else 3600
    return stamp + timedelta(seconds=unit * (math.floor(age / unit) + 1))


def relative_times_change_at(stamps: Iterable[datetime], *, now: datetime) -> datetime | None:
    """The earliest ``relative_time_changes_at`` of ``stamps`` (``None`` when there are none)."""
    return min((relative_time_changes_at(stamp, now=now) for stamp in stamps), default=None)


def account_age_changes_at(user: User, *, now: datetime) -> datetime:
    """When ``User.account_age_days`` (whole days since ``date_joined``) next grows by one."""
    age = max(now - user.date_joined, timedelta(0))
    return user.date_joined + timedelta(days=age.days + 1)


def local_midnight_after(today: date, *, time_zone: str) -> datetime:
    """The aware instant (in UTC) at which ``today`` (a local date in ``time_zone``, an IANA name)
    ends: the first moment of the next local day. Where a DST change skips local midnight
    (the day starts at 01:00) this is the instant of the change, which is that day's start;
    where midnight occurs twice, the first one."""
    return datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone(time_zone)).astimezone(UTC)
