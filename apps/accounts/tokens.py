"""JWT access and refresh tokens with rotation and refresh token families in Redis.

SPEC "Sign-in, tokens and lockout"; RFC 7519 (JWT), RFC 8725 (JWT best practices: algorithms
pinned, typed tokens), RFC 9700 section 4.14.2 (refresh token rotation with reuse detection).

- Tokens are HS256 with ``JWT_SECRET_KEY``; ``decode`` accepts only that algorithm, requires
  ``exp``/``iat``/``sub``/``jti``/``type``/``fam``/``iss`` and checks ``type``, so an access
  token never works as a refresh token or the reverse.
- Every token carries its family id (``fam``, one per sign-in). A family has an absolute
  expiry (``fexp``) set at sign-in that rotation copies but never extends.
- Refreshing runs one Lua script that, atomically: refuses a revoked family; on first use marks
  the refresh token used and stores its successor pair; on a repeat within
  ``JWT_REFRESH_REUSE_INTERVAL_SECONDS`` while the successor is unused returns that same pair
  (parallel tabs, retries); on any other repeat revokes the family.
- Revocation is a Redis key per family, so checking an access token costs no SQL.

This module is the token mechanics on Redis and knows no model, so ``User.save`` can use it.
The durable record of a revoked family (``RevokedTokenFamily``) and the user query that checks
it are written and read by ``signin_services`` and ``selectors``.
"""

import json
import secrets
import time
from dataclasses import dataclass

import jwt
from django.conf import settings

from apps.core.redis import get_strict_redis
from apps.core.scripts import NOW_MS, run_script

PREFIX = "sec:jwt"
ACCESS = "access"
REFRESH = "refresh"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "type", "fam", "fiat", "iss"]


class TokenInvalid(Exception):
    """The token is malformed, tampered, expired, of the wrong type, or its family is revoked."""


class TokenReused(TokenInvalid):
    """A refresh token was presented again outside the reuse interval; its family is revoked in
    Redis (by the rotation script itself). ``signin_services.refresh_token_rotate`` records it durably."""


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    family_id: str
    expires_in: int
    refresh_expires_in: int

    def as_json(self) -> dict:
        """SPEC's token response body."""
        return {"access": self.access, "refresh": self.refresh, "token_type": "Bearer", "expires_in": self.expires_in}


def _encode(claims: dict) -> str:
    return jwt.encode(claims, settings.JWT_SECRET_KEY, algorithm=settings.JWT_ALGORITHM)


def _pair(*, user_id: int, family_id: str, family_expires_at: int, family_started_at: float) -> TokenPair:
    now = int(time.time())
    access_exp = min(now + settings.JWT_ACCESS_TOKEN_LIFETIME_SECONDS, family_expires_at)
    refresh_exp = min(now + settings.JWT_REFRESH_TOKEN_LIFETIME_SECONDS, family_expires_at)
    common = {
        "sub": str(user_id),
        "fam": family_id,
        "fiat": family_started_at,
        "iat": now,
        "iss": settings.JWT_ISSUER,
    }
    access = _encode({**common, "type": ACCESS, "jti": secrets.token_hex(16), "exp": access_exp})
    refresh = _encode(
        {**common, "type": REFRESH, "jti": secrets.token_hex(16), "exp": refresh_exp, "fexp": family_expires_at}
    )
    return TokenPair(access, refresh, family_id, access_exp - now, refresh_exp - now)


def decode(token: str, *, expected_type: str) -> dict:
    """Verify ``token`` and return its claims.

    Raises ``TokenInvalid`` for anything but a well-formed, correctly signed (HS256 only, so
    ``alg: none`` and key-confusion tokens fail), unexpired token of ``expected_type``
    (``"access"`` or ``"refresh"``) from this issuer.
    """
    if not isinstance(token, str) or not token or len(token) > 4096:
        raise TokenInvalid("missing or oversized token")
    try:
        claims = jwt.decode(
            token,
            settings.JWT_SECRET_KEY,
            algorithms=[settings.JWT_ALGORITHM],
            issuer=settings.JWT_ISSUER,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as error:
        raise TokenInvalid(str(error)) from None
    if claims.get("type") != expected_type:
        raise TokenInvalid(f"expected a {expected_type} token")
    if expected_type == REFRESH and not isinstance(claims.get("fexp"), int):
        raise TokenInvalid("refresh token without family expiry")
    if not str(claims["sub"]).isdigit() or not isinstance(claims["fiat"], (int, float)):
        raise TokenInvalid("bad subject or family start")
    return claims


def family_start(*, user_id: int) -> TokenPair:
    """Start a new refresh token family for ``user_id`` (a sign-in) and return its first pair.

    Registers the family under the user so that password change and deactivation can revoke
    all of them. Raises ``redis.RedisError`` when Redis fails (nothing is issued).
    """
    family_id = secrets.token_hex(16)
    started_at = round(time.time(), 3)
    family_expires_at = int(started_at) + settings.JWT_REFRESH_FAMILY_MAX_AGE_SECONDS
    client = get_strict_redis()
    user_key = f"{PREFIX}:user:{user_id}"
    pipe = client.pipeline(transaction=True)
    pipe.zadd(user_key, {family_id: started_at})
    pipe.expire(user_key, settings.JWT_REFRESH_FAMILY_MAX_AGE_SECONDS + 3600)
    pipe.execute()
    return _pair(
        user_id=user_id, family_id=family_id, family_expires_at=family_expires_at, family_started_at=started_at
    )


_ROTATE = (
    NOW_MS
    + """
if redis.call('EXISTS', KEYS[2]) == 1 then return {'revoked'} end
local used = redis.call('HMGET', KEYS[1], 'at', 'successor', 'pair')
if not used[1] then
  redis.call('HSET', KEYS[1], 'at', now, 'successor', ARGV[1], 'pair', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'issued', ARGV[2]}
end
local successor_used = redis.call('EXISTS', ARGV[6] .. used[2])
if now - tonumber(used[1]) <= tonumber(ARGV[4]) and successor_used == 0 then
  return {'reissued', used[3]}
end
redis.call('SET', KEYS[2], now, 'PX', ARGV[5])
return {'reused'}
"""
)


def _jti_of(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["jti"]


def refresh_rotate(*, claims: dict) -> TokenPair:
    """Rotate the refresh token whose verified ``claims`` (from ``decode``) are given.

    Returns the successor pair: new on first use; the same stored pair when the token is
    presented again within the reuse interval and its successor is unused. Raises
    ``TokenInvalid`` when the family is revoked, ``TokenReused`` (and revokes the family) for
    any other replay, and ``redis.RedisError`` when the used-mark cannot be written, in which
    case nothing is issued (SPEC: 503).
    """
    user_id, family_id, family_expires_at = int(claims["sub"]), claims["fam"], int(claims["fexp"])
    successor = _pair(
        user_id=user_id, family_id=family_id, family_expires_at=family_expires_at, family_started_at=claims["fiat"]
    )
    stored = json.dumps(
        {
            "access": successor.access,
            "refresh": successor.refresh,
            "expires_in": successor.expires_in,
            "refresh_expires_in": successor.refresh_expires_in,
        }
    )
    now = int(time.time())
    used_ttl_ms = max(int(claims["exp"]) - now, 1) * 1000 + settings.JWT_REFRESH_REUSE_INTERVAL_SECONDS * 1000
    revoked_ttl_ms = max(family_expires_at - now, 1) * 1000 + 60_000
    reply = run_script(
        "jwt_rotate",
        _ROTATE,
        keys=[f"{PREFIX}:used:{claims['jti']}", f"{PREFIX}:revoked:{family_id}"],
        args=[
            _jti_of(successor.refresh),
            stored,
            used_ttl_ms,
            settings.JWT_REFRESH_REUSE_INTERVAL_SECONDS * 1000,
            revoked_ttl_ms,
            f"{PREFIX}:used:",
        ],
    )
    status = reply[0].decode() if isinstance(reply[0], bytes) else reply[0]
    if status == "revoked":
        raise TokenInvalid("token family revoked")
    if status == "reused":
        raise TokenReused("refresh token reused; family revoked")
    data = json.loads(reply[1])
    return TokenPair(data["access"], data["refresh"], family_id, data["expires_in"], data["refresh_expires_in"])


def family_revoke_in_redis(*, family_id: str) -> None:
    """Mark one family revoked in Redis (the fast path: its access and refresh tokens stop
    working at once). ``family_id`` is the ``fam`` claim. Only the Redis half of a revocation:
    ``signin_services.token_family_revoke`` records it in the database first. Raises
    ``redis.RedisError``."""
    get_strict_redis().set(
        f"{PREFIX}:revoked:{family_id}", int(time.time()), ex=settings.JWT_REFRESH_FAMILY_MAX_AGE_SECONDS + 3600
    )


_REVOKE_ALL = """
local families = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
for _, family in ipairs(families) do
  redis.call('SET', ARGV[1] .. family, '1', 'EX', ARGV[2])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
return #families
"""


def user_families_revoke(*, user_id: int, started_before: float | None = None) -> int:
    """Revoke every refresh token family of ``user_id`` (password change, deactivation) that
    started before ``started_before`` (Unix seconds; default now), so a family started for the
    same browser right after the change survives however late this runs. Returns how many were
    revoked. Raises ``redis.RedisError``."""
    cutoff = time.time() if started_before is None else started_before
    return int(
        run_script(
            "jwt_revoke_all",
            _REVOKE_ALL,
            keys=[f"{PREFIX}:user:{user_id}"],
            args=[f"{PREFIX}:revoked:", settings.JWT_REFRESH_FAMILY_MAX_AGE_SECONDS + 3600, repr(cutoff)],
        )
    )


def family_is_revoked(*, family_id: str) -> bool:
    """One Redis ``EXISTS``. Raises ``redis.RedisError``."""
    return bool(get_strict_redis().exists(f"{PREFIX}:revoked:{family_id}"))


def access_token_verify(token: str) -> dict:
    """Claims of a valid access token whose family is not revoked (no SQL). Raises
    ``TokenInvalid`` or ``redis.RedisError``."""
    claims = decode(token, expected_type=ACCESS)
    if family_is_revoked(family_id=claims["fam"]):
        raise TokenInvalid("token family revoked")
    return claims


def user_family_index_key(*, user_id: int) -> str:
    """The Redis key listing ``user_id``'s refresh token families (for account deletion, which
    revokes them and then drops the list)."""
    return f"{PREFIX}:user:{user_id}"
