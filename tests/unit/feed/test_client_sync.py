"""The client and the sync against the real simulator over HTTP, including every fault mode it has."""

from __future__ import annotations

import datetime
import http.server
import logging
import ssl
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from wallboard.config import ApiConfig
from wallboard.core.metrics import MetricsEngine, MetricsSettings
from wallboard.core.model import Call, Incident, Unit
from wallboard.feed.client import (
    BodyTooLargeError,
    DispatchClient,
    FeedError,
    HttpStatusError,
    InvalidDocumentError,
    TlsError,
    TransportError,
)
from wallboard.feed.sync import StreamSync, SyncResult
from wallboard.logsetup import RedactingFormatter
from wallboard.resources import all_poldas
from wallboard.sim.server import SimServer

START = 1_795_300_000.0
TOKEN = "tok-0123456789abcdef"
FAST = ApiConfig(connect_timeout_s=1.0, read_timeout_s=1.0)


@pytest.fixture
def sim() -> Iterator[SimServer]:
    server = SimServer(seed=5, speed=0, history_hours=1, start_time=START, token=TOKEN)
    server.start()
    yield server
    server.stop()


def engine() -> MetricsEngine:
    return MetricsEngine(all_poldas(), "kaltim", MetricsSettings())


def apply(e: MetricsEngine, result: SyncResult) -> None:
    for r in result.records:
        if isinstance(r, Call):
            e.ingest_call(r)
        elif isinstance(r, Incident):
            e.ingest_incident(r)
        elif isinstance(r, Unit):
            e.ingest_unit(r)


def pull(sync: StreamSync, e: MetricsEngine) -> None:
    for stream in ("calls", "units"):
        result = sync.fetch(stream)
        apply(e, result)
        sync.commit(result.cursors)


def world_state(sim: SimServer) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    return (
        {c.call.id: c.call.rev for c in sim.world.calls.values()},
        {i.id: i.rev for i in sim.world.incidents.values()},
        {u.unit.id: u.unit.rev for u in sim.world.units.values()},
    )


def engine_state(e: MetricsEngine) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    return (
        {k: v.rev for k, v in e.calls.items()},
        {k: v.rev for k, v in e.incidents.items()},
        {k: v.rev for k, v in e.units.items()},
    )


def test_sync_mirrors_the_world_and_resumes_without_gaps(sim: SimServer) -> None:
    e = engine()
    sync = StreamSync(DispatchClient(sim.url, FAST, TOKEN), "kaltim", sim.clock.now)
    pull(sync, e)
    assert engine_state(e) == world_state(sim)
    sim.advance(600)
    pull(sync, e)
    assert engine_state(e) == world_state(sim)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("error500", HttpStatusError),
        ("error503", HttpStatusError),
        ("hang", TransportError),
        ("slow", TransportError),
        ("malformed", InvalidDocumentError),
        ("reset", TransportError),
        ("huge", BodyTooLargeError),
    ],
)
def test_each_fault_fails_cleanly_and_recovery_loses_nothing(
    sim: SimServer, fault: str, error: type[FeedError]
) -> None:
    e = engine()
    sync = StreamSync(DispatchClient(sim.url, FAST, TOKEN), "kaltim", sim.clock.now)
    pull(sync, e)
    sim.advance(300)
    sim.set_faults([fault])
    with pytest.raises(error) as caught:
        sync.fetch("calls")
    assert TOKEN not in str(caught.value)
    if fault == "error503":
        assert caught.value.retry_after_s == 2.0
    sim.advance(300)  # the world goes on while the feed is broken
    sim.set_faults([])
    pull(sync, e)
    assert engine_state(e) == world_state(sim), "after recovery the board holds exactly what a fault-free run holds"


@pytest.mark.parametrize("fault", ["missing_fields", "wrong_types"])
def test_invalid_items_are_skipped_counted_and_the_rest_applied(sim: SimServer, fault: str) -> None:
    sync = StreamSync(DispatchClient(sim.url, FAST, TOKEN), "kaltim")
    sim.set_faults([fault])
    result = sync.fetch("calls")
    sim.set_faults([])
    assert result.invalid, "every third item was broken"
    assert result.records, "the valid items were applied"
    assert any("rev" in reason or "polres_id" in reason for reason in result.invalid)


def test_clock_offset_is_measured(sim: SimServer) -> None:
    sync = StreamSync(DispatchClient(sim.url, FAST, TOKEN), "kaltim", sim.clock.now)
    sim.set_faults(["clock_offset=600"])
    result = sync.fetch("calls")
    sim.set_faults([])
    assert result.clock_skew_s == pytest.approx(600, abs=5)


def test_etag_makes_repeat_polls_cheap(sim: SimServer) -> None:
    client = DispatchClient(sim.url, FAST, TOKEN)
    first = client.get_json("/api/v1/reference")
    second = client.get_json("/api/v1/reference")
    assert first == second and len(first["polres"]) == 10


def test_wrong_token_is_reported_and_never_logged(sim: SimServer, caplog: pytest.LogCaptureFixture) -> None:
    from wallboard.logsetup import register_secret

    register_secret(TOKEN)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    good = DispatchClient(sim.url, FAST, TOKEN)
    good.get_json("/api/v1/health")
    logging.getLogger("test").info("client %r, headers %s", good, dict(good._session.headers))
    bad = DispatchClient(sim.url, FAST, "not-the-token")
    with pytest.raises(HttpStatusError, match="HTTP 401 not authorised") as caught:
        bad.get_json("/api/v1/calls")
    assert caught.value.status == 401
    formatter = RedactingFormatter("%(message)s")
    rendered = "\n".join(formatter.format(r) for r in caplog.records)
    assert TOKEN not in rendered
    assert "[REDACTED]" in rendered
    assert TOKEN not in repr(good)


def test_api_down_at_start_is_a_transport_error() -> None:
    client = DispatchClient("http://127.0.0.1:9", FAST)
    with pytest.raises(TransportError, match="cannot connect"):
        client.get_json("/api/v1/health")


# --- TLS ----------------------------------------------------------------------------------------------------------


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_unknown_certificate_is_refused_unless_its_ca_is_configured(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://localhost:{server.server_address[1]}"
    try:
        with pytest.raises(TlsError, match=r"api\.ca_bundle"):
            DispatchClient(url, FAST).get_json("/api/v1/health")
        trusting = DispatchClient(url, replace(FAST, ca_bundle=str(cert)))
        assert trusting.get_json("/api/v1/health") == {"status": "ok"}
    finally:
        server.shutdown()


def test_a_missing_ca_bundle_is_an_error_not_a_silent_fallback(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="not a readable file"):
        DispatchClient("https://localhost", replace(FAST, ca_bundle=str(tmp_path / "missing.pem")))
