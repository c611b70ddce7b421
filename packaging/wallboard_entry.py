"""Entry point of the frozen app (PyInstaller)."""

from wallboard.cli import main

raise SystemExit(main())
