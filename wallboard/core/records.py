"""The records the dispatch feed carries, in one place: which stream each belongs to, its wire form, and how it
changes the metrics engine.

Every layer that handles "a call, an incident, a unit, the queue or the reference data" (the live client, the
recorder, replays, the history store, the simulator, snapshots from a recording) goes through these functions, so
the list of record kinds and what each one does exists once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wallboard.core.model import Call, Incident, QueueState, Unit
from wallboard.core.reference import ReferenceData
from wallboard.core.wire import (
    WireError,
    call_from_wire,
    call_to_wire,
    incident_from_wire,
    incident_to_wire,
    queue_from_wire,
    queue_to_wire,
    reference_from_wire,
    reference_to_wire,
    unit_from_wire,
    unit_to_wire,
)

if TYPE_CHECKING:
    from wallboard.core.metrics import MetricsEngine

#: An entity with an id and a revision: the newest revision wins wherever it is kept.
Entity = Call | Incident | Unit
#: Anything the feed carries.
Record = Call | Incident | Unit | QueueState | ReferenceData

#: Stream names as the API's paths and the recording format spell them, in the order a recording lists them.
STREAMS = ("reference", "calls", "incidents", "units", "queue")
ENTITY_STREAMS = ("calls", "incidents", "units")

_STREAM_OF_TYPE: dict[type, str] = {
    Call: "calls",
    Incident: "incidents",
    Unit: "units",
    QueueState: "queue",
    ReferenceData: "reference",
}
_ENCODERS: dict[str, Callable[[Any, str | None], dict[str, Any]]] = {
    "calls": call_to_wire,
    "incidents": incident_to_wire,
    "units": unit_to_wire,
    "queue": queue_to_wire,
    "reference": lambda record, _tz: reference_to_wire(record),
}
_DECODERS: dict[str, Callable[[Any], Record]] = {
    "calls": call_from_wire,
    "incidents": incident_from_wire,
    "units": unit_from_wire,
    "queue": queue_from_wire,
    "reference": reference_from_wire,
}


def stream_of(record: Record) -> str:
    """The stream a record belongs to (``calls``, ``incidents``, ``units``, ``queue``, ``reference``)."""
    try:
        return _STREAM_OF_TYPE[type(record)]
    except KeyError:
        raise TypeError(f"not a feed record: {type(record).__name__}") from None


def is_entity(record: object) -> bool:
    """A call, incident or unit (what the history store keeps)."""
    return type(record) in (Call, Incident, Unit)


def to_wire(record: Record, tz: str | None = None) -> tuple[str, dict[str, Any]]:
    """(stream, JSON-ready record) with times in ``tz`` (UTC if None)."""
    stream = stream_of(record)
    return stream, _ENCODERS[stream](record, tz)


def from_wire(stream: str, value: Any) -> Record:
    """Decode one record of ``stream``. Raises :class:`WireError` naming the field, or the stream if unknown."""
    decode = _DECODERS.get(stream)
    if decode is None:
        raise WireError(f"stream: {str(stream)[:40]!r} is not one of {', '.join(STREAMS)}")
    return decode(value)


def apply(engine: MetricsEngine, record: Record) -> bool:
    """Feed one record to the engine. True if it changed the engine's state (a new entity or a newer revision; the
    queue and reference data always count as a change)."""
    if isinstance(record, Call):
        return engine.ingest_call(record)
    if isinstance(record, Incident):
        return engine.ingest_incident(record)
    if isinstance(record, Unit):
        return engine.ingest_unit(record)
    if isinstance(record, QueueState):
        engine.set_queue(record)
        return True
    if isinstance(record, ReferenceData):
        engine.set_reference(record)
        return True
    raise TypeError(f"not a feed record: {type(record).__name__}")
