"""A configuration that rejects what is not a number or a URL, and whose every error is a message with exit
status 2, never a traceback, whatever the file is: NaN and infinities, URLs that are not one absolute http(s)
URL, absurd PIN hash iteration counts, directories, devices, huge or non-UTF-8 files, a bad token or CA bundle."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wallboard.cli import main
from wallboard.config import MAX_CONFIG_BYTES, ConfigError, load_config, url_problem
from wallboard.pin import hash_pin


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err


@pytest.mark.parametrize(
    "setting",
    ["api.poll_queue_s=nan", "api.poll_queue_s=NaN", "board.target_s=nan", "board.target_s=inf",
     "api.backoff_max_s=-inf", "alerts.longest_wait_s=infinity", "demo.speed=+nan"],
)  # fmt: skip
def test_nan_and_infinities_are_refused_on_the_command_line(capsys: pytest.CaptureFixture[str], setting: str) -> None:
    code, err = run(capsys, "--set", setting, "config", "--check")
    assert code == 2 and "not a finite number" in err and setting.split("=")[0] in err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+inf"])
def test_nan_and_infinities_are_refused_in_the_file_with_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    path = tmp_path / "w.toml"
    path.write_text(f"[board]\nlang = 'id'\ntarget_s = {value}\n")
    code, err = run(capsys, "--config", str(path), "config", "--check")
    assert code == 2 and f"{path}:3:" in err and "board.target_s" in err and "not a finite number" in err


def test_nan_from_the_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="not a finite number"):
        load_config(None, environ={"WALLBOARD__API__POLL_CALLS_S": "nan"})


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://ok evil", "spaces"),
        ("http://ok\tevil", "spaces"),
        ("https://cad.example/api\n", "spaces"),
        ("http://", "no host"),
        ("http:///path", "no host"),
        ("https://:8443/", "no host"),
        ("ftp://cad.example", "http:// or https://"),
        ("cad.example", "http:// or https://"),
        ("http://cad.example:99999/", "not a valid URL"),
        ("http://cad.example:port/", "not a valid URL"),
        ("http://user:secret@cad.example/", "user name or password"),
        ("http://cad.example/#x", "fragment"),
    ],
)
def test_urls_must_be_one_absolute_http_url(capsys: pytest.CaptureFixture[str], url: str, problem: str) -> None:
    assert problem in (url_problem(url) or "")
    code, err = run(capsys, "--set", f"api.url={url}", "config", "--check")
    assert code == 2 and "api.url" in err and problem in err


@pytest.mark.parametrize("url", ["http://127.0.0.1:8110", "https://cad.polri.example/api/v1/", "https://[::1]:8443"])
def test_good_urls_pass(url: str) -> None:
    assert url_problem(url) is None
    assert load_config(None, overrides={"api.url": url}, environ={}).api.url == url


def test_tile_url_templates_are_checked_too() -> None:
    assert load_config(None, overrides={"map.tiles_url": "https://tiles.example/{z}/{x}/{y}.png"}, environ={})
    with pytest.raises(ConfigError, match=r"map\.tiles_url"):
        load_config(None, overrides={"map.tiles_url": "tiles.example/{z}/{x}/{y}.png"}, environ={})


def test_a_pin_hash_with_absurd_iterations_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, _, salt, digest = hash_pin("2468", iterations=10_000).split("$")
    path = tmp_path / "w.toml"
    path.write_text(f"[kiosk]\npin_hash = 'pbkdf2_sha256${10**12}${salt}${digest}'\n")
    code, err = run(capsys, "--config", str(path), "config", "--check")
    assert code == 2 and "kiosk.pin_hash" in err and "5,000,000" in err and digest not in err


def test_a_directory_as_the_configuration_is_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "--config", "/etc", "config", "--check")
    assert code == 2 and "/etc: is a directory" in err


def test_a_device_as_the_configuration_is_a_message_not_a_memory_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "--config", "/dev/zero", "config", "--check")
    assert code == 2 and "/dev/zero: is not a regular file" in err


def test_a_huge_file_is_refused_without_reading_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "huge.toml"
    with open(path, "wb") as f:
        f.truncate(8 * 1024**3)  # 8 GiB, sparse
    code, err = run(capsys, "--config", str(path), "config", "--check")
    assert code == 2 and "larger than 1024 KiB" in err
    path.write_bytes(b"#" * (MAX_CONFIG_BYTES + 1))  # and one that only grows while being read is capped too
    code, err = run(capsys, "--config", str(path), "config", "--check")
    assert code == 2 and "larger than" in err


def test_a_file_not_in_utf8_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes("[board]\n# Kota Balikpapan\npolda_id = 'kaltim'\n# caf\xe9\n".encode("latin-1"))
    code, err = run(capsys, "--config", str(path), "config", "--check")
    assert code == 2 and f"{path}:4: not UTF-8 text (byte 0xe9" in err


def test_a_binary_file_is_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "binary.toml"
    path.write_bytes(bytes(range(256)) * 4)
    code, err = run(capsys, "--config", str(path), "config", "--check")
    assert code == 2 and str(path) in err


def test_absurdly_nested_toml_is_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "deep.toml"
    path.write_text("[board]\npolda_id = " + "[" * 50_000)
    code, err = run(capsys, "--config", str(path), "config", "--check")
    assert code == 2 and "nested too deeply" in err


def test_a_ca_bundle_that_is_a_directory_is_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "--set", "api.ca_bundle=/etc", "config", "--check")
    assert code == 2 and "api.ca_bundle" in err and "is a directory" in err
    code, err = run(capsys, "--set", "api.ca_bundle=/nonexistent/ca.pem", "config", "--check")
    assert code == 2 and "cannot be read" in err


def test_a_token_with_a_space_is_a_message_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WALLBOARD_API_TOKEN", "secret token")
    out = tmp_path / "rec.ndjson"
    code, err = run(capsys, "record", "--api-url", "http://127.0.0.1:9", "--out", str(out), "--minutes", "0.01")
    assert code == 2 and "token contains spaces" in err and "secret token" not in err
    assert os.environ["WALLBOARD_API_TOKEN"] == "secret token"
