"""Every endpoint of the simulator answers exactly as resources/openapi/dispatch-api.yaml says."""

from __future__ import annotations

from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import requests
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from wallboard.resources import resource_path
from wallboard.sim.server import SimServer

AUTH = {"Authorization": "Bearer s3cret-token"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(resource_path("openapi", "dispatch-api.yaml").read_text())
    return document


def validator(spec: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    registry = Registry().with_resource("spec", Resource.from_contents(spec, default_specification=DRAFT202012))
    resolved = {"$ref": "spec#" + schema["$ref"][1:]} if "$ref" in schema else _rewrite(schema)
    return jsonschema.Draft202012Validator(resolved, registry=registry, format_checker=jsonschema.FormatChecker())


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: ("spec#" + v[1:] if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rewrite(v))
                for k, v in node.items()}  # fmt: skip
    if isinstance(node, list):
        return [_rewrite(v) for v in node]
    return node


def documented_response(spec: dict[str, Any], path: str, status: str) -> dict[str, Any]:
    response: dict[str, Any] = spec["paths"][path]["get"]["responses"][status]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response


def response_schema(spec: dict[str, Any], path: str, status: str) -> tuple[dict[str, Any], str]:
    ((content_type, media),) = documented_response(spec, path, status)["content"].items()
    return media["schema"], content_type


def check_headers(spec: dict[str, Any], path: str, response: requests.Response) -> None:
    """Every header the document gives for this path and status: present when required, and valid."""
    documented = documented_response(spec, path, str(response.status_code)).get("headers", {})
    assert documented, f"{path} {response.status_code}: the document names no headers"
    for name, header in documented.items():
        if "$ref" in header:
            header = spec["components"]["headers"][header["$ref"].rsplit("/", 1)[1]]
        value = response.headers.get(name)
        if value is None:
            assert not header.get("required"), f"{path} {response.status_code}: no {name} header"
            continue
        validator(spec, header["schema"]).validate(value)


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/reference", "/api/v1/calls", "/api/v1/incidents",
                                  "/api/v1/units", "/api/v1/queue"])  # fmt: skip
def test_every_endpoint_validates_against_the_contract(sim: SimServer, spec: dict[str, Any], path: str) -> None:
    response = requests.get(sim.url + path, params={"limit": "200", "polda": "kaltim"} if path != "/api/v1/health"
                            else None, headers=AUTH, timeout=10)  # fmt: skip
    assert response.status_code == 200
    schema, content_type = response_schema(spec, path, "200")
    assert response.headers["Content-Type"] == content_type
    assert response.headers.get("ETag")
    check_headers(spec, path, response)
    document = response.json()
    validator(spec, schema).validate(document)
    if "items" in document:
        assert document["items"], f"{path} returned no records to check"


def test_etag_gives_304(sim: SimServer) -> None:
    first = requests.get(sim.url + "/api/v1/reference", headers=AUTH, timeout=10)
    second = requests.get(sim.url + "/api/v1/reference", headers={**AUTH, "If-None-Match": first.headers["ETag"]},
                          timeout=10)  # fmt: skip
    assert second.status_code == 304
    assert second.content == b""


@pytest.mark.parametrize(
    ("headers", "params", "status"),
    [({}, {}, "401"), ({"Authorization": "Bearer wrong"}, {}, "401"), (AUTH, {"cursor": "abc"}, "400"),
     (AUTH, {"cursor": "1" * 201}, "400"), (AUTH, {"cursor": "1" * 41}, "400"), (AUTH, {"cursor": "+5"}, "400"),
     (AUTH, {"limit": "0"}, "400"), (AUTH, {"limit": "1_0"}, "400"), (AUTH, {"limit": " 5"}, "400"),
     (AUTH, {"limit": "\u0665"}, "400"), (AUTH, {"limit": "5001"}, "400"), (AUTH, {"polda": "atlantis"}, "400")],
)  # fmt: skip
def test_errors_are_problem_documents(
    sim: SimServer, spec: dict[str, Any], headers: dict[str, str], params: dict[str, str], status: str
) -> None:
    response = requests.get(sim.url + "/api/v1/calls", headers=headers, params=params, timeout=10)
    assert response.status_code == int(status)
    schema, content_type = response_schema(spec, "/api/v1/calls", status)
    assert response.headers["Content-Type"] == content_type
    validator(spec, schema).validate(response.json())
    check_headers(spec, "/api/v1/calls", response)
    if status == "401":
        assert "Bearer" in response.headers["WWW-Authenticate"]


def test_fault_errors_validate_too(sim: SimServer, spec: dict[str, Any]) -> None:
    try:
        sim.set_faults(["error503"])
        response = requests.get(sim.url + "/api/v1/units", headers=AUTH, timeout=10)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "2"
        schema, _ = response_schema(spec, "/api/v1/units", "503")
        validator(spec, schema).validate(response.json())
        check_headers(spec, "/api/v1/units", response)
        sim.set_faults(["error500"])
        response = requests.get(sim.url + "/api/v1/units", headers=AUTH, timeout=10)
        assert response.status_code == 500
        validator(spec, response_schema(spec, "/api/v1/units", "500")[0]).validate(response.json())
        check_headers(spec, "/api/v1/units", response)
    finally:
        sim.set_faults([])


def _all_pages(sim: SimServer, resource: str, cursor: str = "0", limit: int = 37) -> tuple[list[dict[str, Any]], str]:
    items: list[dict[str, Any]] = []
    while True:
        doc = requests.get(f"{sim.url}/api/v1/{resource}", params={"cursor": cursor, "limit": str(limit)},
                           headers=AUTH, timeout=10).json()  # fmt: skip
        items += doc["items"]
        cursor = doc["next_cursor"]
        if not doc["has_more"]:
            return items, cursor


def test_cursor_paging_has_no_gaps_and_no_duplicates(sim: SimServer) -> None:
    everything, _ = _all_pages(sim, "calls", limit=5000)
    paged, cursor = _all_pages(sim, "calls", limit=37)
    assert [c["id"] for c in paged] == [c["id"] for c in everything]
    assert len({c["id"] for c in paged}) == len(paged)
    # A client that was away: changes happen, then it resumes from its cursor.
    sim.advance(1800)
    missed, _ = _all_pages(sim, "calls", cursor=cursor, limit=11)
    assert missed, "half an hour brings new or changed calls"
    assert len({c["id"] for c in missed}) == len(missed)
    latest = {c.call.id: c.call.rev for c in sim.world.calls.values()}
    merged = {c["id"]: c["rev"] for c in paged}
    merged.update({c["id"]: c["rev"] for c in missed})
    assert merged == latest, "resuming from the cursor ends at every call's latest revision"


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/reference", "/api/v1/calls", "/api/v1/incidents",
                                  "/api/v1/units", "/api/v1/queue"])  # fmt: skip
def test_every_get_answers_304_to_its_own_etag(sim: SimServer, spec: dict[str, Any], path: str) -> None:
    first = requests.get(sim.url + path, headers=AUTH, timeout=10)
    again = requests.get(sim.url + path, headers={**AUTH, "If-None-Match": first.headers["ETag"]}, timeout=10)
    assert again.status_code == 304
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    check_headers(spec, path, again)
    other = requests.get(sim.url + path, headers={**AUTH, "If-None-Match": '"not-this-one"'}, timeout=10)
    assert other.status_code == 200


def test_stream_etag_changes_when_the_stream_changes(sim: SimServer) -> None:
    first = requests.get(sim.url + "/api/v1/calls", headers=AUTH, timeout=10)
    sim.advance(600)
    later = requests.get(sim.url + "/api/v1/calls", headers={**AUTH, "If-None-Match": first.headers["ETag"]},
                         timeout=10)  # fmt: skip
    assert later.status_code == 200
    assert later.headers["ETag"] != first.headers["ETag"]


def test_unknown_path_is_a_404_problem(sim: SimServer, spec: dict[str, Any]) -> None:
    response = requests.get(sim.url + "/api/v1/no-such-thing", headers=AUTH, timeout=10)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    validator(spec, {"$ref": "#/components/schemas/Problem"}).validate(response.json())
    assert response.json()["instance"] == "/api/v1/no-such-thing"
    check_headers(spec, "/api/v1/calls", response)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND"])
def test_other_methods_are_405_problems_with_allow(sim: SimServer, spec: dict[str, Any], method: str) -> None:
    response = requests.request(method, sim.url + "/api/v1/calls", headers=AUTH, data=b"{}", timeout=10)
    assert response.status_code == 405
    assert response.headers["Content-Type"] == "application/problem+json"
    validator(spec, response_schema(spec, "/api/v1/calls", "405")[0]).validate(response.json())
    check_headers(spec, "/api/v1/calls", response)
    # the connection stays usable after a refused request with a body
    assert requests.get(sim.url + "/api/v1/health", headers=AUTH, timeout=10).status_code == 200


def test_head_has_the_headers_and_no_body(sim: SimServer, spec: dict[str, Any]) -> None:
    head = requests.head(sim.url + "/api/v1/units", headers=AUTH, timeout=10)
    get = requests.get(sim.url + "/api/v1/units", headers=AUTH, timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == get.headers["Content-Length"]
    check_headers(spec, "/api/v1/units", head)


def test_a_malformed_request_line_is_a_problem_not_html(sim: SimServer) -> None:
    import socket

    with socket.create_connection((sim.host, sim.port), timeout=10) as conn:
        conn.sendall(b"GET /api/v1/calls HTTP/9.9 extra\r\n\r\n")
        reply = conn.makefile("rb").read()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert b"Content-Type: application/problem+json" in head
    assert b'"status":400' in body


def test_hostile_parameters_are_refused_not_echoed_as_markup(sim: SimServer) -> None:
    response = requests.get(sim.url + "/api/v1/calls", params={"polda": "<img src=x onerror=alert(1)>"},
                            headers=AUTH, timeout=10)  # fmt: skip
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 400
