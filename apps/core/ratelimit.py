"""Sliding-window rate limits in Redis: sign-up, password reset (SPEC "Sign-in, tokens and
lockout": sign-up 5 an hour per IP, password reset 5 an hour per IP and 3 an hour per email),
identification requests, and the write throttles of ``apps.core.throttle``.

Each limit is a Redis sorted set of the moments its action was counted; one Lua script checks
and counts every limit of an action at once, so they hold exactly under concurrency, across
processes and servers.
"""

import hashlib
import math
import secrets
from collections.abc import Sequence

from django.http import HttpResponse

from .scripts import NOW_MS, run_script

PREFIX = "sec:rate"

# KEYS[i]: one sorted set per limit. ARGV[1]: this hit's member; ARGV[2]: the time in ms, or ''
# for Redis's own clock; ARGV[1 + 2i], ARGV[2 + 2i]: KEYS[i]'s count and window in ms.
_HIT = (
    NOW_MS
    + """
if ARGV[2] ~= '' then now = tonumber(ARGV[2]) end
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    -- A slot frees when the entry that keeps the window full leaves it (the oldest, unless
    -- the limit was lowered since these hits were counted).
    local blocking = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local remaining = tonumber(blocking[2]) + window - now
    if remaining > wait then wait = remaining end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[1])
  redis.call('PEXPIRE', key, tonumber(ARGV[2 + 2 * i]))
end
return 0
"""
)


class RateLimited(Exception):
    """The action is over its limit; ``retry_after`` is in whole seconds (at least 1)."""

    def __init__(self, retry_after: int):
        super().__init__(f"rate limited for {retry_after} s")
        self.retry_after = retry_after


def limit_key(scope: str, value: str) -> str:
    """Key for ``scope`` (``"signup:ip"``) and a value; the value is hashed (emails are personal
    data and need not sit in Redis in clear)."""
    digest = hashlib.sha256(value.strip().casefold().encode("utf-8")).hexdigest()[:32]
    return f"{PREFIX}:{scope}:{digest}"


def rate_limit_hit(
    *,
    limits: Sequence[tuple[str, int] | tuple[str, int, int]],
    window_seconds: int | None = None,
    now_ms: int | None = None,
) -> None:
    """Count one action against every limit in ``limits``, all-or-nothing.

    Each limit is ``(key, count)``, counted over ``window_seconds``, or ``(key, count,
    window_seconds)`` with a window of its own (a write throttle's "1 per 30 s and 10 per
    hour"). A window is sliding: at most ``count`` hits in any ``window_seconds``. When any
    limit is already reached nothing is counted and ``RateLimited`` is raised with the seconds
    until every limit has a free slot again (rounded up, at least 1). ``count`` must be at
    least 1.

    ``now_ms`` replaces Redis's clock (milliseconds since the epoch) so tests can drive time;
    production leaves it ``None`` so every server agrees on the time. Raises
    ``redis.RedisError`` when Redis fails.
    """
    keys, windowed = [], []
    for limit in limits:
        key, count, *own_window = limit
        seconds = own_window[0] if own_window else window_seconds
        if seconds is None or seconds <= 0 or count < 1:
            raise ValueError(f"limit {limit!r} needs a count >= 1 and a window > 0 seconds")
        keys.append(key)
        windowed += [count, seconds * 1000]
    wait_ms = run_script(
        "rate_limit_hit",
        _HIT,
        keys=keys,
        args=[secrets.token_hex(8), "" if now_ms is None else int(now_ms), *windowed],
    )
    if int(wait_ms) > 0:
        raise RateLimited(max(1, math.ceil(int(wait_ms) / 1000)))


def set_retry_after(response: HttpResponse, retry_after: int) -> HttpResponse:
    """Set ``Retry-After`` on ``response`` to ``retry_after`` whole seconds (RFC 9110 section
    10.2.3, delay-seconds; a 429 or 503 answer) and return the response."""
    response["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response
