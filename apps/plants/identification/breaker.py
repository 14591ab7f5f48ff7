"""A circuit breaker per identification provider, kept in Redis so every worker shares it.

States (one Redis hash per provider, ``identification:breaker:<name>``):

- closed: no ``open_until`` field. Calls go through; each failure that speaks about the
  provider's health (``ProviderError.trips_breaker``: timeouts, 5xx and connection errors, 429,
  401/403) adds one to ``failures``; any success deletes the hash (count back to 0).
- open: ``now < open_until``. Calls are refused with ``ProviderCircuitOpen`` without any HTTP
  request. Reached when ``failures`` reaches ``IDENTIFICATION_BREAKER_FAILURES``; lasts
  ``IDENTIFICATION_BREAKER_COOLDOWN_SECONDS``.
- half-open: ``open_until`` has passed. Exactly one caller gets a trial (a lease stored in
  ``trial_until``, as long as the provider's timeout plus a margin, so a worker that dies
  mid-trial does not block the provider for ever); the others are refused as if open. The
  trial's success closes the breaker; its failure opens it again for a full cool-down.

Every decision is one Lua script on Redis's own clock, so concurrent workers on different
machines agree. When Redis fails the breaker counts as closed (the call goes through and
the failure is logged): an outage of our cache must not stop identification.
"""

import logging
from collections.abc import Callable
from typing import TypeVar

import redis
from django.conf import settings

from apps.core.redis import get_strict_redis
from apps.core.scripts import NOW_MS, run_script

from .providers import Provider, ProviderCircuitOpen, ProviderError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# A breaker nobody has touched for a day forgets its count: failures that far apart are not
# one outage. Always longer than the cool-down so an open breaker never vanishes early.
STATE_TTL_SECONDS = 24 * 3600
TRIAL_LEASE_MARGIN_SECONDS = 5

CLOSED, TRIAL, OPEN = 0, 1, 2

_ACQUIRE = (
    NOW_MS
    + """
-- KEYS[1]: breaker hash. ARGV[1]: trial lease (ms).
-- Returns {state, ms until a call may be tried again (0 unless open)}.
local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until'))
if not open_until then
  return {0, 0}
end
if now < open_until then
  return {2, open_until - now}
end
local trial_until = tonumber(redis.call('HGET', KEYS[1], 'trial_until'))
if trial_until and now < trial_until then
  return {2, trial_until - now}
end
redis.call('HSET', KEYS[1], 'trial_until', now + tonumber(ARGV[1]))
return {1, 0}
"""
)

_FAILURE = (
    NOW_MS
    + """
-- KEYS[1]: breaker hash. ARGV[1]: failures that open it, ARGV[2]: cool-down (ms),
-- ARGV[3]: TTL of the state (s). Returns the consecutive failure count.
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local tripped = redis.call('HEXISTS', KEYS[1], 'open_until') == 1
if tripped or failures >= tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'open_until', now + tonumber(ARGV[2]))
  redis.call('HDEL', KEYS[1], 'trial_until')
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return failures
"""
)

_RELEASE_TRIAL = """
-- KEYS[1]: breaker hash. Gives the trial slot back after an outcome that says nothing about
-- the provider's health, so the next call becomes the trial.
redis.call('HDEL', KEYS[1], 'trial_until')
return 1
"""


def breaker_key(provider_name: str) -> str:
    """The Redis key of ``provider_name``'s breaker state."""
    return f"identification:breaker:{provider_name}"


def _cooldown_ms() -> int:
    return max(1, int(float(settings.IDENTIFICATION_BREAKER_COOLDOWN_SECONDS) * 1000))


def _state_ttl_seconds() -> int:
    return max(STATE_TTL_SECONDS, int(float(settings.IDENTIFICATION_BREAKER_COOLDOWN_SECONDS)) * 2)


def _acquire(provider: Provider) -> tuple[int, float]:
    lease_ms = int((provider.timeout_seconds + TRIAL_LEASE_MARGIN_SECONDS) * 1000)
    try:
        state, wait_ms = run_script(
            "identification_breaker_acquire", _ACQUIRE, keys=[breaker_key(provider.name)], args=[lease_ms]
        )
    except redis.RedisError as error:
        logger.warning("identification breaker %s: Redis failed (%s); treating it as closed", provider.name, error)
        return CLOSED, 0.0
    return int(state), int(wait_ms) / 1000


def _record_failure(provider: Provider) -> None:
    try:
        failures = run_script(
            "identification_breaker_failure",
            _FAILURE,
            keys=[breaker_key(provider.name)],
            args=[int(settings.IDENTIFICATION_BREAKER_FAILURES), _cooldown_ms(), _state_ttl_seconds()],
        )
    except redis.RedisError as error:
        logger.warning("identification breaker %s: could not record a failure (%s)", provider.name, error)
        return
    if int(failures) >= int(settings.IDENTIFICATION_BREAKER_FAILURES):
        logger.warning("identification breaker %s: open after %s consecutive failures", provider.name, failures)


def _record_success(provider: Provider) -> None:
    try:
        get_strict_redis().delete(breaker_key(provider.name))
    except redis.RedisError as error:
        logger.warning("identification breaker %s: could not record a success (%s)", provider.name, error)


def _release_trial(provider: Provider) -> None:
    try:
        run_script("identification_breaker_release", _RELEASE_TRIAL, keys=[breaker_key(provider.name)], args=[])
    except redis.RedisError as error:
        logger.warning("identification breaker %s: could not release the trial (%s)", provider.name, error)


def breaker_call(provider: Provider, call: Callable[[], T]) -> T:
    """Run ``call`` (one HTTP call to ``provider``) through ``provider``'s circuit breaker.

    Returns what ``call`` returns and closes the breaker. Raises ``ProviderCircuitOpen``
    (without running ``call``) while the breaker is open or another worker holds the
    half-open trial; re-raises ``call``'s ``ProviderError`` after counting it when its
    ``trips_breaker`` is true. Thresholds: ``IDENTIFICATION_BREAKER_FAILURES`` consecutive
    failures open it for ``IDENTIFICATION_BREAKER_COOLDOWN_SECONDS`` (settings). Redis
    failures never raise from here.
    """
    state, wait_seconds = _acquire(provider)
    if state == OPEN:
        raise ProviderCircuitOpen(provider.name, retry_after=wait_seconds)
    try:
        result = call()
    except ProviderError as error:
        if error.trips_breaker:
            _record_failure(provider)
        elif state == TRIAL:
            _release_trial(provider)
        raise
    except BaseException:
        if state == TRIAL:
            _release_trial(provider)
        raise
    _record_success(provider)
    return result
