"""The Redis connection for state that must never be guessed: the lockout monitor, rate
limits and refresh token families (and readiness).

Unlike the default cache, which is configured to treat errors as misses, the client returned
here raises ``redis.RedisError`` on any failure, so callers fail closed (SPEC "Sign-in, tokens
and lockout": when Redis is unreachable, sign-in and token endpoints answer 503).

On the embedded default (no ``REDIS_URL``) the same Lua scripts run against an in-process
fakeredis server: exact within one process, not shared between processes. The system check
``core.E001`` makes production refuse that.
"""

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=8)
def _client_for(url: str, timeout_seconds: float) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        health_check_interval=30,
    )


@lru_cache(maxsize=1)
def _in_process_client() -> redis.Redis:
    # Imported here on purpose: only the embedded default (no REDIS_URL) needs fakeredis; a
    # deployment with Redis never loads it.
    import fakeredis

    return fakeredis.FakeRedis(server=fakeredis.FakeServer())


def security_store_is_shared() -> bool:
    """True when the security store is a real Redis that every process and server shares."""
    return bool(settings.REDIS_URL)


def get_strict_redis() -> redis.Redis:
    """Return the shared ``redis.Redis`` client of ``settings.REDIS_URL`` (socket timeouts of
    ``REDIS_SOCKET_TIMEOUT_SECONDS``), or the in-process store on the embedded default.

    Operations on it raise ``redis.RedisError`` (``ConnectionError``, ``TimeoutError``) instead
    of returning defaults.
    """
    if not settings.REDIS_URL:
        return _in_process_client()
    return _client_for(settings.REDIS_URL, settings.REDIS_SOCKET_TIMEOUT_SECONDS)
