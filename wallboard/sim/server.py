"""The simulated dispatch API: a real HTTP server speaking resources/openapi/dispatch-api.yaml.

``wallboard simulate`` runs it standalone; ``wallboard demo`` starts it in-process on a free localhost port and uses
its clock as the board's clock. The parts: :mod:`wallboard.sim.world` (what happens), :mod:`wallboard.sim.state`
(the world with its change logs behind a lock), :mod:`wallboard.sim.routes` (requests → responses, no sockets) and
:mod:`wallboard.sim.transport` (HTTP and the fault modes).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from http.server import ThreadingHTTPServer

from wallboard.core.reference import ReferenceData
from wallboard.core.timeutil import ScaledClock
from wallboard.resources import all_poldas, kaltim_reference, read_json, regencies, regency_boundaries
from wallboard.sim.routes import DEFAULT_LIMIT, MAX_LIMIT, Routes
from wallboard.sim.state import SimState
from wallboard.sim.transport import FAULT_MODES, HUGE_BYTES, make_handler, parse_faults
from wallboard.sim.world import PolresProfile, Ring, World, area_km2, areas_from_geojson, regency_profile

__all__ = ["DEFAULT_LIMIT", "FAULT_MODES", "HUGE_BYTES", "MAX_LIMIT", "REGIONS", "SimServer", "parse_faults"]

log = logging.getLogger(__name__)
REGIONS = ("kaltim", "indonesia")


def national_world_inputs() -> tuple[ReferenceData, dict[str, list[Ring]], dict[str, PolresProfile]]:
    """Every Polres of the national reference, its regency polygon, and a profile from the regency's kind and area
    (Kaltim's 10 keep their hand-made profiles inside the world)."""
    reference = all_poldas()
    areas = areas_from_geojson(regency_boundaries(None), key="polres_id")
    kinds = {r["code"]: r["kind"] for r in regencies()}
    profiles = {pid: regency_profile(kinds.get(pid, "kabupaten"), area_km2(areas[pid])) for pid in areas}
    return reference, areas, profiles


class SimServer:
    """The simulator: a world advancing in sim time and an HTTP server on a background thread."""

    def __init__(
        self,
        *,
        region: str = "kaltim",
        seed: int = 7,
        speed: float = 1.0,
        polsek_tier: bool = False,
        history_hours: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        faults: Sequence[str] = (),
        start_time: float | None = None,
    ) -> None:
        if region not in REGIONS:
            raise ValueError(f"unknown region {region!r} (kaltim or indonesia)")
        self.region = region
        self._faults = parse_faults(faults)
        self._faults_lock = threading.Lock()
        self._stop = threading.Event()
        start = time.time() if start_time is None else start_time
        self.clock = ScaledClock(start, rate=speed)
        profiles: dict[str, PolresProfile] = {}
        if region == "kaltim":
            self.reference = kaltim_reference()
            areas = areas_from_geojson(read_json("data", "kaltim-regencies.geojson"))
        else:
            self.reference, areas, profiles = national_world_inputs()
        self.state = SimState(
            list(self.reference.polres.values()),
            seed=seed,
            start_time=start,
            history_hours=history_hours,
            polsek_tier=polsek_tier,
            profiles=profiles,
            areas=areas,
        )
        self.routes = Routes(self.state, self.reference, self.clock, token=token, region=region, controls=self)
        self.host: str = host
        self._httpd = self._bind(port)
        self.port: int = int(self._httpd.server_address[1])
        self._threads: list[threading.Thread] = []

    @property
    def world(self) -> World:
        """The simulated world (read it only while the simulator is not advancing, e.g. at speed 0)."""
        return self.state.world

    @property
    def token(self) -> str | None:
        """The bearer token the API requires (None: any); changing it takes effect at the next request."""
        return self.routes.token

    @token.setter
    def token(self, value: str | None) -> None:
        self.routes.token = value

    # --- lifecycle -----------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _bind(self, port: int) -> ThreadingHTTPServer:
        handler = make_handler(self.routes, self, lambda: self.online, self._stop)
        httpd = ThreadingHTTPServer((self.host, port), handler)
        httpd.daemon_threads = True
        return httpd

    def _serve(self) -> threading.Thread:
        serve = threading.Thread(target=self._httpd.serve_forever, name="sim-http", daemon=True)
        serve.start()
        return serve

    @property
    def online(self) -> bool:
        """Whether the API's socket is open (see :meth:`set_online`)."""
        return self._httpd.fileno() != -1

    def start(self) -> None:
        tick = threading.Thread(target=self._run_world, name="sim-world", daemon=True)
        tick.start()
        self._threads = [self._serve(), tick]

    def set_online(self, online: bool) -> None:
        """Take the API off the network (connections refused, as when the CAD server is down) or bring it back on
        the same port. The world keeps going meanwhile, so a client that comes back has a gap to catch up on."""
        if online == self.online:
            return
        if not online:
            self._close_socket()
            return
        self._httpd = self._bind(self.port)
        self._threads = [t for t in self._threads if t.name != "sim-http" and t.is_alive()] + [self._serve()]

    def _close_socket(self) -> None:
        # shutdown() waits for serve_forever(), which never ran on a server not started or already taken offline
        if self._threads and self.online:
            self._httpd.shutdown()
        self._httpd.server_close()

    def stop(self) -> None:
        self._stop.set()
        self._close_socket()
        for t in self._threads:
            t.join(timeout=5)

    def _run_world(self) -> None:
        tick_real_s = 1.0  # ~1 Hz: one tick of `speed` sim seconds; units send the fixes due at each tick
        while not self._stop.wait(tick_real_s):
            if self.clock.rate > 0:
                self.state.advance_to(self.clock.now())

    def advance(self, seconds: float) -> None:
        """Move sim time forward by ``seconds`` at once (tests; with ``speed=0`` the only way time moves).

        Events run at their own times; each unit sends one position fix at the end (if one is due), as a server
        that was not asked in between would show it."""
        self.clock.step(seconds)
        self.state.advance_to(self.clock.now())

    # --- faults --------------------------------------------------------------------------------------------------

    def set_faults(self, modes: Sequence[str]) -> None:
        parsed = parse_faults(modes)
        with self._faults_lock:
            self._faults = parsed
        log.info("simulator faults: %s", ", ".join(modes) or "none")

    @property
    def faults(self) -> dict[str, float]:
        with self._faults_lock:
            return dict(self._faults)
