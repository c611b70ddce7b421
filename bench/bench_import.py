"""`wallboard import` memory and speed on large exports: peak RSS should stay flat as the file grows.

Generates synthetic contact-centre exports (bench/make_import_samples.py, spread over 30 days) of each size, imports
each in a fresh process with the shipped contact-centre mapping, and prints rows, file size, wall time and that
process's peak RSS.

    python bench/bench_import.py                     # 100,000 and 1,000,000 rows
    python bench/bench_import.py --rows 10000 200000
"""

from __future__ import annotations

import argparse
import csv
import resource
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


def measure(source: Path, out: Path) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, the summary) of one import in its own process."""
    mapping = ROOT / "resources" / "import" / "contact-centre.toml"
    command = [sys.executable, "-m", "wallboard", "import", str(source), "--mapping", str(mapping), "--out", str(out),
               "--log-level", "ERROR"]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if result.returncode != 0:
        raise SystemExit(f"import failed ({result.returncode}): {result.stderr[-2000:]}")
    if peak_kib <= before:
        print("  (peak RSS not above an earlier, larger child's: run one size per invocation to see it)")
    return seconds, peak_kib / 1024, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--keep", type=Path, help="keep the generated files in this directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        # Smallest first: RUSAGE_CHILDREN's maxrss is the largest child so far, so each size shows its own peak
        # only when it is the largest yet.
        for rows in sorted(args.rows):
            source = folder / f"calls-{rows}.csv"
            generate(rows, source)
            out = folder / f"calls-{rows}.ndjson"
            seconds, peak_mib, summary = measure(source, out)
            size_mb = source.stat().st_size / 1e6
            out_mb = out.stat().st_size / 1e6
            print(f"{rows:>9,} rows  {size_mb:7.1f} MB csv -> {out_mb:7.1f} MB ndjson  {seconds:6.1f} s  "
                  f"{rows / seconds:8,.0f} rows/s  peak RSS {peak_mib:6.1f} MiB")  # fmt: skip
            print("   " + summary.replace("\n", "\n   "))
            if not args.keep:
                source.unlink()
                out.unlink()


if __name__ == "__main__":
    main()
