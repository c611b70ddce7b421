"""Steady state and soak of the real `wallboard demo` process on a virtual screen.

    python bench/bench_board.py steady --region kaltim --seconds 120
    python bench/bench_board.py steady --region indonesia --seconds 120
    python bench/bench_board.py soak --minutes 30 --speed 48        # 24 simulated hours; --minutes 5 for a quick look

Measures (with psutil), for the main process plus every child (the QtWebEngine processes): CPU as % of one core,
PSS and summed RSS, and the largest GUI event-loop stall (a 16 ms timer's largest gap, logged by the app with
WALLBOARD_MEASURE=1).
Goals (issue "Proof"): Kaltim < 15 % of a core and < 600 MB; national < 50 % and < 1.2 GB; no stall > 100 ms;
soak: PSS and summed RSS growth over the last hour (last 20 minutes for a run under 90 minutes) < 2 %.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil


def tree(pid: int) -> list[psutil.Process]:
    """The process and all its descendants (the QtWebEngine processes)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def process_cpu(procs: list[psutil.Process]) -> dict[int, float]:
    """CPU seconds (user + system) used so far, by pid."""
    out = {}
    for p in procs:
        try:
            times = p.cpu_times()
            out[p.pid] = times.user + times.system
        except psutil.Error:
            pass
    return out


def cpu_seconds(procs: list[psutil.Process]) -> float:
    return sum(process_cpu(procs).values())


def role(proc: psutil.Process) -> str:
    """What a process of the board's tree is: the board itself or which QtWebEngine process."""
    try:
        argv = proc.cmdline()
    except psutil.Error:
        return "gone"
    for arg in argv:
        if arg.startswith("--type="):
            kind = arg[7:]
            return f"webengine {kind}" + (" (and the renderers it forked)" if kind == "zygote" else "")
    return "board (Python, Qt, feed" + (", simulator)" if "demo" in argv else ")")


def pss_mb(procs: list[psutil.Process]) -> float:
    """Proportional set size: pages shared between Chromium's processes counted once, not once per process."""
    total = 0
    for p in procs:
        try:
            total += p.memory_full_info().pss
        except (psutil.Error, AttributeError):
            pass
    return total / 2**20


def rss_mb(procs: list[psutil.Process]) -> float:
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def free_display() -> tuple[subprocess.Popen[bytes], str]:
    """An Xvfb on a display number it picks itself (-displayfd), so benchmarks and tests can run side by side."""
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(write,))  # fmt: skip
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    if not number:
        raise SystemExit("Xvfb did not start")
    return xvfb, f":{number}"


def start(
    region: str, speed: float, workdir: Path, external_sim: bool = False
) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes], Path, subprocess.Popen[bytes] | None]:
    """Xvfb, then the board (``wallboard demo``; or ``wallboard run`` against a ``wallboard simulate`` process)."""
    xvfb, display = free_display()
    log = workdir / "wallboard.log"
    env = {**os.environ, "DISPLAY": display, "WALLBOARD_MEASURE": "1", "XDG_DATA_HOME": str(workdir)}
    env.pop("QT_QPA_PLATFORM", None)
    sim = None
    if external_sim:
        port = 18110
        sim = subprocess.Popen([sys.executable, "-m", "wallboard", "simulate", "--region", region, "--speed",
                                str(speed), "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(3)
        args = [sys.executable, "-m", "wallboard", "run", "--set", f"api.url=http://127.0.0.1:{port}",
                "--set", f"store.path={workdir / 'history.sqlite'}"]  # fmt: skip
    else:
        args = [sys.executable, "-m", "wallboard", "demo", "--region", region, "--speed", str(speed)]
    args += ["--set", f"log.file={log}"]
    if region == "indonesia":
        args += ["--set", "board.polda_id=national", "--set", "board.tz=Asia/Jakarta"]
    board = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while "board live" not in (log.read_text() if log.exists() else ""):
        if time.monotonic() > deadline or board.poll() is not None:
            raise SystemExit(f"the board did not come up:\n{log.read_text()[-2000:] if log.exists() else ''}")
        time.sleep(0.5)
    return xvfb, board, log, sim


def max_stall(log: Path, after: float) -> float:
    gaps = []
    for line in log.read_text().splitlines():
        m = re.search(r"event loop: max gap (\d+) ms", line)
        if m:
            gaps.append(float(m.group(1)))
    return max(gaps[int(after) :] or gaps or [0.0])


def stop(xvfb: subprocess.Popen[bytes], board: subprocess.Popen[bytes], sim: subprocess.Popen[bytes] | None) -> None:
    board.send_signal(signal.SIGTERM)
    try:
        board.wait(timeout=30)
    except subprocess.TimeoutExpired:
        board.kill()
    if sim is not None:
        sim.terminate()
        sim.wait(timeout=30)
    xvfb.terminate()


def steady(region: str, seconds: float, speed: float, external_sim: bool) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="wallboard-bench-"))
    xvfb, board, log, sim = start(region, speed, workdir, external_sim)
    try:
        time.sleep(20)  # let the first full pushes settle
        pids = tree(board.pid)
        cpu0, t0 = process_cpu(pids), time.monotonic()
        sim_procs = tree(sim.pid) if sim else []
        sim_cpu0 = cpu_seconds(sim_procs)
        rss_samples, pss_samples = [], []
        while time.monotonic() - t0 < seconds:
            time.sleep(5)
            pids = tree(board.pid)
            rss_samples.append(rss_mb(pids))
            pss_samples.append(pss_mb(pids))
        elapsed = time.monotonic() - t0
        cpu1 = process_cpu(pids)
        roles = {p.pid: role(p) for p in pids}
        by_role: dict[str, float] = {}
        for p, seconds_used in cpu1.items():
            by_role[roles[p]] = by_role.get(roles[p], 0.0) + (seconds_used - cpu0.get(p, 0.0)) / elapsed * 100
        total = sum(by_role.values())
        what = "`wallboard run` (simulator in its own process)" if sim else "`wallboard demo`"
        print(f"{region}, {what}: {len(pids)} processes")
        for name, pct in sorted(by_role.items(), key=lambda kv: -kv[1]):
            print(f"  {name:45s} {pct:5.1f} % of one core")
        print(f"  total CPU {total:.1f} % of one core; memory (max over {seconds:.0f} s): "
              f"PSS {max(pss_samples):.0f} MB, summed RSS {max(rss_samples):.0f} MB; "
              f"largest event-loop stall {max_stall(log, 2):.0f} ms")  # fmt: skip
        windows = sorted(stall_gaps(log)[2:])
        if windows:
            over = sum(g > 100 for g in windows)
            print(f"  ten-second windows after start-up: {len(windows)}, median largest gap "
                  f"{windows[len(windows) // 2]:.0f} ms, {over} over 100 ms")  # fmt: skip
        if sim is not None:
            print(f"  the simulator process: {(cpu_seconds(sim_procs) - sim_cpu0) / elapsed * 100:.1f} % of one core "
                  f"(not counted above)")  # fmt: skip
    finally:
        stop(xvfb, board, sim)
        shutil.rmtree(workdir, ignore_errors=True)


def stall_gaps(log: Path) -> list[float]:
    """Every 10-second window's largest event-loop gap, in order."""
    return [float(m.group(1)) for m in re.finditer(r"event loop: max gap (\d+) ms", log.read_text())]


def soak(minutes: float, speed: float, keep_log: Path | None) -> None:
    """RSS and PSS every minute; growth over the last hour (runs of 90 minutes or more) or the last 20 minutes."""
    workdir = Path(tempfile.mkdtemp(prefix="wallboard-soak-"))
    xvfb, board, log, sim = start("kaltim", speed, workdir)
    try:
        rss_samples, pss_samples = [], []
        seen = 0
        for minute in range(int(minutes)):
            time.sleep(60)
            pids = tree(board.pid)
            rss_samples.append(rss_mb(pids))
            pss_samples.append(pss_mb(pids))
            gaps = stall_gaps(log)
            minute_stall = max(gaps[seen:] or [0.0])
            seen = len(gaps)
            print(f"  minute {minute + 1}: PSS {pss_samples[-1]:.0f} MB, summed RSS {rss_samples[-1]:.0f} MB, "
                  f"largest stall {minute_stall:.0f} ms", flush=True)  # fmt: skip
        window = 60 if len(pss_samples) >= 90 else 20
        for name, samples in (("PSS", pss_samples), ("summed RSS", rss_samples)):
            tail = samples[-window:] if len(samples) >= window else samples[len(samples) // 2 :]
            growth = (tail[-1] - tail[0]) / tail[0] * 100 if tail and tail[0] else 0.0
            print(f"soak: {minutes:.0f} min at x{speed:g} ({minutes * speed / 60:.1f} simulated hours); {name} "
                  f"{samples[0]:.0f} -> {samples[-1]:.0f} MB; growth over the last {len(tail)} min {growth:+.1f} % "
                  f"(goal < 2 %)")  # fmt: skip
        gaps = sorted(stall_gaps(log)[1:])  # the first window holds the start-up
        if gaps:
            over = sum(1 for g in gaps if g > 100)
            print(
                f"event-loop stalls: largest {gaps[-1]:.0f} ms; {over} of {len(gaps)} ten-second windows over "
                f"100 ms; median window {gaps[len(gaps) // 2]:.0f} ms, p99 {gaps[int(len(gaps) * 0.99)]:.0f} ms"
            )
    finally:
        stop(xvfb, board, sim)
        if keep_log is not None and log.exists():
            shutil.copyfile(log, keep_log)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("steady")
    s.add_argument("--region", choices=("kaltim", "indonesia"), default="kaltim")
    s.add_argument("--seconds", type=float, default=120)
    s.add_argument("--speed", type=float, default=1.0)
    s.add_argument(
        "--external-sim",
        action="store_true",
        help="the simulator in a process of its own, the board as `wallboard run` (a real deployment)",
    )
    k = sub.add_parser("soak")
    k.add_argument("--minutes", type=float, default=30)
    k.add_argument("--speed", type=float, default=48)
    k.add_argument("--keep-log", type=Path, help="copy the board's log here at the end (to see when stalls happened)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    if args.mode == "steady":
        steady(args.region, args.seconds, args.speed, args.external_sim)
    else:
        soak(args.minutes, args.speed, args.keep_log)


if __name__ == "__main__":
    main()
