"""Dashboard panel fragments cached in Redis (issue 13, part 1).

A panel's HTML is stored under a key made of the panel's name, the gardener's id, their
``panel_version`` (``accounts.User``; every service that changes what one of their panels shows
bumps it in the same transaction, ``apps.accounts.panel_versions``) and a digest of the user-row
fields panels read (counters, trust level, join date, time zone, moderator flag), so a change
made outside the services (the admin, a recount) also reaches a new key. The user row is loaded
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
- days to the next trust level: at the next whole day of account age.

Stored HTML holds no per-browser token or nonce: the cached panels have no forms (the
moderators' review-queue panel, whose counts are site-wide, is not cached). A cache error is a
miss, never an error: reads and writes go through Django's cache, which the settings configure
to ignore Redis failures, and anything still raised is logged and treated as a miss.
"""

import hashlib
import logging
import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.accounts.models import User
from apps.core.permissions import is_moderator

logger = logging.getLogger(__name__)

KEY_PREFIX = "dashboard-panel:v1"

# The user-row fields some panel shows or depends on (trust progress, counters, the time zone
# in which ``<time datetime>`` is written).
USER_FIELDS = (
    "trust_level",
    "approved_post_count",
    "post_count",
    "topic_count",
    "identification_request_count",
    "identified_plant_count",
    "care_card_count",
    "date_joined",
    "time_zone",
)


def panel_cache_enabled() -> bool:
    """``DASHBOARD_PANEL_CACHE`` (on by default; the test settings turn it off, so SPEC's query
    budgets, which are counted with caching off, stay exact)."""
    return settings.DASHBOARD_PANEL_CACHE


def panel_cache_key(*, name: str, user: User) -> str:
    """The cache key of panel ``name`` (a ``PANELS`` name) for the signed-in ``user`` (a loaded
    row). Reads only the row already in memory: no SQL."""
    row = tuple(str(getattr(user, field)) for field in USER_FIELDS) + (str(is_moderator(user)),)
    digest = hashlib.blake2b("\x1f".join(row).encode(), digest_size=8).hexdigest()
    return f"{KEY_PREFIX}:{name}:{user.pk}:{user.panel_version}:{digest}"


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
