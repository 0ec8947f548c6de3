"""Ledger benchmark: ``prepaid.ledger.services.post`` against the same sale in raw SQL.

Run by ``make bench`` (``python -m bench.ledger``); see bench/README.md. Each case posts
sales for a fixed time from 1, 4 or 16 worker processes, on SQLite and on PostgreSQL, to
random customers among many or to one hot customer, and reports transfers per second
and latency. The benchmark makes its own databases and removes them afterwards.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any, TypeVar

import django
import psycopg

from bench import profiling, seed, worker
from bench.databases import scratch_database
from bench.seed import Fixture
from bench.worker import Case, Outcome

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "bench"
PATHS = ("raw", "service")
TARGET = {"backend": "postgres", "accounts": "random", "workers": 4}
TARGET_RATIO = 0.5
TARGET_P99_MS = 10.0
RESULT_TIMEOUT = 600.0

T = TypeVar("T")


@dataclass(frozen=True)
class Measure:
    """One path of one case: all its workers together."""

    rate: float  # transfers per second
    p50_ms: float
    p99_ms: float
    client_cpu_ms: float  # CPU of the worker processes per transfer (not the server's)
    transfers: int
    errors: int


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger", description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgres", type=lambda s: s.split(","))
    parser.add_argument(
        "--workers", default="1,4,16", type=lambda s: [int(n) for n in s.split(",")]
    )
    parser.add_argument("--customers", default=100_000, type=int)
    parser.add_argument("--warmup", default=1.0, type=float, help="seconds, not measured")
    parser.add_argument("--duration", default=3.0, type=float, help="seconds measured")
    parser.add_argument(
        "--profile",
        default=0.0,
        type=float,
        metavar="SECONDS",
        help="instead: profile one service worker on PostgreSQL for SECONDS",
    )
    return parser.parse_args(argv)


# -- databases --------------------------------------------------------------------------


@contextmanager
def database(backend: str, scratch: Path) -> Iterator[dict[str, str]]:
    """The environment of a fresh, empty benchmark database; dropped afterwards."""
    with scratch_database(backend, scratch, "bench") as env:
        yield env


def in_child(ctx: BaseContext, function: Callable[..., T], *args: Any) -> T:
    """Call ``function`` in a fresh process (Django is set up once per process)."""
    with ctx.Pool(1) as pool:
        return pool.apply(function, args)


# -- measuring --------------------------------------------------------------------------


def percentile(ordered: list[int], fraction: float) -> float:
    """Nearest-rank percentile of sorted nanoseconds, in milliseconds."""
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))
    return ordered[rank] / 1e6


def summarize(outcomes: list[Outcome]) -> Measure:
    for outcome in outcomes:
        if outcome.errors < 0:
            raise RuntimeError(f"a worker failed:\n{outcome.first_error}")
    ordered = sorted(latency for outcome in outcomes for latency in outcome.latencies)
    seconds = sum(outcome.seconds for outcome in outcomes) / len(outcomes)
    return Measure(
        rate=len(ordered) / seconds,
        p50_ms=percentile(ordered, 0.50),
        p99_ms=percentile(ordered, 0.99),
        client_cpu_ms=sum(o.cpu_seconds for o in outcomes) * 1e3 / max(len(ordered), 1),
        transfers=len(ordered),
        errors=sum(outcome.errors for outcome in outcomes),
    )


def run_case(
    ctx: BaseContext,
    env: dict[str, str],
    case: Case,
    fixture: Fixture,
    timing: tuple[float, float],
) -> Measure:
    """Start the case's workers together, collect what each measured."""
    barrier = ctx.Barrier(case.workers)
    results = ctx.Queue()
    processes = [
        ctx.Process(target=worker.run, args=(env, case, fixture, timing, barrier, results, i))
        for i in range(case.workers)
    ]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=RESULT_TIMEOUT) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    return summarize(outcomes)


def seeded(ctx: BaseContext, backend: str, env: dict[str, str], customers: int) -> Fixture:
    print(f"{backend}: seeding {customers:,} customers…", end=" ", flush=True)
    began = time.monotonic()
    fixture = in_child(ctx, seed.prepare, env, customers)
    print(f"{time.monotonic() - began:.0f} s", flush=True)
    return fixture


def run_backend(
    ctx: BaseContext, backend: str, args: argparse.Namespace, scratch: Path
) -> list[dict[str, Any]]:
    """Every case on one backend; a list of table rows."""
    rows: list[dict[str, Any]] = []
    with database(backend, scratch) as env:
        fixture = seeded(ctx, backend, env, args.customers)
        for accounts in ("random", "hot"):
            for workers in args.workers:
                row: dict[str, Any] = {"backend": backend, "accounts": accounts}
                row["workers"] = workers
                for path in PATHS:
                    case = Case(backend, path, accounts, workers)
                    timing = (args.warmup, args.duration)
                    row[path] = asdict(run_case(ctx, env, case, fixture, timing))
                row["ratio"] = row["service"]["rate"] / max(row["raw"]["rate"], 1e-9)
                print("  " + format_row(row), flush=True)
                rows.append(row)
        began = time.monotonic()
        transfers, violations = in_child(ctx, seed.check, env)
        print(
            f"{backend}: {transfers:,} transfers, verify: {violations or 'ok'}"
            f" ({time.monotonic() - began:.0f} s)",
            flush=True,
        )
    return rows


# -- reporting --------------------------------------------------------------------------

ACCOUNTS_LABEL = {"random": "random of N", "hot": "1 hot"}
CELLS = f"{'tx/s':>7} {'p50 ms':>7} {'p99 ms':>8} {'cpu ms':>6}"
HEADER = (
    f"{'':<28} | {'raw SQL':^31} | {'service':^31} |\n"
    f"{'backend':<8} {'accounts':<11} {'workers':>7} | {CELLS} | {CELLS} | service/raw"
)
LEGEND = (
    "tx/s: transfers per second, all workers; p50/p99: latency of one sale;"
    " cpu ms: worker CPU per sale"
)


def cells(measure: dict[str, Any]) -> str:
    return (
        f"{measure['rate']:>7,.0f} {measure['p50_ms']:>7.2f} {measure['p99_ms']:>8.2f}"
        f" {measure['client_cpu_ms']:>6.2f}"
    )


def format_row(row: dict[str, Any]) -> str:
    raw, service = row["raw"], row["service"]
    text = (
        f"{row['backend']:<8} {ACCOUNTS_LABEL[row['accounts']]:<11} {row['workers']:>7} | "
        f"{cells(raw)} | {cells(service)} | {row['ratio']:>10.0%}"
    )
    errors = raw["errors"] + service["errors"]
    return text + (f"  ({errors} failed)" if errors else "")


def target(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Service ≥ 50% of raw on PostgreSQL at 4 workers, service p99 under 10 ms."""
    wanted = [row for row in rows if all(row[name] == value for name, value in TARGET.items())]
    if not wanted:
        return {"checked": False}
    row = wanted[0]
    ratio, p99 = row["ratio"], row["service"]["p99_ms"]
    return {
        "checked": True,
        "ratio": ratio,
        "service_p99_ms": p99,
        "ratio_met": ratio >= TARGET_RATIO,
        "p99_met": p99 < TARGET_P99_MS,
        "met": ratio >= TARGET_RATIO and p99 < TARGET_P99_MS,
    }


def meta(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "customers": args.customers,
        "warmup_seconds": args.warmup,
        "duration_seconds": args.duration,
        "cpus": multiprocessing.cpu_count(),
        "load_average_at_end": os.getloadavg()[0],
        "python": platform.python_version(),
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
        "sqlite": sqlite3.sqlite_version,
    }


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    goal = target(rows)
    print()
    print(f"Sales posted in {args.duration:g} s per case, N = {args.customers:,} customers")
    print(HEADER)
    print("-" * len(HEADER.splitlines()[-1]))
    for row in rows:
        print(format_row(row))
    print(LEGEND)
    if goal["checked"]:
        verdict = "MET" if goal["met"] else "NOT MET"
        print(
            f"\nTarget (PostgreSQL, random accounts, 4 workers: service ≥ {TARGET_RATIO:.0%}"
            f" of raw, p99 < {TARGET_P99_MS:g} ms): {verdict} — service/raw"
            f" {goal['ratio']:.0%}, service p99 {goal['service_p99_ms']:.2f} ms"
        )
    path = OUT_DIR / "ledger.json"
    document = {"meta": meta(args), "target": goal, "cases": rows}
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"Written to {path.relative_to(ROOT)}")


# -- main -------------------------------------------------------------------------------


def profile_service(ctx: BaseContext, args: argparse.Namespace, scratch: Path) -> None:
    with database("postgres", scratch) as env:
        fixture = seeded(ctx, "postgres", env, args.customers)
        print(in_child(ctx, profiling.profile, env, fixture, args.profile))


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    # Fork: workers start fast (16 of them on 2 cores) and still set Django up themselves,
    # as this process never does.
    ctx = multiprocessing.get_context("fork")
    scratch = Path(tempfile.mkdtemp(prefix="run-", dir=OUT_DIR))
    try:
        if args.profile:
            profile_service(ctx, args, scratch)
            return
        rows = [row for name in args.backends for row in run_backend(ctx, name, args, scratch)]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report(rows, args)


if __name__ == "__main__":
    main()
