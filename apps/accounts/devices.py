"""What the "Active sessions" page says about a sign-in: the device (from the user agent), the
coarse network (from the client IP) and, for a refresh token family, when it was last seen.

- Device: ``ua-parser`` (the Python port of the uap-core rules that Browserscope and many log
  tools use) reads the browser or client family and the operating system family; the version
  kept is the browser's major version only. Nothing else of the user agent is stored.
- Network: the client IP (``apps.core.client_ip``) cut to its /24 (IPv4) or /48 (IPv6), the
  prefixes an ISP typically gives one customer site, so the page can tell "home" from "elsewhere"
  without storing anybody's address (GDPR art. 5(1)(c), data minimisation).
- Last seen of a token family: a Redis key per family written when the family's refresh token
  is rotated (at least every ``JWT_ACCESS_TOKEN_LIFETIME_SECONDS`` for a client in use), so the
  refresh endpoint keeps its one SQL statement and API calls write nothing.
"""

import ipaddress
import logging
import time

import redis
from django.conf import settings
from ua_parser import parse as parse_user_agent

from apps.core.redis import get_strict_redis

logger = logging.getLogger(__name__)

DEVICE_MAX_CHARS = 120
USER_AGENT_MAX_CHARS = 512  # longer strings are cut before parsing (a user agent is attacker input)
SEEN_PREFIX = "sec:jwt:seen"


def device_label(user_agent: str | None) -> str:
    """A short description of the client that sent ``user_agent`` (the ``User-Agent`` header):
    ``"Firefox 128 on Ubuntu"``, ``"Mobile Safari 17 on iOS"``, ``"Python Requests"`` for a
    client without an OS, ``"Unknown device"`` for nothing recognisable. At most 120
    characters. Raises nothing."""
    text = (user_agent or "")[:USER_AGENT_MAX_CHARS]
    parsed = parse_user_agent(text) if text else None
    agent = parsed.user_agent if parsed else None
    system = parsed.os if parsed else None
    browser = ""
    if agent is not None and agent.family != "Other":
        browser = f"{agent.family} {agent.major}" if agent.major else agent.family
    os_name = system.family if system is not None and system.family != "Other" else ""
    if browser and os_name:
        label = f"{browser} on {os_name}"
    else:
        label = browser or os_name or "Unknown device"
    return label[:DEVICE_MAX_CHARS]


def coarse_network(ip: str | None) -> str:
    """The network ``ip`` belongs to, coarsened: ``"203.0.113.0/24"`` for IPv4 (IPv4-mapped IPv6
    included), ``"2001:db8:1234::/48"`` for IPv6; ``""`` for anything that is not an address.
    Raises nothing."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _seen_key(family_id: str) -> str:
    return f"{SEEN_PREFIX}:{family_id}"


def family_seen_keys(*, family_ids: list[str]) -> list[str]:
    """The Redis keys holding when each family of ``family_ids`` was last seen (for deleting
    them with the account, ``data_services.account_erase``)."""
    return [_seen_key(family_id) for family_id in family_ids if family_id]


def family_seen_record(*, family_id: str) -> None:
    """Remember that the refresh token family ``family_id`` (a ``fam`` claim) was used now (Unix
    seconds in Redis, kept as long as a family can live). Called after a successful rotation.
    Informational only: a Redis failure is logged, never raised."""
    try:
        get_strict_redis().set(
            _seen_key(family_id), int(time.time()), ex=settings.JWT_REFRESH_FAMILY_MAX_AGE_SECONDS + 3600
        )
    except redis.RedisError:
        logger.warning("could not record when token family %s was last seen", family_id)


def families_last_seen(*, family_ids: list[str]) -> dict[str, float] | None:
    """``{family_id: Unix seconds}`` for the families of ``family_ids`` that were refreshed at
    least once (one ``MGET``); ``None`` when Redis cannot be reached (the page then says it does
    not know, and keeps working)."""
    if not family_ids:
        return {}
    try:
        values = get_strict_redis().mget([_seen_key(family_id) for family_id in family_ids])
    except redis.RedisError:
        return None
    return {family_id: float(value) for family_id, value in zip(family_ids, values, strict=True) if value is not None}
