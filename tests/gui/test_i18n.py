"""Every string the board shows has an Indonesian translation; the board speaks Indonesian by default, English on
request; numbers are formatted for the locale."""

from __future__ import annotations

import ast
from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

import wallboard
from wallboard.core.alerts import TEMPLATES
from wallboard.core.snapshot import BoardSnapshot
from wallboard.ui import theme
from wallboard.ui.i18n import CONTEXT, catalogue_path, fmt_int, fmt_num, install_translator, load_ts, tr
from wallboard.ui.panels.gauges import GaugesPanel
from wallboard.ui.panels.tiers import TiersPanel

PACKAGE = Path(wallboard.__file__).resolve().parent


def _local_tr_context(tree: ast.Module) -> str | None:
    """The context of a module's own ``def tr(text): return QCoreApplication.translate("Ctx", text)``, if any."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "tr":
            for call in ast.walk(node):
                if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "translate" and call.args
                        and isinstance(call.args[0], ast.Constant)):  # fmt: skip
                    return str(call.args[0].value)
    return None


def _imports_board_tr(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ImportFrom) and node.module == "wallboard.ui.i18n" and
        any(alias.name in ("tr", "N_") for alias in node.names)
        for node in ast.walk(tree)
    )  # fmt: skip


def translatable_strings() -> set[tuple[str, str]]:
    """(context, source) of every literal passed to tr()/N_()/QCoreApplication.translate() in the package."""
    found: set[tuple[str, str]] = {(CONTEXT, t) for t in TEMPLATES}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        local = _local_tr_context(tree)
        tr_context = local if local is not None else CONTEXT if _imports_board_tr(tree) else None
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("tr", "N_") and tr_context is not None:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add((tr_context, arg.value))
            elif isinstance(func, ast.Attribute) and func.attr == "translate" and len(node.args) >= 2:
                ctx, text = node.args[0], node.args[1]
                if (isinstance(ctx, ast.Constant) and isinstance(text, ast.Constant)
                        and isinstance(text.value, str)):  # fmt: skip
                    found.add((str(ctx.value), text.value))
    return found


def test_the_scan_finds_the_board_strings() -> None:
    strings = translatable_strings()
    assert (CONTEXT, "Call volume") in strings
    assert (CONTEXT, "ON TARGET") in strings  # marked with N_ where defined
    assert ("MapView", "R4 (car)") in strings  # the map's own context
    assert len(strings) > 80


def test_every_visible_string_has_an_indonesian_translation() -> None:
    catalogue = load_ts(catalogue_path("id"))
    missing = sorted(key for key in translatable_strings() if not catalogue.get(key))
    assert missing == []


def test_translations_keep_their_placeholders() -> None:
    for (_, source), translation in load_ts(catalogue_path("id")).items():
        for placeholder in ("{n}", "{s}", "{name}", "{m}", "{target}", "{stream}", "%1", "%2"):
            assert (placeholder in source) == (placeholder in translation), (source, translation)


def test_board_speaks_indonesian_by_default_and_english_on_request(
    app: QApplication, qtbot: QtBot, snapshot: BoardSnapshot
) -> None:
    install_translator(app, "id")
    panel = TiersPanel()
    qtbot.addWidget(panel)
    panel.update_snapshot(snapshot)
    assert panel.title.text() == "Antrean dan tingkat penjawab"
    assert panel.row_labels["abandoned"].text() == "Ditinggalkan penelepon"
    assert panel.row_labels["service"].text() == "Dijawab dalam 10 detik"
    gauges = GaugesPanel()
    qtbot.addWidget(gauges)
    gauges.update_snapshot(snapshot)
    assert any("LEWAT TARGET" in line for g in gauges.gauges for line in g.lines())
    assert theme.STATUS["bad"].symbol in gauges.gauges[1].lines()[-1]
    install_translator(app, "en")
    assert tr("Abandoned") == "Abandoned"
    english = TiersPanel()
    qtbot.addWidget(english)
    assert english.title.text() == "Queue and answering tiers"


def test_an_untranslated_string_shows_its_english_source_not_a_blank(app: QApplication) -> None:
    install_translator(app, "id")
    assert tr("a string nobody translated") == "a string nobody translated"


def test_numbers_follow_the_locale(app: QApplication) -> None:
    install_translator(app, "id")
    assert fmt_int(12345) == "12.345"
    assert fmt_num(4.5, 1) == "4,5"
    install_translator(app, "en")
    assert fmt_int(12345) == "12,345"
    assert fmt_num(4.5, 1) == "4.5"
