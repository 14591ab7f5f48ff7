"""The lockout monitor's rules at their edges, on real Redis: what a mutation run of
``apps/accounts/lockout.py`` (mutmut and the hand-written Lua mutants of
``scripts/mutation_lua.toml``, README "Mutation testing") showed no test noticing.

The window, lock and block rules live in Lua scripts that read Redis's own clock (``TIME``), so
time is moved by writing state as it would be after attempts made earlier: failures whose
scores (Redis milliseconds) lie just inside or just outside the window, keys with the TTL a
lock created earlier would have left. The module's scripts then run as in production."""

import math
import threading

import pytest
from django.conf import settings

from apps.accounts import lockout
from apps.accounts.lockout import PREFIX, SignInLocked
from apps.core.redis import get_strict_redis

IP = "198.51.100.20"
OTHER_IP = "198.51.100.21"
# Margin around an edge of the window: well above the few milliseconds between planting a
# failure and the script reading TIME, well below the one second a mutant moves an edge by.
MARGIN_MS = 400


def _redis_ms() -> int:
    seconds, micros = get_strict_redis().time()
    return seconds * 1000 + micros // 1000


def _account(user_id: int = 4242) -> lockout.AccountKey:
    return lockout.account_key(typed_name="rosa", user_id=user_id, username="rosa")


def _plant_failures(key: str, *, count: int, age_ms: int) -> None:
    """``count`` failures of the counter ``key`` (``fail:user:1`` or ``ipfail:<ip>``) made
    ``age_ms`` ago by Redis's clock."""
    at = _redis_ms() - age_ms
    client = get_strict_redis()
    client.zadd(f"{PREFIX}:{key}", {f"old{index}": at for index in range(count)})
    client.pexpire(f"{PREFIX}:{key}", 3_600_000)


def _fail(account: lockout.AccountKey, ip: str = IP) -> bool:
    attempt = lockout.attempt_begin(account=account, ip=ip)
    return lockout.attempt_failed(account=account, ip=ip, attempt_id=attempt)


def _lock_after_limit(account: lockout.AccountKey, ip: str = IP) -> None:
    created = [_fail(account, ip) for _ in range(settings.LOCKOUT_FAILURE_LIMIT)]
    assert created == [False] * (settings.LOCKOUT_FAILURE_LIMIT - 1) + [True]


# --- the 15-minute window, to the second -----------------------------------------------------


def test_a_window_full_of_failures_just_inside_it_refuses_the_next_attempt():
    """Ten failures made 15 min less 0.4 s ago still count: the next attempt is refused and it
    is that attempt which creates the lock."""
    account = _account()
    window_ms = settings.LOCKOUT_WINDOW_SECONDS * 1000
    _plant_failures(f"fail:{account.key}", count=settings.LOCKOUT_FAILURE_LIMIT, age_ms=window_ms - MARGIN_MS)
    with pytest.raises(SignInLocked) as locked:
        lockout.attempt_begin(account=account, ip=IP)
    assert locked.value.scope == "account" and locked.value.lock_created
    assert locked.value.retry_after == settings.LOCKOUT_DURATION_SECONDS


def test_failures_just_outside_the_window_no_longer_count():
    """Ten failures made 15 min and 0.4 s ago are forgotten: the attempt proceeds, and nine
    more failures leave the account open."""
    account = _account()
    window_ms = settings.LOCKOUT_WINDOW_SECONDS * 1000
    _plant_failures(f"fail:{account.key}", count=settings.LOCKOUT_FAILURE_LIMIT, age_ms=window_ms + MARGIN_MS)
    assert [_fail(account) for _ in range(settings.LOCKOUT_FAILURE_LIMIT - 1)] == [False] * 9
    assert get_strict_redis().zcard(f"{PREFIX}:fail:{account.key}") == settings.LOCKOUT_FAILURE_LIMIT - 1


def test_the_failure_completing_the_count_sees_failures_just_inside_the_window():
    """Nine failures 15 min less 0.4 s old and one now: that one creates the lock."""
    account = _account()
    window_ms = settings.LOCKOUT_WINDOW_SECONDS * 1000
    _plant_failures(f"fail:{account.key}", count=settings.LOCKOUT_FAILURE_LIMIT - 1, age_ms=window_ms - MARGIN_MS)
    assert _fail(account) is True
    assert get_strict_redis().pttl(f"{PREFIX}:lock:{account.key}") > (settings.LOCKOUT_DURATION_SECONDS - 2) * 1000


def test_failures_that_leave_the_window_during_the_password_check_no_longer_count(settings):
    """The failure is recorded against the window as it is when the check ends: nine failures
    that were 0.3 s inside the window at reservation and 0.3 s outside it when the password
    check ended do not lock the account (nor, for the IP, block it)."""
    import time

    settings.IP_SIGNIN_FAILURE_LIMIT = 10
    account = _account()
    window_ms = settings.LOCKOUT_WINDOW_SECONDS * 1000
    _plant_failures(f"fail:{account.key}", count=settings.LOCKOUT_FAILURE_LIMIT - 1, age_ms=window_ms - 300)
    _plant_failures(f"ipfail:{IP}", count=9, age_ms=settings.IP_SIGNIN_WINDOW_SECONDS * 1000 - 300)
    attempt = lockout.attempt_begin(account=account, ip=IP)
    time.sleep(0.6)
    assert lockout.attempt_failed(account=account, ip=IP, attempt_id=attempt) is False
    client = get_strict_redis()
    assert client.exists(f"{PREFIX}:lock:{account.key}") == 0
    assert client.exists(f"{PREFIX}:ipblock:{IP}") == 0
    assert client.zcard(f"{PREFIX}:fail:{account.key}") == client.zcard(f"{PREFIX}:ipfail:{IP}") == 1


def test_the_failure_set_expires_with_the_window():
    """An account's failures are kept in Redis no longer than the window."""
    account = _account()
    _fail(account)
    ttl = get_strict_redis().pttl(f"{PREFIX}:fail:{account.key}")
    assert settings.LOCKOUT_WINDOW_SECONDS * 1000 - 5_000 < ttl <= settings.LOCKOUT_WINDOW_SECONDS * 1000


# --- the lock lasts the hour, whatever the window says ------------------------------------------


def test_a_lock_holds_after_its_failures_leave_the_window():
    """A lock created 15 min and 1 s ago (its failures have left the window) still refuses a
    correct password, until its hour is over."""
    account = _account()
    _lock_after_limit(account)
    client = get_strict_redis()
    window_ms = settings.LOCKOUT_WINDOW_SECONDS * 1000
    key = f"{PREFIX}:fail:{account.key}"
    aged = _redis_ms() - window_ms - 1000
    client.zadd(key, dict.fromkeys(client.zrange(key, 0, -1), aged), xx=True)
    lock_key = f"{PREFIX}:lock:{account.key}"
    client.pexpire(lock_key, settings.LOCKOUT_DURATION_SECONDS * 1000 - window_ms - 1000)
    with pytest.raises(SignInLocked) as locked:
        lockout.attempt_begin(account=account, ip=IP)
    assert locked.value.scope == "account" and not locked.value.lock_created
    expected = settings.LOCKOUT_DURATION_SECONDS - settings.LOCKOUT_WINDOW_SECONDS - 1
    assert expected - 2 <= locked.value.retry_after <= expected


def test_an_ip_block_holds_after_its_failures_leave_the_window(settings):
    """Likewise for an IP: the block refuses until it ends, not until the failures age out."""
    settings.IP_SIGNIN_FAILURE_LIMIT = 3
    for index in range(3):
        _fail(lockout.account_key(typed_name=f"guess{index}", user_id=None), IP)
    client = get_strict_redis()
    key = f"{PREFIX}:ipfail:{IP}"
    aged = _redis_ms() - settings.IP_SIGNIN_WINDOW_SECONDS * 1000 - 1000
    client.zadd(key, dict.fromkeys(client.zrange(key, 0, -1), aged), xx=True)
    with pytest.raises(SignInLocked) as blocked:
        lockout.attempt_begin(account=_account(), ip=IP)
    assert blocked.value.scope == "ip"
    assert settings.IP_SIGNIN_BLOCK_SECONDS - 2 <= blocked.value.retry_after <= settings.IP_SIGNIN_BLOCK_SECONDS


def test_the_ip_window_forgets_failures_just_outside_it(settings):
    """Failures from an IP made its window and 0.4 s ago no longer count toward its limit."""
    settings.IP_SIGNIN_FAILURE_LIMIT = 3
    _plant_failures(f"ipfail:{IP}", count=3, age_ms=settings.IP_SIGNIN_WINDOW_SECONDS * 1000 + MARGIN_MS)
    assert _fail(_account(), IP) is False


def test_the_ip_window_counts_failures_just_inside_it(settings):
    """Failures from an IP made its window less 0.4 s ago still count: the next attempt is
    refused for the block's length."""
    settings.IP_SIGNIN_FAILURE_LIMIT = 3
    _plant_failures(f"ipfail:{IP}", count=3, age_ms=settings.IP_SIGNIN_WINDOW_SECONDS * 1000 - MARGIN_MS)
    with pytest.raises(SignInLocked) as blocked:
        lockout.attempt_begin(account=_account(), ip=IP)
    assert blocked.value.scope == "ip" and blocked.value.retry_after == settings.IP_SIGNIN_BLOCK_SECONDS
    assert blocked.value.lock_created is False
    assert lockout.attempt_begin(account=_account(), ip=OTHER_IP)


def test_the_limit_th_failure_from_an_ip_blocks_it_at_once(settings):
    """The failure that fills the IP's window blocks the IP for the block's length."""
    settings.IP_SIGNIN_FAILURE_LIMIT = 3
    for index in range(3):
        _fail(lockout.account_key(typed_name=f"guess{index}", user_id=None), IP)
    ttl = get_strict_redis().pttl(f"{PREFIX}:ipblock:{IP}")
    assert (settings.IP_SIGNIN_BLOCK_SECONDS - 2) * 1000 < ttl <= settings.IP_SIGNIN_BLOCK_SECONDS * 1000


# --- bursts: the count is taken before the password check ---------------------------------------


def test_a_burst_of_pending_attempts_locks_once_with_the_full_duration():
    """Ten attempts reserved at once (passwords still being checked) fill the window: the
    11th is refused and creates the one lock, for the full hour; the ten then fail without
    creating another."""
    account = _account()
    pending = [lockout.attempt_begin(account=account, ip=IP) for _ in range(settings.LOCKOUT_FAILURE_LIMIT)]
    with pytest.raises(SignInLocked) as locked:
        lockout.attempt_begin(account=account, ip=IP)
    assert locked.value.lock_created and locked.value.retry_after == settings.LOCKOUT_DURATION_SECONDS
    with pytest.raises(SignInLocked) as again:
        lockout.attempt_begin(account=account, ip=IP)
    assert again.value.lock_created is False
    created = [lockout.attempt_failed(account=account, ip=IP, attempt_id=attempt) for attempt in pending]
    assert created == [False] * settings.LOCKOUT_FAILURE_LIMIT
    lock = get_strict_redis().hgetall(f"{PREFIX}:lock:{account.key}")
    assert lock[b"name"] == b"rosa" and lock[b"user_id"] == b"4242" and int(lock[b"locked_at"]) > 0


def test_a_lock_created_while_the_right_password_is_checked_refuses_that_sign_in():
    """One attempt is reserved with the right password; meanwhile a parallel burst's failures
    lock the account. Finishing the right one is refused (and does not clear the count)."""
    account = _account()
    right = lockout.attempt_begin(account=account, ip=IP)
    created = [_fail(account) for _ in range(settings.LOCKOUT_FAILURE_LIMIT - 1)]
    assert created[-1] is True
    with pytest.raises(SignInLocked) as locked:
        lockout.attempt_succeeded(account=account, ip=IP, attempt_id=right)
    assert locked.value.scope == "account"
    assert settings.LOCKOUT_DURATION_SECONDS - 2 <= locked.value.retry_after <= settings.LOCKOUT_DURATION_SECONDS
    assert get_strict_redis().zcard(f"{PREFIX}:fail:{account.key}") == settings.LOCKOUT_FAILURE_LIMIT


def test_a_lock_created_while_a_two_factor_password_is_checked_refuses_the_release():
    """The same for a two-factor account's right password: no second step during a lock."""
    account = _account()
    right = lockout.attempt_begin(account=account, ip=IP)
    for _ in range(settings.LOCKOUT_FAILURE_LIMIT - 1):
        _fail(account)
    with pytest.raises(SignInLocked) as locked:
        lockout.attempt_released(account=account, ip=IP, attempt_id=right)
    assert locked.value.scope == "account" and locked.value.retry_after > settings.LOCKOUT_DURATION_SECONDS - 3


def test_parallel_threads_create_exactly_one_lock():
    """Twenty threads each reserve and fail one attempt at once: at most ten password checks
    run, and exactly one caller learns it created the lock."""
    account = _account()
    results: list[str] = []
    barrier = threading.Barrier(20)

    def guess() -> None:
        barrier.wait()
        try:
            attempt = lockout.attempt_begin(account=account, ip=IP)
        except SignInLocked as locked:
            results.append("refused, created the lock" if locked.lock_created else "refused")
            return
        created = lockout.attempt_failed(account=account, ip=IP, attempt_id=attempt)
        results.append("failed, created the lock" if created else "failed")

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 20
    assert sum("created the lock" in result for result in results) == 1
    assert sum(result.startswith("failed") for result in results) <= settings.LOCKOUT_FAILURE_LIMIT


# --- what a success and a release take off the counts -------------------------------------------


def test_successful_sign_ins_do_not_count_against_the_ip_limit(settings):
    """An office behind one address signs in many times: successes leave the IP's failure
    window as they found it, so its few failures do not reach the limit."""
    settings.IP_SIGNIN_FAILURE_LIMIT = 3
    for user_id in range(1, 6):
        account = _account(user_id)
        attempt = lockout.attempt_begin(account=account, ip=IP)
        lockout.attempt_succeeded(account=account, ip=IP, attempt_id=attempt)
    assert _fail(_account(99), IP) is False
    assert _fail(_account(98), IP) is False
    assert get_strict_redis().zcard(f"{PREFIX}:ipfail:{IP}") == 2


def test_a_success_clears_only_its_own_account_and_attempt(settings):
    """A success deletes its account's failures and its own reservation from the IP window;
    other accounts' failures from the IP stay."""
    settings.IP_SIGNIN_FAILURE_LIMIT = 5
    other = _account(7)
    _fail(other)
    account = _account()
    _fail(account)
    attempt = lockout.attempt_begin(account=account, ip=IP)
    lockout.attempt_succeeded(account=account, ip=IP, attempt_id=attempt)
    client = get_strict_redis()
    assert client.exists(f"{PREFIX}:fail:{account.key}") == 0
    assert client.zcard(f"{PREFIX}:fail:{other.key}") == 1
    assert client.zcard(f"{PREFIX}:ipfail:{IP}") == 2


def test_released_attempts_count_neither_for_the_account_nor_for_the_ip(settings):
    """A two-factor account's right password (the code still to come) is no failure: released
    attempts leave both windows, and the earlier failures stay counted."""
    settings.IP_SIGNIN_FAILURE_LIMIT = 3
    account = _account()
    _fail(account)
    for _ in range(settings.LOCKOUT_FAILURE_LIMIT + 2):
        attempt = lockout.attempt_begin(account=account, ip=IP)
        lockout.attempt_released(account=account, ip=IP, attempt_id=attempt)
    client = get_strict_redis()
    assert client.zcard(f"{PREFIX}:fail:{account.key}") == 1
    assert client.zcard(f"{PREFIX}:ipfail:{IP}") == 1


# --- counter keys -------------------------------------------------------------------------------


def test_each_unknown_name_has_its_own_counter_and_every_spelling_of_one_shares_it():
    """Unknown names are counted per name (case, spaces and Unicode form folded), never all
    under one counter: locking one leaves the others open."""
    first = lockout.account_key(typed_name="Nobody-One", user_id=None)
    assert first == lockout.account_key(typed_name="  ｎｏｂｏｄｙ-ONE ", user_id=None)
    second = lockout.account_key(typed_name="nobody-two", user_id=None)
    assert first.key != second.key
    assert first.key.startswith("name:") and len(first.key) == len("name:") + 32
    assert first.display == "nobody-one" and first.user_id is None
    assert lockout.lock_key_user_id(first.key) is None
    _lock_after_limit(first)
    with pytest.raises(SignInLocked):
        lockout.attempt_begin(account=lockout.account_key(typed_name="NOBODY-ONE", user_id=None), ip=OTHER_IP)
    assert lockout.attempt_begin(account=second, ip=OTHER_IP)


def test_unknown_name_display_is_the_folded_name_cut_at_150_characters():
    long_name = "Ä" * 200
    account = lockout.account_key(typed_name=long_name, user_id=None)
    assert account.display == "ä" * 150


def test_account_keys_and_their_user_ids():
    """``user:<id>`` for an account (displayed by username, or the typed name without one)."""
    account = lockout.account_key(typed_name="ROSA@example.com", user_id=42, username="rosa")
    assert (account.key, account.display, account.user_id) == ("user:42", "rosa", 42)
    assert lockout.account_key(typed_name="Rosa", user_id=42).display == "Rosa"
    assert lockout.lock_key_user_id("user:42") == 42
    for key in ("user:0", "user:", "user:1x", "name:abc", "nobody", "user:1234567890123456789"):
        assert lockout.lock_key_user_id(key) is None, key


# --- clearing locks and the unlock link ---------------------------------------------------------


def test_clearing_a_lock_forgets_the_failures_too():
    """After a moderator or the unlock link clears a lock, one more wrong password does not
    lock again; clearing reports whether a lock existed."""
    account = _account()
    _lock_after_limit(account)
    assert lockout.lock_clear(key=account.key) is True
    assert lockout.lock_clear(key=account.key) is False
    assert _fail(account) is False
    assert lockout.lock_clear(key=account.key) is False
    assert lockout.attempt_begin(account=account, ip=IP)


def test_the_unlock_token_lives_as_long_as_the_lock():
    """The emailed link is valid while the lock lasts, no longer: its key's TTL is the lock's."""
    account = _account()
    _lock_after_limit(account)
    client = get_strict_redis()
    lock_ttl = client.pttl(f"{PREFIX}:lock:{account.key}")
    token = lockout.unlock_token_create(key=account.key)
    (token_key,) = client.keys(f"{PREFIX}:unlock:*")
    token_ttl = client.pttl(token_key)
    assert lock_ttl - 2_000 <= token_ttl <= lock_ttl
    assert len(token) == 43  # 32 random bytes, URL-safe base64
    assert lockout.unlock_token_redeem(token=token) == account.key
    assert lockout.unlock_token_redeem(token=token) is None
    assert client.exists(f"{PREFIX}:lock:{account.key}") == 0


def test_an_unlock_token_for_a_lock_already_gone_lasts_one_second():
    """A token made when the lock has just ended (no TTL to copy) lives one second."""
    token = lockout.unlock_token_create(key="user:4242")
    (token_key,) = get_strict_redis().keys(f"{PREFIX}:unlock:*")
    assert 0 < get_strict_redis().pttl(token_key) <= 1000
    assert lockout.unlock_token_redeem(token=token + "x") is None


def test_an_unlock_token_expires_with_a_short_lock(settings):
    """With a one-second lock, the token made for it no longer works once the lock is over."""
    import time

    settings.LOCKOUT_DURATION_SECONDS = 1
    account = _account()
    _lock_after_limit(account)
    token = lockout.unlock_token_create(key=account.key)
    time.sleep(1.3)
    assert lockout.unlock_token_redeem(token=token) is None


# --- the moderators' list of locks --------------------------------------------------------------


def test_current_locks_lists_every_lock_longest_remaining_first():
    """Each lock with its key, name as typed (folded), account id and whole seconds left,
    longest first; a key with no TTL left is not listed, nor are other lockout keys."""
    client = get_strict_redis()
    rosa = _account(4242)
    _lock_after_limit(rosa)
    unknown = lockout.account_key(typed_name="Mystery", user_id=None)
    _lock_after_limit(unknown, OTHER_IP)
    # 500.4 s: 501 whole seconds (a divisor of 1001 would give 500).
    client.pexpire(f"{PREFIX}:lock:{unknown.key}", 500_400)
    short = _account(7)
    _lock_after_limit(short, "198.51.100.22")
    client.pexpire(f"{PREFIX}:lock:{short.key}", 1_200)
    client.hset(f"{PREFIX}:lock:user:8", mapping={"name": "stale", "user_id": "8", "locked_at": "1"})  # no TTL
    locks = lockout.current_locks()
    assert [(lock.key, lock.display, lock.user_id) for lock in locks] == [
        ("user:4242", "rosa", 4242),
        (unknown.key, "mystery", None),
        ("user:7", "rosa", 7),
    ]
    assert settings.LOCKOUT_DURATION_SECONDS - 2 <= locks[0].retry_after <= settings.LOCKOUT_DURATION_SECONDS
    assert locks[1].retry_after == 501
    assert locks[2].retry_after == 2


def test_a_burst_lock_of_an_unknown_name_is_listed_without_an_account():
    """A lock created by a burst of pending attempts on a name that matches no account is
    listed by that name with no account id; a lock record missing its name reads "?"."""
    unknown = lockout.account_key(typed_name="Ghost", user_id=None)
    for _ in range(settings.LOCKOUT_FAILURE_LIMIT):
        lockout.attempt_begin(account=unknown, ip=IP)
    with pytest.raises(SignInLocked) as locked:
        lockout.attempt_begin(account=unknown, ip=IP)
    assert locked.value.lock_created is True
    get_strict_redis().hset(f"{PREFIX}:lock:user:9", "user_id", "9")
    get_strict_redis().pexpire(f"{PREFIX}:lock:user:9", 60_000)
    locks = lockout.current_locks()
    assert [(lock.key, lock.display, lock.user_id) for lock in locks] == [
        (unknown.key, "ghost", None),
        ("user:9", "?", 9),
    ]


def test_current_locks_lists_at_most_500_by_default():
    client = get_strict_redis()
    pipe = client.pipeline()
    for user_id in range(1, 503):
        pipe.hset(f"{PREFIX}:lock:user:{user_id}", mapping={"name": f"u{user_id}", "user_id": str(user_id)})
        pipe.pexpire(f"{PREFIX}:lock:user:{user_id}", 60_000)
    pipe.execute()
    assert len(lockout.current_locks()) == 500


def test_locks_without_time_left_are_skipped_wherever_the_scan_finds_them():
    """Records with no TTL are not listed, and do not hide the locks scanned after them."""
    client = get_strict_redis()
    for user_id in range(1, 21):
        client.hset(f"{PREFIX}:lock:user:{user_id}", mapping={"name": f"stale{user_id}", "user_id": str(user_id)})
    for user_id in range(21, 26):
        client.hset(f"{PREFIX}:lock:user:{user_id}", mapping={"name": f"live{user_id}", "user_id": str(user_id)})
        client.pexpire(f"{PREFIX}:lock:user:{user_id}", 60_000 + user_id * 1000)
    assert [lock.display for lock in lockout.current_locks()] == [f"live{user_id}" for user_id in range(25, 20, -1)]


def test_current_locks_stops_at_the_limit():
    for user_id in range(1, 6):
        _lock_after_limit(_account(user_id), f"198.51.100.{30 + user_id}")
    assert len(lockout.current_locks()) == 5
    assert len(lockout.current_locks(limit=3)) == 3
    assert len(lockout.current_locks(limit=1)) == 1


def test_retry_after_rounds_up_to_whole_seconds():
    """A lock with 1.2 s left asks the client to wait 2 s, never 0 or a fraction."""
    account = _account()
    _lock_after_limit(account)
    get_strict_redis().pexpire(f"{PREFIX}:lock:{account.key}", 1_200)
    with pytest.raises(SignInLocked) as locked:
        lockout.attempt_begin(account=account, ip=IP)
    assert locked.value.retry_after == 2 == math.ceil(1.2)
    assert str(locked.value) == "sign-in locked (account) for 2 s"
    get_strict_redis().pexpire(f"{PREFIX}:lock:{account.key}", 300)
    with pytest.raises(SignInLocked) as locked:
        lockout.attempt_begin(account=account, ip=IP)
    assert locked.value.retry_after == 1


def test_a_fresh_process_registers_each_script_from_its_source(monkeypatch):
    """The script registry is per process: with it empty (a new worker), each lockout step
    registers its own script from its source and does its own work."""
    from apps.core import scripts

    monkeypatch.setattr(scripts, "_registered", {})
    account = _account()
    _fail(account)
    attempt = lockout.attempt_begin(account=account, ip=IP)
    lockout.attempt_released(account=account, ip=IP, attempt_id=attempt)
    client = get_strict_redis()
    assert client.zcard(f"{PREFIX}:fail:{account.key}") == 1
    attempt = lockout.attempt_begin(account=account, ip=IP)
    lockout.attempt_succeeded(account=account, ip=IP, attempt_id=attempt)
    assert client.exists(f"{PREFIX}:fail:{account.key}") == 0
    _lock_after_limit(account)
    assert lockout.lock_clear(key=account.key) is True
