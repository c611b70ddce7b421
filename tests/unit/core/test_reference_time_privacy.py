"""Reference data, clocks and time zones, and caller-number masking."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from wallboard.core.privacy import mask_phone
from wallboard.core.reference import ReferenceDataError, kaltim_from_json, polda_slug
from wallboard.core.timeutil import (
    ManualClock,
    ScaledClock,
    SystemClock,
    format_rfc3339,
    local_day_start,
    local_midnight,
    parse_rfc3339,
    zone_abbreviation,
)
from wallboard.resources import all_poldas, kaltim_reference

WITA = "Asia/Makassar"


def test_kaltim_has_ten_polres_with_real_coordinates() -> None:
    ref = kaltim_reference()
    polres = ref.polres_of("kaltim")
    assert len(polres) == 10
    balikpapan = ref.polres["64.71"]
    assert balikpapan.name == "Polresta Balikpapan"
    assert (balikpapan.lat, balikpapan.lon) == (-1.2768, 116.8292)
    assert all(p.tz == WITA for p in polres)
    assert "Polres Mahakam Ulu" in {p.name for p in polres}


def test_all_38_polda_with_their_zones() -> None:
    ref = all_poldas()
    assert len(ref.poldas) == 38
    assert ref.poldas["kaltim"].name == "Polda Kalimantan Timur"
    assert ref.poldas["aceh"].tz == "Asia/Jakarta"
    assert ref.poldas["papua"].tz == "Asia/Jayapura"
    assert {p.tz for p in ref.poldas.values()} >= {"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"}


def test_bad_reference_record_names_the_field() -> None:
    data = {"polda": {"name": "Polda X", "lat": 0, "lon": 0}, "polres": [{"unit": "P", "kode": "1", "lat": "north"}]}
    with pytest.raises(ReferenceDataError, match="'lat' must be a number"):
        kaltim_from_json(data)


def test_polda_slug_drops_prefix_and_notes() -> None:
    assert polda_slug("Polda Kalimantan Timur") == "kalimantan-timur"
    assert polda_slug("(planned) Polda Papua Selatan") == "papua-selatan"


def test_local_midnight_in_wita() -> None:
    # 2026-11-22 00:30 WITA is 2026-11-21 16:30 UTC: the board's day starts at 16:00 UTC the day before.
    t = datetime(2026, 11, 22, 0, 30, tzinfo=ZoneInfo(WITA)).timestamp()
    assert local_midnight(t, WITA) == datetime(2026, 11, 21, 16, 0, tzinfo=ZoneInfo("UTC")).timestamp()
    assert local_day_start(t, WITA, days_back=7) == local_midnight(t, WITA) - 7 * 86400
    assert zone_abbreviation(WITA) == "WITA"
    assert zone_abbreviation("Asia/Jayapura") == "WIT"


def test_rfc3339_round_trip_and_offset_required() -> None:
    text = "2026-11-22T14:00:00.250+08:00"
    t = parse_rfc3339(text)
    assert format_rfc3339(t, WITA) == text
    assert parse_rfc3339("2026-11-22T06:00:00.250Z") == t
    with pytest.raises(ValueError, match="without offset"):
        parse_rfc3339("2026-11-22T14:00:00.250")


def test_clocks() -> None:
    clock = ManualClock(100.0)
    clock.advance(5)
    assert clock.now() == 105.0
    fast = ScaledClock(1000.0, rate=60.0, base=clock.now)
    assert fast.now() == 1000.0 and fast.rate == 60.0
    clock.advance(2)
    assert fast.now() == 1000.0 + 120.0
    fast.step(5)
    assert fast.now() == 1125.0
    assert SystemClock().rate == 1.0 and clock.rate == 1.0
    stopped = ScaledClock(50.0, rate=0.0, base=clock.now)
    clock.advance(100)
    assert stopped.now() == 50.0  # rate 0: only step() moves it (the simulator under test)
    with pytest.raises(ValueError):
        ScaledClock(float("nan"))


@pytest.mark.parametrize(
    ("number", "masked"),
    [("081234565678", "0812****5678"), ("+6281234565678", "+628****5678"), ("0812-3456-5678", "0812****5678"),
     ("110", "*10"), ("", ""), (None, "")],
)  # fmt: skip
def test_caller_numbers_are_masked(number: str | None, masked: str) -> None:
    assert mask_phone(number) == masked


def test_authorised_desk_sees_the_full_number() -> None:
    assert mask_phone("081234565678", unmasked=True) == "081234565678"


def test_a_call_a_fraction_of_a_microsecond_before_midnight_is_yesterdays() -> None:
    # fromtimestamp rounds to the microsecond: 0.2 µs before midnight came out as midnight, the next day.
    midnight = datetime(2026, 11, 22, 0, 0, tzinfo=ZoneInfo(WITA)).timestamp()
    just_before = midnight - 2e-7
    assert just_before < midnight
    assert local_midnight(just_before, WITA) == midnight - 86400
    assert local_day_start(just_before, WITA) == midnight - 86400
    assert local_midnight(midnight, WITA) == midnight
