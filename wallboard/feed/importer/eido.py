"""NENA EIDO (Emergency Incident Data Object, NENA-STA-021.1, JSON) documents to calls, incidents and unit timelines.

An EIDO is the state of one incident when it was issued (``lastUpdateTimeStamp``); a CAD sends a new one at each
change. So the documents of one incident are read together: each incident status (``ResourcesAssigned``,
``ResourcesEnroute``, ``ResourcesOnscene``, ``Closed``) and each emergency resource status (``Dispatched``,
``EnRoute``, ``Arrived``, ``Cleared``...) counts from the first document that shows it, at that component's
``lastUpdateTimeStamp``. docs/import.md lists every element used and every one ignored.

Input: one document per file, a JSON array of documents, NDJSON (one document per line), or a directory of such
files. Documents are grouped by incident in memory (an EIDO export of a month is a few hundred MB of JSON at most).
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from wallboard.core.reference import ReferenceData
from wallboard.core.timeutil import parse_rfc3339
from wallboard.core.wire import MAX_ID_LEN, MAX_TEXT_LEN, WireError
from wallboard.feed.importer.build import (
    Progress,
    Report,
    SortedOutput,
    Summary,
    _call_revisions,
    _incident_revisions,
    _unit_revisions,
    _valid,
)
from wallboard.feed.importer.mapping import FIELDS, MILESTONES, ImportMapping, RecordSpec
from wallboard.feed.importer.sources import SourceError
from wallboard.files import UnsafePathError, open_regular

#: incidentStatusCommonRegistryText → the incident milestone it marks
INCIDENT_STATUS = {
    "resourcesassigned": "dispatched_at",
    "resourcesenroute": "en_route_at",
    "resourcesonscene": "on_scene_at",
    "closed": "closed_at",
    "cancelled": "closed_at",
}
#: secondaryUnitStatusRegistryText (then primaryUnitStatusRegistryText) → the unit timeline status it marks
UNIT_STATUS = {
    "assigned": "dispatched_at",
    "dispatched": "dispatched_at",
    "acknowledgedtransmission": "dispatched_at",
    "enroute": "en_route_at",
    "arrived": "on_scene_at",
    "onscene": "on_scene_at",
    "cleared": "available_at",
    "inservice": "available_at",
    "available": "available_at",
    "assignmentcancelled": "available_at",
    "notavailable": "out_of_service_at",
}
_POS = re.compile(r"<(?:\w+:)?pos>\s*(-?\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)")
_ID_PREFIX = re.compile(r"^urn:emergency:uid:(?:incidentid|callid):", re.I)


def _spec(kind: str) -> RecordSpec:
    return RecordSpec(kind, 0, (), {}, MILESTONES[kind])


def _short_id(value: str) -> str:
    value = _ID_PREFIX.sub("", value.strip())
    return value if len(value) <= MAX_ID_LEN else value[-MAX_ID_LEN:]


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _time(component: dict[str, Any], key: str) -> float | None:
    value = component.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key}: not a date-time")
    return parse_rfc3339(value)


def _stamp(component: dict[str, Any], fallback: float) -> float:
    t = _time(component, "lastUpdateTimeStamp")
    return fallback if t is None else t


#: A file up to this size is read whole (one document, an array, or NDJSON); a larger one must be NDJSON and is
#: read a line at a time, each line at most MAX_LINE_BYTES (a longer one is skipped and reported, read past in
#: chunks). Only regular files are read: a FIFO or a device is refused, never waited on or read without end.
#: Decoded, JSON takes up to ~30 times its text in Python objects (a 4 MiB array of empty objects: 115 MiB), so a
#: whole file is at most 16 MiB (about half a gigabyte at worst); larger exports come as NDJSON.
MAX_WHOLE_FILE_BYTES = 16 * 1024 * 1024
MAX_LINE_BYTES = 16 * 1024 * 1024


def read_documents(path: Path) -> Iterator[tuple[str, Any]]:
    """(where, document) for each EIDO in a file (object, array or NDJSON) or a directory of files."""
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".json", ".ndjson", ".jsonl")) if path.is_dir() \
        else [path]  # fmt: skip
    if not files:
        raise SourceError(f"{path}: no .json files in the directory")
    for file in files:
        try:
            handle = open_regular(file, "the source")
        except UnsafePathError as exc:
            raise SourceError(str(exc)) from None
        with handle:
            if os.fstat(handle.fileno()).st_size <= MAX_WHOLE_FILE_BYTES:
                data = handle.read(MAX_WHOLE_FILE_BYTES + 1)
                if len(data) <= MAX_WHOLE_FILE_BYTES:
                    yield from _whole_file(file, data, single=len(files) == 1)
                    continue
                handle.seek(0)
            yield from _large_file(file, handle)


def _decode(file: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{file}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


def _whole_file(file: Path, data: bytes, *, single: bool) -> Iterator[tuple[str, Any]]:
    text = _decode(file, data)
    if not text.strip():
        if single:
            raise SourceError(f"{file}: the file is empty")
        return
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        doc = None
    if isinstance(doc, list):
        for number, item in enumerate(doc, start=1):
            yield f"{file.name} document {number}", item
    elif doc is not None:
        yield file.name, doc
    else:  # NDJSON
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield f"{file.name}:{number}", _parse_line(line)


def _large_file(file: Path, handle: IO[bytes]) -> Iterator[tuple[str, Any]]:
    number = 0
    while raw := handle.readline(MAX_LINE_BYTES + 1):
        number += 1
        if number == 1 and raw.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
            raise SourceError(f"{file}: a JSON array larger than {_size(MAX_WHOLE_FILE_BYTES)}; export "
                              "NDJSON (one document per line) or split it into a directory of files")  # fmt: skip
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while (rest := handle.readline(1024 * 1024)) and not rest.endswith(b"\n"):
                pass
            yield f"{file.name}:{number}", ValueError(f"a line longer than {_size(MAX_LINE_BYTES)}")
            continue
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            yield f"{file.name}:{number}", ValueError(f"not UTF-8 (byte {exc.start})")
            continue
        if line.strip():
            yield f"{file.name}:{number}", _parse_line(line)


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n >= 1024 * 1024 else f"{n // 1024} KiB"


def _parse_line(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        return ValueError(f"not JSON ({exc.msg})")
    except RecursionError:
        return ValueError("not JSON (nested too deeply)")


@dataclass
class _Incident:
    """What the documents of one incident said, merged."""

    state: dict[str, Any] = field(default_factory=dict)
    calls: dict[str, dict[str, Any]] = field(default_factory=dict)
    has_units: bool = False


def _earliest(state: dict[str, Any], key: str, t: float | None) -> None:
    if t is not None and (state.get(key) is None or t < state[key]):
        state[key] = t


@dataclass
class EidoImport:
    mapping: ImportMapping
    path: Path
    reference: ReferenceData
    report: Report
    progress: Progress | None = None
    summary: Summary = field(default_factory=Summary)
    incidents: dict[str, _Incident] = field(default_factory=dict)
    units: dict[str, dict[str, Any]] = field(default_factory=dict)  # unit id → static fields (across incidents)
    unit_events: dict[str, list[tuple[float, int, dict[str, Any]]]] = field(default_factory=dict)

    def _polres(self, incident: dict[str, Any], agencies: dict[str, dict[str, Any]]) -> str:
        spec = self.mapping.eido
        raw: str | None = None
        if spec.polres_from == "beat":
            raw = incident.get("beatOrDispatchGroupText")
        elif spec.polres_from == "agency":
            ref = incident.get("updatedByAgencyReference") or {}
            agency = agencies.get(ref.get("$ref", "")) if isinstance(ref, dict) else None
            raw = (agency or {}).get("$id") or (ref.get("$ref") if isinstance(ref, dict) else None)
        if isinstance(raw, str) and raw.strip():
            mapped = spec.polres_map.get(raw.strip().casefold())
            if mapped:
                return mapped
            if not spec.polres_map:
                return raw.strip()[:MAX_ID_LEN]
        if spec.default_polres:
            return spec.default_polres
        raise ValueError(f"no Polres for {raw!r} ({spec.polres_from}; add it to eido.polres_map)")

    def _document(self, doc: Any) -> None:
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        if "eidoVersion" not in doc and "EIDOVersion" not in doc:
            raise ValueError("no eidoVersion: not an EIDO document")
        issued = _time(doc, "lastUpdateTimeStamp") or _time(doc, "LastUpdateTimeStamp")
        if issued is None:
            raise ValueError("lastUpdateTimeStamp: missing")
        incidents = [c for c in _list(doc.get("incidentComponent")) if isinstance(c, dict)]
        incident = incidents[0] if incidents else {}
        raw_id = incident.get("internalIncidentId") or incident.get("incidentTrackingIdentifier") or doc.get("$id")
        if not isinstance(raw_id, str) or not raw_id.strip():
            raise ValueError("no incident id ($id, incidentComponent.internalIncidentId)")
        incident_id = _short_id(raw_id)
        locations = {c.get("$id"): c for c in _list(doc.get("locationComponent")) if isinstance(c, dict)}
        agencies = {str(c.get("$id")): c for c in _list(doc.get("agencyComponent")) if isinstance(c, dict)}
        calls = [c for c in _list(doc.get("callComponent")) if isinstance(c, dict)]
        # Work on a copy: a document that turns out bad half-way must leave nothing behind.
        existing = self.incidents.get(incident_id)
        merged = copy.deepcopy(existing) if existing is not None else _Incident()
        units: dict[str, dict[str, Any]] = {}
        unit_events: list[tuple[str, dict[str, Any]]] = []
        state = merged.state
        state["id"] = incident_id
        if incidents:
            state["polres_id"] = self._polres(incident, agencies)
        elif "polres_id" not in state:
            if self.mapping.eido.default_polres is None:
                raise ValueError("no incidentComponent and no eido.default_polres: which Polres?")
            state["polres_id"] = self.mapping.eido.default_polres
        if incidents:
            kind = incident.get("incidentTypeInternalText") or incident.get("incidentTypeCommonRegistryText")
            if isinstance(kind, str) and kind:
                state["kind"] = kind[:MAX_TEXT_LEN]
            number = incident.get("incidentCommonPriorityNumber")
            if number is not None:
                state["priority"] = self.mapping.eido.priority_map.get(str(number), number if number in (1, 2, 3)
                                                                       else 2)  # fmt: skip
            stamp = _stamp(incident, issued)
            for status in _list(incident.get("incidentStatusCommonRegistryText")):
                milestone = INCIDENT_STATUS.get(str(status).casefold())
                if milestone:
                    _earliest(state, milestone, stamp)
            for ref in _list(incident.get("locationReference")):
                where = locations.get(ref.get("$ref")) if isinstance(ref, dict) else None
                match = _POS.search(str((where or {}).get("locationByValue", "")))
                if match:
                    state["lat"], state["lon"] = float(match.group(1)), float(match.group(2))
        for call in calls:
            raw_call = call.get("$id")
            if not isinstance(raw_call, str) or not raw_call:
                raise ValueError("callComponent: no $id")
            call_id = _short_id(raw_call)
            received = _time(call, "callStartTimestamp")
            if received is None:
                raise ValueError(f"callComponent {call_id}: callStartTimestamp missing")
            entry = merged.calls.setdefault(call_id, {"id": call_id})
            entry["received_at"] = received
            answered = _time(call, "answerDate")
            if answered is not None:
                entry["answered_at"] = answered
            state_text = str(call.get("callStateRegistryText", "")).casefold()
            if answered is None and state_text in ("callabandoned", "callend"):
                entry.setdefault("abandoned_at", _stamp(call, issued))
            _earliest(state, "call_received_at", received)
            state.setdefault("call_id", call_id)
        for resource in _list(doc.get("emergencyResourceComponent")):
            if not isinstance(resource, dict):
                continue
            name = resource.get("emergencyResourceName") or resource.get("$id")
            if not isinstance(name, str) or not name.strip():
                raise ValueError("emergencyResourceComponent: no emergencyResourceName or $id")
            unit_id = name.strip()[:MAX_ID_LEN]
            kind_text = str(resource.get("emergencyResourceTypeInternalText")
                            or resource.get("emergencyResourceTypeCommonRegistryText") or "")  # fmt: skip
            merged.has_units = True
            units[unit_id] = {
                "id": unit_id,
                "polres_id": state["polres_id"],
                "kind": self.mapping.eido.unit_kind_map.get(kind_text.casefold(), "R4"),
            }
            stamp = _stamp(resource, issued)
            statuses = [*_list(resource.get("secondaryUnitStatusRegistryText")),
                        resource.get("primaryUnitStatusRegistryText")]  # fmt: skip
            for status in statuses:
                milestone = UNIT_STATUS.get(str(status).casefold())
                if milestone:
                    values: dict[str, Any] = {milestone: stamp, "incident_id": incident_id}
                    if milestone == "on_scene_at" and "lat" in state:
                        values.update(lat=state["lat"], lon=state["lon"])
                    unit_events.append((unit_id, values))
                    incident_milestone = {"dispatched_at": "dispatched_at", "en_route_at": "en_route_at",
                                          "on_scene_at": "on_scene_at"}.get(milestone)  # fmt: skip
                    if incident_milestone:
                        _earliest(state, incident_milestone, stamp)
                    break  # the first known status of the component is its status
            unit_ids = state.setdefault("unit_ids", [])
            if unit_id not in unit_ids:
                unit_ids.append(unit_id)
        if "call_received_at" not in state:
            _earliest(state, "call_received_at", _time(incident, "lastUpdateTimeStamp") if incident else issued)
        self.incidents[incident_id] = merged
        self.units.update(units)
        for unit_id, values in unit_events:
            events = self.unit_events.setdefault(unit_id, [])
            events.append((len(events), len(events), values))

    def collect(self, output: SortedOutput, source_name: str) -> Summary:
        summary = self.summary
        summary.source = source_name
        summary.tz = self.mapping.time.tz
        for where, doc in read_documents(self.path):
            summary.documents += 1
            try:
                if isinstance(doc, Exception):
                    raise doc
                self._document(doc)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                summary.problems += 1
                summary.skipped_rows.add(summary.documents)
                summary.skip_reasons["bad document"] += 1
                self.report(f"{where}: skipped: {exc}")
            if self.progress and summary.documents % 500 == 0:
                self.progress("reading", summary.documents, None, "documents")
        known = self.reference.polres
        for incident_id, merged in self.incidents.items():
            self._emit(incident_id, merged, output, known)
        for unit_id, unit in self.units.items():
            revisions = _unit_revisions(_spec("unit"), unit, self.unit_events.get(unit_id, []))
            if revisions:
                summary.records_by_stream["units"] += 1
            for t, record in revisions:
                output.add(t, record, summary)
        return summary

    def _emit(self, incident_id: str, merged: _Incident, output: SortedOutput, known: dict[str, Any]) -> None:
        summary = self.summary
        state = merged.state
        polres = state["polres_id"]
        if polres not in known:
            summary.unknown(polres)
        built: list[tuple[str, list[tuple[float, Any]]]] = []
        try:
            for call in merged.calls.values():
                call_state = {**call, "polres_id": polres, "category": "genuine" if "kind" in state else "unknown"}
                built.append(("calls", _call_revisions(_spec("call"), call_state, summary)))
            if "kind" in state or merged.has_units:
                built.append(("incidents", _incident_revisions(_spec("incident"), state, summary)))
            for _stream, revisions in built:
                if revisions:
                    _valid(revisions[-1][1])
        except (WireError, ValueError, KeyError) as exc:
            summary.problems += 1
            summary.skip_reasons["record breaks the feed contract"] += 1
            self.report(f"incident {incident_id!r}: skipped: {exc}")
            return
        for stream, revisions in built:
            if revisions:
                summary.records_by_stream[stream] += 1
            for t, record in revisions:
                output.add(t, record, summary)


__all__ = ["FIELDS", "INCIDENT_STATUS", "UNIT_STATUS", "EidoImport", "read_documents"]
