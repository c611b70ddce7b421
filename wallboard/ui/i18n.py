"""Translations through Qt's own system: English source strings, Qt TS catalogues in resources/i18n.

The .ts file is read directly (no lrelease step to forget): :class:`TsTranslator` parses it with ElementTree and
answers ``QCoreApplication.translate``. Bahasa Indonesia is the default language of the board.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

from wallboard.resources import resource_path

log = logging.getLogger(__name__)
CONTEXT = "wallboard"
LOCALES = {"id": "id_ID", "en": "en_US"}
_installed: list[QTranslator] = []
_locale = QLocale("id_ID")


def N_(text: str) -> str:
    """Mark a string for the catalogue where it is defined; ``tr`` translates it where it is shown."""
    return text


def tr(text: str) -> str:
    """Translate an English source string in the board's context."""
    return QCoreApplication.translate(CONTEXT, text)


def catalogue_path(lang: str) -> Path:
    return resource_path("i18n", f"wallboard_{lang}.ts")


def load_ts(path: Path) -> dict[tuple[str, str], str]:
    """(context, source) → translation for every finished message of a Qt .ts file."""
    out: dict[tuple[str, str], str] = {}
    root = ET.parse(path).getroot()
    for context in root.iter("context"):
        name = context.findtext("name", "")
        for message in context.iter("message"):
            source = message.findtext("source")
            translation = message.find("translation")
            if source is None or translation is None or translation.get("type") in ("unfinished", "obsolete"):
                continue
            out[(name, source)] = translation.text or ""
    return out


class TsTranslator(QTranslator):
    def __init__(self, messages: dict[tuple[str, str], str]) -> None:
        super().__init__()
        self._messages = messages

    def translate(self, context: str, source: str, disambiguation: str | None = None, n: int = -1) -> str:
        # None (a null QString) means "not translated here": Qt then shows the English source. An empty string
        # would be taken as the translation and blank the label.
        return self._messages.get((context, source))  # type: ignore[return-value]

    def isEmpty(self) -> bool:
        return not self._messages


def install_translator(app: QCoreApplication, lang: str) -> None:
    global _locale
    for old in _installed:
        app.removeTranslator(old)
    _installed.clear()
    _locale = QLocale(LOCALES.get(lang, "en_US"))
    QLocale.setDefault(_locale)
    if lang == "en":
        return
    path = catalogue_path(lang)
    if not path.is_file():
        log.warning("no translations for %r (%s); showing English", lang, path)
        return
    translator = TsTranslator(load_ts(path))
    app.installTranslator(translator)
    _installed.append(translator)


def locale() -> QLocale:
    return _locale


def fmt_int(value: int) -> str:
    return _locale.toString(int(value))


def fmt_num(value: float, decimals: int = 1) -> str:
    return _locale.toString(float(value), "f", decimals)


def fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{fmt_num(value, 0)} %"


def fmt_minutes(seconds: float | None) -> str:
    return "–" if seconds is None else f"{fmt_num(seconds / 60.0, 1)} {tr('min')}"
