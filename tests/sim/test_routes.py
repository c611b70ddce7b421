"""The API's routes called directly (no sockets): methods, strict parameters, problems and caching headers."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from wallboard.core.timeutil import ScaledClock
from wallboard.resources import kaltim_reference, read_json
from wallboard.sim.routes import CACHE_NONE, CACHE_REFERENCE, CACHE_STREAM, MAX_LIMIT, Request, Response, Routes
from wallboard.sim.state import SimState
from wallboard.sim.world import areas_from_geojson

START = 1_795_300_000.0
TOKEN = "s3cret-token"
AUTH = (("Authorization", f"Bearer {TOKEN}"),)


class Switch:
    """A fault switch that remembers what it was set to."""

    def __init__(self) -> None:
        self.modes: list[str] = []

    @property
    def faults(self) -> dict[str, float]:
        return dict.fromkeys(self.modes, 1.0)

    def set_faults(self, modes: Sequence[str]) -> None:
        if "explode" in modes:
            raise ValueError("unknown fault mode 'explode'")
        self.modes = list(modes)


@pytest.fixture(scope="module")
def routes() -> Routes:
    reference = kaltim_reference()
    state = SimState(list(reference.polres.values()), seed=3, start_time=START, history_hours=2,
                     areas=areas_from_geojson(read_json("data", "kaltim-regencies.geojson")))  # fmt: skip
    return Routes(state, reference, ScaledClock(START, rate=0), token=TOKEN, region="kaltim", controls=Switch())


def get(routes: Routes, target: str, *headers: tuple[str, str], method: str = "GET") -> Response:
    return routes.handle(Request.of(method, target, (*AUTH, *headers)))


def assert_problem(response: Response, status: int) -> None:
    assert response.status == status
    assert response.content_type == "application/problem+json"
    assert response.headers["Cache-Control"] == CACHE_NONE
    assert response.document["status"] == status
    assert {"type", "title", "detail", "instance"} <= set(response.document)


@pytest.mark.parametrize(
    ("path", "cache"),
    [("/api/v1/calls", CACHE_STREAM), ("/api/v1/incidents", CACHE_STREAM), ("/api/v1/units", CACHE_STREAM),
     ("/api/v1/queue", CACHE_STREAM), ("/api/v1/reference", CACHE_REFERENCE), ("/api/v1/health", CACHE_NONE)],
)  # fmt: skip
def test_each_resource_has_its_caching_headers_on_200_and_304(routes: Routes, path: str, cache: str) -> None:
    first = get(routes, path)
    assert first.status == 200
    assert first.headers["Cache-Control"] == cache
    assert first.headers["Vary"] == "Authorization"
    again = get(routes, path, ("If-None-Match", first.headers["ETag"]))
    assert again.status == 304
    assert again.document is None and again.body() == b""
    assert again.headers["Cache-Control"] == cache
    assert again.headers["Vary"] == "Authorization"
    assert again.headers["ETag"] == first.headers["ETag"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "BREW"])
@pytest.mark.parametrize("path", ["/api/v1/calls", "/api/v1/health", "/api/v1/no-such-thing", "/api/v2/calls"])
def test_every_other_method_under_api_is_405_with_allow(routes: Routes, method: str, path: str) -> None:
    response = get(routes, path, method=method)
    assert_problem(response, 405)
    assert response.headers["Allow"] == "GET, HEAD"
    if path.startswith("/api/v1/"):
        assert response.headers["Vary"] == "Authorization"


def test_a_405_needs_no_token(routes: Routes) -> None:
    response = routes.handle(Request.of("DELETE", "/api/v1/calls"))
    assert_problem(response, 405)


@pytest.mark.parametrize(
    ("method", "path"),
    [(m, p) for m in ("GET", "TRACE", "PUT") for p in ("/", "/index.html", "/api", "/sim/nope")]
    + [("GET", "/api/v1/no-such-thing"), ("HEAD", "/api/v1/")],
)
def test_unknown_paths_are_404_problems_whatever_the_method(routes: Routes, method: str, path: str) -> None:
    assert_problem(get(routes, path, method=method), 404)


def test_head_answers_like_get(routes: Routes) -> None:
    head, plain = get(routes, "/api/v1/reference", method="HEAD"), get(routes, "/api/v1/reference")
    assert (head.status, head.headers) == (plain.status, plain.headers)


@pytest.mark.parametrize(
    "cursor",
    ["1" * 41, "12a", "-1", "+5", " 5", "5 ", "1_0", "\u0665", "0x10", "1.0", "abc", "%31"],
)
def test_a_cursor_not_of_1_to_40_ascii_digits_is_400(routes: Routes, cursor: str) -> None:
    from urllib.parse import quote

    response = get(routes, f"/api/v1/calls?cursor={quote(cursor)}")
    assert_problem(response, 400)
    assert "cursor" in response.document["detail"]


def test_a_40_digit_cursor_is_accepted_and_never_answered_with_an_earlier_one(routes: Routes) -> None:
    response = get(routes, "/api/v1/calls?cursor=" + "9" * 40)
    assert response.status == 200
    assert response.document["items"] == []
    assert int(response.document["next_cursor"]) >= int("9" * 40)


def test_no_cursor_empty_cursor_and_zero_all_mean_from_the_beginning(routes: Routes) -> None:
    pages = [get(routes, f"/api/v1/calls{q}").document for q in ("", "?cursor=", "?cursor=0", "?cursor=000")]
    assert all(p["items"] == pages[0]["items"] for p in pages)
    assert pages[0]["items"], "two hours of history has calls"


@pytest.mark.parametrize("limit", ["1_0", "+5", " 5", "5 ", "\u0665", "0", str(MAX_LIMIT + 1), "-1", "1e3", "99999999"])
def test_a_limit_not_plain_digits_or_out_of_range_is_400(routes: Routes, limit: str) -> None:
    from urllib.parse import quote

    response = get(routes, f"/api/v1/units?limit={quote(limit)}")
    assert_problem(response, 400)
    assert "limit" in response.document["detail"]


def test_limit_cuts_the_page(routes: Routes) -> None:
    doc = get(routes, "/api/v1/units?limit=7").document
    assert len(doc["items"]) == 7 and doc["has_more"] is True


def test_unknown_polda_is_400_and_a_known_one_filters(routes: Routes) -> None:
    assert_problem(get(routes, "/api/v1/calls?polda=atlantis"), 400)
    assert_problem(get(routes, "/api/v1/reference?polda=atlantis"), 400)
    doc = get(routes, "/api/v1/reference?polda=kaltim").document
    assert {p["polda_id"] for p in doc["polres"]} == {"kaltim"}


def test_too_many_parameters_is_400(routes: Routes) -> None:
    query = "&".join(f"p{i}=1" for i in range(50))
    assert_problem(get(routes, f"/api/v1/calls?{query}"), 400)


def test_missing_or_wrong_token_is_401_with_a_challenge(routes: Routes) -> None:
    for headers in ((), (("Authorization", "Bearer wrong"),), (("Authorization", TOKEN),)):
        response = routes.handle(Request.of("GET", "/api/v1/calls", headers))
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
        assert response.headers["Vary"] == "Authorization"
        assert response.api is False, "fault modes never apply before the token is checked"


def test_authorised_api_answers_are_marked_for_the_fault_modes(routes: Routes) -> None:
    assert get(routes, "/api/v1/calls").api
    assert get(routes, "/api/v1/calls?limit=0").api
    assert not get(routes, "/sim/state").api


def test_sim_faults_switch_and_its_problems(routes: Routes) -> None:
    switch = routes.controls
    assert isinstance(switch, Switch)
    posted = routes.handle(Request.of("POST", "/sim/faults", (), b'{"modes": ["slow"]}'))
    assert (posted.status, posted.document) == (200, {"modes": ["slow"]})
    assert routes.handle(Request.of("GET", "/sim/faults")).document == {"faults": {"slow": 1.0}}
    assert_problem(routes.handle(Request.of("POST", "/sim/faults", (), b'{"modes": "slow"}')), 400)
    assert_problem(routes.handle(Request.of("POST", "/sim/faults", (), b'{"modes": ["explode"]}')), 400)
    assert_problem(routes.handle(Request.of("POST", "/sim/faults", (), b"not json")), 400)
    refused = routes.handle(Request.of("DELETE", "/sim/faults"))
    assert_problem(refused, 405)
    assert refused.headers["Allow"] == "GET, HEAD, POST"
    switch.set_faults([])
    state = routes.handle(Request.of("GET", "/sim/state")).document
    assert state["region"] == "kaltim" and state["units"] > 0
