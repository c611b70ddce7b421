"""The shipped nginx micro-cache (packaging/nginx/) run as a child process in front of a dispatch API, and
lightweight pollers that behave like boards. Shared by tests/deployment/test_http_cache.py and bench/bench_cache.py.

nginx runs as this process's child (never a system service): its configuration, cache, temp files and logs in a
work directory, loopback ports only, ``daemon off`` so that stopping it is killing one process we started.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NGINX_DIR = ROOT / "packaging" / "nginx"
TEMPLATE = NGINX_DIR / "wallboard-cache.conf.template"
PLACEHOLDERS = (
    "WB_LISTEN", "WB_SERVER_NAME", "WB_STAMP_ADDR", "WB_CAD_ADDR", "WB_CAD_HOST", "WB_CAD_SCHEME", "WB_CACHE_DIR",
    "WB_LOG_DIR", "WB_CONF_DIR",
)  # fmt: skip
NJS_MODULES = (
    Path("/usr/lib/nginx/modules/ngx_http_js_module.so"),
    Path("/usr/lib64/nginx/modules/ngx_http_js_module.so"),
)


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return next((str(p) for p in (Path("/usr/sbin/nginx"), Path("/usr/local/sbin/nginx")) if p.is_file()), None)


def njs_module() -> Path | None:
    """The njs module to load, or None when it is compiled in (or missing: :func:`missing` says which)."""
    return next((p for p in NJS_MODULES if p.is_file()), None)


def missing() -> str | None:
    """Why the cache cannot run here (None: it can)."""
    binary = nginx_binary()
    if binary is None:
        return "nginx is not installed (packaging/bootstrap.sh test installs it: apt-get install nginx)"
    if njs_module() is None:
        built = subprocess.run([binary, "-V"], capture_output=True, text=True, check=False).stderr
        if "njs" not in built:
            return "nginx's njs module is not installed (apt-get install libnginx-mod-http-js)"
    return None


def render(values: dict[str, str], template: str | None = None) -> str:
    """The template with its ``${WB_...}`` placeholders filled in, as ``envsubst`` with the same list would."""
    text = TEMPLATE.read_text() if template is None else template
    unknown = set(values) - set(PLACEHOLDERS)
    if unknown:
        raise ValueError(f"not placeholders of the template: {sorted(unknown)}")
    for name in PLACEHOLDERS:
        text = text.replace("${" + name + "}", values[name])
    left = re.findall(r"\$\{WB_\w+\}", text)
    if left:
        raise ValueError(f"placeholders left unfilled: {sorted(set(left))}")
    return text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class NginxCache:
    """One nginx with the shipped configuration, in front of ``cad_addr`` (host:port, plain HTTP)."""

    workdir: Path
    cad_addr: str
    workers: str = "1"  # worker_processes ("auto": one per core)
    port: int = 0
    stamp_port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.workdir / "logs" / "wallboard-cache.log"

    @property
    def cad_log(self) -> Path:
        return self.workdir / "logs" / "wallboard-cad.log"

    def start(self, timeout_s: float = 10.0) -> NginxCache:
        binary = nginx_binary()
        if binary is None:
            raise RuntimeError("nginx is not installed")
        for sub in ("logs", "cache", "tmp"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        self.port, self.stamp_port = free_port(), free_port()
        site = render(
            {
                "WB_LISTEN": f"127.0.0.1:{self.port}",
                "WB_SERVER_NAME": "localhost",
                "WB_STAMP_ADDR": f"127.0.0.1:{self.stamp_port}",
                "WB_CAD_ADDR": self.cad_addr,
                "WB_CAD_HOST": self.cad_addr,
                "WB_CAD_SCHEME": "http",
                "WB_CACHE_DIR": str(self.workdir / "cache"),
                "WB_LOG_DIR": str(self.workdir / "logs"),
                "WB_CONF_DIR": str(NGINX_DIR),
            }
        )
        (self.workdir / "wallboard-cache.conf").write_text(site)
        module = njs_module()
        tmp = self.workdir / "tmp"
        main = "\n".join(
            [
                f"load_module {module};" if module else "",
                # As root, workers would run as "nobody" and could not enter a test's private temp directory.
                "user root root;" if os.geteuid() == 0 else "",
                f"worker_processes {self.workers};",
                "worker_rlimit_nofile 16384;",
                "events { worker_connections 8192; }",
                "http {",
                f"  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;",
                f"  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;",
                f"  include {self.workdir / 'wallboard-cache.conf'};",
                "}",
                "",
            ]
        )
        (self.workdir / "nginx.conf").write_text(main)
        error_log = self.workdir / "logs" / "error.log"
        self.process = subprocess.Popen(
            [binary, "-p", str(self.workdir), "-c", str(self.workdir / "nginx.conf"), "-e", str(error_log),
             "-g", f"daemon off; pid {self.workdir / 'nginx.pid'}; error_log {error_log} warn;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                log = error_log.read_text(errors="replace") if error_log.exists() else ""
                raise RuntimeError(f"nginx exited with {self.process.returncode}: {err}{log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not start listening in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: fast shutdown of the master and its worker
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None

    def cpu_seconds(self) -> float:
        """CPU time used so far by nginx's master and workers (Linux /proc)."""
        if self.process is None:
            return 0.0
        tick = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            pid, ppid = int(stat.parent.name), int(fields[1])
            if self.process.pid in (pid, ppid):
                total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def cad_requests(self) -> list[str]:
        """The request lines that reached the CAD, from the inner server's log."""
        if not self.cad_log.exists():
            return []
        return re.findall(r'"GET (\S+) HTTP', self.cad_log.read_text())


# --- a minimal HTTP/1.1 client on asyncio: hundreds of keep-alive pollers in one thread ---------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    received_at: float  # time.time() when the whole answer had arrived


class HttpConnection:
    """One keep-alive connection from a chosen loopback source address (one per board, one address per room)."""

    def __init__(self, host: str, port: int, source: str | None = None) -> None:
        self.host, self.port, self.source = host, port, source
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None or self._writer.is_closing():
            local = (self.source, 0) if self.source else None
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port, local_addr=local)
        return self._reader, self._writer

    async def get(self, target: str, headers: dict[str, str], timeout_s: float = 10.0) -> Answer:
        try:
            async with asyncio.timeout(timeout_s):
                return await self._get(target, headers)
        except BaseException:
            self.close()
            raise

    async def _get(self, target: str, headers: dict[str, str]) -> Answer:
        reader, writer = await self._connect()
        lines = [f"GET {target} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        parsed: dict[str, str] = {}
        for line in header_lines:
            if ":" in line:
                k, v = line.split(":", 1)
                parsed[k.strip().lower()] = v.strip()
        body = b""
        if parsed.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        elif status not in (204, 304):
            body = await reader.readexactly(int(parsed.get("content-length", "0")))
        if parsed.get("connection", "").lower() == "close":
            self.close()
        return Answer(status, parsed, body, time.time())

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


@dataclass
class PollStats:
    """What a crowd of pollers saw."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    page_lag_s: list[float] = field(default_factory=list)  # receive time − server_time, stream pages with a body
    ages: list[float] = field(default_factory=list)  # Age headers seen


STREAM_PATHS = ("calls", "incidents", "units")


async def board_poller(
    conn: HttpConnection,
    token: str,
    cursors: dict[str, str],
    stop_at: float,
    stats: PollStats,
    *,
    polda: str = "kaltim",
    queue_s: float = 1.0,
    stream_s: float = 2.0,
    server_time_of: Any = None,
    rng: random.Random | None = None,
) -> None:
    """Poll like a board: the queue every ``queue_s``, the three streams every ``stream_s`` with the cursors an
    up-to-date board holds (following ``next_cursor`` and ``has_more``), one ETag per path sent back in
    If-None-Match. ``server_time_of(text) -> float`` turns a page's server_time into POSIX seconds (for the lag)."""
    rng = rng or random.Random()
    cursors = dict(cursors)
    etags: dict[str, tuple[str, str]] = {}  # path -> (target, etag), as DispatchClient keeps them
    auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    loop = asyncio.get_running_loop()
    next_queue = loop.time() + rng.uniform(0, queue_s)
    next_streams = loop.time() + rng.uniform(0, stream_s)

    async def fetch(path: str, target: str) -> Answer | None:
        headers = dict(auth)
        known = etags.get(path)
        if known is not None and known[0] == target:
            headers["If-None-Match"] = known[1]
        stats.requests += 1
        try:
            answer = await conn.get(target, headers)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            stats.errors[type(exc).__name__] += 1
            await asyncio.sleep(0.5)
            return None
        stats.statuses[answer.status] += 1
        if "age" in answer.headers and answer.headers["age"].isdigit():
            stats.ages.append(float(answer.headers["age"]))
        if answer.status == 200 and "etag" in answer.headers:
            etags[path] = (target, answer.headers["etag"])
        return answer

    while True:
        now = loop.time()
        if time.time() >= stop_at:
            return
        if now < min(next_queue, next_streams):
            await asyncio.sleep(min(next_queue, next_streams) - now)
            continue
        if next_queue <= now:
            next_queue += queue_s
            await fetch("queue", f"/api/v1/queue?polda={polda}")
        if next_streams <= now:
            next_streams += stream_s
            for resource in STREAM_PATHS:
                for _ in range(50):  # pages, as the board pages through a backlog
                    target = f"/api/v1/{resource}?cursor={cursors.get(resource, '0')}&limit=1000&polda={polda}"
                    answer = await fetch(resource, target)
                    if answer is None or answer.status != 200:
                        break
                    page = json.loads(answer.body)
                    if server_time_of is not None:
                        stats.page_lag_s.append(answer.received_at - server_time_of(page["server_time"]))
                    cursors[resource] = page["next_cursor"]
                    if not page["has_more"]:
                        break


async def run_pollers(
    url_host: str,
    port: int,
    n: int,
    token: str,
    cursors: dict[str, str],
    duration_s: float,
    *,
    per_room: int = 4,
    server_time_of: Any = None,
    seed: int = 1,
    first: int = 0,
    stop_at: float | None = None,
) -> PollStats:
    """``n`` pollers (numbered from ``first``) for ``duration_s`` or until ``stop_at`` (POSIX seconds); each room of
    ``per_room`` boards polls from its own loopback address."""
    stats = PollStats()
    stop_at = time.time() + duration_s if stop_at is None else stop_at
    rng = random.Random(seed)
    conns = [HttpConnection(url_host, port, source=f"127.0.{1 + i // per_room // 250}.{1 + i // per_room % 250}")
             for i in range(first, first + n)]  # fmt: skip
    try:
        await asyncio.gather(
            *(
                board_poller(c, token, cursors, stop_at, stats, server_time_of=server_time_of,
                             rng=random.Random(rng.random()))
                for c in conns
            )
        )  # fmt: skip
    finally:
        for c in conns:
            c.close()
    return stats
