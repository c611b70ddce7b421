"""The national simulator: the real 514 Polres, plausible response times by regency, units that move like vehicles
inside their own regency, and a catch-up that costs events, not units × seconds."""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterator

import pytest
import requests

from wallboard.core.model import GeoPoint, Incident, Unit, UnitKind
from wallboard.resources import all_poldas, kaltim_reference, regencies
from wallboard.sim.server import SimServer, national_world_inputs
from wallboard.sim.world import MAX_SPEED_KMH, World, area_km2, distance_km, inside

START = 1_795_300_000.0
DAY = 86400.0


@pytest.fixture(scope="module")
def national() -> Iterator[SimServer]:
    server = SimServer(region="indonesia", seed=4, speed=0, start_time=START)
    server.start()
    server.advance(1800)
    yield server
    server.stop()


def test_the_national_world_is_the_national_reference(national: SimServer) -> None:
    assert national.reference == all_poldas()
    assert {u.unit.polres_id for u in national.world.units.values()} == set(all_poldas().polres)
    assert not any("(sim)" in p.name for p in national.reference.polres.values())
    kaltim = kaltim_reference().polres
    assert {pid: national.reference.polres[pid] for pid in kaltim} == kaltim


@pytest.mark.parametrize("polda", ["jawa-timur", "metro-jaya", "papua-selatan", "kaltim"])
def test_a_board_for_any_polda_gets_its_own_records(national: SimServer, polda: str) -> None:
    polres = {p.id for p in all_poldas().polres_of(polda)}
    reference = requests.get(f"{national.url}/api/v1/reference", params={"polda": polda}, timeout=30).json()
    assert {p["id"] for p in reference["polres"]} == polres
    units = requests.get(f"{national.url}/api/v1/units", params={"polda": polda, "limit": "5000"}, timeout=30).json()
    assert {u["polres_id"] for u in units["items"]} == polres
    assert len(units["items"]) == sum(u.unit.polres_id in polres for u in national.world.units.values())


def sample_world(
    polres_ids: list[str], *, seed: int, live: bool, listener: Callable[[str, object], None] | None = None
) -> World:
    reference, areas, profiles = national_world_inputs()
    polres = [reference.polres[p] for p in polres_ids]
    return World(
        polres, seed=seed, start_time=START, areas=areas, profiles=profiles, live_units=live, listener=listener
    )


# Across the country: Jakarta, Java, Sumatra, islands, Kalimantan, Sulawesi, Papua highlands and coast.
SAMPLE = ["31.71", "31.01", "35.78", "33.74", "12.71", "11.01", "21.71", "51.71", "53.01", "62.03", "73.71",
          "81.71", "91.71", "95.01", "94.03", "93.01", "64.11", "82.71"]  # fmt: skip


def test_units_move_like_vehicles_inside_their_regency_across_the_country() -> None:
    fixes: dict[str, list[tuple[float, float, float, UnitKind]]] = defaultdict(list)

    def listen(stream: str, record: object) -> None:
        if isinstance(record, Unit) and record.fix is not None:
            fixes[record.id].append((record.fix.at, record.fix.lat, record.fix.lon, record.kind))

    world = sample_world(SAMPLE, seed=9, live=True, listener=listen)
    world.advance_to(START + 3600, tick_s=5.0)
    checked = outside = total = 0
    for unit_id, track in fixes.items():
        rings = world.areas[world.units[unit_id].unit.polres_id]
        for (t0, lat0, lon0, kind), (t1, lat1, lon1, _) in itertools.pairwise(track):
            if t1 - t0 >= 1.0:
                kmh = distance_km(GeoPoint(lat0, lon0), GeoPoint(lat1, lon1)) / ((t1 - t0) / 3600)
                assert kmh <= MAX_SPEED_KMH[kind] * 1.01, f"{unit_id} moved at {kmh:.0f} km/h"
                checked += 1
        for _, lat, lon, _ in track:
            total += 1
            outside += not inside(lat, lon, rings)
    assert checked > 2000
    # Straight legs between inside points can cut a bay or an island's neck; almost every fix is inside.
    assert outside <= total * 0.05, f"{outside} of {total} fixes outside their regency"
    assert all(inside(s.home.lat, s.home.lon, world.areas[s.unit.polres_id]) for s in world.units.values())


def test_dense_cities_mostly_meet_10_minutes_and_large_remote_regencies_mostly_not() -> None:
    kinds = {r["code"]: r["kind"] for r in regencies()}
    _, areas, _ = national_world_inputs()
    cities = sorted(pid for pid in areas if kinds[pid] == "kota")[::3]
    large = sorted((p for p in areas if kinds[p] == "kabupaten"), key=lambda p: -area_km2(areas[p]))[:30]
    incidents: dict[str, Incident] = {}

    def listen(stream: str, record: object) -> None:
        if isinstance(record, Incident):
            incidents[record.id] = record

    world = sample_world(cities + large, seed=21, live=False, listener=listen)
    # Three days: one day gives the 30 large regencies only 30-60 incidents, and a share from so few moved by 10
    # points with any change to the simulator's random sequence (seeds 21-25 over three days: 19-24 %).
    world.advance_to(START + 3 * DAY)
    by_polres: dict[str, list[float]] = defaultdict(list)
    for incident in incidents.values():
        if incident.response_time_s is not None:
            by_polres[incident.polres_id].append(incident.response_time_s)
    city_times = [t for p in cities for t in by_polres[p]]
    remote_times = [t for p in large for t in by_polres[p]]
    assert len(city_times) > 100 and len(remote_times) > 20
    assert sum(t <= 600 for t in city_times) / len(city_times) > 0.6
    assert sum(t <= 600 for t in remote_times) / len(remote_times) < 0.3
    assert statistics.median(city_times) < 600 < statistics.median(remote_times)


def test_a_long_catch_up_sends_one_position_fix_per_unit_not_one_per_tick() -> None:
    def periodic_fixes(tick_s: float | None) -> tuple[int, int]:
        last_status: dict[str, object] = {}
        periodic = 0

        def listen(stream: str, record: object) -> None:
            nonlocal periodic
            if isinstance(record, Unit):
                periodic += last_status.get(record.id) == record.status  # a status change sends its own fix
                last_status[record.id] = record.status

        world = World(list(kaltim_reference().polres.values()), seed=2, start_time=START, listener=listen)
        world.advance_to(START + 2 * 3600, tick_s)
        return periodic, len(world.units)

    at_once, units = periodic_fixes(None)
    ticked, _ = periodic_fixes(10.0)
    assert at_once <= units
    assert ticked > 20 * units, "ticking every 10 s does send fixes along the way"
