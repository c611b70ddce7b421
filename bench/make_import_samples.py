"""Generate synthetic exports in the two shapes `wallboard import` ships mappings for (no real data anywhere).

- ``contact-centre``: a contact-centre call detail export, one row per 110 call (semicolon-separated, UTF-8 with a
  BOM, CRLF line ends, day/month/year times in WITA without offset, a free-text column with quoted semicolons);
- ``cad``: a calls-for-service CAD export, one row per responding unit per incident (comma-separated, ISO-like
  times without offset).

    python bench/make_import_samples.py contact-centre --calls 600 --out calls.csv
    python bench/make_import_samples.py cad --incidents 250 --out cad.csv
    python bench/make_import_samples.py contact-centre --calls 1000000 --days 30 --out big.csv   # the memory bench

The shipped samples in resources/import/ were written by this script with its default seed.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

WITA = ZoneInfo("Asia/Makassar")
# (queue name in the contact centre, district name in the CAD, unit prefix, weight, median response minutes)
POLRES = [
    ("Q110-BPN", "BALIKPAPAN KOTA", "BPN", 24, 6.0),
    ("Q110-SMD", "SAMARINDA KOTA", "SMD", 26, 8.0),
    ("Q110-BTG", "BONTANG", "BTG", 7, 7.0),
    ("Q110-KKR", "KUTAI KARTANEGARA", "KKR", 12, 11.0),
    ("Q110-KTM", "KUTAI TIMUR", "KTM", 6, 12.0),
    ("Q110-KBR", "KUTAI BARAT", "KBR", 4, 14.0),
    ("Q110-BRU", "BERAU", "BRU", 6, 10.0),
    ("Q110-PSR", "PASER", "PSR", 5, 12.0),
    ("Q110-PPU", "PENAJAM PASER UTARA", "PPU", 5, 9.0),
    ("Q110-MHU", "MAHAKAM ULU", "MHU", 1, 18.0),
]
# Calls per hour of the day, relative: quiet before dawn, a peak in the evening.
HOURLY = [3, 2, 2, 2, 2, 3, 5, 7, 8, 8, 8, 8, 8, 8, 8, 8, 9, 10, 12, 14, 13, 10, 7, 5]
DISPOSITIONS = [("EMERGENCY", 35), ("INFO", 15), ("COMPLAINT", 5), ("PRANK", 30), ("SILENT", 15)]
NATURES = ["Kecelakaan lalu lintas", "Pencurian", "Perkelahian", "Kebakaran", "KDRT", "Orang hilang",
           "Gangguan ketertiban", "Pencurian kendaraan bermotor"]  # fmt: skip


def _moment(rng: random.Random, day: datetime) -> datetime:
    hour = rng.choices(range(24), weights=HOURLY)[0]
    return day + timedelta(hours=hour, seconds=rng.randrange(3600 - 60))  # every call is over before midnight


def _polres(rng: random.Random) -> tuple[str, str, str, int, float]:
    return rng.choices(POLRES, weights=[p[3] for p in POLRES])[0]


def contact_centre_rows(calls: int, day: datetime, seed: int = 110, days: int = 1) -> Iterator[list[str]]:
    """Header then one row per call, in the order the contact centre logged them (by received time per day)."""
    rng = random.Random(seed)
    yield ["Interaction ID", "Received", "Answered", "Abandoned", "Queue", "Agent Site", "Disposition", "ANI",
           "Notes"]  # fmt: skip
    per_day = math.ceil(calls / days)
    number = 0
    for d in range(days):
        start = day + timedelta(days=d)
        moments = sorted(_moment(rng, start) for _ in range(min(per_day, calls - number)))
        for received in moments:
            number += 1
            queue, _district, prefix, _w, _m = _polres(rng)
            outcome = rng.random()
            answered = abandoned = ""
            site = ""
            disposition = ""
            fmt = "%d/%m/%Y %H:%M:%S"
            if outcome < 0.08:
                abandoned = (received + timedelta(seconds=rng.randint(3, 40))).strftime(fmt)
            else:
                tier = rng.random()
                if tier < 0.72:
                    wait, site = rng.randint(1, 10), f"{prefix}-CC"
                elif tier < 0.94:
                    wait, site = rng.randint(11, 20), "POLDA-KALTIM"
                else:
                    wait, site = rng.randint(21, 30), "MABES-JKT"
                answered = (received + timedelta(seconds=wait)).strftime(fmt)
                disposition = rng.choices([d for d, _ in DISPOSITIONS], weights=[w for _, w in DISPOSITIONS])[0]
            ani = f"08{rng.choice('1258')}{rng.randrange(10**9):09d}"
            notes = rng.choice(["", "", "penelepon panik; minta polisi", "lokasi: jl. sudirman; dekat pasar",
                                "\"diam\" lalu terputus"])  # fmt: skip
            yield [f"CC-{received:%Y%m%d}-{number:07d}", received.strftime(fmt), answered, abandoned, queue, site,
                   disposition, ani, notes]  # fmt: skip


def cad_rows(incidents: int, day: datetime, seed: int = 7) -> Iterator[list[str]]:
    """Header then one row per responding unit per incident, by incident number."""
    rng = random.Random(seed)
    yield ["Incident No", "Call Received", "Entered", "Dispatched", "En Route", "On Scene", "Available", "Closed",
           "Unit", "Unit Type", "Station", "District", "Priority", "Nature", "Latitude", "Longitude"]  # fmt: skip
    busy_until: dict[str, datetime] = {}
    fmt = "%Y-%m-%d %H:%M:%S"
    bases = {p[1]: p for p in POLRES}
    coords = {"BPN": (-1.2768, 116.8292), "SMD": (-0.5023, 117.1203), "BTG": (0.1193, 117.486),
              "KKR": (-0.413, 116.9867), "KTM": (0.5217, 117.6102), "KBR": (-0.2333, 115.6862),
              "BRU": (2.151, 117.5042), "PSR": (-1.9105, 116.199), "PPU": (-1.301, 116.737),
              "MHU": (0.5017, 115.2705)}  # fmt: skip
    moments = sorted(_moment(rng, day) for _ in range(incidents))
    for number, received in enumerate(moments, start=1):
        _queue, district, prefix, _w, median_min = bases[_polres(rng)[1]]
        priority = rng.choices(["E", "U", "R"], weights=[25, 45, 30])[0]
        entered = received + timedelta(seconds=rng.randint(20, 90))
        dispatched = entered + timedelta(seconds=rng.randint(20, 200))
        lat0, lon0 = coords[prefix]
        lat, lon = round(lat0 + rng.uniform(-0.05, 0.05), 5), round(lon0 + rng.uniform(-0.05, 0.05), 5)
        nature = rng.choice(NATURES)
        pool = [f"{prefix}-R2-{i:02d}" for i in range(1, 5)] + [f"{prefix}-R4-{i:02d}" for i in range(1, 4)]
        free = [u for u in pool if busy_until.get(u, day) <= dispatched] or pool
        units = rng.sample(free, k=min(len(free), rng.choices([1, 2, 3], weights=[60, 30, 10])[0]))
        cancelled = rng.random() < 0.05
        response_s = max(90.0, rng.lognormvariate(math.log(median_min * 60), 0.45))
        rows = []
        for k, unit in enumerate(units):
            u_dispatched = dispatched + timedelta(seconds=k * rng.randint(0, 90))
            u_en_route = u_dispatched + timedelta(seconds=rng.randint(15, 90))
            on_scene = "" if cancelled else received + timedelta(seconds=response_s + k * rng.randint(30, 240))
            if on_scene and on_scene <= u_en_route:
                on_scene = u_en_route + timedelta(seconds=30)
            available = (on_scene or u_en_route) + timedelta(minutes=rng.randint(5, 60))
            busy_until[unit] = available
            rows.append((unit, u_dispatched, u_en_route, on_scene, available))
        closed = max(r[4] for r in rows) + timedelta(minutes=rng.randint(0, 10))
        for unit, u_dispatched, u_en_route, on_scene, available in rows:
            kind = "MOTOR" if "-R2-" in unit else "MOBIL"
            yield [f"KT{received:%y%m%d}-{number:05d}", received.strftime(fmt), entered.strftime(fmt),
                   u_dispatched.strftime(fmt), u_en_route.strftime(fmt),
                   on_scene.strftime(fmt) if on_scene else "", available.strftime(fmt), closed.strftime(fmt),
                   unit, kind, f"POS {prefix}", district, priority, nature, f"{lat}", f"{lon}"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shape", choices=("contact-centre", "cad"))
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--day", default="2026-11-22", help="the (first) local day, YYYY-MM-DD (WITA)")
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--incidents", type=int, default=250)
    parser.add_argument("--days", type=int, default=1, help="contact-centre: spread the calls over this many days")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    day = datetime.strptime(args.day, "%Y-%m-%d")
    if args.shape == "contact-centre":
        rows = contact_centre_rows(args.calls, day, 110 if args.seed is None else args.seed, args.days)
        with args.out.open("w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle, delimiter=";", lineterminator="\r\n").writerows(rows)
    else:
        rows = cad_rows(args.incidents, day, 7 if args.seed is None else args.seed)
        with args.out.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)


if __name__ == "__main__":
    main()
