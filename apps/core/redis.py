"""Direct Redis connections for state that must never be guessed (readiness, and later the
lockout monitor and token state).

Unlike the default cache, which is configured to treat errors as misses, the client returned
here raises ``redis.RedisError`` on any failure, so a caller can fail closed.
"""

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=4)
def _client_for(url: str, timeout_seconds: float) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        health_check_interval=30,
    )


def get_strict_redis() -> redis.Redis | None:
    """Return a shared ``redis.Redis`` client for ``settings.REDIS_URL``, or ``None`` when Redis
    is not configured (the embedded default). Operations on it raise ``redis.RedisError``
    (``ConnectionError``, ``TimeoutError``) instead of returning defaults."""
    if not settings.REDIS_URL:
        return None
    return _client_for(settings.REDIS_URL, settings.REDIS_SOCKET_TIMEOUT_SECONDS)
