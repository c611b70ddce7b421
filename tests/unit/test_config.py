"""One typed configuration: defaults, TOML, environment and command line; bad files are refused with the file,
the line, the option and the problem named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from wallboard.config import Config, ConfigError, defaults_toml, load_config, option_table


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "wallboard.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_round_trip_through_the_printed_file(tmp_path: Path) -> None:
    path = write(tmp_path, defaults_toml())
    assert load_config(path, environ={}) == Config()
    assert all(description for _, _, description in option_table())


def test_file_env_and_command_line_layer_in_that_order(tmp_path: Path) -> None:
    path = write(tmp_path, "[board]\nlang = 'en'\n[api]\npoll_units_s = 5\n")
    config = load_config(
        path,
        environ={"WALLBOARD__API__POLL_UNITS_S": "3", "WALLBOARD__BOARD__UNMASK_CALLER_NUMBERS": "yes"},
        overrides={"api.poll_units_s": "1.5"},
    )
    assert config.board.lang == "en"
    assert config.board.unmask_caller_numbers is True
    assert config.api.poll_units_s == 1.5
    assert config.api.poll_calls_s == 2.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[board]\nlang = 'fr'\n", r"wallboard.toml:2: board.lang: 'fr' is not one of id, en"),
        ("[board]\n\ntarget_s = 'ten'\n", r"wallboard.toml:3: board.target_s: expected float, got str 'ten'"),
        ("[api]\npoll_units_s = 0\n", r"wallboard.toml:2: api.poll_units_s: 0.0 is below the minimum 0.2"),
        ("[api]\nurl = 'ftp://cad'\n", r"api.url: must be an http:// or https:// URL"),
        ("[board]\ntz = 'Mars/Olympus'\n", r"board.tz: unknown time zone 'Mars/Olympus'"),
        ("[board]\ncolour = 'red'\n", r"wallboard.toml:2: unknown option board.colour \(known: polda_id, "),
        ("# mine\n[boards]\nlang = 'en'\n", r"wallboard.toml:2: unknown section \[boards\]"),
        ("[kiosk]\nexit_chord = 'Q'\n", r"wallboard.toml:2: kiosk.exit_chord: must be a key chord"),
        ("[kiosk]\ndwell_s = 1\n", r"wallboard.toml:2: kiosk.dwell_s: 1.0 is below the minimum 3"),
        ("[kiosk]\nburn_in_px = 400\n", r"wallboard.toml:2: kiosk.burn_in_px: 400 is above the maximum 40"),
        ("[kiosk]\nscreens = '0:overview'\n", r"kiosk.screens: expected a list of strings, got '0:overview'"),
        ("[kiosk]\nscreens = ['overview']\n", r"kiosk.screens: 'overview' must be SCREEN:VIEW"),
        ("[kiosk]\nscreens = ['1:map,clock']\n", r"kiosk.screens: '1:map,clock': unknown view 'clock'"),
        ("[board]\nunmask_caller_numbers = 'yes'\n", r"board.unmask_caller_numbers: expected bool, got str"),
        ("[board\nlang = 'en'\n", r"wallboard.toml:1:7: not valid TOML: "),
        ("[board]\nlang = 'en'\n\ntarget_s = 600 600\n", r"wallboard.toml:4:16: not valid TOML: "),
        ("[board]\nlang = 'en\n", r"wallboard.toml:2(:\d+)?: not valid TOML: "),
    ],
)
def test_bad_files_name_file_line_field_and_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text), environ={})


def test_bad_environment_and_command_line_values_are_named() -> None:
    with pytest.raises(ConfigError, match=r"environment: demo.seed: expected int, got 'seven'"):
        load_config(None, environ={"WALLBOARD__DEMO__SEED": "seven"})
    with pytest.raises(ConfigError, match=r"command line: board.lang: 'xx' is not one of"):
        load_config(None, overrides={"board.lang": "xx"}, environ={})


def run_cli(*args: str, env_file: Path | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "wallboard", *(["--config", str(env_file)] if env_file else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_the_board_does_not_start_half_configured(tmp_path: Path) -> None:
    bad = write(tmp_path, "[map]\nstale_fix_s = 1\n")
    result = run_cli("demo", env_file=bad)
    assert result.returncode == 2
    assert f"{bad}:2: map.stale_fix_s: 1.0 is below the minimum 10" in result.stderr
    missing = run_cli("demo", env_file=tmp_path / "nope.toml")
    assert missing.returncode == 2 and "configuration file not found" in missing.stderr


def test_print_defaults_and_show_keep_secrets(tmp_path: Path) -> None:
    printed = run_cli("config", "--print-defaults")
    assert printed.returncode == 0 and "[kiosk]" in printed.stdout and "# Seconds each playlist view" in printed.stdout
    from wallboard.pin import hash_pin

    path = write(tmp_path, f"[kiosk]\npin_hash = '{hash_pin('2468', iterations=10_000)}'\n")
    shown = run_cli("config", "--show", env_file=path)
    assert 'pin_hash = "<set>"' in shown.stdout and "pbkdf2" not in shown.stdout
    hashed = subprocess.run([sys.executable, "-m", "wallboard", "config", "--hash-pin"], input="2468\n",
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert hashed.stdout.startswith("pbkdf2_sha256$") and "2468" not in hashed.stdout


def test_cli_lists_every_subcommand() -> None:
    result = run_cli("--help")
    for command in ("run", "demo", "kiosk", "simulate", "record", "replay", "metrics", "snapshot", "config"):
        assert command in result.stdout


def test_configuration_doc_is_generated_from_the_declarations() -> None:
    from wallboard.config import options_markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
    assert doc.read_text(encoding="utf-8") == options_markdown()


def test_a_pin_in_place_of_its_hash_is_refused_without_being_echoed(tmp_path: Path) -> None:
    for text in ("[kiosk]\npin_hash = '246813'\n", "[kiosk]\npin_hash = 246813\n"):
        with pytest.raises(ConfigError, match=r"wallboard.toml:2: kiosk.pin_hash: ") as caught:
            load_config(write(tmp_path, text), environ={})
        assert "246813" not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load_config(None, environ={"WALLBOARD__KIOSK__PIN_HASH": "9999"})
    assert "9999" not in str(caught.value)


def test_screens_from_the_command_line_are_separated_by_semicolons() -> None:
    config = load_config(None, overrides={"kiosk.screens": "0:overview; 1:map,polres:64.71"}, environ={})
    assert config.kiosk.screens == ["0:overview", "1:map,polres:64.71"]


def test_config_path_comes_from_flag_then_environment_then_platform_dir(tmp_path: Path) -> None:
    from wallboard.config import default_config_path, resolve_config_path

    assert resolve_config_path("a.toml", {"WALLBOARD_CONFIG": "b.toml"}) == Path("a.toml")
    assert resolve_config_path(None, {"WALLBOARD_CONFIG": "b.toml"}) == Path("b.toml")
    assert resolve_config_path(None, {}) == default_config_path()
    assert default_config_path().name == "wallboard.toml"


def test_every_default_passes_its_own_validation() -> None:
    from dataclasses import fields

    from wallboard.config import _validate

    config = Config()
    for section_field in fields(config):
        section = getattr(config, section_field.name)
        for f in fields(section):
            _validate("defaults", f"{section_field.name}.{f.name}", f.metadata, getattr(section, f.name))
