"""Legs and beats: positions are interpolated, continuous across a beat's rounds, and 'moved between' is exact."""

from __future__ import annotations

import itertools
import random

from wallboard.core.model import GeoPoint, Unit, UnitKind, UnitStatus
from wallboard.sim.world import Beat, Leg, SimUnit, distance_km

T0 = 1_000_000.0
HOME = GeoPoint(-1.25, 116.85)
POINTS = [GeoPoint(-1.25, 116.85), GeoPoint(-1.26, 116.87), GeoPoint(-1.24, 116.89)]


def beat_unit() -> SimUnit:
    """A unit that drives to the beat's first point, waits 100 s, then goes round three points (120 s stops)."""
    unit = SimUnit(Unit("u", 1, "U-1", "64.71", UnitKind.R2, UnitStatus.AVAILABLE), HOME, GeoPoint(-1.23, 116.83))
    approach = Leg.between(T0, unit.place, POINTS[0], 30.0)
    t, legs = approach.arrive_at + 100.0, []
    for origin, target in zip(POINTS, POINTS[1:] + POINTS[:1], strict=True):
        legs.append(Leg.between(t, origin, target, 30.0))
        t = legs[-1].arrive_at + 120.0
    unit.legs, unit.beat = (approach,), Beat(tuple(legs), t - legs[0].start_at)
    return unit


def test_a_leg_is_interpolated_and_ends_at_its_target() -> None:
    leg = Leg.between(T0, POINTS[0], POINTS[1], 36.0)
    assert distance_km(leg.position(T0), POINTS[0]) < 1e-9
    assert distance_km(leg.position(leg.arrive_at + 50), POINTS[1]) < 1e-9
    halfway = leg.position((T0 + leg.arrive_at) / 2)
    assert abs(distance_km(POINTS[0], halfway) - distance_km(POINTS[0], POINTS[1]) / 2) < 1e-3


def test_a_beat_repeats_and_is_continuous_across_rounds() -> None:
    unit = beat_unit()
    beat = unit.beat
    assert beat is not None
    for rounds in (1, 2, 7):
        t = beat.start_at + rounds * beat.period
        assert distance_km(unit.position_at(t - 0.01), unit.position_at(t + 0.01)) < 0.001
        for dt in (0.0, 33.0, 400.0):
            assert distance_km(unit.position_at(beat.start_at + dt), unit.position_at(t + dt)) < 1e-6
    # and no faster than its speed anywhere, sampled every 5 s over three rounds
    t = T0
    while t < beat.start_at + 3 * beat.period:
        assert distance_km(unit.position_at(t), unit.position_at(t + 5)) / (5 / 3600) <= 30.0 * 1.001
        t += 5


def test_moved_between_agrees_with_sampling_the_position() -> None:
    unit = beat_unit()
    beat = unit.beat
    assert beat is not None
    rng = random.Random(1)
    for _ in range(300):
        t0 = rng.uniform(T0 - 100, beat.start_at + 4 * beat.period)
        t1 = t0 + rng.choice((5.0, 30.0, 90.0, 250.0, beat.period + 1))
        samples = [unit.position_at(t0 + (t1 - t0) * k / 200) for k in range(201)]
        moved = any(distance_km(a, b) > 1e-9 for a, b in itertools.pairwise(samples))
        assert unit.moved_between(t0, t1) == moved, (t0, t1)
