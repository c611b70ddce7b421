"""The dispatch API's JSON records <-> domain objects. Pure functions over dicts; no I/O.

This is the contract in code: the simulator encodes with ``*_to_wire``, the client decodes and validates with
``*_from_wire``, and recordings (NDJSON) hold the same records. ``resources/openapi/dispatch-api.yaml`` is the
normative description; the contract tests check both agree.

Decoders raise :class:`WireError` with a reason naming the field, so the client can skip one bad item, count it and
log why, and apply the rest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from wallboard.core.model import (
    Call,
    CallCategory,
    Escalation,
    GeoPoint,
    Incident,
    Polda,
    Polres,
    PositionFix,
    Priority,
    QueueEntry,
    QueueState,
    Tier,
    Unit,
    UnitKind,
    UnitStatus,
)
from wallboard.core.reference import ReferenceData
from wallboard.core.timeutil import format_rfc3339, parse_rfc3339

MAX_ID_LEN = 64
MAX_TEXT_LEN = 200


class WireError(ValueError):
    """A record does not match the contract. ``str(err)`` names the field and the problem."""


# --- decoding helpers -------------------------------------------------------------------------------------------


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise WireError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _req(rec: Mapping[str, Any], key: str) -> Any:
    if key not in rec:
        raise WireError(f"{key}: missing")
    return rec[key]


#: The largest integer SQLite (and so the history) can hold: signed 64-bit.
MAX_INT = 2**63 - 1


def _text(rec: Mapping[str, Any], key: str, *, max_len: int = MAX_TEXT_LEN, optional: bool = False) -> str:
    value = rec.get(key) if optional else _req(rec, key)
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise WireError(f"{key}: expected a string, got {type(value).__name__}")
    if len(value) > max_len:
        raise WireError(f"{key}: longer than {max_len} characters")
    if any(ord(ch) < 32 and ch not in "\t" for ch in value):
        raise WireError(f"{key}: contains control characters")
    if any("\ud800" <= ch <= "\udfff" for ch in value):  # a lone surrogate (JSON "\ud800") has no UTF-8 form
        raise WireError(f"{key}: contains a lone UTF-16 surrogate (not valid Unicode text)")
    return value


def _ident(rec: Mapping[str, Any], key: str) -> str:
    value = _text(rec, key, max_len=MAX_ID_LEN)
    if not value:
        raise WireError(f"{key}: empty")
    return value


def _int(rec: Mapping[str, Any], key: str, *, minimum: int = 0, maximum: int = MAX_INT) -> int:
    value = _req(rec, key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise WireError(f"{key}: expected an integer, got {type(value).__name__}")
    if value < minimum:
        raise WireError(f"{key}: must be >= {minimum}")
    if value > maximum:
        raise WireError(f"{key}: must be <= {maximum}")
    return value


def _num(value: Any, key: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise WireError(f"{key}: expected a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number) or not lo <= number <= hi:
        raise WireError(f"{key}: {value!r} out of range [{lo}, {hi}]")
    return number


def _time(rec: Mapping[str, Any], key: str, *, optional: bool = False) -> float | None:
    value = rec.get(key) if optional else _req(rec, key)
    if value is None:
        if optional:
            return None
        raise WireError(f"{key}: must not be null")
    if not isinstance(value, str):
        raise WireError(f"{key}: expected an RFC 3339 string, got {type(value).__name__}")
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        raise WireError(f"{key}: {exc}") from None


def _enum(rec: Mapping[str, Any], key: str, enum: Any, *, optional: bool = False) -> Any:
    value = rec.get(key) if optional else _req(rec, key)
    if value is None and optional:
        return None
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in enum)
        raise WireError(f"{key}: {value!r} is not one of {allowed}") from None


def _point(value: Any, key: str) -> GeoPoint | None:
    if value is None:
        return None
    rec = _obj(value, key)
    return GeoPoint(_num(rec.get("lat"), f"{key}.lat", -90, 90), _num(rec.get("lon"), f"{key}.lon", -180, 180))


def _t(t: float | None, tz: str | None) -> str | None:
    return None if t is None else format_rfc3339(t, tz)


# --- reference ---------------------------------------------------------------------------------------------------


def polda_from_wire(value: Any) -> Polda:
    rec = _obj(value, "polda")
    return Polda(
        id=_ident(rec, "id"),
        name=_text(rec, "name"),
        hq_city=_text(rec, "hq_city", optional=True),
        lat=_num(rec.get("lat"), "lat", -90, 90),
        lon=_num(rec.get("lon"), "lon", -180, 180),
        tz=_text(rec, "tz"),
    )


def polda_to_wire(p: Polda) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "hq_city": p.hq_city, "lat": p.lat, "lon": p.lon, "tz": p.tz}


def polres_from_wire(value: Any) -> Polres:
    rec = _obj(value, "polres")
    return Polres(
        id=_ident(rec, "id"),
        name=_text(rec, "name"),
        polda_id=_ident(rec, "polda_id"),
        lat=_num(rec.get("lat"), "lat", -90, 90),
        lon=_num(rec.get("lon"), "lon", -180, 180),
        tz=_text(rec, "tz"),
        town=_text(rec, "town", optional=True),
    )


def polres_to_wire(p: Polres) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "polda_id": p.polda_id,
        "lat": p.lat,
        "lon": p.lon,
        "tz": p.tz,
        "town": p.town,
    }


def reference_from_wire(value: Any, *, invalid: list[str] | None = None) -> ReferenceData:
    """The reference document (``{"poldas": [...], "polres": [...]}``).

    With ``invalid`` (a list), a bad Polda or Polres is skipped and its reason appended, so one broken entry from a
    CAD does not blank the whole reference; without it, the first bad entry raises. Either way a document with no
    valid Polda raises: a board without its Polda means nothing."""
    rec = _obj(value, "reference")
    poldas_raw, polres_raw = rec.get("poldas"), rec.get("polres")
    if not isinstance(poldas_raw, list) or not isinstance(polres_raw, list):
        raise WireError("reference: expected 'poldas' and 'polres' arrays")
    poldas = _items("poldas", poldas_raw, polda_from_wire, invalid)
    polres = _items("polres", polres_raw, polres_from_wire, invalid)
    if not poldas:
        raise WireError("reference: no valid Polda")
    return ReferenceData.of(poldas, polres)


def reference_to_wire(reference: ReferenceData) -> dict[str, Any]:
    return {
        "poldas": [polda_to_wire(p) for p in reference.poldas.values()],
        "polres": [polres_to_wire(p) for p in reference.polres.values()],
    }


def _items(name: str, items: list[Any], decode: Any, invalid: list[str] | None) -> list[Any]:
    out = []
    for index, item in enumerate(items):
        try:
            out.append(decode(item))
        except (WireError, ValueError, TypeError) as exc:
            if invalid is None:
                raise WireError(f"{name}[{index}]: {exc}") from None
            invalid.append(f"{name}[{index}]: {str(exc)[:200]}")
    return out


# --- times -------------------------------------------------------------------------------------------------------

#: Keys whose string values are timestamps, besides every key ending in ``_at``.
TIME_KEYS = frozenset({"at", "as_of", "server_time"})


def shift_times(value: Any, offset_s: float) -> Any:
    """A copy of a wire document with every RFC 3339 timestamp moved by ``offset_s``, each keeping its own UTC
    offset. Timestamps are the string values of ``at``, ``as_of``, ``server_time`` and every ``*_at`` key; a value
    that does not parse is left as it is (the decoder reports it). The client uses this to move a server's records
    onto the board's clock; the simulator's ``clock_offset`` fault uses it to move them off."""
    if not offset_s:
        return value
    if isinstance(value, list):
        return [shift_times(v, offset_s) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if isinstance(item, str) and isinstance(key, str) and (key in TIME_KEYS or key.endswith("_at")):
            item = _shift_one(item, offset_s)
        elif isinstance(item, (dict, list)):
            item = shift_times(item, offset_s)
        out[key] = item
    return out


def check_times(value: Any, earliest: float, latest: float) -> None:
    """Raise :class:`WireError` naming the first timestamp of a wire document (the keys :func:`shift_times` moves)
    outside ``[earliest, latest]``: a year-0001 or year-9999 time is a broken record, never data. A value that does
    not parse is left to the decoder to report."""
    if isinstance(value, list):
        for item in value:
            check_times(item, earliest, latest)
        return
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        if isinstance(item, str) and isinstance(key, str) and (key in TIME_KEYS or key.endswith("_at")):
            try:
                t = parse_rfc3339(item)
            except (ValueError, OverflowError):
                continue
            if not earliest <= t <= latest:
                raise WireError(
                    f"{key}: {item[:40]!r} is outside the accepted window ({_day(earliest)} to {_day(latest)})"
                )
        elif isinstance(item, (dict, list)):
            check_times(item, earliest, latest)


def _day(t: float) -> str:
    try:
        return format_rfc3339(t)[:10]
    except (ValueError, OverflowError, OSError):
        return f"{t:.0f} s"


def _shift_one(text: str, offset_s: float) -> str:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        if parsed.tzinfo is None:
            return text
        return (parsed + timedelta(seconds=offset_s)).isoformat(timespec="milliseconds")
    except (ValueError, OverflowError):
        return text


# --- calls ------------------------------------------------------------------------------------------------------


def call_from_wire(value: Any) -> Call:
    rec = _obj(value, "call")
    escalations_raw = rec.get("escalations", [])
    if not isinstance(escalations_raw, list):
        raise WireError("escalations: expected an array")
    escalations = []
    for i, item in enumerate(escalations_raw):
        e = _obj(item, f"escalations[{i}]")
        at = _time(e, "at")
        assert at is not None
        escalations.append(Escalation(_enum(e, "from", Tier), _enum(e, "to", Tier), at))
    received = _time(rec, "received_at")
    assert received is not None
    answered_at = _time(rec, "answered_at", optional=True)
    answered_tier = _enum(rec, "answered_tier", Tier, optional=True)
    if (answered_at is None) != (answered_tier is None):
        raise WireError("answered_at/answered_tier: both or neither must be set")
    abandoned_at = _time(rec, "abandoned_at", optional=True)
    if answered_at is not None and abandoned_at is not None:
        raise WireError("answered_at/abandoned_at: a call cannot be both answered and abandoned")
    number = rec.get("caller_number")
    if number is not None and not isinstance(number, str):
        raise WireError("caller_number: expected a string")
    return Call(
        id=_ident(rec, "id"),
        rev=_int(rec, "rev"),
        polres_id=_ident(rec, "polres_id"),
        received_at=received,
        first_tier=_enum(rec, "first_tier", Tier),
        escalations=tuple(escalations),
        answered_at=answered_at,
        answered_tier=answered_tier,
        abandoned_at=abandoned_at,
        category=_enum(rec, "category", CallCategory),
        caller_number=_text(rec, "caller_number", max_len=32, optional=True) or None,
        caller_location=_point(rec.get("caller_location"), "caller_location"),
    )


def call_to_wire(c: Call, tz: str | None = None) -> dict[str, Any]:
    return {
        "id": c.id,
        "rev": c.rev,
        "polres_id": c.polres_id,
        "received_at": _t(c.received_at, tz),
        "first_tier": c.first_tier.value,
        "escalations": [{"from": e.from_tier.value, "to": e.to_tier.value, "at": _t(e.at, tz)} for e in c.escalations],
        "answered_at": _t(c.answered_at, tz),
        "answered_tier": c.answered_tier.value if c.answered_tier else None,
        "abandoned_at": _t(c.abandoned_at, tz),
        "category": c.category.value,
        "caller_number": c.caller_number,
        "caller_location": None
        if c.caller_location is None
        else {"lat": c.caller_location.lat, "lon": c.caller_location.lon},
    }


# --- incidents --------------------------------------------------------------------------------------------------


def incident_from_wire(value: Any) -> Incident:
    rec = _obj(value, "incident")
    unit_ids = rec.get("unit_ids", [])
    if not isinstance(unit_ids, list) or not all(isinstance(u, str) and 0 < len(u) <= MAX_ID_LEN for u in unit_ids):
        raise WireError("unit_ids: expected an array of unit ids")
    priority_raw = _int(rec, "priority", minimum=1)
    try:
        priority = Priority(priority_raw)
    except ValueError:
        raise WireError(f"priority: {priority_raw} is not 1, 2 or 3") from None
    call_id = rec.get("call_id")
    if call_id is not None and (not isinstance(call_id, str) or len(call_id) > MAX_ID_LEN):
        raise WireError("call_id: expected a string id or null")
    received = _time(rec, "call_received_at")
    assert received is not None
    on_scene_at = _time(rec, "on_scene_at", optional=True)
    if on_scene_at is not None and on_scene_at < received:
        raise WireError("on_scene_at: before call_received_at (a response time cannot be negative)")
    return Incident(
        id=_ident(rec, "id"),
        rev=_int(rec, "rev"),
        polres_id=_ident(rec, "polres_id"),
        call_id=call_id,
        call_received_at=received,
        priority=priority,
        kind=_text(rec, "kind", optional=True),
        location=_point(rec.get("location"), "location"),
        dispatched_at=_time(rec, "dispatched_at", optional=True),
        en_route_at=_time(rec, "en_route_at", optional=True),
        on_scene_at=on_scene_at,
        closed_at=_time(rec, "closed_at", optional=True),
        unit_ids=tuple(unit_ids),
    )


def incident_to_wire(i: Incident, tz: str | None = None) -> dict[str, Any]:
    return {
        "id": i.id,
        "rev": i.rev,
        "polres_id": i.polres_id,
        "call_id": i.call_id,
        "call_received_at": _t(i.call_received_at, tz),
        "priority": int(i.priority),
        "kind": i.kind,
        "location": None if i.location is None else {"lat": i.location.lat, "lon": i.location.lon},
        "dispatched_at": _t(i.dispatched_at, tz),
        "en_route_at": _t(i.en_route_at, tz),
        "on_scene_at": _t(i.on_scene_at, tz),
        "closed_at": _t(i.closed_at, tz),
        "unit_ids": list(i.unit_ids),
    }


# --- units ------------------------------------------------------------------------------------------------------


def unit_from_wire(value: Any) -> Unit:
    rec = _obj(value, "unit")
    fix_raw = rec.get("fix")
    fix = None
    if fix_raw is not None:
        f = _obj(fix_raw, "fix")
        heading = f.get("heading_deg")
        speed = f.get("speed_kmh")
        at = _time(f, "at")
        assert at is not None
        fix = PositionFix(
            lat=_num(f.get("lat"), "fix.lat", -90, 90),
            lon=_num(f.get("lon"), "fix.lon", -180, 180),
            heading_deg=None if heading is None else _num(heading, "fix.heading_deg", 0, 360),
            speed_kmh=None if speed is None else _num(speed, "fix.speed_kmh", 0, 400),
            at=at,
        )
    incident_id = rec.get("incident_id")
    if incident_id is not None and (not isinstance(incident_id, str) or len(incident_id) > MAX_ID_LEN):
        raise WireError("incident_id: expected a string id or null")
    return Unit(
        id=_ident(rec, "id"),
        rev=_int(rec, "rev"),
        callsign=_text(rec, "callsign", max_len=MAX_ID_LEN),
        polres_id=_ident(rec, "polres_id"),
        kind=_enum(rec, "kind", UnitKind),
        status=_enum(rec, "status", UnitStatus),
        fix=fix,
        incident_id=incident_id,
    )


def unit_to_wire(u: Unit, tz: str | None = None) -> dict[str, Any]:
    return {
        "id": u.id,
        "rev": u.rev,
        "callsign": u.callsign,
        "polres_id": u.polres_id,
        "kind": u.kind.value,
        "status": u.status.value,
        "fix": None
        if u.fix is None
        else {
            "lat": u.fix.lat,
            "lon": u.fix.lon,
            "heading_deg": u.fix.heading_deg,
            "speed_kmh": u.fix.speed_kmh,
            "at": _t(u.fix.at, tz),
        },
        "incident_id": u.incident_id,
    }


# --- queue ------------------------------------------------------------------------------------------------------


def queue_from_wire(value: Any) -> QueueState:
    """The whole queue document. One bad entry invalidates it (a partial queue would under-report waiting calls)."""
    rec = _obj(value, "queue")
    as_of = _time(rec, "as_of")
    assert as_of is not None
    entries_raw = _req(rec, "entries")
    if not isinstance(entries_raw, list):
        raise WireError("entries: expected an array")
    entries = []
    for i, item in enumerate(entries_raw):
        e = _obj(item, f"entries[{i}]")
        received = _time(e, "received_at")
        assert received is not None
        entries.append(QueueEntry(_ident(e, "call_id"), _ident(e, "polres_id"), _enum(e, "tier", Tier), received))
    return QueueState(as_of=as_of, entries=tuple(entries))


def queue_to_wire(q: QueueState, tz: str | None = None) -> dict[str, Any]:
    return {
        "as_of": _t(q.as_of, tz),
        "entries": [
            {"call_id": e.call_id, "polres_id": e.polres_id, "tier": e.tier.value, "received_at": _t(e.received_at, tz)}
            for e in q.entries
        ],
    }
