"""The commands layer: one module per ``wallboard`` subcommand, above every other package.

Nothing in core, config, feed, store, sim or ui imports from here (an import-linter contract in pyproject.toml
checks it in the test command). ``wiring`` holds what several commands build from the configuration.
"""

from __future__ import annotations

from wallboard.commands import board, check_api, config_cmd, import_feed, metrics, record, replay, simulate, snapshot
from wallboard.commands.base import Command

#: Every subcommand, in the order ``wallboard --help`` lists them.
ALL: tuple[Command, ...] = (
    board.RUN,
    board.DEMO,
    board.KIOSK,
    simulate.COMMAND,
    record.COMMAND,
    replay.COMMAND,
    import_feed.COMMAND,
    metrics.COMMAND,
    snapshot.COMMAND,
    check_api.COMMAND,
    config_cmd.COMMAND,
)
DEFAULT = board.RUN

__all__ = ["ALL", "DEFAULT", "Command"]
