"""What the subcommands share: the board's Polda, the metrics settings, the simulator, the store and an engine fed
from a recording, each built from the configuration in one place."""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from wallboard.config import Config, board_zone
from wallboard.core import records
from wallboard.core.metrics import MetricsEngine, MetricsSettings
from wallboard.core.provenance import Provenance, Source
from wallboard.core.reference import ReferenceData
from wallboard.core.timeutil import format_rfc3339
from wallboard.core.units import StatusLimits
from wallboard.resources import all_poldas

if TYPE_CHECKING:
    from wallboard.sim.server import SimServer
    from wallboard.store import HistoryStore

log = logging.getLogger(__name__)
NATIONAL_IDS = ("", "national", "indonesia")


# The short names Polri and the press use for a Polda, for `--polda jatim`.
POLDA_ALIASES = {
    "sumut": "sumatera-utara", "sumbar": "sumatera-barat", "sumsel": "sumatera-selatan", "babel": "kep-bangka-belitung",
    "kepri": "kepulauan-riau", "metro": "metro-jaya", "jabar": "jawa-barat", "jateng": "jawa-tengah",
    "diy": "di-yogyakarta", "jatim": "jawa-timur", "ntb": "nusa-tenggara-barat", "ntt": "nusa-tenggara-timur",
    "kalbar": "kalimantan-barat", "kalteng": "kalimantan-tengah", "kalsel": "kalimantan-selatan",
    "kaltara": "kalimantan-utara", "sulut": "sulawesi-utara", "sulteng": "sulawesi-tengah", "sulbar": "sulawesi-barat",
    "sulsel": "sulawesi-selatan", "sultra": "sulawesi-tenggara", "malut": "maluku-utara", "pabar": "papua-barat",
}  # fmt: skip


def resolve_polda(text: str, ref: ReferenceData | None = None) -> str:
    """A Polda id from what a user typed (``jatim``, ``jawa-timur``, ``national``); ValueError naming the known ids
    if it is none of them."""
    known = (ref or reference()).poldas
    wanted = text.strip().lower()
    if wanted in NATIONAL_IDS or wanted in known:
        return wanted
    alias = POLDA_ALIASES.get(wanted)
    if alias is not None and alias in known:
        return alias
    raise ValueError(f"unknown Polda {text!r} (known: national, {', '.join(sorted(known))})")


def board_polda(config: Config) -> str | None:
    """The Polda this board is for; ``national``/``indonesia``/empty means every Polres in the country."""
    return None if config.board.polda_id in NATIONAL_IDS else config.board.polda_id


def unknown_polda(config: Config) -> str | None:
    """Why ``board.polda_id`` names no Polda of the reference data (None: it names one, or the national board)."""
    from difflib import get_close_matches

    polda_id = config.board.polda_id
    known = reference().poldas
    if polda_id in NATIONAL_IDS or polda_id in known:
        return None
    near = get_close_matches(polda_id, list(known), n=3)
    hint = f" Did you mean {' or '.join(near)}?" if near else ""
    return (f"board.polda_id: unknown Polda {polda_id!r} (not in the reference data).{hint} "
            f"Known: {', '.join(sorted(known))}, or 'national'.")  # fmt: skip


def with_board_zone(config: Config) -> Config:
    """The configuration with ``board.tz`` filled in: as set, or the board's Polda's zone from the reference."""
    if config.board.tz:
        return config
    return replace(config, board=replace(config.board, tz=board_zone(config.board, reference())))


def metrics_settings(config: Config) -> MetricsSettings:
    return MetricsSettings(
        tz=board_zone(config.board, reference()),
        min_sample=config.board.min_sample,
        answer_threshold_s=config.board.answer_threshold_s,
        target_s=config.board.target_s,
        aspiration_s=config.board.aspiration_s,
        stale_fix_s=config.map.stale_fix_s,
        status_limits=StatusLimits(
            dispatched_s=config.alerts.dispatched_max_s,
            on_scene_s=config.alerts.on_scene_max_s,
            no_position_s=config.alerts.no_position_max_s,
        ),
        prank_flag_at=config.board.prank_flag_at,
        unmask_caller_numbers=config.board.unmask_caller_numbers,
    )


def reference() -> ReferenceData:
    """The shipped reference data (every Polda and its Polres) the board starts with before the API sends its own."""
    return all_poldas()


def new_engine(config: Config, ref: ReferenceData | None = None) -> MetricsEngine:
    return MetricsEngine(ref or reference(), board_polda(config), metrics_settings(config))


def simulator(
    config: Config, *, port: int = 0, host: str = "127.0.0.1", token: str | None = None,
    faults: tuple[str, ...] = (), start_time: float | None = None, speed: float | None = None,
) -> SimServer:  # fmt: skip
    """The simulated dispatch API as the configuration's ``[demo]`` section describes it (not started)."""
    from wallboard.sim.server import SimServer

    demo = config.demo
    return SimServer(
        region=demo.region,
        seed=demo.seed,
        speed=demo.speed if speed is None else speed,
        polsek_tier=demo.polsek_tier,
        history_hours=demo.history_hours,
        host=host,
        port=port,
        token=token,
        faults=faults,
        start_time=start_time,
    )  # fmt: skip


def demo_store_config(config: Config) -> Config:
    """Demo and replay runs keep their own history: a simulated world must never mix with a real board's database."""
    if config.store.path:
        return config
    path = Path(tempfile.mkdtemp(prefix="wallboard-demo-")) / "history.sqlite"
    return replace(config, store=replace(config.store, path=str(path)))


def open_store(config: Config) -> HistoryStore:
    from wallboard.store import HistoryStore

    return HistoryStore.open(config.store.path or None, retention_days=config.store.retention_days)


def recording_span(path: Path) -> tuple[float, float]:
    """The first and last arrival times of a recording (ValueError if it holds no records, OSError if unreadable)."""
    from wallboard.feed.ndjson import FeedReader

    if not path.is_file():
        raise OSError(f"{path}: no such recording")
    first = last = None
    for line in FeedReader(path):
        first = line.t if first is None else min(first, line.t)
        last = line.t if last is None else max(last, line.t)
    if first is None or last is None:
        raise ValueError(f"{path}: the recording holds no records")
    return first, last


def recording_provenance(path: Path) -> Provenance:
    first, last = recording_span(path)
    return Provenance(Source.RECORDING, path.name, first, last)


def engine_from_recording(config: Config, path: Path, at: float | None) -> tuple[MetricsEngine, float]:
    """An engine fed with every record of a recording that had arrived by ``at`` (default: its end), and that moment.

    A moment outside the recording is an error that names the recording's span: before it the board would show
    zeros as if nothing had happened, after it numbers that no longer move, both as if they were true then.
    """
    from wallboard.feed.ndjson import feed_engine_from_recording

    if at is not None:
        first, last = recording_span(path)
        if not first <= at <= last:
            tz = board_zone(config.board, reference())
            try:
                shown = format_rfc3339(at, tz)
            except (ValueError, OverflowError, OSError):  # a year the calendar cannot hold (0001 in UTC is year 0)
                shown = "(a time outside the years a calendar can show)"
            raise ValueError(
                f"--at {shown} is outside the recording {path.name}, which runs from "
                f"{format_rfc3339(first, tz)} to {format_rfc3339(last, tz)}"
            )
    engine = new_engine(config)
    moment = feed_engine_from_recording(engine, path, at)
    polda = board_polda(config)
    problem = unknown_polda(config)
    if polda is not None and polda not in engine.reference.poldas and problem:
        raise ValueError(problem)  # neither the shipped reference nor the recording's own knows this Polda
    return engine, moment


def engine_from_demo(config: Config, minutes: float) -> tuple[MetricsEngine, float]:
    """Run the simulator for ``minutes`` of sim time (after its history) and pull everything over HTTP."""
    from wallboard.feed.client import DispatchClient
    from wallboard.feed.sync import StreamSync

    start = time.time() - minutes * 60
    sim = simulator(config, speed=0, start_time=start)
    sim.start()
    try:
        sim.advance(minutes * 60)
        now = sim.clock.now()
        engine = new_engine(config)
        sync = StreamSync(DispatchClient(sim.url, config.api), engine.polda_id)
        for stream in ("reference", "calls", "units", "queue"):
            more = True
            while more:  # a fetch brings a bounded number of pages; the rest comes with the next one
                result = sync.fetch(stream)
                for record in result.all_records():
                    records.apply(engine, record)
                sync.commit(result.cursors)
                more = result.has_more
        sync.client.close()
    finally:
        sim.stop()
    return engine, now
