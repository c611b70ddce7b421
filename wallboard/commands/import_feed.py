"""`wallboard import SOURCE --mapping MAPPING.toml --out FEED.ndjson`: another system's export as a recording.

CSV and XLSX exports go through a mapping file (docs/import.md); NENA EIDO documents (``--format eido``) need none.
Every row that cannot be used is reported with its line and column and the rest is imported; the summary at the
end says what was read, written and skipped. Exit code: 0 when something was imported, 1 when nothing usable was
found, 2 when the mapping or the source cannot be used at all.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from wallboard.commands.base import OUTPUT_RULE, Command, refuse
from wallboard.config import Config
from wallboard.files import (
    PROBLEMS_HEADER,
    AtomicOutput,
    UnsafePathError,
    check_output,
    is_problems_report,
    is_recording,
    write_problem,
)

MAX_SHOWN_PROBLEMS = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SOURCE", help="the export: .csv (any delimiter), .xlsx, or EIDO .json, "
                        "a regular file (not a FIFO or a device), or a directory of EIDO files")  # fmt: skip
    parser.add_argument("--mapping", metavar="MAPPING.toml", help="how rows become records (docs/import.md)")
    parser.add_argument("--out", required=True, metavar="FEED.ndjson",
                        help=f"the recording to write. {OUTPUT_RULE} (an earlier recording is replaced)")  # fmt: skip
    parser.add_argument("--format", choices=("csv", "xlsx", "eido"), help="source format (default: the mapping's, "
                        "else from the file name)")  # fmt: skip
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no summary, no per-row report")
    parser.add_argument("--problems", metavar="FILE.txt", help="write every skipped row's reason here (all of them). "
                        f"{OUTPUT_RULE} (an earlier problems report is replaced)")  # fmt: skip
    parser.add_argument("--and", dest="more", nargs=2, action="append", default=[], metavar=("SOURCE", "MAPPING"),
                        help="import another export into the same recording, e.g. the CAD's incidents beside the "
                        "contact centre's calls (repeatable)")  # fmt: skip


def _same_file(a: Path, b: Path) -> bool:
    """The same file, through links (hard or symbolic) too; paths that do not exist yet compare resolved."""
    try:
        return a.samefile(b)
    except OSError:
        return a.resolve() == b.resolve()


def _progress_bar(enabled: bool) -> tuple[Callable[[str, int, int | None, str], None], Callable[[], None]]:
    """A tqdm bar per phase on stderr when it is a terminal; nothing otherwise."""
    if not enabled:
        return (lambda phase, done, total, unit: None), (lambda: None)
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def update(phase: str, done: int, total: int | None, unit: str) -> None:
        bar = bars.get(phase)
        if bar is None:
            for other in bars.values():
                other.close()
            divisor = 1024 if unit == "B" else 1000
            bar = bars[phase] = tqdm(total=total, desc=phase, unit=unit, unit_scale=True, unit_divisor=divisor,
                                     leave=False, file=sys.stderr, dynamic_ncols=True)  # fmt: skip
        if total is not None and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return update, close


def run(args: argparse.Namespace, config: Config) -> int:
    from wallboard.commands.wiring import reference
    from wallboard.feed.importer.build import Collector, RowImport, Summary, write_imports
    from wallboard.feed.importer.mapping import MappingError, default_eido_mapping, load_mapping
    from wallboard.feed.importer.sources import SourceError, open_source

    out = Path(args.out)
    requests: list[tuple[Path, str | None, str | None]] = [(Path(args.source), args.mapping, args.format)]
    requests += [(Path(source), mapping, None) for source, mapping in args.more]
    problems_path = Path(args.problems) if args.problems else None
    for source, _mapping, _fmt in requests:
        if _same_file(source, out):
            return refuse("import", "--out must not be a source")
    try:  # before anything is read: an output that must not be written stops the import at once
        check_output(out, is_recording, "--out")
        if problems_path is not None:
            inputs = [out] + [Path(p) for source, mapping_name, _ in requests for p in (source, mapping_name) if p]
            clash = next((p for p in inputs if _same_file(problems_path, p)), None)
            if clash is not None:
                return refuse("import", f"--problems {problems_path} is {clash}, which the import reads or writes; "
                              "name another file")  # fmt: skip
            check_output(problems_path, is_problems_report, "--problems")
    except UnsafePathError as exc:
        return refuse("import", str(exc))
    problems_output: AtomicOutput | None = None
    problems_status = 0
    problems_file: IO[str] | None = None
    shown = 0

    def reporter(source: Path) -> Callable[[str], None]:
        def report(message: str) -> None:
            nonlocal shown
            if problems_file is not None:
                problems_file.write(f"{source}: {message}\n")
            if args.quiet:
                return
            shown += 1
            if shown <= MAX_SHOWN_PROBLEMS:
                print(f"{source}: {message}", file=sys.stderr)
            elif shown == MAX_SHOWN_PROBLEMS + 1:
                print("wallboard import: more rows skipped; the summary counts them (--problems FILE lists all)",
                      file=sys.stderr)  # fmt: skip

        return report

    progress, close_progress = _progress_bar(not args.quiet and sys.stderr.isatty())
    opened: list[Any] = []
    try:
        jobs: list[tuple[Collector, str]] = []
        for source, mapping_name, fmt_arg in requests:
            try:
                mapping = load_mapping(Path(mapping_name)) if mapping_name else None
            except MappingError as exc:
                print(f"wallboard import: invalid mapping:\n{exc}", file=sys.stderr)
                return 2
            fmt = fmt_arg or (mapping.source.format if mapping else None)
            if fmt is None and source.suffix.lower() in (".json", ".ndjson", ".jsonl"):
                fmt = "eido"
            if mapping is None:
                if fmt != "eido":
                    print(f"wallboard import: {source}: --mapping is required for CSV and XLSX sources "
                          "(see docs/import.md)", file=sys.stderr)  # fmt: skip
                    return 2
                mapping = default_eido_mapping()
            ref = mapping.reference.data.merged(reference()) if mapping.reference.data else reference()
            if fmt == "eido":
                from wallboard.feed.importer.eido import EidoImport

                jobs.append((EidoImport(mapping, source, ref, reporter(source), progress), source.name))
            else:
                from dataclasses import replace

                spec = replace(mapping.source, format=fmt) if fmt else mapping.source
                rows = open_source(source, spec, mapping.columns)
                opened.append(rows)
                jobs.append((RowImport(mapping, rows, ref, reporter(source), progress), source.name))
        if problems_path is not None:
            problems_output = AtomicOutput(problems_path, is_problems_report, "--problems")
            problems_file = problems_output.file
            names = ", ".join(str(request[0]) for request in requests)  # what tells a later import the file is ours
            problems_file.write(f"{PROBLEMS_HEADER} of {names}: one line per skipped row\n")
        summaries: list[Summary] = write_imports(jobs, out, progress)
    except (SourceError, OSError) as exc:
        close_progress()
        print(f"wallboard import: {exc}", file=sys.stderr)
        return 2
    finally:
        for rows in opened:
            rows.close()
        if problems_output is not None:  # the report of what was read, even when the import stopped early
            try:
                problems_output.commit()
            except OSError as exc:
                where = ""
                if problems_output.temp.exists() and not isinstance(exc, UnsafePathError):
                    problems_output.keep()  # it is named in the message: set aside, nothing deletes it now
                    where = f" (the report is in {problems_output.temp})"
                problems_status = refuse("import", write_problem(exc, "--problems", problems_output.path) + where, 1)
    close_progress()
    if problems_status:  # the recording is written, but what was skipped could not be reported: not a success
        return problems_status
    if not args.quiet:
        for summary in summaries:
            print(summary.render())
        print(f"  wrote {out}")
    if sum(s.records_written for s in summaries) == 0:
        print(f"wallboard import: nothing usable in {', '.join(str(r[0]) for r in requests)}", file=sys.stderr)
        return 1
    return 0


COMMAND = Command("import", "turn a CSV/XLSX export or NENA EIDO documents into a recording", add_arguments, run)
