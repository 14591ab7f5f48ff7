"""The write throttles (``apps.core.throttle``) and the multi-window limiter under them
(``apps.core.ratelimit.rate_limit_hit``), on real Redis: windows, all-or-nothing counting,
``Retry-After`` rounding, exemption, failing open through a real outage, exact counting under
concurrency, and a randomized check against a reference model (SPEC "Bad input")."""

import logging
import math
import random
import threading
import time
import uuid

import pytest
import redis
from django.conf import settings

from apps.core.ratelimit import RateLimited, rate_limit_hit
from apps.core.redis import get_strict_redis
from apps.core.throttle import (
    WRITE_ACTIONS,
    wait_phrase,
    write_throttle_hit,
    write_throttle_limits,
    write_throttle_message,
)
from tests.redis_server import redis_server

T0 = 1_800_000_000_000  # a fixed "now" in ms for tests that drive the clock
LEVELS = ("new", "basic", "trusted", "veteran")


def _hit_at(now_ms: int, **throttle) -> int | None:
    """One ``post``-style hit at ``now_ms`` through the real keys; ``retry_after`` or ``None``."""
    try:
        rate_limit_hit(limits=write_throttle_limits(**throttle), now_ms=now_ms)
    except RateLimited as limited:
        return limited.retry_after
    return None


def _key() -> str:
    return f"test:rate:{uuid.uuid4().hex}"


def test_a_new_gardener_posts_once_per_30_seconds_and_10_times_an_hour():
    """Issue 9's example: ``new`` may post once per 30 s and 10 times an hour; the wait is
    counted from the hit that keeps the window full."""
    throttle = {"user_id": 7, "action": "post", "trust_level": "new"}
    assert _hit_at(T0, **throttle) is None
    assert _hit_at(T0 + 1_000, **throttle) == 29
    assert _hit_at(T0 + 29_999, **throttle) == 1
    assert _hit_at(T0 + 30_000, **throttle) is None
    for n in range(2, 10):
        assert _hit_at(T0 + n * 30_000, **throttle) is None
    # Ten posts in the last hour: the eleventh waits until the first leaves the hour window.
    assert _hit_at(T0 + 10 * 30_000, **throttle) == 3600 - 300
    assert _hit_at(T0 + 3_600_000, **throttle) is None


def test_levels_count_the_same_history_and_other_gardeners_and_actions_are_apart():
    """Keys name the gardener, action and window: another gardener or action has its own
    room; a gardener who rises a level keeps what they did in windows of the same length."""
    assert _hit_at(T0, user_id=1, action="post", trust_level="new") is None
    assert _hit_at(T0, user_id=2, action="post", trust_level="new") is None
    assert _hit_at(T0, user_id=1, action="suggestion", trust_level="new") is None
    assert _hit_at(T0 + 6_000, user_id=1, action="post", trust_level="basic") is None  # 1 per 5 s
    assert _hit_at(T0 + 7_000, user_id=1, action="post", trust_level="new") == 23


def test_all_or_nothing_a_refused_hit_counts_in_no_window():
    """When one window is full, the others are not counted either."""
    strict, loose = _key(), _key()
    limits = [(strict, 1, 60), (loose, 5, 60)]
    rate_limit_hit(limits=limits, now_ms=T0)
    for offset in (1, 2, 3):
        with pytest.raises(RateLimited):
            rate_limit_hit(limits=limits, now_ms=T0 + offset)
    assert get_strict_redis().zcard(loose) == 1


@pytest.mark.parametrize("elapsed_ms, retry_after", [(1, 60), (999, 60), (1_000, 59), (59_000, 1), (59_999, 1)])
def test_retry_after_is_whole_seconds_rounded_up_and_at_least_one(elapsed_ms, retry_after):
    key = _key()
    rate_limit_hit(limits=[(key, 1, 60)], now_ms=T0)
    with pytest.raises(RateLimited) as limited:
        rate_limit_hit(limits=[(key, 1, 60)], now_ms=T0 + elapsed_ms)
    assert limited.value.retry_after == retry_after


def test_the_wait_is_the_longest_of_the_full_windows_and_follows_a_lowered_limit():
    """Retry-After is when *every* window has room; if a limit was lowered after hits were
    counted, the slot frees when the hit that keeps it full leaves, not the oldest."""
    minute, hour = _key(), _key()
    for offset in (0, 10_000, 20_000):
        rate_limit_hit(limits=[(minute, 3, 60), (hour, 3, 3600)], now_ms=T0 + offset)
    with pytest.raises(RateLimited) as limited:
        rate_limit_hit(limits=[(minute, 3, 60), (hour, 3, 3600)], now_ms=T0 + 25_000)
    assert limited.value.retry_after == 3600 - 25
    with pytest.raises(RateLimited) as lowered:
        rate_limit_hit(limits=[(minute, 1, 60)], now_ms=T0 + 25_000)
    assert lowered.value.retry_after == 20 + 60 - 25


def test_sign_up_style_callers_keep_one_shared_window():
    """The existing shape (``(key, count)`` plus ``window_seconds``) still works."""
    key = _key()
    for _ in range(2):
        rate_limit_hit(limits=[(key, 2)], window_seconds=3600)
    with pytest.raises(RateLimited) as limited:
        rate_limit_hit(limits=[(key, 2)], window_seconds=3600)
    assert 3599 <= limited.value.retry_after <= 3600
    with pytest.raises(ValueError):
        rate_limit_hit(limits=[(key, 2)])


def test_write_throttle_hit_uses_redis_time_and_raises_with_retry_after():
    write_throttle_hit(user_id=3, action="post", trust_level="new", exempt=False)
    with pytest.raises(RateLimited) as limited:
        write_throttle_hit(user_id=3, action="post", trust_level="new", exempt=False)
    assert limited.value.retry_after in (29, 30)


def test_exempt_gardeners_are_never_limited_nor_counted():
    for _ in range(50):
        write_throttle_hit(user_id=4, action="post", trust_level="new", exempt=True)
    assert not get_strict_redis().keys("sec:rate:write:*")
    write_throttle_hit(user_id=4, action="post", trust_level="new", exempt=False)


def test_unknown_actions_and_levels_are_programming_errors():
    with pytest.raises(ValueError):
        write_throttle_hit(user_id=1, action="like", trust_level="new", exempt=False)
    with pytest.raises(ValueError):
        write_throttle_hit(user_id=1, action="post", trust_level="admin", exempt=False)


def _allowance(windows: list[tuple[int, int]], span_seconds: int) -> int:
    """The most hits a set of windows lets through in ``span_seconds``."""
    return min(count * math.ceil(span_seconds / window) for count, window in windows)


def test_every_level_has_every_action_and_higher_levels_are_more_generous():
    """README "Write throttles": each level at least as generous as the one below over any
    span, and strictly more over a day."""
    for action in WRITE_ACTIONS:
        for lower, higher in zip(LEVELS, LEVELS[1:]):
            low, high = settings.WRITE_THROTTLES[lower][action], settings.WRITE_THROTTLES[higher][action]
            for span in (1, 30, 60, 3600):
                assert _allowance(high, span) >= _allowance(low, span), (action, lower, higher, span)
            assert _allowance(high, 86400) > _allowance(low, 86400), (action, lower, higher)


def test_the_issues_example_and_discourses_numbers_are_the_defaults():
    new = settings.WRITE_THROTTLES["new"]
    assert new["post"][:2] == [(1, 30), (10, 3600)]
    assert (20, 86400) in new["report"] and (50, 86400) in new["vote"]
    assert settings.WRITE_THROTTLES["basic"]["post"][0] == (1, 5)


@pytest.mark.parametrize(
    "seconds, phrase",
    [
        (0, "1 second"),
        (1, "1 second"),
        (25, "25 seconds"),
        (59, "59 seconds"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (3599, "60 minutes"),
        (5399, "90 minutes"),
        (5400, "2 hours"),
        (86400, "24 hours"),
    ],
)
def test_wait_phrases_round_up(seconds, phrase):
    assert wait_phrase(seconds) == phrase


def test_messages_say_what_was_too_quick_and_when_to_try_again():
    assert write_throttle_message(action="post", retry_after=25) == "You are posting quickly. Try again in 25 seconds."
    assert write_throttle_message(action="vote", retry_after=61) == "You are voting quickly. Try again in 2 minutes."
    for action in WRITE_ACTIONS:
        assert write_throttle_message(action=action, retry_after=1).endswith("Try again in 1 second.")


def test_a_redis_outage_lets_writes_through_and_logs_a_warning(settings, caplog):
    """Fail open (these limits stop floods, they guard no account), while the same limiter
    still raises for sign-in-type callers, which fail closed."""
    with redis_server() as server:
        settings.REDIS_URL = server.url
        write_throttle_hit(user_id=5, action="post", trust_level="new", exempt=False)
        with pytest.raises(RateLimited):
            write_throttle_hit(user_id=5, action="post", trust_level="new", exempt=False)
        server.kill()
        with caplog.at_level(logging.WARNING, logger="apps.core.throttle"):
            for _ in range(3):
                write_throttle_hit(user_id=5, action="post", trust_level="new", exempt=False)
        records = [record for record in caplog.records if record.name == "apps.core.throttle"]
        assert [record.levelname for record in records] == ["WARNING"] * 3
        assert "Redis unavailable" in records[0].getMessage()
        with pytest.raises(redis.RedisError):
            rate_limit_hit(limits=[(_key(), 1)], window_seconds=60)


@pytest.mark.parametrize("action, allowed", [("post", 1), ("vote", 10)])
def test_parallel_writes_of_one_gardener_let_exactly_the_limit_through(action, allowed):
    """25 threads released together by a barrier: exactly the ``new`` level's count passes."""
    threads_count = 25
    barrier = threading.Barrier(threads_count)
    outcomes: list[str] = []
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    def write():
        barrier.wait()
        started = time.monotonic()
        try:
            write_throttle_hit(user_id=9, action=action, trust_level="new", exempt=False)
            outcome = "through"
        except RateLimited:
            outcome = "limited"
        with lock:
            outcomes.append(outcome)
            spans.append((started, time.monotonic()))

    threads = [threading.Thread(target=write) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes.count("through") == allowed and outcomes.count("limited") == threads_count - allowed
    # They overlapped: some write started before another had finished.
    assert any(a[0] < b[1] and b[0] < a[1] for i, a in enumerate(spans) for b in spans[i + 1 :])


def _model_decision(admitted: list[int], windows: list[tuple[int, int]], now: int) -> int:
    """Reference model: the wait in ms before a hit at ``now`` fits every window (0 = now)."""
    wait = 0
    for count, window_ms in windows:
        inside = [t for t in admitted if t > now - window_ms]
        if len(inside) >= count:
            wait = max(wait, inside[len(inside) - count] + window_ms - now)
    return wait


@pytest.mark.parametrize("seed", range(8))
def test_randomized_hits_match_a_reference_model_and_never_overfill_a_window(seed):
    """For random window sets and random (non-decreasing) hit times, every decision and wait
    equals the model's, and no window ever holds more than its count."""
    rng = random.Random(seed)
    for _ in range(25):
        windows = [(rng.randint(1, 5), rng.randint(1, 20) * 1000) for _ in range(rng.randint(1, 3))]
        keys = [_key() for _ in windows]
        limits = [(key, count, window_ms // 1000) for key, (count, window_ms) in zip(keys, windows)]
        admitted: list[int] = []
        now = T0
        for _ in range(rng.randint(1, 40)):
            now += rng.choice([0, 1, rng.randint(1, 999), rng.randint(1, 25_000)])
            expected_wait = _model_decision(admitted, windows, now)
            try:
                rate_limit_hit(limits=limits, now_ms=now)
            except RateLimited as limited:
                assert expected_wait > 0, (seed, windows, admitted, now)
                assert limited.retry_after == max(1, math.ceil(expected_wait / 1000))
            else:
                assert expected_wait == 0, (seed, windows, admitted, now)
                admitted.append(now)
            for count, window_ms in windows:
                assert all(sum(1 for t in admitted if end - window_ms < t <= end) <= count for end in admitted)
