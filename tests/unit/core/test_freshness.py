"""Freshness states on a fake clock, backoff with full jitter, Retry-After in both forms."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallboard.core.freshness import (
    CACHE_AGE_ALLOWANCE_S,
    MIN_DELAY_S,
    RETRY_AFTER_MAX_S,
    Freshness,
    FreshnessTracker,
    assess,
    backoff_delay,
    parse_retry_after,
)


@pytest.mark.parametrize(
    ("since_success", "since_start", "failures", "expected"),
    [
        (None, 1.0, 0, Freshness.STALE),  # starting up, no data yet
        (None, 5.0, 3, Freshness.DOWN),  # never reached the API after 3 attempts
        (None, 21.0, 0, Freshness.DOWN),  # nothing for 10 intervals, even without a counted failure (hang)
        (2.0, 100.0, 0, Freshness.LIVE),
        (6.0, 100.0, 1, Freshness.LIVE),  # exactly 3 intervals: still live
        (6.5, 100.0, 1, Freshness.STALE),  # no success for 3 intervals
        (7.0, 100.0, 3, Freshness.DOWN),  # failing repeatedly and past stale
        (21.0, 100.0, 0, Freshness.DOWN),  # no success for 10 intervals
    ],
)
def test_freshness_states(since_success: float | None, since_start: float, failures: int, expected: Freshness) -> None:
    assert assess(interval_s=2.0, seconds_since_success=since_success, seconds_since_start=since_start,
                  consecutive_failures=failures) is expected  # fmt: skip


def test_tracker_walks_live_stale_down_and_back_on_a_fake_clock() -> None:
    real = 1000.0  # monotonic seconds
    board = 1_795_300_000.0  # what the wall's clock shows
    t = FreshnessTracker("calls", 2.0, started_real=real)
    assert t.state(real) is Freshness.STALE, "no data yet"
    t.attempt(board=board)
    assert t.success(real=real + 0.1, board=board + 0.1) is False, "a first success is not a recovery"
    assert t.state(real + 0.1) is Freshness.LIVE
    assert t.state(real + 6.1) is Freshness.LIVE
    assert t.state(real + 6.2) is Freshness.STALE, "3 intervals without success"
    for n in range(1, 4):
        assert t.failure("HTTP 503", board=board + 2 * n) == n
    health = t.health(real + 6.2)
    assert health.state is Freshness.DOWN, "stale and failing 3 times in a row"
    assert (health.last_error, health.consecutive_failures, health.last_success_at) == ("HTTP 503", 3, board + 0.1)
    assert health.last_attempt_at == board + 6
    t.schedule(board + 9)
    assert t.health(real + 6.2).next_attempt_at == board + 9
    t.attempt(board=board + 9)
    assert t.health(real + 9).next_attempt_at is None
    assert t.success(real=real + 9.0, board=board + 9.0) is True, "ends a run of failures"
    health = t.health(real + 9.0)
    assert (health.state, health.last_error, health.consecutive_failures) == (Freshness.LIVE, None, 0)


def test_tracker_without_failures_still_goes_down_when_requests_hang() -> None:
    t = FreshnessTracker("units", 1.0, started_real=0.0)
    t.success(real=0.0, board=0.0)
    assert t.state(3.5) is Freshness.STALE
    assert t.state(10.5) is Freshness.DOWN, "a request that never returns is an outage too"


def test_restart_gives_a_fresh_start_up_grace_period() -> None:
    t = FreshnessTracker("queue", 1.0, started_real=0.0)
    assert t.state(50.0) is Freshness.DOWN
    t.restart(50.0)
    assert t.state(50.5) is Freshness.STALE


def test_sticky_stream_stays_live_until_it_fails() -> None:
    t = FreshnessTracker("reference", 3600.0, started_real=0.0, sticky=True)
    assert t.state(0.0) is Freshness.STALE
    t.success(real=1.0, board=1.0)
    assert t.state(10 * 86400.0) is Freshness.LIVE
    t.failure("timeout")
    assert t.state(10 * 86400.0) is Freshness.DOWN


def test_invalid_items_are_counted_never_negative() -> None:
    t = FreshnessTracker("calls", 2.0, started_real=0.0)
    t.count_invalid(3)
    t.count_invalid(-5)
    t.count_invalid(2)
    assert t.health(0.0).invalid_items_total == 5


def test_backoff_is_full_jitter_under_an_exponential_ceiling() -> None:
    rng = random.Random(1)
    for failures, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (6, 32.0), (7, 60.0), (40, 60.0)]:
        delays = [backoff_delay(failures, base_s=1.0, cap_s=60.0, rng=rng) for _ in range(300)]
        assert all(MIN_DELAY_S <= d <= ceiling for d in delays), failures
        # Full jitter: the draws spread over the whole range, not only its top.
        assert min(delays) < 0.25 * ceiling and max(delays) > 0.75 * ceiling, failures
    assert backoff_delay(0, base_s=2.0, cap_s=60.0, rng=rng) == 2.0


def test_backoff_honours_retry_after_within_reason() -> None:
    rng = random.Random(2)
    assert backoff_delay(1, base_s=1.0, cap_s=60.0, rng=rng, retry_after_s=30.0) >= 30.0
    assert backoff_delay(1, base_s=1.0, cap_s=600.0, rng=rng, retry_after_s=500.0) >= 500.0
    # A server asking for a day is answered after RETRY_AFTER_MAX_S: the wall must not go blind for a day.
    assert backoff_delay(1, base_s=1.0, cap_s=60.0, rng=rng, retry_after_s=86400.0) == RETRY_AFTER_MAX_S
    assert backoff_delay(1, base_s=1.0, cap_s=60.0, rng=rng, retry_after_s=float("inf")) == RETRY_AFTER_MAX_S
    assert backoff_delay(1, base_s=1.0, cap_s=60.0, rng=rng, retry_after_s=float("nan")) <= 1.0


@given(
    failures=st.integers(min_value=-5, max_value=10_000),
    base=st.floats(min_value=0.0, max_value=100.0),
    cap=st.floats(min_value=0.0, max_value=3600.0),
    retry_after=st.none() | st.floats(allow_nan=True, allow_infinity=True),
    seed=st.integers(0, 2**32 - 1),
)
def test_backoff_is_always_a_finite_positive_bounded_delay(
    failures: int, base: float, cap: float, retry_after: float | None, seed: int
) -> None:
    delay = backoff_delay(failures, base_s=base, cap_s=cap, rng=random.Random(seed), retry_after_s=retry_after)
    assert MIN_DELAY_S <= delay <= max(base, cap, RETRY_AFTER_MAX_S, MIN_DELAY_S)


def test_retry_after_forms() -> None:
    assert parse_retry_after("7", 0.0) == 7.0
    assert parse_retry_after(" 120 ", 0.0) == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 -0000", 1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490.0) == 0.0, "a date in the past: now"
    for junk in ("soon", "-5", "1.5", "٣", "", None, "Wed, 99 Foo 2015", "<img src=x onerror=alert(1)>"):
        assert parse_retry_after(junk, 0.0) is None, junk


@given(st.text(max_size=60))
def test_retry_after_never_raises(value: str) -> None:
    result = parse_retry_after(value, 1_795_300_000.0)
    assert result is None or result >= 0.0


def test_a_cache_serving_an_ever_older_copy_turns_the_stream_stale_then_down() -> None:
    tracker = FreshnessTracker("queue", 1.0, started_real=0.0)
    # A healthy micro-cache: every poll answered, copies up to the contract's allowance old: live throughout.
    for t in range(1, 30):
        tracker.success(real=float(t), board=1000.0 + t, age_s=CACHE_AGE_ALLOWANCE_S)
        assert tracker.state(t + 0.9) is Freshness.LIVE
    assert tracker.last_success_at == 1029.0
    # The API behind it stops at t=29; the cache keeps answering 200 from its copy, with a growing Age.
    states = {}
    for t in range(30, 50):
        assert not tracker.success(real=float(t), board=1000.0 + t, age_s=float(t - 29))
        states[t] = tracker.state(float(t))
    assert states[31] is Freshness.LIVE, "within the cache allowance"
    assert states[35] is Freshness.STALE, "3 intervals past the allowance: stale although every poll succeeded"
    assert states[49] is Freshness.DOWN
    assert tracker.last_success_at == pytest.approx(1000.0 + 29 + CACHE_AGE_ALLOWANCE_S), "shown: when data was fresh"


def test_an_older_copy_never_moves_the_last_success_back() -> None:
    tracker = FreshnessTracker("calls", 2.0, started_real=0.0)
    tracker.success(real=10.0, board=110.0)
    tracker.success(real=11.0, board=111.0, age_s=60.0)  # another cache node with an old copy
    assert (tracker.last_success_real, tracker.last_success_at) == (10.0, 110.0)
    tracker.success(real=12.0, board=112.0, age_s=float("nan"))  # garbage counts as no age
    assert tracker.last_success_real == 12.0
    tracker.success(real=20.0, board=200.0, age_s=4.0, rate=60.0)  # a demo clock at x60
    assert (tracker.last_success_real, tracker.last_success_at) == (18.0, 80.0)


def test_a_rejected_token_is_a_field_set_by_whoever_saw_the_status_never_read_from_the_text() -> None:
    t = FreshnessTracker("calls", 2.0, started_real=0.0)
    t.failure("/api/v1/calls: HTTP 401 not authorised (check the API token)")
    assert t.health(0.0).auth_rejected is False, "the message is free text: a 401 in it proves nothing"
    t.failure("/api/v1/calls: ditolak oleh server", auth_rejected=True)  # any wording, any language
    assert t.health(0.0).auth_rejected is True
    t.failure("connection refused")
    assert t.health(0.0).auth_rejected is False, "it describes the last attempt"
    t.failure("forbidden", auth_rejected=True)
    t.success(real=1.0, board=1.0)
    assert t.health(1.0).auth_rejected is False
