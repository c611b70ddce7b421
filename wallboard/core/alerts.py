"""Alert rules: thresholds over a snapshot and the feed's freshness → the alerts that are active now.

Pure functions; the UI decides how an alert looks (tile colour, icon, text, flashing until acknowledged, sound).
Texts are English source strings with ``{placeholders}``; the UI translates the template, then fills it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from wallboard.core import units
from wallboard.core.freshness import STREAM_LABELS, Freshness, StreamHealth
from wallboard.core.model import Tier
from wallboard.core.snapshot import BoardSnapshot, Window

WAITING = "{n} calls waiting"
LONGEST_WAIT = "a call has waited {s} s"
MABES = "{n} calls escalated to Mabes in 60 min"
P90 = "{name}: 90% of responses within {m} min (target {target})"
OVERDUE = "{name}: {n} incident(s) overdue, no unit on scene"
STREAM_DOWN = "{stream} feed is down"
STREAM_STALE = "{stream} feed is delayed"
TOKEN_REJECTED = "{stream} feed: API token rejected"
DISPATCHED_LONG = "{name}: {n} unit(s) dispatched over {m} min without moving off"
ON_SCENE_LONG = "{name}: {n} unit(s) on scene over {m} min"
NO_POSITION = "{name}: {n} unit(s) without a position for over {m} min"
#: Every alert text, for the translation catalogue (the UI translates the template, then fills it in).
TEMPLATES = (WAITING, LONGEST_WAIT, MABES, P90, OVERDUE, STREAM_DOWN, STREAM_STALE, TOKEN_REJECTED, DISPATCHED_LONG,
             ON_SCENE_LONG, NO_POSITION)  # fmt: skip
#: Arguments whose value is itself a source string to translate (a stream's name), not data to show as it is.
TRANSLATED_ARGS = frozenset({"stream"})
#: Time-in-status overrun kind (core/units.py) -> its alert text.
STATUS_TEMPLATES = {units.DISPATCHED_TOO_LONG: DISPATCHED_LONG, units.ON_SCENE_TOO_LONG: ON_SCENE_LONG,
                    units.NO_POSITION: NO_POSITION}  # fmt: skip


def alert_kind(alert_id: str) -> str:
    """The kind of an alert, from its id: waiting, longest_wait, mabes, p90, overdue, stream, status."""
    return alert_id.split(":", 1)[0]


class Severity(StrEnum):
    AMBER = "amber"
    RED = "red"


@dataclass(frozen=True, slots=True)
class AlertThresholds:
    waiting_max: int = 5
    longest_wait_s: float = 10.0
    polres_p90_s: float = 600.0
    mabes_per_hour: float = 5.0
    overdue_max: int = 0
    stream_stale: bool = True
    unit_status: bool = True  # time-in-status overruns (their limits are the engine's: MetricsSettings.status_limits)


@dataclass(frozen=True, slots=True)
class Alert:
    id: str  # stable while the condition lasts: acknowledging it keeps it acknowledged
    severity: Severity
    template: str  # English source text with {placeholders}
    args: tuple[tuple[str, str], ...]
    view: str  # the view that shows it: overview, gauges, map, polres:<id>

    @property
    def text_key(self) -> str:
        """The English template, as the key into the translation catalogue."""
        return self.template

    def text(self, translate: object = None) -> str:
        template = translate(self.template) if callable(translate) else self.template
        args = {k: translate(v) if callable(translate) and k in TRANSLATED_ARGS else v for k, v in self.args}
        return str(template).format(**args)


def evaluate(snapshot: BoardSnapshot, health: Mapping[str, StreamHealth], t: AlertThresholds) -> list[Alert]:
    """Every alert whose condition holds, most severe first."""
    alerts: list[Alert] = []
    q = snapshot.queue
    if q.waiting > t.waiting_max:
        # Red at twice the threshold; with a threshold of 0 ("any call waiting") the first call is amber, not red.
        sev = Severity.RED if q.waiting > max(2 * t.waiting_max, t.waiting_max + 1) else Severity.AMBER
        alerts.append(Alert("waiting", sev, WAITING, (("n", str(q.waiting)),), "overview"))
    if q.longest_wait_s is not None and q.longest_wait_s > t.longest_wait_s:
        sev = Severity.RED if q.longest_wait_s > 3 * t.longest_wait_s else Severity.AMBER
        alerts.append(Alert("longest_wait", sev, LONGEST_WAIT, (("s", str(int(q.longest_wait_s))),), "overview"))
    last_hour = snapshot.tiers.get(Window.LAST_60_MIN)
    if last_hour is not None:
        to_mabes = sum(n for (_, to), n in last_hour.escalations.items() if to is Tier.MABES)
        if to_mabes > t.mabes_per_hour:
            alerts.append(
                Alert(
                    "mabes",
                    Severity.AMBER,
                    MABES,
                    (("n", str(to_mabes)),),
                    "overview",
                )
            )
    for r in snapshot.response_by_polres:
        # A p90 of a handful of incidents is not a percentile: below the minimum sample it is neither shown nor
        # alerted on. Overdue incidents still alert (each one is a fact, not a statistic).
        if r.p90_s is not None and not r.small_sample and r.p90_s > t.polres_p90_s:
            alerts.append(
                Alert(
                    f"p90:{r.unit_id}",
                    Severity.AMBER,
                    P90,
                    (("name", r.name), ("m", f"{r.p90_s / 60:.0f}"), ("target", f"{r.target_s / 60:.0f}")),
                    f"polres:{r.unit_id}",
                )
            )
        if r.overdue_now > t.overdue_max:
            alerts.append(
                Alert(
                    f"overdue:{r.unit_id}",
                    Severity.RED,
                    OVERDUE,
                    (("name", r.name), ("n", str(r.overdue_now))),
                    "map",
                )
            )
    if t.unit_status and snapshot.unit_overruns:
        alerts.extend(_status_alerts(snapshot))
    if t.stream_stale:
        for name, h in health.items():
            label = (("stream", STREAM_LABELS.get(name, name)),)
            if h.state is not Freshness.LIVE and h.auth_rejected:
                alerts.append(Alert(f"stream:{name}", Severity.RED, TOKEN_REJECTED, label, "overview"))
            elif h.state is Freshness.DOWN:
                alerts.append(Alert(f"stream:{name}", Severity.RED, STREAM_DOWN, label, "overview"))
            elif h.state is Freshness.STALE:
                alerts.append(Alert(f"stream:{name}", Severity.AMBER, STREAM_STALE, label, "overview"))
    alerts.sort(key=lambda a: (a.severity is not Severity.RED, a.id))
    return alerts


def _status_alerts(snapshot: BoardSnapshot) -> list[Alert]:
    """One amber alert per Polres and kind of time-in-status overrun (a national board stays readable)."""
    names = {row.polres_id: row.name for row in snapshot.unit_board.rows}
    groups: dict[tuple[str, str], list[float]] = {}
    for o in snapshot.unit_overruns:
        groups.setdefault((o.kind, o.polres_id), []).append(o.limit_s)
    out = []
    for (kind, polres_id), limits in sorted(groups.items()):
        args = (("name", names.get(polres_id, polres_id)), ("n", str(len(limits))), ("m", f"{limits[0] / 60:.0f}"))
        out.append(Alert(f"status:{kind}:{polres_id}", Severity.AMBER, STATUS_TEMPLATES[kind], args, "units"))
    return out
