"""Reference data: the Polda and Polres the board knows, built from already-parsed JSON (no I/O here).

The shipped files are ``resources/data/kaltim-polres.json`` (Polda Kaltim and its 10 Polres) and
``resources/data/polda-indonesia.json`` (all 38 Polda); ``wallboard.resources`` reads them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wallboard.core.model import Polda, Polres

KALTIM_POLDA_ID = "kaltim"


class ReferenceDataError(ValueError):
    """A reference record is missing a field or has a value of the wrong kind."""


@dataclass(frozen=True)
class ReferenceData:
    """All Polda and Polres, indexed by id. Order is preserved (it is the display order by default)."""

    poldas: dict[str, Polda] = field(default_factory=dict)
    polres: dict[str, Polres] = field(default_factory=dict)

    def polres_of(self, polda_id: str) -> list[Polres]:
        return [p for p in self.polres.values() if p.polda_id == polda_id]

    def merged(self, other: ReferenceData) -> ReferenceData:
        return ReferenceData({**self.poldas, **other.poldas}, {**self.polres, **other.polres})

    @staticmethod
    def of(poldas: Iterable[Polda], polres: Iterable[Polres]) -> ReferenceData:
        return ReferenceData({p.id: p for p in poldas}, {p.id: p for p in polres})


def polda_slug(name: str) -> str:
    """A stable id from a Polda name: "Polda Kalimantan Timur" -> "kalimantan-timur"."""
    name = re.sub(r"\(.*?\)", "", name).replace("Polda", "")
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _float(record: Mapping[str, Any], key: str) -> float:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ReferenceDataError(f"{key!r} must be a number, got {value!r}")
    return float(value)


def _str(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value:
        raise ReferenceDataError(f"{key!r} must be a non-empty string, got {value!r}")
    return value


def kaltim_from_json(data: Mapping[str, Any]) -> ReferenceData:
    """Polda Kaltim and its Polres from the shape of ``kaltim-polres.json``."""
    polda_rec = data["polda"]
    polres = [
        Polres(
            id=_str(rec, "kode"),
            name=_str(rec, "unit"),
            polda_id=KALTIM_POLDA_ID,
            lat=_float(rec, "lat"),
            lon=_float(rec, "lon"),
            tz=_str(rec, "iana"),
            town=str(rec.get("town", "")),
        )
        for rec in data["polres"]
    ]
    polda = Polda(
        id=KALTIM_POLDA_ID,
        name=_str(polda_rec, "name"),
        hq_city="Balikpapan",
        lat=_float(polda_rec, "lat"),
        lon=_float(polda_rec, "lon"),
        tz=polres[0].tz if polres else "Asia/Makassar",
    )
    return ReferenceData.of([polda], polres)


def poldas_from_json(data: Iterable[Mapping[str, Any]]) -> list[Polda]:
    """The 38 Polda from the shape of ``polda-indonesia.json``; Kalimantan Timur gets the id ``kaltim``."""
    out = []
    for rec in data:
        slug = polda_slug(_str(rec, "polda"))
        out.append(
            Polda(
                id=KALTIM_POLDA_ID if slug == "kalimantan-timur" else slug,
                name=re.sub(r"\s*\(.*?\)\s*", " ", _str(rec, "polda")).strip(),
                hq_city=_str(rec, "hq"),
                lat=_float(rec, "lat"),
                lon=_float(rec, "lon"),
                tz=_str(rec, "iana"),
            )
        )
    return out
