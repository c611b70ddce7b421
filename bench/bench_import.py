"""`wallboard import` memory and speed on large exports: peak RSS should stay flat as the file grows.

Generates synthetic contact-centre exports (bench/make_import_samples.py, spread over 30 days) of each size, imports
each in a fresh process with the shipped contact-centre mapping, and prints rows, file size, wall time and that
process's peak RSS.

    python bench/bench_import.py                     # 1,000, 100,000 and 1,000,000 rows
    python bench/bench_import.py --rows 10000 200000
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from make_import_samples import contact_centre_rows  # noqa: E402


def generate(rows: int, path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=";", lineterminator="\r\n").writerows(
            contact_centre_rows(rows, datetime(2026, 11, 1), seed=1, days=30)
        )


def measure(source: Path, out: Path) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak RSS in MiB, the summary) of one import in its own process.

    ``os.wait4`` gives that child's own resource usage (RUSAGE_CHILDREN would be the largest child so far)."""
    mapping = ROOT / "resources" / "import" / "contact-centre.toml"
    command = [sys.executable, "-m", "wallboard", "import", str(source), "--mapping", str(mapping), "--out", str(out),
               "--log-level", "ERROR"]  # fmt: skip
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as summary:
        process = subprocess.Popen(command, stdout=summary, stderr=subprocess.STDOUT, text=True)
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        summary.seek(0)
        text = summary.read()
    if process.returncode != 0:
        raise SystemExit(f"import failed ({process.returncode}): {text[-2000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000, 100_000, 1_000_000])
    parser.add_argument("--keep", type=Path, help="keep the generated files in this directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for rows in sorted(args.rows):
            source = folder / f"calls-{rows}.csv"
            generate(rows, source)
            out = folder / f"calls-{rows}.ndjson"
            seconds, cpu, peak_mib, summary = measure(source, out)
            size_mb = source.stat().st_size / 1e6
            out_mb = out.stat().st_size / 1e6
            print(f"{rows:>9,} rows  {size_mb:7.1f} MB csv -> {out_mb:7.1f} MB ndjson  {seconds:6.1f} s wall  "
                  f"{cpu:6.1f} s CPU ({rows / cpu:6,.0f} rows/CPU-s)  peak RSS {peak_mib:6.1f} MiB",
                  flush=True)  # fmt: skip
            print("   " + summary.replace("\n", "\n   "))
            if not args.keep:
                source.unlink()
                out.unlink()


if __name__ == "__main__":
    main()
