"""Where the API token comes from: the environment, else the OS keyring; always registered for redaction."""

from __future__ import annotations

import logging

import keyring
import pytest
from keyring.errors import NoKeyringError

from wallboard.config import ApiConfig
from wallboard.feed.auth import KEYRING_USERNAME, resolve_token
from wallboard.logsetup import redact

API = ApiConfig(token_env="WB_TEST_TOKEN", keyring_service="wallboard-test")


def test_token_from_the_environment_wins_and_is_redacted(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(keyring, "get_password", lambda *a: pytest.fail("keyring asked despite the env var"))
    caplog.set_level(logging.DEBUG)
    token = resolve_token(API, {"WB_TEST_TOKEN": "  env-token-93be1\n"})
    assert token == "env-token-93be1"
    assert redact(f"Bearer {token}") == "Bearer [REDACTED]"
    assert "$WB_TEST_TOKEN" in caplog.text and token not in caplog.text


def test_token_from_the_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, str]] = []

    def get_password(service: str, username: str) -> str:
        asked.append((service, username))
        return "keyring-token-77aa0"

    monkeypatch.setattr(keyring, "get_password", get_password)
    assert resolve_token(API, {}) == "keyring-token-77aa0"
    assert asked == [("wallboard-test", KEYRING_USERNAME)]
    assert "keyring-token-77aa0" not in redact("x keyring-token-77aa0 y")


@pytest.mark.parametrize("failure", [NoKeyringError("no backend"), RuntimeError("D-Bus went away")])
def test_a_missing_or_broken_keyring_means_no_token_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    def get_password(service: str, username: str) -> str:
        raise failure

    monkeypatch.setattr(keyring, "get_password", get_password)
    assert resolve_token(API, {}) is None


def test_no_token_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyring, "get_password", lambda *a: None)
    assert resolve_token(API, {"WB_TEST_TOKEN": "   "}) is None


def test_the_token_is_never_read_from_a_file() -> None:
    import inspect

    import wallboard.feed.auth as auth

    source = inspect.getsource(auth)
    assert "open(" not in source and "read_text" not in source and "Path" not in source
