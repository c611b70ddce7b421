"""All 38 Polda with one Polres per regency: the default national reference and its map boundaries."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from wallboard.core.reference import ReferenceDataError, national_from_json, polda_province_codes
from wallboard.resources import (
    all_poldas,
    kaltim_reference,
    read_json,
    regencies,
    regency_boundaries,
    resource_path,
)


def test_every_regency_is_one_polres_of_exactly_one_polda() -> None:
    ref = all_poldas()
    codes = [r["code"] for r in regencies()]
    assert len(codes) == len(set(codes)) == 514
    assert sorted(ref.polres) == sorted(codes)
    assert all(p.polda_id in ref.poldas for p in ref.polres.values())


def test_every_polda_has_a_polres_and_the_counts_follow_the_provinces() -> None:
    ref = all_poldas()
    per_polda = Counter(p.polda_id for p in ref.polres.values())
    assert len(ref.poldas) == 38
    assert set(per_polda) == set(ref.poldas), "every Polda has at least one Polres"
    assert per_polda["jawa-timur"] == 38
    assert per_polda["papua-selatan"] == 4  # a planned Polda still gets its province's regencies
    # Metro Jaya: DKI Jakarta's 6 plus Bekasi (kab and kota), Depok, Kota Tangerang and Tangerang Selatan.
    assert per_polda["metro-jaya"] == 11
    assert ref.polres["32.76"].polda_id == "metro-jaya" and ref.polres["32.76"].name == "Polres Metro Depok"
    assert ref.polres["36.03"].polda_id == "banten" and ref.polres["36.03"].name == "Polresta Tangerang"
    assert per_polda["jawa-barat"] == 27 - 3 and per_polda["banten"] == 8 - 2


def test_kaltim_is_exactly_as_before() -> None:
    national = all_poldas()
    kaltim = kaltim_reference()
    assert national.polres_of("kaltim") == kaltim.polres_of("kaltim")
    assert national.poldas["kaltim"] == kaltim.poldas["kaltim"]


def test_polres_names_follow_polri_naming() -> None:
    ref = all_poldas()
    assert ref.polres["35.78"].name == "Polrestabes Surabaya"
    assert ref.polres["31.71"].name.startswith("Polres Metro Jakarta")
    assert ref.polres["35.05"].name == "Polres Blitar"  # the kabupaten
    assert ref.polres["35.72"].name == "Polres Blitar Kota"  # the kota of the same name
    assert not any("(sim)" in p.name for p in ref.polres.values())
    assert all(p.name.split()[0] in ("Polres", "Polresta", "Polrestabes") for p in ref.polres.values())


def test_every_polres_point_is_inside_its_own_regency() -> None:
    from wallboard.sim.world import areas_from_geojson, inside

    areas = areas_from_geojson(regency_boundaries(None), key="polres_id")
    outside = [p.id for p in all_poldas().polres.values() if not inside(p.lat, p.lon, areas[p.id])]
    assert outside == []


def test_boundaries_per_polda_carry_the_polres_id() -> None:
    doc = regency_boundaries("kaltim")
    assert doc["type"] == "FeatureCollection"
    assert sorted(f["properties"]["polres_id"] for f in doc["features"]) == sorted(kaltim_reference().polres)
    assert all(f["properties"]["polda_id"] == "kaltim" for f in doc["features"])
    assert len(regency_boundaries("metro-jaya")["features"]) == 11
    assert len(regency_boundaries(None)["features"]) == 514
    with pytest.raises(KeyError):
        regency_boundaries("atlantis")


def test_a_regency_without_a_name_row_is_refused() -> None:
    with resource_path("data", "polres-names.csv").open(encoding="utf-8", newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["code"] != "11.01"]
    with pytest.raises(ReferenceDataError, match=r"11\.01"):
        national_from_json(read_json("data", "polda-indonesia.json"), regencies(), rows,
                           read_json("data", "kaltim-polres.json"))  # fmt: skip


def test_a_province_claimed_twice_is_refused() -> None:
    poldas = read_json("data", "polda-indonesia.json")
    assert polda_province_codes(poldas)["64"] == "kaltim"
    with pytest.raises(ReferenceDataError, match="claimed"):
        polda_province_codes([*poldas, {**poldas[0], "polda": "Polda Aceh Dua"}])
