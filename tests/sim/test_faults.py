"""Fault modes break /api/v1 in the documented ways, switch at run time, and never touch /sim."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from wallboard.core.timeutil import parse_rfc3339
from wallboard.sim.server import HUGE_BYTES, SimServer, parse_faults

AUTH = {"Authorization": "Bearer s3cret-token"}


@pytest.fixture
def faulty(sim: SimServer) -> Iterator[SimServer]:
    yield sim
    sim.set_faults([])


def test_faults_switch_at_run_time_over_http(faulty: SimServer) -> None:
    reply = requests.post(faulty.url + "/sim/faults", json={"modes": ["error500", "clock_offset=90"]}, timeout=10)
    assert reply.status_code == 200
    assert requests.get(faulty.url + "/sim/faults", timeout=10).json() == {
        "faults": {"error500": 1.0, "clock_offset": 90.0}
    }
    assert requests.get(faulty.url + "/api/v1/health", headers=AUTH, timeout=10).status_code == 500
    assert requests.get(faulty.url + "/sim/state", timeout=10).status_code == 200, "faults never apply to /sim"
    requests.post(faulty.url + "/sim/faults", json={"modes": []}, timeout=10)
    assert requests.get(faulty.url + "/api/v1/health", headers=AUTH, timeout=10).status_code == 200


def test_unknown_fault_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        parse_faults(["explode"])


def test_bad_fault_post_is_a_problem(faulty: SimServer) -> None:
    reply = requests.post(faulty.url + "/sim/faults", data=b'{"modes": ["nope"]}', timeout=10)
    assert reply.status_code == 400
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert faulty.faults == {}


def test_malformed_body_is_not_json(faulty: SimServer) -> None:
    faulty.set_faults(["malformed"])
    body = requests.get(faulty.url + "/api/v1/calls", headers=AUTH, timeout=10).content
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)


@pytest.mark.parametrize("mode", ["missing_fields", "wrong_types"])
def test_damaged_items(faulty: SimServer, mode: str) -> None:
    faulty.set_faults([mode])
    items = requests.get(faulty.url + "/api/v1/calls", headers=AUTH, timeout=10).json()["items"]
    damaged = [i for i in items if "rev" not in i or not isinstance(i["rev"], int)]
    assert damaged and len(damaged) < len(items), "some items, not all, are damaged"


def test_clock_offset_shifts_every_timestamp(faulty: SimServer) -> None:
    before = requests.get(faulty.url + "/api/v1/calls", params={"limit": "50"}, headers=AUTH, timeout=10).json()
    faulty.set_faults(["clock_offset=3600"])
    after = requests.get(faulty.url + "/api/v1/calls", params={"limit": "50"}, headers=AUTH, timeout=10).json()
    for a, b in zip(before["items"], after["items"], strict=True):
        assert parse_rfc3339(b["received_at"]) - parse_rfc3339(a["received_at"]) == pytest.approx(3600, abs=0.01)
    assert parse_rfc3339(after["server_time"]) - parse_rfc3339(before["server_time"]) == pytest.approx(3600, abs=1)


def test_reset_closes_the_connection(faulty: SimServer) -> None:
    faulty.set_faults(["reset"])
    with pytest.raises(requests.ConnectionError):
        requests.get(faulty.url + "/api/v1/units", headers=AUTH, timeout=10)


def test_hang_outlasts_a_client_timeout(faulty: SimServer) -> None:
    faulty.set_faults(["hang"])
    with pytest.raises(requests.Timeout):
        requests.get(faulty.url + "/api/v1/queue", headers=AUTH, timeout=0.5)


def test_huge_announces_fifty_megabytes(faulty: SimServer) -> None:
    faulty.set_faults(["huge"])
    with requests.get(faulty.url + "/api/v1/calls", headers=AUTH, timeout=10, stream=True) as response:
        assert int(response.headers["Content-Length"]) >= HUGE_BYTES
        assert len(response.raw.read(1 << 20)) == 1 << 20
