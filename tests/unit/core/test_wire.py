"""The wire codec: every record round-trips, and every contract violation is refused with a reason naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallboard.core.model import (
    Call,
    CallCategory,
    Escalation,
    GeoPoint,
    Incident,
    PositionFix,
    Priority,
    QueueEntry,
    QueueState,
    Tier,
    Unit,
    UnitKind,
    UnitStatus,
)
from wallboard.core.wire import (
    WireError,
    call_from_wire,
    call_to_wire,
    incident_from_wire,
    incident_to_wire,
    queue_from_wire,
    queue_to_wire,
    unit_from_wire,
    unit_to_wire,
)

T0 = 1_795_000_000.0  # 2026-11-18, a round number of seconds


def a_call(**changes: Any) -> Call:
    base = Call(
        id="C-1",
        rev=2,
        polres_id="64.71",
        received_at=T0,
        first_tier=Tier.POLRES,
        escalations=(Escalation(Tier.POLRES, Tier.POLDA, T0 + 10),),
        answered_at=T0 + 14,
        answered_tier=Tier.POLDA,
        category=CallCategory.GENUINE,
        caller_number="081234565678",
        caller_location=GeoPoint(-1.25, 116.85),
    )
    return Call(**{**{f: getattr(base, f) for f in base.__dataclass_fields__}, **changes})


def test_call_round_trips_in_local_time() -> None:
    wire = call_to_wire(a_call(), "Asia/Makassar")
    assert wire["received_at"].endswith("+08:00")
    assert call_from_wire(wire) == a_call()


def test_incident_and_unit_round_trip() -> None:
    incident = Incident("I-1", 3, "64.71", "C-1", T0, Priority.P1, "Kecelakaan", GeoPoint(-1.2, 116.8), T0 + 60,
                        T0 + 90, T0 + 400, None, ("U-1", "U-2"))  # fmt: skip
    unit = Unit("U-1", 9, "BPN-R2-01", "64.71", UnitKind.R2, UnitStatus.ON_SCENE,
                PositionFix(-1.2, 116.8, 270.0, 0.0, T0 + 400), "I-1")  # fmt: skip
    assert incident_from_wire(incident_to_wire(incident, "Asia/Makassar")) == incident
    assert unit_from_wire(unit_to_wire(unit)) == unit
    queue = QueueState(T0, (QueueEntry("C-9", "64.71", Tier.POLDA, T0 - 12),))
    assert queue_from_wire(queue_to_wire(queue, "Asia/Jakarta")) == queue


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rev": "2"}, "rev"),
        ({"rev": -1}, "rev"),
        ({"received_at": "yesterday"}, "received_at"),
        ({"received_at": "2026-11-18T10:00:00"}, "received_at"),  # no offset
        ({"first_tier": "kapolri"}, "first_tier"),
        ({"category": None}, "category"),
        ({"answered_tier": None}, "answered_at/answered_tier"),
        ({"abandoned_at": "2026-11-18T10:00:30+08:00"}, "answered_at/abandoned_at"),
        ({"caller_location": {"lat": 95, "lon": 0}}, "caller_location.lat"),
        ({"escalations": "up"}, "escalations"),
        ({"id": ""}, "id"),
        ({"id": "x" * 65}, "id"),
        ({"polres_id": 6471}, "polres_id"),
    ],
)
def test_call_violations_name_the_field(change: dict[str, Any], field: str) -> None:
    wire = {**call_to_wire(a_call()), **change}
    with pytest.raises(WireError, match=f"^{field}"):
        call_from_wire(wire)


def test_missing_field_is_reported_as_missing() -> None:
    wire = call_to_wire(a_call())
    del wire["polres_id"]
    with pytest.raises(WireError, match="polres_id: missing"):
        call_from_wire(wire)


def test_hostile_text_is_kept_as_text_but_control_characters_are_refused() -> None:
    unit = unit_to_wire(Unit("U-1", 1, "<img src=x onerror=alert(1)>", "64.71", UnitKind.R4, UnitStatus.AVAILABLE))
    assert unit_from_wire(unit).callsign == "<img src=x onerror=alert(1)>"
    unit["callsign"] = "BPN\x1b[2J"
    with pytest.raises(WireError, match="callsign: contains control characters"):
        unit_from_wire(unit)


def test_non_finite_and_boolean_numbers_are_refused() -> None:
    unit = unit_to_wire(Unit("U-1", 1, "A", "64.71", UnitKind.R4, UnitStatus.AVAILABLE, PositionFix(0, 0, 0, 0, T0)))
    unit["fix"]["lat"] = float("nan")
    with pytest.raises(WireError, match=r"fix\.lat"):
        unit_from_wire(unit)
    unit["fix"]["lat"] = True
    with pytest.raises(WireError, match=r"fix\.lat"):
        unit_from_wire(unit)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=20,
)


@given(json_values)
def test_decoders_raise_only_wire_errors_on_arbitrary_json(value: Any) -> None:
    for decode in (call_from_wire, incident_from_wire, unit_from_wire, queue_from_wire):
        try:
            decode(value)
        except WireError:
            pass


@given(st.dictionaries(st.sampled_from(list(call_to_wire(a_call()))), json_values, max_size=6))
def test_call_decoder_survives_any_field_corruption(corruption: dict[str, Any]) -> None:
    wire = {**call_to_wire(a_call()), **corruption}
    try:
        call = call_from_wire(wire)
    except WireError:
        return
    assert isinstance(call, Call)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("rev", 2**63, "rev: must be <= 9223372036854775807"),
        ("id", "C-\ud800", "id: contains a lone UTF-16 surrogate"),
        ("polres_id", "\udfff", "polres_id: contains a lone UTF-16 surrogate"),
        ("caller_number", "0812\ud83d", "caller_number: contains a lone UTF-16 surrogate"),
    ],
)
def test_what_sqlite_and_utf8_cannot_hold_is_refused_at_the_wire(field: str, value: object, reason: str) -> None:
    wire = call_to_wire(a_call(), "Asia/Makassar")
    wire[field] = value
    with pytest.raises(WireError, match=reason):
        call_from_wire(wire)


def test_the_largest_sqlite_integer_and_real_non_ascii_text_still_pass() -> None:
    wire = call_to_wire(a_call(id="C-Balikpapan-😀-ñ"), "Asia/Makassar")
    wire["rev"] = 2**63 - 1
    assert call_from_wire(wire).rev == 2**63 - 1
    assert call_from_wire(wire).id == "C-Balikpapan-😀-ñ"


def test_unit_and_incident_revisions_are_bounded_too() -> None:
    unit = unit_to_wire(Unit("U-1", 1, "BPN-1", "64.71", UnitKind.R2, UnitStatus.AVAILABLE), "Asia/Makassar")
    unit["rev"] = 2**64
    with pytest.raises(WireError, match="rev: must be <="):
        unit_from_wire(unit)
    unit["rev"] = 1
    unit["callsign"] = "\ud800"
    with pytest.raises(WireError, match="callsign: contains a lone"):
        unit_from_wire(unit)
