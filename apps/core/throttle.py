"""Write throttles: how often one gardener may post, report, suggest a name and vote.

SPEC "Bad input": writes by one gardener (topics, replies, reports, suggestions, votes) are
throttled by trust level and answer 429 with ``Retry-After``, keeping what was typed. The limits
are ``settings.WRITE_THROTTLES`` (trust level -> action -> ``[(count, window_seconds), ...]``,
guided by Discourse's defaults; README "Write throttles"). Every window of an action is
checked and counted in one Lua script (``ratelimit.rate_limit_hit``), all-or-nothing, so the
limits hold exactly under concurrency and across servers.

These limits protect against floods, not accounts: when Redis fails they let the write through
and log a warning (fail open), where sign-in fails closed.

Core knows no user model: callers pass the trust level as a string and whether the gardener
is exempt (moderators, ``apps.core.permissions.is_moderator``). A view does::

    try:
        write_throttle_hit(user_id=user.pk, action="post", trust_level=user.trust_level,
                           exempt=is_moderator(user))
    except RateLimited as limited:
        message = write_throttle_message(action="post", retry_after=limited.retry_after)
        return set_retry_after(render(..., status=429), limited.retry_after)
"""

import logging
import math

import redis
from django.conf import settings

from .ratelimit import limit_key, rate_limit_hit

logger = logging.getLogger(__name__)

# Topics and replies share "post" (SPEC "Bad input"; Discourse's "one post per 30 s" for new users).
WRITE_ACTIONS = ("post", "report", "suggestion", "vote")

_TOO_QUICK = {
    "post": "You are posting quickly.",
    "report": "You are sending reports quickly.",
    "suggestion": "You are suggesting names quickly.",
    "vote": "You are voting quickly.",
}


def write_throttle_limits(*, user_id: int, action: str, trust_level: str) -> list[tuple[str, int, int]]:
    """The ``(redis_key, count, window_seconds)`` limits of ``action`` for a gardener of
    ``trust_level`` (``"new"``, ``"basic"``, ``"trusted"``, ``"veteran"``), from
    ``settings.WRITE_THROTTLES``.

    A key names the action and window, not the level, so what a gardener did before rising a
    level still counts against the new level's windows of the same length. Raises
    ``ValueError`` for an action not in ``WRITE_ACTIONS`` or a level the setting lacks.
    """
    if action not in WRITE_ACTIONS:
        raise ValueError(f"unknown write action {action!r}; expected one of {WRITE_ACTIONS}")
    try:
        windows = settings.WRITE_THROTTLES[trust_level][action]
    except KeyError:
        raise ValueError(f"WRITE_THROTTLES has no {action!r} limits for trust level {trust_level!r}") from None
    return [(limit_key(f"write:{action}:{seconds}s", str(user_id)), count, seconds) for count, seconds in windows]


def write_throttle_hit(*, user_id: int, action: str, trust_level: str, exempt: bool) -> None:
    """Count one write ``action`` (``"post"``, ``"report"``, ``"suggestion"``, ``"vote"``) by
    the gardener ``user_id`` of ``trust_level`` against every window of
    ``settings.WRITE_THROTTLES[trust_level][action]``, all-or-nothing.

    Over any window: nothing is counted and ``apps.core.ratelimit.RateLimited`` is raised with
    ``retry_after``, the whole seconds (rounded up, at least 1) until every window has room.
    ``exempt`` (moderators) returns at once and counts nothing. When Redis fails the write is
    let through and a WARNING is logged (fail open: these limits stop floods, they guard no
    account). Raises ``ValueError`` for an unknown action or trust level. Sends no SQL.
    """
    if exempt:
        return
    limits = write_throttle_limits(user_id=user_id, action=action, trust_level=trust_level)
    try:
        rate_limit_hit(limits=limits)
    except redis.RedisError:
        logger.warning("write throttle skipped (Redis unavailable): user %s, action %s", user_id, action, exc_info=True)


def wait_phrase(seconds: int) -> str:
    """``seconds`` as a person says it, rounded up so nobody is told to retry too early:
    "1 second", "25 seconds", "2 minutes" (from 60 s), "3 hours" (from 90 minutes)."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 60:
        amount, unit = seconds, "second"
    elif seconds < 90 * 60:
        amount, unit = math.ceil(seconds / 60), "minute"
    else:
        amount, unit = math.ceil(seconds / 3600), "hour"
    return f"{amount} {unit}{'' if amount == 1 else 's'}"


def write_throttle_message(*, action: str, retry_after: int) -> str:
    """What to tell a throttled gardener, e.g. "You are posting quickly. Try again in 25
    seconds." (``retry_after`` in seconds, as ``RateLimited.retry_after``). Raises
    ``KeyError`` for an action not in ``WRITE_ACTIONS``."""
    return f"{_TOO_QUICK[action]} Try again in {wait_phrase(retry_after)}."


def write_throttle_keys(*, user_id: int) -> list[str]:
    """Every write-throttle Redis key that can exist for the gardener ``user_id``, whatever their
    trust level (each action's windows under every level of ``settings.WRITE_THROTTLES``), for
    account deletion to remove."""
    keys = {
        limit_key(f"write:{action}:{seconds}s", str(user_id))
        for windows_by_action in settings.WRITE_THROTTLES.values()
        for action, windows in windows_by_action.items()
        for _, seconds in windows
    }
    return sorted(keys)
