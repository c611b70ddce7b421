"""StreamSync against an in-memory API: paging, per-item validation, whole-document failures, cursor resume."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wallboard.core.model import Call, CallCategory, QueueEntry, QueueState, Tier
from wallboard.core.timeutil import format_rfc3339
from wallboard.core.wire import call_to_wire, polda_to_wire, polres_to_wire, queue_to_wire
from wallboard.feed import sync as sync_module
from wallboard.feed.client import ContractError, FeedError, Fetched, HttpStatusError, TransportError
from wallboard.feed.sync import PAGE_LIMIT, StreamSync
from wallboard.resources import kaltim_reference

NOW = 1_795_300_000.0


def call(n: int, rev: int = 1) -> dict[str, Any]:
    c = Call(f"c{n}", rev, "64.71", NOW - 3600 + n, Tier.POLRES, (), NOW - 3590 + n, Tier.POLRES, None,
             CallCategory.GENUINE)  # fmt: skip
    return call_to_wire(c)


@dataclass
class FakeApi:
    """Streams as lists in change order; a cursor is the index after the last item sent."""

    streams: dict[str, list[Any]] = field(default_factory=lambda: {"calls": [], "incidents": [], "units": []})
    server_time: float = NOW
    documents: dict[str, Any] = field(default_factory=dict)  # path -> document served as is
    fail: Callable[[str, dict[str, str]], None] | None = None  # raise from here to break a request
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    closed: bool = False

    def fetch(self, path: str, params: dict[str, str] | None = None, *, use_etag: bool = True) -> Fetched:
        params = dict(params or {})
        self.requests.append((path, params))
        if self.fail is not None:
            self.fail(path, params)
        if path in self.documents:
            return Fetched(self.documents[path], False, None)
        resource = path.rsplit("/", 1)[-1]
        items = self.streams[resource]
        start = int(params.get("cursor", "0"))
        limit = int(params.get("limit", "1000"))
        page = items[start : start + limit]
        end = start + len(page)
        return Fetched(
            {"items": page, "next_cursor": str(end), "has_more": end < len(items),
             "server_time": format_rfc3339(self.server_time)},
            False, None,
        )  # fmt: skip

    def close(self) -> None:
        self.closed = True


def ids(records: list[Any]) -> list[str]:
    return [r.id for r in records]


def test_pages_until_has_more_is_false_and_commits_only_when_told() -> None:
    api = FakeApi()
    api.streams["calls"] = [call(n) for n in range(2 * PAGE_LIMIT + 500)]
    api.streams["incidents"] = []
    sync = StreamSync(api, "kaltim", lambda: NOW)
    result = sync.fetch("calls")
    assert ids(result.records) == [f"c{n}" for n in range(2500)]
    assert result.pages == 4  # 3 pages of calls, 1 of incidents
    assert result.cursors == {"calls": "2500", "incidents": "0"}
    assert not result.has_more and not result.invalid
    assert all(p.get("polda") == "kaltim" for _, p in api.requests)
    assert sync.cursors() == {}, "nothing committed before the hub applied the page"
    assert len(sync.fetch("calls").records) == 2500, "an uncommitted fetch is fetched again"
    sync.commit(result.cursors)
    assert sync.fetch("calls").records == []
    api.streams["calls"].append(call(7, rev=2))
    assert [(r.id, r.rev) for r in sync.fetch("calls").records] == [("c7", 2)]


def test_an_outage_in_the_middle_of_paging_resumes_without_gaps() -> None:
    api = FakeApi()
    api.streams["calls"] = [call(n) for n in range(2500)]
    api.streams["units"] = [call(n) for n in range(3)]
    now = [0.0]
    sync = StreamSync(api, None, monotonic=lambda: now[0])
    sync.commit(sync.fetch("calls").cursors)
    api.streams["calls"] += [call(n) for n in range(2500, 5000)]

    def second_page_breaks(path: str, params: dict[str, str]) -> None:
        if params.get("cursor") == "3500":
            raise TransportError("/api/v1/calls: cannot connect (Connection refused)")

    api.fail = second_page_breaks
    partial = sync.fetch("calls")
    assert "calls" in partial.failures
    assert ids(partial.records) == [f"c{n}" for n in range(2500, 3500)], "the pages that came are used"
    assert partial.cursors == {"calls": "3500", "incidents": "0"}, "the cursor moves past them, not further"
    sync.commit(partial.cursors)
    api.fail = None
    result = sync.fetch("calls")
    assert result.failures == {"calls": "waiting to retry after failures"}, "calls wait out their own back-off"
    now[0] += 120
    result = sync.fetch("calls")
    assert ids(result.records) == [f"c{n}" for n in range(3500, 5000)], "every call missed, once, in order"
    assert "polda" not in api.requests[-1][1], "a national board asks for every Polda"
    assert not result.failures


def test_saved_cursors_resume_after_a_restart() -> None:
    api = FakeApi()
    api.streams["calls"] = [call(n) for n in range(30)]
    first = StreamSync(api, "kaltim")
    first.commit(first.fetch("calls").cursors)
    saved = first.cursors()
    api.streams["calls"] += [call(n) for n in range(30, 35)]
    restarted = StreamSync(api, "kaltim")
    restarted.restore_cursors({**saved, "bogus": "1", "units": "", "queue": "x" * 500})
    assert restarted.cursors() == saved
    restarted.restore_cursors({"incidents": "x" * 500})
    assert restarted.cursors() == saved, "an absurd cursor is not taken"
    assert ids(restarted.fetch("calls").records) == [f"c{n}" for n in range(30, 35)]


def test_invalid_items_are_skipped_counted_with_reasons_and_the_rest_applied() -> None:
    api = FakeApi()
    hostile = "<img src=x onerror=alert(1)>"
    api.streams["calls"] = [
        call(0),
        {**call(1), "rev": "two"},
        "not an object",
        {**call(3), "id": hostile, "received_at": "yesterday"},
        call(4),
        {k: v for k, v in call(5).items() if k != "polres_id"},
    ]
    result = StreamSync(api, "kaltim").fetch("calls")
    assert ids(result.records) == ["c0", "c4"]
    assert len(result.invalid) == 4
    assert result.invalid[0].startswith("calls[1] id='c1': rev")
    assert result.invalid[1].startswith("calls[2]: ")
    assert "received_at" in result.invalid[2] and hostile in result.invalid[2], "the reason names the item"
    assert "polres_id" in result.invalid[3]
    assert result.cursors == {"incidents": "0"}, "the first page had bad items: asked for again, from no cursor"


def test_transiently_bad_items_are_fetched_again_and_heal() -> None:
    api = FakeApi()
    api.streams["calls"] = [call(n) for n in range(5)]
    sync = StreamSync(api, "kaltim")
    sync.commit(sync.fetch("calls").cursors)
    api.streams["calls"] += [call(5), {**call(6), "rev": None}, call(7)]
    first = sync.fetch("calls")
    assert ids(first.records) == ["c5", "c7"] and len(first.invalid) == 1
    sync.commit(first.cursors)
    api.streams["calls"][6] = call(6)  # the proxy / the CAD deploy is fixed
    healed = sync.fetch("calls")
    assert ids(healed.records) == ["c5", "c6", "c7"], "re-applying c5 and c7 is harmless (same revision)"
    assert healed.cursors["calls"] == "8"


def test_a_permanently_bad_item_cannot_pin_the_cursor() -> None:
    api = FakeApi()
    api.streams["calls"] = [call(0), {**call(1), "rev": -1}, call(2)]
    sync = StreamSync(api, "kaltim")
    cursors = []
    for _ in range(sync_module.INVALID_PAGE_RETRIES + 2):
        result = sync.fetch("calls")
        sync.commit(result.cursors)
        cursors.append(sync.cursors().get("calls"))
        assert "cursor" not in api.requests[-2][1] or cursors[-1] == "3", "no cursor the server did not give"
    assert cursors[: sync_module.INVALID_PAGE_RETRIES] == [None] * sync_module.INVALID_PAGE_RETRIES
    assert cursors[-2:] == ["3", "3"], "given up after the retries; the feed moves on"
    assert sync.fetch("calls").records == []


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ([], "expected a JSON object"),
        ({"items": {}, "next_cursor": "1", "has_more": False}, "'items' must be an array"),
        ({"items": [], "has_more": False}, "'next_cursor'"),
        ({"items": [], "next_cursor": "", "has_more": False}, "'next_cursor'"),
        ({"items": [], "next_cursor": "9", "has_more": "no"}, "'has_more'"),
        ("<html>", "expected a JSON object"),
    ],
)
def test_an_invalid_document_fails_the_fetch_and_moves_no_cursor(document: Any, reason: str) -> None:
    api = FakeApi()
    api.streams["calls"] = [call(0)]
    sync = StreamSync(api, "kaltim")
    sync.commit(sync.fetch("calls").cursors)
    api.documents["/api/v1/calls"] = document
    result = sync.fetch("calls")
    assert reason in result.failures["calls"] and "calls" not in result.cursors, "incidents still came"
    sync.commit(result.cursors)
    assert sync.cursors() == {"calls": "1", "incidents": "0"}
    api.documents["/api/v1/incidents"] = document
    with pytest.raises(ContractError, match=reason):
        StreamSync(api, "kaltim").fetch("calls")


def test_the_page_budget_leaves_a_backlog_for_the_next_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync_module, "MAX_PAGES_PER_FETCH", 2)
    monkeypatch.setattr(sync_module, "PAGE_LIMIT", 10)
    api = FakeApi()
    api.streams["units"] = []
    api.streams["calls"] = [call(n) for n in range(45)]
    sync = StreamSync(api, "kaltim")
    seen: list[str] = []
    for _ in range(3):
        result = sync.fetch("calls")
        seen += ids(result.records)
        sync.commit(result.cursors)
        if not result.has_more:
            break
    assert result.has_more is False
    assert seen == [f"c{n}" for n in range(45)]


def test_queue_document_is_all_or_nothing() -> None:
    api = FakeApi()
    queue = QueueState(NOW, (QueueEntry("c1", "64.71", Tier.POLRES, NOW - 5),))
    api.documents["/api/v1/queue"] = queue_to_wire(queue)
    sync = StreamSync(api, "kaltim")
    assert sync.fetch("queue").queue == queue
    broken = queue_to_wire(queue)
    broken["entries"].append({"call_id": "c2"})
    api.documents["/api/v1/queue"] = broken
    with pytest.raises(ContractError, match="queue"):
        sync.fetch("queue")
    api.documents["/api/v1/queue"] = {"as_of": "now", "entries": "none"}
    with pytest.raises(ContractError):
        sync.fetch("queue")


def test_reference_skips_bad_entries_but_needs_a_polda() -> None:
    reference = kaltim_reference()
    good = {"poldas": [polda_to_wire(p) for p in reference.poldas.values()],
            "polres": [polres_to_wire(p) for p in reference.polres.values()]}  # fmt: skip
    api = FakeApi()
    api.documents["/api/v1/reference"] = {**good, "polres": [*good["polres"], {"id": 5}]}
    result = StreamSync(api, "kaltim").fetch("reference")
    assert result.reference is not None and result.reference.polres == reference.polres
    assert len(result.invalid) == 1 and result.invalid[0].startswith("polres[10]")
    api.documents["/api/v1/reference"] = {"poldas": [{"name": "x"}], "polres": good["polres"]}
    with pytest.raises(ContractError, match="no valid Polda"):
        StreamSync(api, "kaltim").fetch("reference")
    api.documents["/api/v1/reference"] = {"poldas": None}
    with pytest.raises(ContractError, match="'poldas' and 'polres'"):
        StreamSync(api, "kaltim").fetch("reference")


def test_clock_skew_is_measured_and_reported_over_a_minute() -> None:
    api = FakeApi(server_time=NOW + 600)
    result = StreamSync(api, "kaltim", lambda: NOW).fetch("units")
    assert result.clock_skew_s == pytest.approx(600)
    assert result.skew_problem() == "server clock is 10 min ahead of the board's clock"
    api.server_time = NOW - 90
    assert StreamSync(api, "kaltim", lambda: NOW).fetch("units").skew_problem() == (
        "server clock is 90 s behind the board's clock"
    )
    api.server_time = NOW + 30
    assert StreamSync(api, "kaltim", lambda: NOW).fetch("units").skew_problem() is None
    assert StreamSync(api, "kaltim").fetch("units").clock_skew_s is None, "no board clock, no measurement"


@dataclass
class CachedApi:
    """A shared cache in front of :class:`FakeApi`: every answer is ``age_s`` old, its server_time that much behind."""

    api: FakeApi
    age_s: float = 0.0

    def fetch(self, path: str, params: dict[str, str] | None = None, *, use_etag: bool = True) -> Fetched:
        fetched = self.api.fetch(path, params, use_etag=use_etag)
        return Fetched(fetched.document, fetched.not_modified, fetched.etag, self.age_s)

    def close(self) -> None:
        self.api.close()


def test_a_cached_copy_is_not_mistaken_for_clock_skew() -> None:
    cached = CachedApi(FakeApi(server_time=NOW - 120), age_s=120)  # the copy was made 2 min ago by an agreeing clock
    cached.api.streams["incidents"] = [{"not": "an incident"}]
    sync = StreamSync(cached, "kaltim", lambda: NOW)
    result = sync.fetch("calls")
    assert result.clock_skew_s == pytest.approx(0) and result.skew_problem() is None
    assert sync.time_correction_s == 0.0, "times of a cached copy are not shifted"
    assert result.age_s == 120, "the stream's data is as old as its oldest document"
    cached.age_s = 1
    cached.api.server_time = NOW + 599  # a truly skewed server, through a cache: still seen
    assert sync.fetch("units").clock_skew_s == pytest.approx(600)
    cached.api.documents["/api/v1/queue"] = queue_to_wire(QueueState(NOW, ()))
    assert sync.fetch("queue").age_s == 1


def test_a_skewed_server_clock_is_corrected_in_records_and_queue() -> None:
    api = FakeApi(server_time=NOW + 600)
    api.streams["calls"] = [call_to_wire(replace_call(a, 600)) for a in (0, 1)]
    sync = StreamSync(api, "kaltim", lambda: NOW)
    result = sync.fetch("calls")
    assert sync.time_correction_s == 600.0
    assert [c.received_at for c in calls_of(result.records)] == [NOW - 3600, NOW - 3599], "onto the board's clock"
    api.documents["/api/v1/queue"] = queue_to_wire(QueueState(NOW + 600, (QueueEntry("c1", "64.71", Tier.POLRES,
                                                                                        NOW + 595),)))  # fmt: skip
    queue = sync.fetch("queue").queue
    assert queue is not None and (queue.as_of, queue.entries[0].received_at) == (NOW, NOW - 5)
    api.server_time = NOW + 20  # within tolerance: no correction
    api.streams["calls"].append(call(2))
    sync.commit(result.cursors)
    assert [c.received_at for c in calls_of(sync.fetch("calls").records)] == [NOW - 3598]
    assert sync.time_correction_s == 0.0


def calls_of(records: list[Any]) -> list[Call]:
    assert all(isinstance(r, Call) for r in records)
    return records


def replace_call(n: int, shift: float) -> Call:
    from wallboard.core.wire import call_from_wire

    c = call_from_wire(call(n))
    return Call(c.id, c.rev, c.polres_id, c.received_at + shift, c.first_tier, (), c.answered_at + shift if
                c.answered_at else None, c.answered_tier, None, c.category)  # fmt: skip


def test_unknown_stream_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown stream"):
        StreamSync(FakeApi(), None).fetch("weather")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=20,
)
# Items that look almost right: a valid call with one field replaced by arbitrary JSON.
near_misses = st.builds(
    lambda n, key, value: {**call(n), key: value},
    st.integers(0, 99),
    st.sampled_from(sorted(call(0))),
    json_values,
)


@settings(max_examples=150, deadline=None)
@given(items=st.lists(json_values | near_misses, max_size=8))
def test_no_item_can_break_a_fetch(items: list[Any]) -> None:
    api = FakeApi()
    api.streams["calls"] = json.loads(json.dumps(items, allow_nan=True))
    try:
        result = StreamSync(api, "kaltim").fetch("calls")
    except FeedError:
        pytest.fail("bad items are skipped, not a reason to fail the page")
    assert len(result.records) + len(result.invalid) == len(items)


def test_more_at_a_cursor_that_does_not_move_is_a_protocol_error_not_a_loop() -> None:
    """A server answering has_more with the cursor it was given would have the board and the recorder ask again at
    once, for ever, storing the same page each time."""
    api = FakeApi()
    stuck = {"items": [call(1)], "next_cursor": "7", "has_more": True, "server_time": format_rfc3339(NOW)}
    api.documents["/api/v1/units"] = stuck
    sync = StreamSync(api, "kaltim", lambda: NOW)
    sync.commit({"units": "7"})
    with pytest.raises(ContractError, match="next_cursor did not move"):
        sync.fetch("units")
    assert len(api.requests) == 1, "one request, then the failure: no spinning"


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_is_flagged_on_the_result_while_that_resource_waits_to_retry(status: int) -> None:
    api = FakeApi()
    api.streams["incidents"] = []

    def refuse_calls(path: str, params: dict[str, str]) -> None:
        if path.endswith("/calls"):
            raise HttpStatusError(status, "calls: tidak diizinkan")  # no "HTTP 401" in the words

    api.fail = refuse_calls
    now = [0.0]
    sync = StreamSync(api, "kaltim", lambda: NOW, monotonic=lambda: now[0])
    first = sync.fetch("calls")
    assert "calls" in first.failures and first.token_rejected
    second = sync.fetch("calls")  # calls wait out their back-off; incidents are polled
    assert second.failures["calls"] == "waiting to retry after failures" and second.token_rejected
    api.fail = None
    now[0] += 3600  # the back-off is over: calls are asked again, and answer
    assert not sync.fetch("calls").token_rejected


def test_a_failure_that_only_mentions_401_is_not_a_refused_token() -> None:
    api = FakeApi()

    def broken(path: str, params: dict[str, str]) -> None:
        if path.endswith("/calls"):
            raise TransportError("calls: proxy said HTTP 401 somewhere in its page")

    api.fail = broken
    assert not StreamSync(api, "kaltim", lambda: NOW).fetch("calls").token_rejected

    def refuse_all(path: str, params: dict[str, str]) -> None:
        raise HttpStatusError(403, "x")

    api.fail = refuse_all
    with pytest.raises(HttpStatusError) as caught:
        StreamSync(api, "kaltim", lambda: NOW).fetch("calls")
    assert caught.value.token_rejected, "the whole stream refused: the error raised carries it"
