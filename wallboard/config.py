"""The one typed configuration: every option declared once, with default, description and validation.

Sources, later wins: defaults → TOML file → environment (``WALLBOARD__SECTION__KEY``) → command line
(``--set section.key=value`` and the dedicated flags). The file lives in the platformdirs config dir unless
``--config`` or ``WALLBOARD_CONFIG`` names another. A bad value stops the program with a message naming the file,
the field and what was wrong: the board never starts half-configured.

To add an option: add a field to the right section with ``opt(default, "description", ...)``; the loader, the
``--set`` flag, ``wallboard config --print-defaults`` and the docs table all read the declaration.
"""

from __future__ import annotations

import math
import os
import re
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar, get_type_hints
from urllib.parse import urlsplit

import platformdirs

from wallboard.core.reference import ReferenceData

APP_NAME = "wallboard"
ENV_CONFIG_PATH = "WALLBOARD_CONFIG"
ENV_PREFIX = "WALLBOARD__"
#: A configuration file is a few kilobytes; anything past this is not one (and /dev/zero would never end).
MAX_CONFIG_BYTES = 1 << 20


class ConfigError(Exception):
    """A configuration value is missing, mistyped or out of range. The message names where.

    ``section`` and ``key`` say which option (when one is to blame), so the loader can add the file's line.
    """

    def __init__(self, message: str, *, section: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.section = section
        self.key = key


def opt(
    default: Any,
    description: str,
    *,
    min: float | None = None,  # noqa: A002 - reads naturally at the declaration site
    max: float | None = None,  # noqa: A002
    choices: tuple[str, ...] | None = None,
    check: Callable[[Any], str | None] | None = None,
    secret: bool = False,
) -> Any:
    """Declare an option. ``check`` returns an error text or None."""
    meta = {"description": description, "min": min, "max": max, "choices": choices, "check": check, "secret": secret}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


def url_problem(value: str) -> str | None:
    """Why ``value`` is not one absolute http(s) URL with a host (None if it is one)."""
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return "contains spaces or control characters (one URL only, e.g. https://cad.example/api)"
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for a port that is not a number or out of range
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "must be an http:// or https:// URL"
    if not parts.hostname:
        return "has no host name"
    try:
        parts.hostname.encode("idna")  # what the HTTP library does with it: an empty or over-long label fails there
    except UnicodeError:
        return f"has a host name that is not valid ({parts.hostname[:80]!r}: a label is empty or over 63 characters)"
    if parts.username is not None or parts.password is not None:
        return "must not contain a user name or password (the token comes from the environment or the keyring)"
    if port == 0:
        return "has port 0"
    if parts.fragment or value.endswith("#"):
        return "must not contain a #fragment"
    return None


def _check_url(value: str) -> str | None:
    if not value:
        return None
    problem = url_problem(value)
    return (
        f"{problem}; give one http:// or https:// URL (or leave it empty: no dispatch API; `wallboard demo` is "
        "the simulator)"
        if problem
        else None
    )


def _check_tiles_url(value: str) -> str | None:
    return url_problem(value) if value else None


def _regular_file(give: str) -> Callable[[str], str | None]:
    """A check that a path option names a readable regular file (empty: unset); ``give`` says what to give instead.
    A FIFO or a device would block or never end when read, and a directory is a typo."""

    def check(value: str) -> str | None:
        if not value:
            return None
        try:
            info = Path(value).stat()
        except OSError as exc:
            return f"{value!r} cannot be read: {exc.strerror}"
        if stat.S_ISDIR(info.st_mode):
            return f"{value!r} is a directory; give {give}"
        if not stat.S_ISREG(info.st_mode):
            return f"{value!r} is not a regular file; give {give}"
        if not os.access(value, os.R_OK):
            return f"{value!r} is not readable"
        return None

    return check


_check_ca_bundle = _regular_file("the PEM file with the CA certificate(s)")
_check_mbtiles = _regular_file("the MBTiles file of the basemap")


def _check_log_file(value: str) -> str | None:
    from wallboard.files import log_file_problem

    return log_file_problem(Path(value)) if value else None


def _check_tz(value: str) -> str | None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if value == "":
        return None  # the board's Polda's zone, from the reference data
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {value!r} (use an IANA name such as Asia/Makassar)"
    return None


KIOSK_VIEWS = ("overview", "map", "gauges", "units", "risk", "dispatch")


def _check_screens(value: list[str]) -> str | None:
    if not value:
        return 'needs at least one screen, e.g. ["0:overview"]'
    for entry in value:
        screen, colon, views = entry.partition(":")
        if not colon or not screen.strip().isdigit():
            return f"{entry!r} must be SCREEN:VIEW[,VIEW...] with a screen number, e.g. 1:map,gauges"
        for view in (v.strip() for v in views.split(",")):
            if view not in KIOSK_VIEWS and not (view.startswith("polres:") and view.removeprefix("polres:")):
                return f"{entry!r}: unknown view {view!r} (views: {', '.join(KIOSK_VIEWS)}, polres:<id>)"
    return None


ALERT_KINDS = ("waiting", "longest_wait", "mabes", "p90", "overdue", "stream", "status")


def _check_alert_kinds(value: list[str]) -> str | None:
    unknown = [v for v in value if v not in ALERT_KINDS]
    return f"unknown alert kind(s) {unknown} (kinds: {', '.join(ALERT_KINDS)})" if unknown else None


def parse_hours(value: str) -> tuple[int, int] | None:
    """``"22:00-06:00"`` -> (1320, 360) minutes after local midnight; empty -> None. Raises ValueError."""
    if not value.strip():
        return None
    start, dash, end = value.partition("-")
    if not dash:
        raise ValueError(value)
    out = []
    for part in (start, end):
        h, colon, m = part.strip().partition(":")
        if not colon or not (h.isdigit() and m.isdigit()) or int(h) > 23 or int(m) > 59:
            raise ValueError(value)
        out.append(int(h) * 60 + int(m))
    return out[0], out[1]


def _check_hours(value: str) -> str | None:
    try:
        parse_hours(value)
    except ValueError:
        return "must be HH:MM-HH:MM in the board's time zone, e.g. 22:00-06:00, or empty"
    return None


def _check_pin_hash(value: str) -> str | None:
    from wallboard.pin import MAX_ITERATIONS, MIN_ITERATIONS, is_pin_hash

    if value and not is_pin_hash(value):
        return (
            "is not a PIN hash (or its iteration count is outside "
            f"{MIN_ITERATIONS:,}-{MAX_ITERATIONS:,}); make one with 'wallboard config --hash-pin' (never store the "
            "PIN itself)"
        )
    return None


def _check_chord(value: str) -> str | None:
    parts = value.split("+")
    if len(parts) < 2 or not all(parts):
        return "must be a key chord with at least one modifier, e.g. Ctrl+Shift+Q"
    return None


@dataclass(frozen=True)
class BoardConfig:
    polda_id: str = opt("kaltim", "Polda whose board this is (id from the reference data, e.g. kaltim)")
    tz: str = opt(
        "",
        "Board time zone (IANA); 'today' is this zone's calendar day; empty: the Polda's zone (WIB/WITA/WIT)",
        check=_check_tz,
    )
    lang: str = opt("id", "UI language: id (Bahasa Indonesia) or en (English)", choices=("id", "en"))
    answer_threshold_s: float = opt(10.0, "Answer within this many seconds or the call escalates", min=1, max=120)
    target_s: float = opt(600.0, "Response-time promise: officers on scene within this (seconds)", min=60, max=7200)
    aspiration_s: float = opt(300.0, "Aspiration shown beside the promise (Balikpapan: 5 min)", min=60, max=7200)
    response_window: str = opt(
        "today", "Window of the response gauges", choices=("last_60_min", "today", "last_7_days")
    )
    unmask_caller_numbers: bool = opt(False, "Show caller numbers in full (authorised desks only)")
    gauges_per_page: int = opt(40, "Gauges on one page before the gauge view pages/rotates", min=4, max=80)
    unit_forget_s: float = opt(
        86400.0, "A unit the API has not sent for this long is forgotten (keeps memory bounded)", min=600
    )
    min_sample: int = opt(
        5, "Fewer response times than this: a gauge shows the count and 'small sample', no p90, no p90 alert", min=1,
        max=1000,
    )  # fmt: skip
    prank_flag_at: int = opt(3, "Prank watch: flag a number at this many prank/silent calls in 7 days", min=1, max=100)


@dataclass(frozen=True)
class ApiConfig:
    url: str = opt(
        "", "Dispatch API base URL; required by run and kiosk (the simulator is `wallboard demo`)", check=_check_url
    )
    token_env: str = opt("WALLBOARD_API_TOKEN", "Environment variable that holds the bearer token")
    keyring_service: str = opt("wallboard", "OS keyring service name to look the token up in")
    ca_bundle: str = opt(
        "", "PEM file with the CA(s) to trust for the API (internal CA); empty: system store", check=_check_ca_bundle
    )
    connect_timeout_s: float = opt(3.05, "TCP connect timeout", min=0.1, max=60)
    read_timeout_s: float = opt(10.0, "Read timeout per request", min=0.5, max=300)
    poll_calls_s: float = opt(2.0, "Poll interval, calls and incidents stream", min=0.2, max=600)
    poll_units_s: float = opt(2.0, "Poll interval, unit positions stream", min=0.2, max=600)
    poll_queue_s: float = opt(1.0, "Poll interval, live queue", min=0.2, max=600)
    poll_reference_s: float = opt(3600.0, "Poll interval, reference data", min=10, max=86400)
    backoff_max_s: float = opt(60.0, "Longest wait between retries after failures", min=1, max=3600)
    stale_after_intervals: int = opt(3, "A stream is stale after this many poll intervals without success", min=1)
    time_window_days: float = opt(
        1826.0, "A record timestamp further than this from the server's clock is refused as broken", min=1, max=36500
    )


@dataclass(frozen=True)
class DemoConfig:
    region: str = opt("kaltim", "Simulated region", choices=("kaltim", "indonesia"))
    speed: float = opt(1.0, "Simulated seconds per real second", min=0.1, max=3600)
    seed: int = opt(7, "Random seed; the same seed gives the same run")
    polsek_tier: bool = opt(False, "Simulate a Polsek tier below the Polres")
    history_hours: float = opt(
        24.0, "Simulated history before now, so the board opens on a full day", min=0, max=24 * 8
    )


@dataclass(frozen=True)
class StoreConfig:
    path: str = opt("", "SQLite history database; empty: the user data directory")
    retention_days: int = opt(35, "Days of history kept", min=1, max=3650)


@dataclass(frozen=True)
class AlertConfig:
    waiting_max: int = opt(5, "Alert when more calls than this are waiting", min=0)
    longest_wait_s: float = opt(10.0, "Alert when a call has waited longer than this", min=1)
    polres_p90_s: float = opt(600.0, "Alert when a Polres' 90th percentile response exceeds this", min=60)
    mabes_per_hour: float = opt(5.0, "Alert when escalations to Mabes in the last 60 min exceed this", min=0)
    overdue_max: int = opt(0, "Alert when more incidents than this are overdue now", min=0)
    stream_stale: bool = opt(True, "Alert when a feed stream is stale or down")
    sound: bool = opt(True, "Play a sound when an alert is raised (a machine without audio output stays silent)")
    sound_volume: float = opt(0.8, "Sound volume, 0 to 1", min=0, max=1)
    sound_repeat_s: float = opt(30.0, "A red alert's sound repeats this often until acknowledged or muted", min=5,
                                max=3600)  # fmt: skip
    sound_amber: str = opt("quiet", "Amber alerts: a quieter sound once, or none", choices=("quiet", "none"))
    sound_silent_kinds: list[str] = opt(
        [], "Alert kinds that never sound: waiting, longest_wait, mabes, p90, overdue, stream, status",
        check=_check_alert_kinds,
    )  # fmt: skip
    sound_stream_after_s: float = opt(60.0, "A feed-down alert sounds once it has lasted this long", min=0, max=3600)
    quiet_hours: str = opt("", "Local hours without sound, HH:MM-HH:MM (e.g. 22:00-06:00); empty: none",
                           check=_check_hours)  # fmt: skip
    speak: bool = opt(False, "Also speak a red alert's text (Qt TextToSpeech, where an engine is installed)")
    dispatched_max_s: float = opt(180.0, "Alert when a unit is dispatched longer than this without moving off"
                                  " (0: off)", min=0)  # fmt: skip
    on_scene_max_s: float = opt(3600.0, "Alert when a unit is on scene longer than this (0: off)", min=0)
    no_position_max_s: float = opt(600.0, "Alert when a unit on duty has sent no position for this long (0: off)",
                                   min=0)  # fmt: skip


@dataclass(frozen=True)
class MapConfig:
    tiles_url: str = opt(
        "", "XYZ tile URL template of your own tile server ({z}/{x}/{y}); empty: no tiles", check=_check_tiles_url
    )
    mbtiles_path: str = opt("", "MBTiles file to use as the basemap, served locally", check=_check_mbtiles)
    stale_fix_s: float = opt(120.0, "A unit whose last fix is older than this turns grey", min=10)
    autofit: bool = opt(False, "Fit the region after every update (kiosk) instead of keeping the user's view")
    rendering: str = opt(
        "auto",
        "How the map page is composited: gpu (OpenGL), software (CPU raster), or auto (software where OpenGL is"
        " emulated on the CPU, e.g. no GPU or a VM's virtual one, which costs several times more CPU)",
        choices=("auto", "gpu", "software"),
    )


@dataclass(frozen=True)
class KioskConfig:
    screens: list[str] = opt(
        ["0:overview"],
        "Screens and their playlist, 'SCREEN:VIEW[,VIEW...]'; views: overview, map, gauges, units, risk, dispatch,"
        " polres:<id> (environment/--set: entries separated by ';')",
        check=_check_screens,
    )
    dwell_s: float = opt(30.0, "Seconds each playlist view stays up", min=3, max=3600)
    exit_chord: str = opt("Ctrl+Shift+Q", "Key chord that asks for the exit PIN", check=_check_chord)
    pin_hash: str = opt(
        "",
        "Salted hash of the exit PIN ('wallboard config --hash-pin'); empty: no exit",
        check=_check_pin_hash,
        secret=True,
    )
    burn_in_px: int = opt(6, "Burn-in protection: largest layout shift in pixels", min=0, max=40)
    burn_in_period_s: float = opt(1800.0, "Burn-in protection: seconds per shift step", min=10)
    alert_brings_view: bool = opt(True, "An alert brings the view that shows it forward")


@dataclass(frozen=True)
class LogConfig:
    level: str = opt("INFO", "Log level", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    file: str = opt(
        "", "Log file; empty: the user log directory. Not a link, and not an existing file other than a wallboard "
        "log", check=_check_log_file,
    )  # fmt: skip


@dataclass(frozen=True)
class Config:
    board: BoardConfig = field(default_factory=BoardConfig)
    api: ApiConfig = field(default_factory=ApiConfig)
    demo: DemoConfig = field(default_factory=DemoConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    alerts: AlertConfig = field(default_factory=AlertConfig)
    map: MapConfig = field(default_factory=MapConfig)
    kiosk: KioskConfig = field(default_factory=KioskConfig)
    log: LogConfig = field(default_factory=LogConfig)


S = TypeVar("S")
#: The zone of a board whose Polda is not in the reference (the national room: Jakarta, where Mabes is).
NATIONAL_TZ = "Asia/Jakarta"


def board_zone(board: BoardConfig, reference: ReferenceData) -> str:
    """The board's zone: ``board.tz`` when set, else its Polda's zone from the reference (WIB / WITA / WIT)."""
    if board.tz:
        return board.tz
    polda = reference.poldas.get(board.polda_id)
    return polda.tz if polda is not None and polda.tz else NATIONAL_TZ


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "wallboard.toml"


def resolve_config_path(cli_path: str | None = None, environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    if cli_path:
        return Path(cli_path)
    if environ.get(ENV_CONFIG_PATH):
        return Path(environ[ENV_CONFIG_PATH])
    return default_config_path()


def _coerce(where: str, name: str, annotation: Any, value: Any, from_text: bool) -> Any:
    """Check (and, for text from env/CLI, convert) ``value`` against the declared type."""
    ann = annotation if isinstance(annotation, type) else getattr(annotation, "__origin__", annotation)
    if from_text and isinstance(value, str):
        try:
            if ann is bool:
                low = value.strip().lower()
                if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError
                return low in ("1", "true", "yes", "on")
            if ann is int:
                return int(value)
            if ann is float:
                number = float(value)
                if not math.isfinite(number):
                    raise ConfigError(f"{where}: {name}: {value.strip()!r} is not a finite number")
                return number
            if ann is list:
                return [v.strip() for v in value.split(";") if v.strip()]
        except ValueError:
            raise ConfigError(f"{where}: {name}: expected {ann.__name__}, got {value!r}") from None
        return value
    if ann is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise ConfigError(f"{where}: {name}: {value} is too large") from None
    if ann is float and isinstance(value, float) and not math.isfinite(value):  # TOML has nan and inf
        raise ConfigError(f"{where}: {name}: {value!r} is not a finite number")
    if ann is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {name}: expected a list of strings, got {value!r}")
        return value
    if not isinstance(value, ann) or (ann is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: {name}: expected {ann.__name__}, got {type(value).__name__} {value!r}")
    return value


def _validate(where: str, name: str, meta: Mapping[str, Any], value: Any) -> None:
    if meta.get("choices") and value not in meta["choices"]:
        raise ConfigError(f"{where}: {name}: {value!r} is not one of {', '.join(meta['choices'])}")
    if meta.get("min") is not None and value < meta["min"]:
        raise ConfigError(f"{where}: {name}: {value!r} is below the minimum {meta['min']}")
    if meta.get("max") is not None and value > meta["max"]:
        raise ConfigError(f"{where}: {name}: {value!r} is above the maximum {meta['max']}")
    if meta.get("check"):
        problem = meta["check"](value)
        if problem:
            raise ConfigError(f"{where}: {name}: {problem}")


def _apply(config: Config, values: Mapping[str, Mapping[str, Any]], where: str, from_text: bool) -> Config:
    sections = {f.name: f for f in fields(Config)}
    for section_name, section_values in values.items():
        if section_name not in sections:
            raise ConfigError(
                f"{where}: unknown section [{section_name}] (known: {', '.join(sections)})", section=section_name
            )
        if not isinstance(section_values, Mapping):
            raise ConfigError(f"{where}: [{section_name}] must be a table", section=section_name)
        section = getattr(config, section_name)
        hints = get_type_hints(type(section))
        known = {f.name: f for f in fields(section)}
        changes = {}
        for key, raw in section_values.items():
            name = f"{section_name}.{key}"
            if key not in known:
                raise ConfigError(
                    f"{where}: unknown option {name} (known: {', '.join(known)})", section=section_name, key=key
                )
            secret = bool(known[key].metadata.get("secret"))
            try:
                value = _coerce(where, name, hints[key], raw, from_text)
            except ConfigError as exc:
                # Say what is wrong, but never echo a secret (someone may have typed the PIN itself).
                message = f"{where}: {name}: wrong type (value not shown: secret)" if secret else str(exc)
                raise ConfigError(message, section=section_name, key=key) from None
            try:
                _validate(where, name, known[key].metadata, value)
            except ConfigError as exc:  # check texts never contain the value; choices/min/max do not apply to secrets
                raise ConfigError(str(exc), section=section_name, key=key) from None
            changes[key] = value
        config = replace(config, **{section_name: replace(section, **changes)})
    return config


def _toml_error_location(path: Path, text: str, error: tomllib.TOMLDecodeError) -> str:
    """``FILE:LINE:COLUMN: not valid TOML: problem`` (tomllib puts the place only in its message before 3.14)."""
    message = str(error)
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if match:
        problem = message[: match.start()]
        return f"{path}:{match.group(1)}:{match.group(2)}: not valid TOML: {problem}"
    match = re.search(r"\s*\(at end of document\)$", message)
    if match:
        return f"{path}:{len(text.splitlines()) or 1}: not valid TOML: {message[: match.start()]} at the end"
    return f"{path}: not valid TOML: {message}"


def _line_of(text: str, section: str, key: str | None) -> int | None:
    """The line of ``key`` in ``[section]`` (or of the ``[section]`` header when ``key`` is None)."""
    current = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            current = stripped.split("#", 1)[0].strip().strip("[] ")
            if key is None and current == section:
                return number
        elif key is not None and current == section and re.match(rf"{re.escape(key)}\s*=", stripped):
            return number
    return None


def _read_config_file(path: Path) -> str | None:
    """The text of the configuration file, None if there is none; a ConfigError (never an OSError, MemoryError or
    UnicodeDecodeError) for a directory, a device, a file too large to be a configuration, or one not in UTF-8."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"{path}: is a directory, not a configuration file")
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"{path}: is not a regular file (a device, pipe or socket), not a configuration file")
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES // 1024} KiB: not a wallboard configuration file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save the file as "
            "UTF-8"
        ) from None


def load_config(
    path: Path | None = None,
    *,
    overrides: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    require_file: bool = False,
) -> Config:
    """Build the configuration from defaults, the TOML file (if present), environment and CLI overrides.

    ``overrides`` maps ``"section.key"`` to text, as given on the command line.
    """
    environ = os.environ if environ is None else environ
    config = Config()
    text = _read_config_file(path) if path is not None else None
    if path is not None and text is not None:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(_toml_error_location(path, text, exc)) from None
        except RecursionError:  # arrays or tables nested thousands deep: not a configuration file
            raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None
        try:
            config = _apply(config, data, str(path), from_text=False)
        except ConfigError as exc:
            # Point at the line too, when we can find it.
            line = _line_of(text, exc.section, exc.key) if exc.section else None
            if line:
                message = str(exc).replace(f"{path}:", f"{path}:{line}:", 1)
                raise ConfigError(message, section=exc.section, key=exc.key) from None
            raise
    elif require_file and path is not None:
        raise ConfigError(f"{path}: configuration file not found")

    env_values: dict[str, dict[str, str]] = {}
    for var, text in environ.items():
        if var.startswith(ENV_PREFIX) and var.count("__") == 2:
            _, section, key = var.split("__")
            env_values.setdefault(section.lower(), {})[key.lower()] = text
    if env_values:
        config = _apply(config, env_values, "environment", from_text=True)

    cli_values: dict[str, dict[str, str]] = {}
    for dotted, text in (overrides or {}).items():
        if "." not in dotted:
            raise ConfigError(f"command line: {dotted!r} must be section.key=value")
        section, key = dotted.split(".", 1)
        cli_values.setdefault(section, {})[key] = text
    if cli_values:
        config = _apply(config, cli_values, "command line", from_text=True)
    return config


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def option_table() -> list[tuple[str, Any, str]]:
    """(section.key, default, description) for every option, in declaration order."""
    rows = []
    for section_field in fields(Config):
        section = getattr(Config(), section_field.name)
        for f in fields(section):
            rows.append((f"{section_field.name}.{f.name}", getattr(section, f.name), f.metadata["description"]))
    return rows


def defaults_toml() -> str:
    """A commented TOML file holding every option at its default."""
    lines = [
        "# wallboard configuration. Every option is shown at its default; delete what you do not change.",
        f"# Location: {default_config_path()} (or --config / ${ENV_CONFIG_PATH}).",
        f"# Environment overrides: {ENV_PREFIX}SECTION__KEY=value; command line: --set section.key=value.",
        "",
    ]
    for section_field in fields(Config):
        section = getattr(Config(), section_field.name)
        lines.append(f"[{section_field.name}]")
        for f in fields(section):
            meta = f.metadata
            lines.append(f"# {meta['description']}")
            limits = []
            if meta.get("choices"):
                limits.append("one of: " + ", ".join(meta["choices"]))
            if meta.get("min") is not None:
                limits.append(f"min {meta['min']}")
            if meta.get("max") is not None:
                limits.append(f"max {meta['max']}")
            if limits:
                lines.append(f"# ({'; '.join(limits)})")
            default = getattr(section, f.name) if f.default is MISSING else f.default
            lines.append(f"{f.name} = {_toml_value(default)}")
        lines.append("")
    return "\n".join(lines)


def options_markdown() -> str:
    """docs/configuration.md, generated from the declarations (a test keeps the file in sync)."""
    lines = [
        "# Configuration",
        "",
        'Generated from `wallboard/config.py` (`python -c "from wallboard.config import options_markdown as m; '
        "print(m(), end='')\" > docs/configuration.md`). Do not edit by hand.",
        "",
        "The file is TOML, by default `wallboard.toml` in the user config directory (Linux: `~/.config/wallboard/`,",
        "Windows: `%LOCALAPPDATA%\\wallboard\\`); `--config FILE` or `$WALLBOARD_CONFIG` name another.",
        "Every option can also be set with `WALLBOARD__SECTION__KEY=value` or `--set section.key=value`.",
        "`wallboard config --print-defaults` writes a commented file with all of them; `wallboard config --check`",
        "validates one. A bad value stops the board with the file, line, option and problem named.",
        "",
        "| option | default | description |",
        "| --- | --- | --- |",
    ]
    for key, default, description in option_table():
        lines.append(f"| `{key}` | `{_toml_value(default)}` | {description} |")
    return "\n".join(lines) + "\n"


def option_choices(section: str, key: str) -> tuple[str, ...]:
    """The allowed values of an option declared with ``choices`` (for command-line flags that set it)."""
    for f in fields(getattr(Config(), section)):
        if f.name == key and f.metadata.get("choices"):
            return tuple(f.metadata["choices"])
    raise KeyError(f"{section}.{key} has no list of choices")


def format_effective(config: Config) -> str:
    """The effective configuration as TOML, secrets hidden (``wallboard config --show``)."""
    lines = []
    for section_field in fields(config):
        section = getattr(config, section_field.name)
        lines.append(f"[{section_field.name}]")
        for f in fields(section):
            value = getattr(section, f.name)
            lines.append(f"{f.name} = {_toml_value('<set>' if f.metadata.get('secret') and value else value)}")
        lines.append("")
    return "\n".join(lines) + "\n"
