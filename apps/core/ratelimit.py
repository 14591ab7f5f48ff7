"""Sliding-window rate limits in Redis (sign-up, password reset; SPEC "Sign-in, tokens and
lockout": sign-up 5 an hour per IP, password reset 5 an hour per IP and 3 an hour per email)."""

import hashlib
import math
import secrets

from .scripts import NOW_MS, run_script

PREFIX = "sec:rate"

_HIT = NOW_MS + """
local window = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
end
local wait = 0
for i, key in ipairs(KEYS) do
  if redis.call('ZCARD', key) >= tonumber(ARGV[2 + i]) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local remaining = tonumber(oldest[2]) + window - now
    if remaining > wait then wait = remaining end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[1])
  redis.call('PEXPIRE', key, window)
end
return 0
"""


class RateLimited(Exception):
    """The action is over its limit; ``retry_after`` is in whole seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"rate limited for {retry_after} s")
        self.retry_after = retry_after


def limit_key(scope: str, value: str) -> str:
    """Key for ``scope`` (``"signup:ip"``) and a value; the value is hashed (emails are personal
    data and need not sit in Redis in clear)."""
    digest = hashlib.sha256(value.strip().casefold().encode("utf-8")).hexdigest()[:32]
    return f"{PREFIX}:{scope}:{digest}"


def rate_limit_hit(*, limits: list[tuple[str, int]], window_seconds: int) -> None:
    """Count one action against every ``(key, limit)`` in ``limits`` over the same window,
    all-or-nothing: when any limit is already reached nothing is counted and ``RateLimited`` is
    raised with the seconds until a slot frees. Raises ``redis.RedisError`` when Redis fails.
    """
    keys = [key for key, _ in limits]
    wait_ms = run_script(
        "rate_limit_hit",
        _HIT,
        keys=keys,
        args=[secrets.token_hex(8), window_seconds * 1000, *[limit for _, limit in limits]],
    )
    if int(wait_ms) > 0:
        raise RateLimited(max(1, math.ceil(int(wait_ms) / 1000)))
