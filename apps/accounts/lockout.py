"""The lockout monitor: exact failed-sign-in counting per account and per client IP.

SPEC "Sign-in, tokens and lockout" and OWASP ASVS 4.0 2.2.1: ``LOCKOUT_FAILURE_LIMIT`` (10)
failed sign-ins for one account within ``LOCKOUT_WINDOW_SECONDS`` (15 min) lock it for
``LOCKOUT_DURATION_SECONDS`` (1 h); ``IP_SIGNIN_FAILURE_LIMIT`` (50) failures from one IP in
``IP_SIGNIN_WINDOW_SECONDS`` block sign-in from it for ``IP_SIGNIN_BLOCK_SECONDS``.

How it stays exact under concurrency, across processes and servers: every attempt first
*reserves* a slot in a Redis sorted set (one Lua script, atomic) before the password is
checked. Once the window holds the limit, no further attempt is let through to a password
check, so a burst of 50 parallel guesses runs at most 10 password checks. The reservation of a
failed attempt stays as the failure; a success deletes the account's set ("success clears the
count"). The lock is a key with a fixed TTL created with NX semantics, so attempts during it
never extend it and exactly one request learns it created the lock (and sends the one email).
Time comes from Redis's ``TIME``, so servers need not agree on clocks.
"""

import hashlib
import math
import re
import secrets
import unicodedata
from dataclasses import dataclass

from django.conf import settings

from apps.core.redis import get_strict_redis
from apps.core.scripts import NOW_MS, run_script

PREFIX = "sec:lockout"

# The two shapes of an account counter key (see ``account_key``): ``user:<id>`` for an account,
# ``name:<32 hex digits>`` for a name that matches none. At most 18 digits keep an id in bigint.
LOCK_KEY_PATTERN = r"\A(?:user:[1-9][0-9]{0,17}|name:[0-9a-f]{32})\Z"
_LOCK_KEY_RE = re.compile(LOCK_KEY_PATTERN)

_BEGIN = (
    NOW_MS
    + """
local account_ttl = redis.call('PTTL', KEYS[2])
if account_ttl > 0 then return {'account_locked', account_ttl, 0} end
local ip_ttl = redis.call('PTTL', KEYS[4])
if ip_ttl > 0 then return {'ip_blocked', ip_ttl, 0} end
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  -- The window is full of failed or still-running attempts: lock now (once) and refuse.
  local created = 0
  if redis.call('EXISTS', KEYS[2]) == 0 then
    redis.call('HSET', KEYS[2], 'name', ARGV[8], 'user_id', ARGV[9], 'locked_at', now)
    redis.call('PEXPIRE', KEYS[2], ARGV[6])
    created = 1
  end
  return {'account_locked', redis.call('PTTL', KEYS[2]), created}
end
local ip_window = tonumber(ARGV[4])
local ip_limit = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - ip_window)
if redis.call('ZCARD', KEYS[3]) >= ip_limit then
  redis.call('SET', KEYS[4], now, 'PX', ARGV[7], 'NX')
  return {'ip_blocked', redis.call('PTTL', KEYS[4]), 0}
end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], window)
redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('PEXPIRE', KEYS[3], ip_window)
return {'proceed', 0, 0}
"""
)

_FAIL = (
    NOW_MS
    + """
local created = 0
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('HSET', KEYS[2], 'name', ARGV[6], 'user_id', ARGV[7], 'locked_at', now)
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  created = 1
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[4]))
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[5]) then
  redis.call('SET', KEYS[4], now, 'PX', ARGV[8], 'NX')
end
return created
"""
)

_SUCCEED = """
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then return {'account_locked', ttl} end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return {'ok', 0}
"""

_RELEASE = """
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then return {'account_locked', ttl} end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return {'ok', 0}
"""

_CLEAR = """
local existed = redis.call('DEL', KEYS[2])
redis.call('DEL', KEYS[1])
return existed
"""


class SignInLocked(Exception):
    """Sign-in is refused until the lock or block ends.

    ``retry_after`` is in whole seconds; ``scope`` is ``"account"`` or ``"ip"``;
    ``lock_created`` is True for the one request whose attempt created the account lock.
    """

    def __init__(self, retry_after: int, *, scope: str, lock_created: bool = False):
        super().__init__(f"sign-in locked ({scope}) for {retry_after} s")
        self.retry_after = retry_after
        self.scope = scope
        self.lock_created = lock_created


@dataclass(frozen=True)
class AccountKey:
    """The one counter key of an account whatever its spelling. ``display`` is what moderators
    see; ``user_id`` is ``None`` for names that match no account."""

    key: str
    display: str
    user_id: int | None


def account_key(*, typed_name: str, user_id: int | None, username: str | None = None) -> AccountKey:
    """Return the counter key for a sign-in attempt.

    A name that resolves to an account (its username or its email, any case, spaces or
    Unicode form) counts as ``user:<id>``; a name that matches no account counts under a hash
    of its case-folded NFKC form, so unknown names are counted and locked the same way and a
    lock reveals nothing (SPEC).
    """
    if user_id is not None:
        return AccountKey(key=f"user:{user_id}", display=username or typed_name, user_id=user_id)
    folded = unicodedata.normalize("NFKC", typed_name).strip().casefold()
    digest = hashlib.sha256(folded.encode("utf-8")).hexdigest()[:32]
    return AccountKey(key=f"name:{digest}", display=folded[:150], user_id=None)


def lock_key_user_id(key: str) -> int | None:
    """The account id named by a counter key: ``42`` for ``"user:42"``; ``None`` for a
    ``name:<hash>`` key (a name that matches no account) and for text of any other shape."""
    if _LOCK_KEY_RE.match(key) and key.startswith("user:"):
        return int(key.removeprefix("user:"))
    return None


def _keys(account: AccountKey, ip: str) -> list[str]:
    return [
        f"{PREFIX}:fail:{account.key}",
        f"{PREFIX}:lock:{account.key}",
        f"{PREFIX}:ipfail:{ip}",
        f"{PREFIX}:ipblock:{ip}",
    ]


def _seconds(milliseconds: int) -> int:
    return max(1, math.ceil(int(milliseconds) / 1000))


def attempt_begin(*, account: AccountKey, ip: str) -> str:
    """Reserve a sign-in attempt before the password is checked; return its id.

    Raises ``SignInLocked`` when the account is locked (or its window is already full, which
    locks it; ``lock_created`` tells the one caller that did) or the IP is blocked. Raises
    ``redis.RedisError`` when Redis fails (callers fail closed).
    """
    attempt_id = secrets.token_hex(8)
    status, ttl, created = run_script(
        "lockout_begin",
        _BEGIN,
        keys=_keys(account, ip),
        args=[
            attempt_id,
            settings.LOCKOUT_WINDOW_SECONDS * 1000,
            settings.LOCKOUT_FAILURE_LIMIT,
            settings.IP_SIGNIN_WINDOW_SECONDS * 1000,
            settings.IP_SIGNIN_FAILURE_LIMIT,
            settings.LOCKOUT_DURATION_SECONDS * 1000,
            settings.IP_SIGNIN_BLOCK_SECONDS * 1000,
            account.display,
            account.user_id or "",
        ],
    )
    status = status.decode() if isinstance(status, bytes) else status
    if status == "account_locked":
        raise SignInLocked(_seconds(ttl), scope="account", lock_created=bool(created))
    if status == "ip_blocked":
        raise SignInLocked(_seconds(ttl), scope="ip")
    return attempt_id


def attempt_failed(*, account: AccountKey, ip: str, attempt_id: str) -> bool:
    """Record that the reserved attempt failed. Returns True when this failure created the lock
    (exactly one caller per lock sees True). Raises ``redis.RedisError``."""
    created = run_script(
        "lockout_fail",
        _FAIL,
        keys=_keys(account, ip),
        args=[
            settings.LOCKOUT_WINDOW_SECONDS * 1000,
            settings.LOCKOUT_FAILURE_LIMIT,
            settings.LOCKOUT_DURATION_SECONDS * 1000,
            settings.IP_SIGNIN_WINDOW_SECONDS * 1000,
            settings.IP_SIGNIN_FAILURE_LIMIT,
            account.display,
            account.user_id or "",
            settings.IP_SIGNIN_BLOCK_SECONDS * 1000,
        ],
    )
    return bool(created)


def attempt_succeeded(*, account: AccountKey, ip: str, attempt_id: str) -> None:
    """Clear the account's count after a correct password. Raises ``SignInLocked`` when a lock
    was created meanwhile (a correct password during a lock is refused), ``redis.RedisError``
    when Redis fails."""
    status, ttl = run_script("lockout_succeed", _SUCCEED, keys=_keys(account, ip), args=[attempt_id])
    status = status.decode() if isinstance(status, bytes) else status
    if status == "account_locked":
        raise SignInLocked(_seconds(ttl), scope="account")


def attempt_released(*, account: AccountKey, ip: str, attempt_id: str) -> None:
    """End a reserved attempt that was neither a failure nor a finished sign-in: the password
    of a two-factor account was right and its second step is still to come. The reservation
    is removed from the account's and the IP's windows, and the account's earlier failures
    stay counted: only a completed sign-in (``attempt_succeeded`` after the code) clears them,
    so a known password cannot reset the count of wrong codes. Raises ``SignInLocked`` when a
    lock was created meanwhile, ``redis.RedisError`` when Redis fails."""
    status, ttl = run_script("lockout_release", _RELEASE, keys=_keys(account, ip), args=[attempt_id])
    status = status.decode() if isinstance(status, bytes) else status
    if status == "account_locked":
        raise SignInLocked(_seconds(ttl), scope="account")


def lock_clear(*, key: str) -> bool:
    """Remove the lock and the failure count of the account counter ``key`` (``user:<id>`` or
    ``name:<hash>``). Returns True when a lock existed. Raises ``redis.RedisError``."""
    keys = [f"{PREFIX}:fail:{key}", f"{PREFIX}:lock:{key}"]
    return bool(run_script("lockout_clear", _CLEAR, keys=keys, args=[]))


@dataclass(frozen=True)
class CurrentLock:
    key: str
    display: str
    user_id: int | None
    retry_after: int


def current_locks(*, limit: int = 500) -> list[CurrentLock]:
    """Every account lock in force, longest remaining first (for ``/moderation/lockouts/``).
    Uses ``SCAN`` (no blocking ``KEYS``). Raises ``redis.RedisError``."""
    client = get_strict_redis()
    names = []
    for name in client.scan_iter(match=f"{PREFIX}:lock:*", count=500):
        names.append(name.decode() if isinstance(name, bytes) else name)
        if len(names) >= limit:
            break
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hgetall(name)
        pipe.pttl(name)
    replies = pipe.execute()
    locks = []
    for index, name in enumerate(names):
        fields, ttl = replies[2 * index], replies[2 * index + 1]
        if ttl is None or ttl <= 0:
            continue
        fields = {k.decode(): v.decode() for k, v in fields.items()}
        user_id = int(fields["user_id"]) if fields.get("user_id") else None
        locks.append(
            CurrentLock(
                key=name.removeprefix(f"{PREFIX}:lock:"),
                display=fields.get("name", "?"),
                user_id=user_id,
                retry_after=_seconds(ttl),
            )
        )
    return sorted(locks, key=lambda lock: -lock.retry_after)


def unlock_token_create(*, key: str) -> str:
    """Create the one-time unlock token for the lock on ``key``, valid while the lock lasts.
    Returns the token (url-safe text); only its SHA-256 is stored. Raises ``redis.RedisError``."""
    token = secrets.token_urlsafe(32)
    client = get_strict_redis()
    ttl = client.pttl(f"{PREFIX}:lock:{key}")
    client.set(f"{PREFIX}:unlock:{_token_hash(token)}", key, px=max(int(ttl or 0), 1000))
    return token


def unlock_token_redeem(*, token: str) -> str | None:
    """Use an unlock token: clear the lock it names and return the counter key, or ``None`` when
    the token is unknown, expired or already used (``GETDEL`` makes it single-use, even under
    concurrency). Raises ``redis.RedisError``."""
    key = get_strict_redis().getdel(f"{PREFIX}:unlock:{_token_hash(token)}")
    if key is None:
        return None
    key = key.decode() if isinstance(key, bytes) else key
    lock_clear(key=key)
    return key


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def account_counter_keys(*, user_id: int, names: list[str]) -> list[str]:
    """Every counter key (see ``account_key``) that can hold state about the account ``user_id``
    whose username and email are ``names``: ``user:<id>``, and the ``name:<hash>`` a name gets
    when it matches no account (tried before sign-up, or after the account was renamed or
    deleted). For account deletion (issue 11, "Your data")."""
    keys = [account_key(typed_name="", user_id=user_id).key]
    keys += [account_key(typed_name=name, user_id=None).key for name in names if name]
    return list(dict.fromkeys(keys))


def counter_redis_keys(*, counter_keys: list[str]) -> list[str]:
    """The Redis keys of the failure counts and locks of ``counter_keys`` (a lock's hash holds
    the name as typed)."""
    return [f"{PREFIX}:{kind}:{key}" for key in counter_keys for kind in ("fail", "lock")]


def unlock_tokens_forget(*, counter_keys: list[str]) -> int:
    """Delete the unlock tokens (from lock emails) whose lock is one of ``counter_keys``. Tokens
    are stored by hash, so they are found by value with ``SCAN`` (no blocking ``KEYS``): O(unlock
    tokens in force), which lock emails keep small. Returns how many were deleted. Raises
    ``redis.RedisError``."""
    wanted = set(counter_keys)
    client = get_strict_redis()
    names = list(client.scan_iter(match=f"{PREFIX}:unlock:*", count=500))
    if not names:
        return 0
    values = client.mget(names)
    doomed = [name for name, value in zip(names, values, strict=True) if value is not None and value.decode() in wanted]
    return int(client.delete(*doomed)) if doomed else 0
