"""Import benchmark: a 100,000-row customer sheet through ``prepaid.sales.importing``.

Run with ``python -m bench.import_customers``. The sheet is as messy as real ones: phone
numbers stored as numbers (leading zero lost), Dutch and English amounts as text with
currency symbols, birthdays as dates and as Excel serials, tags, a title row above the
header, empty rows. On each engine, in a fresh database of its own (SQLite: a file under
var/bench/; PostgreSQL: ``prepaid_bench_import``, created and dropped here), it times:

1. read — openpyxl (read-only mode) turns the file into rows;
2. plan — clean, match and decide every row (what the preview shows);
3. commit — plan again and write everything in one transaction;
4. again — the same file imported a second time (every row skipped, nothing posted);

then runs ``prepaid verify``'s checks. The goal: read + commit ≤ 60 s per engine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.databases import scratch_database

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "bench"
GOAL_SECONDS = 60.0
GIVEN = ("Maria", "Jose", "Ana", "Juan", "Rosa", "Mark", "Grace", "Paolo", "Liza", "Ramon")
FAMILY = ("Santos", "Reyes", "Cruz", "Bautista", "Garcia", "Mendoza", "Dela Cruz", "Ramos")
CHINESE = ("王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "黄敏", "赵强")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.import_customers", description=__doc__)
    parser.add_argument("--rows", default=100_000, type=int)
    parser.add_argument("--backends", default="sqlite,postgres", type=lambda s: s.split(","))
    return parser.parse_args(argv)


# -- the sheet ----------------------------------------------------------------------------


def _row(index: int, rng: random.Random) -> list[Any]:
    name = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)} {index}"
    if index % 10 == 0:
        name = f"{rng.choice(CHINESE)}{index}"
    phone: Any = 9_170_000_000 + index  # stored as a number: the leading 0 is gone
    if index % 3 == 0:
        phone = f"0{phone // 10_000_000} {phone % 10_000_000:07d}"
    pesos, centavos = rng.randrange(0, 5000), rng.choice((0, 50, 25))
    amounts = (pesos + centavos / 100, f"₱{pesos:,}.{centavos:02d}", f"{pesos},{centavos:02d}")
    birthday: Any = dt.datetime(1950 + index % 50, 1 + index % 12, 1 + index % 28)
    if index % 2:
        birthday = (birthday - dt.datetime(1899, 12, 30)).days  # an Excel serial
    email = f"customer{index}@example.com" if index % 4 == 0 else None
    tags = "vip" if index % 7 == 0 else None
    return [name, phone, email, amounts[index % 3], birthday, tags, "  "]


def make_sheet(rows: int) -> Path:
    """A messy XLSX of ``rows`` customers, made once per size and kept under var/bench/.

    Written as Excel writes: shared strings and a <dimension> (openpyxl's write-only mode
    leaves the dimension out, and then every reader must scan the sheet once more).
    """
    import openpyxl

    path = OUT_DIR / f"customers-{rows}-excel.xlsx"
    if path.exists():
        return path
    rng = random.Random(7)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Customer list, exported from the old sheet"])
    sheet.append([])
    sheet.append(["Name", "Mobile", "E-mail", "Balance", "Birthday", "Tags", "Notes"])
    for index in range(rows):
        sheet.append(_row(index, rng))
        if index % 1000 == 999:
            sheet.append([])
    book.save(path)
    return path


# -- one engine, in a process of its own ----------------------------------------------


def _shop() -> Any:
    from django.contrib.auth import get_user_model

    from prepaid.ledger.services import Actor
    from prepaid.staff.models import Business, Staff, Store

    Business.objects.create(
        pk=1, name="Bench", currency="PHP", region="PH", time_zone="Asia/Manila"
    )
    store = Store.objects.create(name="Bench store")
    user = get_user_model().objects.create_user(username="owner")
    staff = Staff.objects.create(name="Owner", role=Staff.Role.OWNER, user=user)
    staff.stores.add(store)
    return Actor(store=store, staff=staff)


def _timed(timings: dict[str, float], name: str, function: Any, *args: Any, **kwargs: Any) -> Any:
    """Wall time, and this process's CPU time: on a shared machine the gap is waiting
    for a core (PostgreSQL's own work runs in its server process, not counted here)."""
    began, cpu = time.monotonic(), time.process_time()
    result = function(*args, **kwargs)
    timings[name] = time.monotonic() - began
    timings[f"{name}_cpu"] = time.process_time() - cpu
    print(f"  {name}: {timings[name]:.1f} s (CPU {timings[f'{name}_cpu']:.1f} s)", flush=True)
    return result


def measure(env: dict[str, str], path: Path) -> dict[str, Any]:
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from prepaid.customers.models import Customer
    from prepaid.ledger.models import Batch
    from prepaid.ledger.verify import verify
    from prepaid.sales import importing

    call_command("migrate", verbosity=0)
    actor = _shop()
    timings: dict[str, float] = {}
    sheet = _timed(timings, "read", importing.read_path, path, region="PH")
    mapping = importing.detect(sheet.headers)
    planned = _timed(timings, "plan", importing.plan, sheet, mapping)
    assert not planned.error_rows, [row.errors for row in planned.error_rows[:5]]
    result = _timed(timings, "commit", importing.commit, sheet, mapping, actor=actor)
    again = _timed(timings, "again", importing.commit, sheet, mapping, actor=actor)
    violations = verify()
    return {
        "engine": connection.vendor,
        "timings": timings,
        "import_seconds": timings["read"] + timings["commit"],
        "created": result.created,
        "openings": result.openings,
        "second_import": {"created": again.created, "skipped": again.skipped},
        "customers": Customer.objects.count(),
        "batches": Batch.objects.count(),
        "verify": [str(violation) for violation in violations],
    }


def run(backend: str, path: Path, scratch: Path) -> dict[str, Any]:
    print(f"{backend}:", flush=True)
    with (
        scratch_database(backend, scratch, "bench_import") as env,
        multiprocessing.get_context("spawn").Pool(1) as pool,
    ):
        return dict(pool.apply(measure, (env, path)))


def _load() -> str:
    """The machine's load average: other work on a 2-core machine shows in every figure."""
    one, five, _fifteen = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    path = make_sheet(args.rows)
    print(f"sheet: {path.relative_to(ROOT)} ({time.monotonic() - began:.0f} s)")
    scratch = Path(tempfile.mkdtemp(prefix="import-", dir=OUT_DIR))
    try:
        results = [run(backend, path, scratch) for backend in args.backends]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n{args.rows:,} rows (read + commit; goal ≤ {GOAL_SECONDS:g} s); load {_load()}:")
    for result in results:
        timings = result["timings"]
        verdict = "MET" if result["import_seconds"] <= GOAL_SECONDS else "NOT MET"
        print(
            f"  {result['engine']:<10} {result['import_seconds']:5.1f} s {verdict}"
            f"  (read {timings['read']:.1f}, commit {timings['commit']:.1f}, of which CPU"
            f" {timings['read_cpu'] + timings['commit_cpu']:.1f} s here; preview"
            f" {timings['plan']:.1f} s; same file again {timings['again']:.1f} s)"
            f"  verify: {result['verify'] or 'ok'}"
        )
    out = OUT_DIR / "import_customers.json"
    out.write_text(json.dumps({"rows": args.rows, "results": results}, indent=2) + "\n")
    print(f"Written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
