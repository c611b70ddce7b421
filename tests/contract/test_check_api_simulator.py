"""`wallboard check-api` against the simulator, the reference implementation vendors read: every check passes (those
that wait for the simulator's own fixes are marked), and the command's report, JSON and exit codes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from wallboard.feed.conformance import PASS, Report, check_api
from wallboard.sim.server import SimServer

TOKEN = "sim-check-4f0a2c"
START = 1_795_300_000.0
CHECKS = [
    "health", "get:reference", "get:queue",
    *(f"{check}:{stream}" for stream in ("calls", "incidents", "units")
      for check in ("paging", "duplicates", "gaps", "revisions", "resume")),
    "etag", "problem:bad-cursor", "problem:long-cursor", "problem:bad-limit",
    "problem:strict-integer",
    "problem:unknown-polda", "problem:not-found",
    "problem:method-not-allowed",
    "problem:missing-token",
    *(f"schema:{e}" for e in ("health", "reference", "calls", "incidents", "units", "queue")),
    "size", "timestamps", "clock", "latency",
    *(f"caching:{kind}" for kind in ("streams", "reference", "health", "errors", "vary")),
    "caching:date",
]  # fmt: skip


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    # Speed 0 and a start time of now: a still world (the passes must agree) whose clock agrees with ours.
    import time

    server = SimServer(region="kaltim", seed=7, speed=0, history_hours=2, start_time=time.time(), token=TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def report(sim: SimServer) -> Report:
    return check_api(sim.url, TOKEN, polda="kaltim")


def test_every_check_is_listed_here(report: Report) -> None:
    listed = {c if isinstance(c, str) else c.values[0] for c in CHECKS}
    assert {c.name for c in report.checks} == listed


@pytest.mark.parametrize("name", CHECKS)
def test_check_passes_against_the_simulator(report: Report, name: str) -> None:
    (check,) = [c for c in report.checks if c.name == name]
    assert check.status == PASS, check.evidence


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wallboard", "check-api", *args, "--log-level", "WARNING"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_the_command_prints_a_report_and_exits_non_zero_on_failure(sim: SimServer) -> None:
    text = run(sim.url, "--token", TOKEN)
    lines = text.stdout.splitlines()
    assert lines[0].startswith("wallboard ") and sim.url in lines[0]
    assert any(line.startswith("PASS  health ") for line in lines)
    assert "checks:" in lines[-1] and "passed" in lines[-1]
    as_json = run(sim.url, "--token", TOKEN, "--json")
    doc = json.loads(as_json.stdout)
    assert {c["name"] for c in doc["checks"]} >= {"health", "paging:calls", "problem:missing-token"}
    assert text.returncode == as_json.returncode == (0 if doc["passed"] else 1)
    assert doc["summary"]["fail"] == sum(1 for c in doc["checks"] if c["status"] == "FAIL")


def test_the_command_names_a_failing_check(sim: SimServer) -> None:
    result = run(sim.url, "--token", "not-the-token")
    assert result.returncode == 1
    assert "FAIL  health " in result.stdout and "401" in result.stdout


def test_an_unreachable_api_is_exit_code_2() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = run(f"http://127.0.0.1:{port}")
    assert result.returncode == 2
    assert "FAIL  health" in result.stdout and "no answer" in result.stdout
    assert run("ftp://example.invalid").returncode == 2
