"""The kiosk exit PIN is kept only as a salted hash; checking it never raises on a damaged hash."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from wallboard.pin import MAX_ITERATIONS, MIN_ITERATIONS, hash_pin, is_pin_hash, verify_pin

FAST = MIN_ITERATIONS  # iterations: the production count is slow on purpose, the tests need not be


def test_hash_is_salted_and_verifies_only_the_right_pin() -> None:
    first, second = hash_pin("2468", iterations=FAST), hash_pin("2468", iterations=FAST)
    assert first != second, "a fresh salt every time"
    assert "2468" not in first
    assert verify_pin("2468", first) and verify_pin("2468", second)
    assert not verify_pin("2469", first) and not verify_pin("", first)
    assert is_pin_hash(first) and is_pin_hash(hash_pin("0000"))


def test_production_hashes_use_many_iterations() -> None:
    assert int(hash_pin("2468").split("$")[1]) >= 100_000


def test_damaged_or_foreign_hashes_never_match() -> None:
    good = hash_pin("2468", iterations=FAST)
    algorithm, iterations, salt, digest = good.split("$")
    for stored in ("", "2468", "garbage", f"md5${iterations}${salt}${digest}", f"{algorithm}$x${salt}${digest}",
                   f"{algorithm}${iterations}$zz${digest}", good + "$extra", good[:-2]):  # fmt: skip
        assert not verify_pin("2468", stored), stored
        assert not is_pin_hash(stored) or stored == good[:-2], stored


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=40), st.text(max_size=80))
def test_verify_never_raises(pin: str, stored: str) -> None:
    assert verify_pin(pin, stored) in (True, False)
    assert is_pin_hash(stored) in (True, False)


def test_iteration_counts_outside_the_sane_range_are_refused_without_being_computed() -> None:
    import time

    good = hash_pin("2468", iterations=FAST)
    algorithm, _, salt, digest = good.split("$")
    for count in (1, MIN_ITERATIONS - 1, MAX_ITERATIONS + 1, 10**12, 10**40):
        stored = f"{algorithm}${count}${salt}${digest}"
        started = time.monotonic()
        assert not is_pin_hash(stored) and not verify_pin("2468", stored), count
        assert time.monotonic() - started < 0.5, "a refused hash is never computed (10^12 iterations: days)"
    assert is_pin_hash(good) and is_pin_hash(f"{algorithm}${MAX_ITERATIONS}${salt}${digest}")
