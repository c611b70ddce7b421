"""Shipped assets (reference data, boundaries, OpenAPI document, map assets, translations).

In a wheel they live in ``wallboard/_resources`` (the build copies ``resources/`` there); in a source checkout or an
editable install they are read straight from the repository's ``resources/``. Either way callers get a path.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

from wallboard.core.reference import ReferenceData, kaltim_from_json, poldas_from_json


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
def all_poldas() -> ReferenceData:
    """All 38 Polda (Kaltim with its Polres)."""
    national = ReferenceData.of(poldas_from_json(read_json("data", "polda-indonesia.json")), [])
    return national.merged(kaltim_reference())
