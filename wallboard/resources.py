"""Shipped assets (reference data, boundaries, OpenAPI document, map assets, translations).

In a wheel they live in ``wallboard/_resources`` (the build copies ``resources/`` there); in a source checkout or an
editable install they are read straight from the repository's ``resources/``. Either way callers get a path.
"""

from __future__ import annotations

import csv
import json
from functools import cache
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

from wallboard.core.reference import ReferenceData, kaltim_from_json, national_from_json


@cache
def resource_root() -> Path:
    packaged = Path(str(importlib_resources.files("wallboard"))) / "_resources"
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parent.parent / "resources"
    if source.is_dir():
        return source
    raise FileNotFoundError("wallboard resources not found (neither wallboard/_resources nor ./resources)")


def resource_path(*parts: str) -> Path:
    return resource_root().joinpath(*parts)


def read_json(*parts: str) -> Any:
    return json.loads(resource_path(*parts).read_text(encoding="utf-8"))


@cache
def kaltim_reference() -> ReferenceData:
    """Polda Kaltim and its 10 Polres."""
    return kaltim_from_json(read_json("data", "kaltim-polres.json"))


@cache
def regencies() -> tuple[dict[str, Any], ...]:
    """The 514 kabupaten/kota (``indonesia-regencies.json``): code, name, kind, province, a point inside, tz."""
    return tuple(read_json("data", "indonesia-regencies.json"))


@cache
def all_poldas() -> ReferenceData:
    """All 38 Polda, each with one Polres per regency of its area (Kaltim's 10 exactly as ``kaltim_reference``)."""
    with resource_path("data", "polres-names.csv").open(encoding="utf-8", newline="") as names:
        rows = list(csv.DictReader(names))
    return national_from_json(
        read_json("data", "polda-indonesia.json"), regencies(), rows, read_json("data", "kaltim-polres.json")
    )


@cache
def _regency_features() -> tuple[dict[str, Any], ...]:
    return tuple(read_json("data", "indonesia-regencies.geojson")["features"])


def regency_boundaries(polda_id: str | None = None) -> dict[str, Any]:
    """Boundaries of a Polda's regencies (every regency if ``polda_id`` is None) as a GeoJSON FeatureCollection.

    Each feature's properties carry ``polres_id`` (the Polres whose area it is), ``polda_id`` and the regency's
    ``code``, ``name`` and ``province_code``. Raises KeyError for an unknown Polda.
    """
    reference = all_poldas()
    if polda_id is not None and polda_id not in reference.poldas:
        raise KeyError(f"unknown Polda {polda_id!r}")
    features = []
    for feature in _regency_features():
        polres = reference.polres.get(feature["properties"]["code"])
        if polres is None or (polda_id is not None and polres.polda_id != polda_id):
            continue
        properties = {**feature["properties"], "polres_id": polres.id, "polda_id": polres.polda_id}
        features.append({"type": "Feature", "properties": properties, "geometry": feature["geometry"]})
    return {"type": "FeatureCollection", "features": features}
