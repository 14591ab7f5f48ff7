"""Lua scripts run atomically inside Redis, and a tiny registry to call them."""

import redis

from .redis import get_strict_redis

_registered: dict[tuple[int, str], object] = {}


def run_script(name: str, source: str, *, keys: list[str], args: list) -> object:
    """Run the Lua ``source`` (registered once per client under ``name``) with ``keys`` and
    ``args`` on the strict Redis client. Raises ``redis.RedisError`` when Redis fails."""
    client: redis.Redis = get_strict_redis()
    cache_key = (id(client), name)
    script = _registered.get(cache_key)
    if script is None:
        script = client.register_script(source)
        _registered[cache_key] = script
    return script(keys=keys, args=args)


# Milliseconds from Redis's own clock, so every server agrees on time.
NOW_MS = """
local _t = redis.call('TIME')
local now = tonumber(_t[1]) * 1000 + math.floor(tonumber(_t[2]) / 1000)
"""
