"""A Redis cache of each provider's parsed answer for a set of photos.

The same photos sent twice (a retried task, a gardener asking again) cost one paid provider
call per ``IDENTIFICATION_CACHE_SECONDS`` (24 hours by default). The key is
``identification:cache:<provider>:<api_version>:<digest>``, where ``digest`` hashes the photos
in their order (see ``images_digest``), so an answer of an older API version is never reused.
Only answers are cached (an empty list included, such as Pl@ntNet's "Species not found"),
never errors. Redis failures skip the cache: they are logged and never raised.
"""

import hashlib
import json
import logging

import redis
from django.conf import settings

from apps.core.redis import get_strict_redis

from .providers import MachineSuggestion, Provider

logger = logging.getLogger(__name__)


def images_digest(images: list[bytes]) -> str:
    """SHA-256 (hex) over the SHA-256 digests of ``images`` concatenated in order: the same
    photos in the same order give the same digest, whatever their sizes."""
    outer = hashlib.sha256()
    for image in images:
        outer.update(hashlib.sha256(image).digest())
    return outer.hexdigest()


def cache_key(provider: Provider, digest: str) -> str:
    """The Redis key of ``provider``'s cached answer for photos with ``digest``."""
    return f"identification:cache:{provider.name}:{provider.api_version}:{digest}"


def _decode(raw: bytes) -> list[MachineSuggestion] | None:
    try:
        items = json.loads(raw)
        return [
            MachineSuggestion(
                scientific_name=str(item["scientific_name"]),
                common_names=tuple(str(name) for name in item["common_names"]),
                probability=float(item["probability"]),
            )
            for item in items
        ]
    except (ValueError, TypeError, KeyError):
        return None


def cached_suggestions(*, provider: Provider, digest: str) -> list[MachineSuggestion] | None:
    """Return ``provider``'s cached suggestions for the photos with ``digest`` (from
    ``images_digest``), or ``None`` on a miss, an unreadable entry or a Redis failure."""
    key = cache_key(provider, digest)
    try:
        raw = get_strict_redis().get(key)
    except redis.RedisError as error:
        logger.warning("identification cache: read of %s failed (%s); calling the provider", key, error)
        return None
    if raw is None:
        return None
    suggestions = _decode(raw)
    if suggestions is None:
        logger.warning("identification cache: unreadable entry %s ignored", key)
    return suggestions


def cache_suggestions(*, provider: Provider, digest: str, suggestions: list[MachineSuggestion]) -> None:
    """Store ``suggestions`` (a successful answer, possibly empty) as JSON for
    ``IDENTIFICATION_CACHE_SECONDS`` seconds. Redis failures are logged, never raised."""
    key = cache_key(provider, digest)
    payload = json.dumps([suggestion.as_json() for suggestion in suggestions])
    try:
        get_strict_redis().set(key, payload, ex=max(1, int(settings.IDENTIFICATION_CACHE_SECONDS)))
    except redis.RedisError as error:
        logger.warning("identification cache: write of %s failed (%s)", key, error)
