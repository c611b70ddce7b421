"""Reference data: the Polda and Polres the board knows, built from already-parsed JSON (no I/O here).

The shipped files are ``resources/data/kaltim-polres.json`` (Polda Kaltim and its 10 Polres) and
``resources/data/polda-indonesia.json`` (all 38 Polda); ``wallboard.resources`` reads them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
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


def polda_province_codes(data: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Province code → Polda id, from the ``province`` field of ``polda-indonesia.json`` ("Aceh (11)").

    A Polda's province is the first two-digit code in parentheses; notes such as Metro Jaya's "+ parts of
    Jabar/Banten" are carried by the per-regency ``polda`` column of ``polres-names.csv`` instead.
    """
    out: dict[str, str] = {}
    for polda, rec in zip(poldas_from_json(data), data, strict=True):
        match = re.search(r"\((\d{2})\)", _str(rec, "province"))
        if match is None:
            raise ReferenceDataError(f"{polda.name}: no province code in {rec['province']!r}")
        if match.group(1) in out:
            raise ReferenceDataError(f"province {match.group(1)} is claimed by {out[match.group(1)]} and {polda.id}")
        out[match.group(1)] = polda.id
    return out


def national_from_json(
    poldas: list[Mapping[str, Any]],
    regencies: Iterable[Mapping[str, Any]],
    polres_names: Iterable[Mapping[str, str]],
    kaltim: Mapping[str, Any],
) -> ReferenceData:
    """Every Polda with one Polres per kabupaten/kota (the default map of Polres areas), ids = Kemendagri codes.

    ``regencies`` has the shape of ``indonesia-regencies.json``, ``polres_names`` the rows of ``polres-names.csv``
    (``code``, ``polres`` and an optional ``polda`` id where a regency is not under its province's Polda), ``kaltim``
    the shape of ``kaltim-polres.json``, whose 10 Polres are kept exactly (their names, HQ towns and coordinates).
    The point of a Polres outside Kaltim is a point inside its regency, not its headquarters.
    """
    polda_of_province = polda_province_codes(poldas)
    names = {row["code"]: row for row in polres_names}
    kaltim_reference = kaltim_from_json(kaltim)
    kaltim_polres = kaltim_reference.polres
    by_polda: dict[str, list[Polres]] = {polda_id: [] for polda_id in polda_of_province.values()}
    for rec in regencies:
        code = _str(rec, "code")
        row = names.get(code)
        if row is None:
            raise ReferenceDataError(f"regency {code} ({rec.get('name')}) has no row in polres-names.csv")
        polda_id = row.get("polda") or polda_of_province.get(_str(rec, "province_code"))
        if polda_id not in by_polda:
            raise ReferenceDataError(f"regency {code}: unknown Polda {polda_id!r}")
        if code in kaltim_polres:
            polres = replace(kaltim_polres[code], polda_id=polda_id)
        else:
            is_city = rec.get("kind") == "kota"
            polres = Polres(
                id=code,
                name=_str(row, "polres"),
                polda_id=polda_id,
                lat=_float(rec, "lat"),
                lon=_float(rec, "lon"),
                tz=_str(rec, "tz"),
                town=re.sub(r"^Kota\s+(Administrasi\s+)?", "", _str(rec, "name")) if is_city else "",
            )
        by_polda[polda_id].append(polres)
    kaltim_order = {pid: i for i, pid in enumerate(kaltim_polres)}
    ordered = [
        p
        for polda_id, polres in by_polda.items()
        for p in sorted(polres, key=lambda p: (kaltim_order.get(p.id, len(kaltim_order)), p.id))
    ]
    national = ReferenceData.of(poldas_from_json(poldas), ordered)
    return national.merged(ReferenceData(kaltim_reference.poldas, {}))  # Kaltim's own Polda record (HQ address)
