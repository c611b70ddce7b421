"""DispatchClient against a tiny local HTTP(S) server whose every answer the test scripts."""

from __future__ import annotations

import datetime
import http.server
import json
import logging
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from wallboard.config import ApiConfig
from wallboard.feed.client import (
    MAX_BODY_BYTES,
    BodyTooLargeError,
    ContractError,
    DispatchClient,
    FeedError,
    FeedTimeoutError,
    HttpStatusError,
    InvalidJsonError,
    ServiceUnavailableError,
    TlsError,
    TransportError,
    parse_age,
)
from wallboard.logsetup import RedactingFormatter, register_secret

FAST = ApiConfig(connect_timeout_s=0.5, read_timeout_s=0.5)
TOKEN = "tok-client-5f2b9c0e71d4"


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


@dataclass
class Scripted:
    """A server whose answer to each path is a function of the request handler."""

    url: str
    routes: dict[str, Handler] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)


def send(h: http.server.BaseHTTPRequestHandler, status: int, body: bytes = b"", **headers: str) -> None:
    h.send_response(status)
    headers.setdefault("Content-Type", "application/json")
    for name, value in headers.items():
        h.send_header(name.replace("_", "-"), value)
    if status != 304:
        h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    if body:
        h.wfile.write(body)


def make_handler(script: Scripted) -> type[http.server.BaseHTTPRequestHandler]:
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            script.seen.append(Seen(self.path, dict(self.headers.items())))
            route = script.routes.get(path)
            if route is None:
                send(self, 404, b'{"title": "not found"}', Content_Type="application/problem+json")
            else:
                route(self)

        def log_message(self, *args: object) -> None:
            pass

        def finish(self) -> None:  # the reset test closes the socket under the handler's feet
            try:
                super().finish()
            except (OSError, ValueError):
                pass

    return H


def serve(script: Scripted, tls: ssl.SSLContext | None = None) -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(script))
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api() -> Iterator[Scripted]:
    script = Scripted("")
    for server in serve(script):
        script.url = f"http://127.0.0.1:{server.server_address[1]}"
        yield script


def ok_json(document: object, **headers: str) -> Handler:
    return lambda h: send(h, 200, json.dumps(document).encode(), **headers)


# --- ETag ---------------------------------------------------------------------------------------------------------


def test_etag_is_sent_back_and_304_means_no_change(api: Scripted) -> None:
    def health(h: http.server.BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == '"v1"':
            send(h, 304, ETag='"v1"')
        else:
            send(h, 200, b'{"status": "ok"}', ETag='"v1"')

    api.routes["/api/v1/health"] = health
    client = DispatchClient(api.url, FAST)
    first = client.fetch("/api/v1/health")
    second = client.fetch("/api/v1/health")
    assert (first.document, first.not_modified, first.etag) == ({"status": "ok"}, False, '"v1"')
    assert (second.document, second.not_modified) == ({"status": "ok"}, True)
    assert "If-None-Match" not in api.seen[0].headers
    assert api.seen[1].headers["If-None-Match"] == '"v1"'


def test_etag_is_kept_per_endpoint_for_the_query_it_answered(api: Scripted) -> None:
    api.routes["/api/v1/calls"] = lambda h: send(h, 200, b'{"items": []}', ETag=f'"{h.path}"')
    client = DispatchClient(api.url, FAST)
    for cursor in range(10):
        client.fetch("/api/v1/calls", {"cursor": str(cursor)})
    assert len(client._etags) == 1, "one cached document per endpoint, however many cursors went by"
    client.fetch("/api/v1/calls", {"cursor": "7"})
    assert api.seen[-1].headers.get("If-None-Match") is None, "an ETag is only valid for its own query"
    client.fetch("/api/v1/calls", {"cursor": "7"})
    assert api.seen[-1].headers.get("If-None-Match") == '"/api/v1/calls?cursor=7"'


def test_304_without_a_cached_copy_is_a_contract_error(api: Scripted) -> None:
    api.routes["/api/v1/queue"] = lambda h: send(h, 304)
    with pytest.raises(ContractError, match="304"):
        DispatchClient(api.url, FAST).fetch("/api/v1/queue")


# --- shared caches ------------------------------------------------------------------------------------------------


def test_age_from_a_shared_cache_is_reported_on_200_and_304(api: Scripted) -> None:
    ages = iter(["3", "17"])

    def queue(h: http.server.BaseHTTPRequestHandler) -> None:
        if h.headers.get("If-None-Match") == '"q1"':
            send(h, 304, ETag='"q1"', Age=next(ages))
        else:
            send(h, 200, b'{"entries": []}', ETag='"q1"', Age=next(ages))

    api.routes["/api/v1/queue"] = queue
    client = DispatchClient(api.url, FAST)
    assert client.fetch("/api/v1/queue").age_s == 3.0
    second = client.fetch("/api/v1/queue")
    assert (second.not_modified, second.age_s) == (True, 17.0), "a cache's 304 says how old its copy is, too"
    api.routes["/api/v1/queue"] = lambda h: send(h, 200, b"{}")
    assert client.fetch("/api/v1/queue", use_etag=False).age_s == 0.0, "straight from the API: no age"


@pytest.mark.parametrize(
    ("header", "age"),
    [(None, 0.0), ("", 0.0), ("0", 0.0), ("12", 12.0), (" 5 ", 5.0), ("-4", 0.0), ("1.5", 0.0), ("abc", 0.0),
     ("\u0661\u0662", 0.0), ("2, 9", 9.0), ("99999999999999999999", 86_400.0), ("3,", 0.0)],
)  # fmt: skip
def test_age_header_is_validated_and_bounded(header: str | None, age: float) -> None:
    assert parse_age(header) == age


# --- HTTP errors --------------------------------------------------------------------------------------------------


def test_503_with_retry_after_seconds(api: Scripted) -> None:
    problem = {"title": "Service Unavailable", "detail": "maintenance\x1b[31m\nwindow"}
    api.routes["/api/v1/calls"] = lambda h: send(
        h, 503, json.dumps(problem).encode(), Content_Type="application/problem+json", Retry_After="12"
    )
    with pytest.raises(ServiceUnavailableError) as caught:
        DispatchClient(api.url, FAST).fetch("/api/v1/calls")
    error = caught.value
    assert (error.status, error.retry_after_s) == (503, 12.0)
    assert "HTTP 503 service unavailable: maintenance" in str(error)
    assert "\x1b" not in str(error) and "\n" not in str(error), "server text reaches the ticker without controls"


def test_503_with_retry_after_as_http_date(api: Scripted) -> None:
    from email.utils import formatdate

    api.routes["/api/v1/calls"] = lambda h: send(h, 503, b"", Retry_After=formatdate(time.time() + 30, usegmt=True))
    with pytest.raises(ServiceUnavailableError) as caught:
        DispatchClient(api.url, FAST).fetch("/api/v1/calls")
    assert caught.value.retry_after_s == pytest.approx(30, abs=2)


@pytest.mark.parametrize(("status", "words"), [(401, "not authorised"), (404, "not found"), (500, "server error")])
def test_error_statuses_have_human_messages(api: Scripted, status: int, words: str) -> None:
    api.routes["/api/v1/units"] = lambda h: send(h, status, b"<html>oops</html>", Content_Type="text/html")
    with pytest.raises(HttpStatusError, match=f"HTTP {status} {words}") as caught:
        DispatchClient(api.url, FAST).fetch("/api/v1/units")
    assert not isinstance(caught.value, ServiceUnavailableError)
    assert "<html>" not in str(caught.value)


def test_unexpected_success_status_is_a_contract_error(api: Scripted) -> None:
    api.routes["/api/v1/units"] = lambda h: send(h, 204)
    with pytest.raises(ContractError, match="HTTP 204"):
        DispatchClient(api.url, FAST).fetch("/api/v1/units")


# --- timeouts and broken connections ------------------------------------------------------------------------------


def test_read_timeout(api: Scripted) -> None:
    api.routes["/api/v1/queue"] = lambda h: time.sleep(1.5)
    started = time.monotonic()
    with pytest.raises(FeedTimeoutError, match=r"no answer within 0\.5 s"):
        DispatchClient(api.url, FAST).fetch("/api/v1/queue")
    assert time.monotonic() - started < 1.4


def test_trickling_body_hits_the_overall_deadline(api: Scripted) -> None:
    def trickle(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "100000")
        h.end_headers()
        try:
            for _ in range(100):
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(0.1)  # each read is quick, the whole body is not
        except OSError:
            pass

    api.routes["/api/v1/calls"] = trickle
    started = time.monotonic()
    with pytest.raises(FeedTimeoutError, match="too slow"):
        DispatchClient(api.url, FAST).fetch("/api/v1/calls")
    assert time.monotonic() - started < 3.0


def test_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransportError, match="cannot connect"):
        DispatchClient(f"http://127.0.0.1:{port}", FAST).fetch("/api/v1/health")


def test_connection_reset(api: Scripted) -> None:
    def reset(h: http.server.BaseHTTPRequestHandler) -> None:
        # SO_LINGER 0 turns close() into a TCP RST; every file object on the socket must go for close() to act.
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.close_connection = True
        h.rfile.close()
        h.wfile.close()
        h.connection.close()

    api.routes["/api/v1/health"] = reset
    with pytest.raises(TransportError) as caught:
        DispatchClient(api.url, FAST).fetch("/api/v1/health")
    assert not isinstance(caught.value, FeedTimeoutError)


# --- bodies -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe\x00", b"", b"[" * 100_000])
def test_invalid_json(api: Scripted, body: bytes) -> None:
    api.routes["/api/v1/calls"] = lambda h: send(h, 200, body)
    with pytest.raises(InvalidJsonError, match="not valid JSON"):
        DispatchClient(api.url, FAST).fetch("/api/v1/calls")


def test_oversize_body_is_refused_by_its_declared_length(api: Scripted) -> None:
    def declared(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(50 * 2**20))
        h.end_headers()

    api.routes["/api/v1/calls"] = declared
    with pytest.raises(BodyTooLargeError, match="50 MB refused"):
        DispatchClient(api.url, FAST).fetch("/api/v1/calls")


def test_oversize_body_without_a_length_is_refused_while_streaming(api: Scripted) -> None:
    sent = [0]

    def chunked(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        block = b"[" + b" " * (2**20 - 1)
        try:
            for _ in range(60):
                h.wfile.write(f"{len(block):x}\r\n".encode() + block + b"\r\n")
                sent[0] += len(block)
            h.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass

    api.routes["/api/v1/calls"] = chunked
    with pytest.raises(BodyTooLargeError, match="larger than 20 MB"):
        DispatchClient(api.url, FAST).fetch("/api/v1/calls")
    assert MAX_BODY_BYTES == 20 * 2**20


# --- the token ----------------------------------------------------------------------------------------------------


def test_token_is_sent_and_never_logged_or_shown(api: Scripted, caplog: pytest.LogCaptureFixture) -> None:
    api.routes["/api/v1/health"] = ok_json({"status": "ok"})
    api.routes["/api/v1/calls"] = lambda h: send(h, 401, json.dumps({"detail": f"bad {TOKEN}"}).encode(),
                                                 Content_Type="application/problem+json")  # fmt: skip
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    http.client.HTTPConnection.debuglevel = 0  # prints to stdout, not logging: never on in the app
    client = DispatchClient(api.url, FAST, TOKEN)
    assert client.fetch("/api/v1/health").document == {"status": "ok"}
    assert api.seen[-1].headers["Authorization"] == f"Bearer {TOKEN}"
    with pytest.raises(HttpStatusError) as caught:
        client.fetch("/api/v1/calls")
    logging.getLogger("test").info("client %r auth %r session %r", client, client._session.auth, client._session)
    logging.getLogger("test").info("error %s / %r", caught.value, caught.value)
    rendered = "\n".join(RedactingFormatter("%(message)s").format(r) for r in caplog.records)
    assert TOKEN not in rendered
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value), "the server echoed it; we did not"
    assert TOKEN not in repr(client)
    assert "[REDACTED]" in rendered, "the echo from the server was redacted, not dropped by luck"


def test_unsendable_token_is_refused_without_showing_it() -> None:
    for token in ("tok en-1234", "tøken-1234", "tok\nen-1234"):
        with pytest.raises(FeedError, match="cannot be sent") as caught:
            DispatchClient("http://127.0.0.1:9", FAST, token)
        assert token not in str(caught.value)


def test_plain_http_to_a_remote_host_warns(caplog: pytest.LogCaptureFixture) -> None:
    register_secret(TOKEN)
    DispatchClient("http://dispatch.polri.example", FAST, TOKEN).close()
    assert any("without TLS" in r.getMessage() for r in caplog.records)
    caplog.clear()
    DispatchClient("http://127.0.0.1:8080", FAST, TOKEN).close()
    assert not any("without TLS" in r.getMessage() for r in caplog.records)


def test_bad_urls_are_refused() -> None:
    for url in ("ftp://x", "127.0.0.1:8080", "http://"):
        with pytest.raises(FeedError, match="not an http"):
            DispatchClient(url, FAST)


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


def test_unknown_certificate_is_refused_unless_its_ca_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    script = Scripted("", {"/api/v1/health": ok_json({"status": "ok"})})
    # Whatever the environment says, the default is the system store, and it does not know this certificate.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    for server in serve(script, context):
        url = f"https://localhost:{server.server_address[1]}"
        with pytest.raises(TlsError, match=r"not trusted .*set api\.ca_bundle"):
            DispatchClient(url, FAST).fetch("/api/v1/health")
        trusting = DispatchClient(url, replace(FAST, ca_bundle=str(cert)))
        assert trusting.fetch("/api/v1/health").document == {"status": "ok"}
        (tmp_path / "other").mkdir()
        other_cert, _ = _self_signed(tmp_path / "other")  # a CA bundle, but not the one that signed this server
        with pytest.raises(TlsError):
            DispatchClient(url, replace(FAST, ca_bundle=str(other_cert))).fetch("/api/v1/health")


def test_a_missing_ca_bundle_is_an_error_not_a_silent_fallback(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="not a readable file"):
        DispatchClient("https://localhost", replace(FAST, ca_bundle=str(tmp_path / "missing.pem")))


def test_there_is_no_switch_to_turn_verification_off() -> None:
    assert not any("verify" in name or "insecure" in name for name in ApiConfig.__dataclass_fields__)
