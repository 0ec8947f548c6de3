"""Reports benchmark: statements, what was owed day by day, aging and the burn-down on a
year of a chain's ledger.

Run with ``python -m bench.reports`` (``make bench`` runs it too); see bench/README.md.
On each engine a generated ledger (``bench.reports_ledger``: 10,000,000 transfers on
PostgreSQL, 2,000,000 on SQLite, 1,000,000 customers, 5 stores, 6 payment methods, 365
days) is loaded once and kept between runs (``bench.reports_db``); the finished days are
summarised once (``reports.days.summarise_finished``: timed, the one-time cost); the
worker's other two chores are timed too: today's interim, summarised up to five minutes
before "now" (``days.keep_interim``), and the daily computation of aging, the burn-down
and the dormant balances (``balances.record``). Then each read is timed one call after
the other:

==============  ==========================================================  ========
read            call                                                        target
==============  ==========================================================  ========
daily           ``statement(day, day)``, a random finished day               50 ms
daily today     ``statement(today, today)``: the interim and the minutes since    50 ms
monthly         ``statement(first, last)`` of a random past calendar month   100 ms
series          ``liability_series`` of the 365 days up to today             100 ms
aging           ``balances.standing().aging``: the day's computation, read      1 s
burn-down       ``balances.standing().burn``                                    1 s
dormant         ``balances.standing().dormant[90]`` (no target in the issue)   1 s
==============  ==========================================================  ========

For a read whose p99 misses its target, the SQL statements of one call are timed again
and the slowest explained (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import platform
import random
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bench import reports_db
from bench import reports_ledger as generated
from bench.common import in_child, percentile, server_version
from bench.databases import PG_SERVER, scratch_database
from bench.reports_ledger import Shape

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "bench"
CACHE_DIR = OUT_DIR / "reports-cache"
TRANSFERS = {"postgres": 10_000_000, "sqlite": 2_000_000}
CUSTOMERS = 1_000_000
READS = ("daily", "daily today", "monthly", "series", "aging", "burn-down", "dormant")
SUMMARY_FREE = {"aging", "burn-down", "dormant"}  # reads that do not use the day summaries
FULL_VERIFY_UP_TO = 100_000  # transfers; above, only the totals (verify takes minutes)


@dataclass(frozen=True)
class Read:
    name: str
    target_ms: float
    call: Callable[[random.Random], Any]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgres", type=lambda s: s.split(","))
    parser.add_argument(
        "--transfers", type=int, help="default: 10,000,000 on PostgreSQL, 2,000,000 on SQLite"
    )
    parser.add_argument("--customers", default=CUSTOMERS, type=int)
    parser.add_argument("--repeat", default=50, type=int, help="timed calls per read, at most")
    parser.add_argument(
        "--budget", default=60.0, type=float, help="seconds per read, at most (3 calls at least)"
    )
    parser.add_argument(
        "--reads", type=lambda s: s.split(","), help=f"some of: {', '.join(READS)} (default: all)"
    )
    parser.add_argument(
        "--call-timeout",
        default=600,
        type=int,
        help="seconds one call may take (then the read fails)",
    )
    parser.add_argument("--seed", default=42, type=int)
    parser.add_argument("--fresh", action="store_true", help="seed and summarise again")
    parser.add_argument(
        "--no-cache", action="store_true", help="a scratch database, dropped at the end"
    )
    parser.add_argument(
        "--verify",
        choices=("auto", "yes", "no"),
        default="auto",
        help=f"prepaid verify after seeding (auto: up to {FULL_VERIFY_UP_TO:,} transfers)",
    )
    parser.add_argument(
        "--seed-only", action="store_true", help="seed the cached databases, measure nothing"
    )
    parser.add_argument("--out", default=OUT_DIR, type=Path, help="where reports.json goes")
    return parser.parse_args(argv)


def shape_of(backend: str, args: argparse.Namespace) -> Shape:
    return Shape(
        transfers=args.transfers or TRANSFERS[backend],
        customers=args.customers,
        seed=args.seed,
    )


# -- databases and processes ------------------------------------------------------------


def _admin(sql: str) -> Any:
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        cursor = connection.execute(sql)
        return cursor.fetchall() if cursor.description else None


@contextmanager
def database(backend: str, shape: Shape, args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """The environment of the engine's database, and where its cache marker lives.

    Cached (the default): a file ``var/bench/reports-cache/<shape>.sqlite3``, or a
    database ``prepaid_bench_reports_<shape>`` on PostgreSQL, kept for the next run; a
    marker file beside it says it was seeded (and summarised) completely. ``--fresh``
    starts it again; ``--no-cache`` uses a scratch database, dropped afterwards."""
    if args.no_cache:
        scratch = Path(tempfile.mkdtemp(prefix="scratch-reports-", dir=args.out))
        try:
            with scratch_database(backend, scratch, "bench_reports") as env:
                yield {"env": env, "marker": scratch / "marker.json"}
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return
    cache = CACHE_DIR  # not under --out: the PostgreSQL databases are not either
    cache.mkdir(parents=True, exist_ok=True)
    marker = cache / f"{backend}-{shape.name}.json"
    env = {
        "DJANGO_SETTINGS_MODULE": "prepaid.settings",
        "PREPAID_DATA_DIR": str(cache),
        "SECRET_KEY": "bench-only-not-secret",
        "DEBUG": "false",
    }
    if backend == "sqlite":
        path = cache / f"{shape.name}.sqlite3"
        if args.fresh or not marker.exists():
            marker.unlink(missing_ok=True)
            for leftover in cache.glob(f"{shape.name}.sqlite3*"):
                leftover.unlink()
        yield {"env": {**env, "DATABASE_URL": f"sqlite:///{path}"}, "marker": marker}
        return
    name = f"prepaid_bench_reports_{shape.name}"
    exists = _admin(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if args.fresh or not marker.exists() or not exists:
        marker.unlink(missing_ok=True)
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        _admin(f"CREATE DATABASE {name}")
    yield {"env": {**env, "DATABASE_URL": f"{PG_SERVER}/{name}"}, "marker": marker}


# -- one engine, in its own process -----------------------------------------------------


def engine(place: dict[str, Any], shape: Shape, args: argparse.Namespace) -> dict[str, Any]:
    """Seed (unless cached), summarise (unless done for this code), check, time."""
    reports_db.migrate(place["env"])
    from django.db import connection

    marker: Path = place["marker"]
    state = json.loads(marker.read_text()) if marker.exists() else {}
    if "seed" not in state:
        print(f"  seeding {shape.transfers:,} transfers, {shape.customers:,} customers…")
        state = {"seed": reports_db.seed(shape, log=lambda line: print(line, flush=True))}
        full = args.verify == "yes" or (
            args.verify == "auto" and shape.transfers <= FULL_VERIFY_UP_TO
        )
        state["seed"]["checks"] = reports_db.check(full)
        state["seed"]["date"] = datetime.now(UTC).isoformat(timespec="seconds")
        marker.write_text(json.dumps(state, indent=2) + "\n")
        state["seed"]["cached"] = False
    else:
        state["seed"]["cached"] = True
    seeding = state["seed"]
    print(f"  seeded: {_sizes(seeding)} ({_seed_time(seeding)})", flush=True)
    if args.seed_only:
        return {"seed": seeding}
    wanted = [read for read in reads(shape) if read.name in (args.reads or READS)]
    summary = state.get("summary")
    if all(read.name in SUMMARY_FREE for read in wanted):
        summary = {"skipped": True}  # nothing measured reads them: not worth the catch-up
    elif summary is None or summary["code"] != code_fingerprint() or args.fresh:
        summary = summarise(connection)
        state["summary"] = summary
        marker.write_text(json.dumps({k: v for k, v in state.items()}, indent=2) + "\n")
        summary = {**summary, "cached": False}
    else:
        summary = {**summary, "cached": True}
    chores = worker_chores()
    print(f"  {_chores_text(chores)}", flush=True)
    checks = {}
    if not summary.get("skipped"):
        print(f"  {_summary_text(summary)}", flush=True)
        try:
            with deadline(args.call_timeout):
                checks = cross_checks()
        except CallTimeout:
            checks = {"cross_checks_finished": False}
        print(f"  cross-checks: {checks}", flush=True)
    load_before = os.getloadavg()[0]
    timings = {read.name: measure(read, args) for read in wanted}
    load = {"before": load_before, "after": os.getloadavg()[0]}
    plans = explain_missed(wanted, timings, args.call_timeout)
    return {
        "engine": connection.vendor,
        "server": server_version(connection),
        "shape": shape.__dict__,
        "seed": seeding,
        "summary": summary,
        "chores": chores,
        "checks": checks,
        "load_average": load,
        "reads": timings,
        "plans": plans,
    }


def _sizes(seeding: dict[str, Any]) -> str:
    return (
        f"{seeding['customers']:,} customers, {seeding['transfers']:,} transfers,"
        f" {seeding['batches']:,} batches, {seeding['sale_lines']:,} sale lines"
    )


def _summary_text(summary: dict[str, Any]) -> str:
    if summary.get("skipped"):
        return "days not summarised (no read measured needs them)"
    return (
        f"{summary['days']} finished days summarised in {summary['seconds']:.1f} s"
        + (" (earlier run)" if summary["cached"] else "")
        + f" ({summary['flow_rows']:,} flow rows)"
    )


def _seed_time(seeding: dict[str, Any]) -> str:
    when = f"cached, seeded {seeding['date'][:10]} in" if seeding.get("cached") else "in"
    return f"{when} {seeding['seed_seconds']:.0f} s"


def summarise(connection: Any) -> dict[str, Any]:
    """Summarise every finished day from scratch: the worker's one-time catch-up."""
    from prepaid.reports import days
    from prepaid.reports.models import FlowDay, LiabilityDay

    FlowDay.objects.all().delete()
    LiabilityDay.objects.all().delete()
    began = time.monotonic()
    done = days.summarise_finished(generated.NOW, limit=400)
    seconds = time.monotonic() - began
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM ANALYZE reports_flowday, reports_liabilityday")
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {
        "days": done,
        "seconds": seconds,
        "flow_rows": FlowDay.objects.count(),
        "code": code_fingerprint(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def worker_chores() -> dict[str, float]:
    """The worker's chores besides the day summaries, each timed once: today's interim up
    to five minutes before "now" (from the day's start), and the day's aging and
    burn-down, stored."""
    from prepaid.reports import balances, days
    from prepaid.reports.models import Interim, Outlook

    Interim.objects.all().delete()
    Outlook.objects.all().delete()
    began = time.monotonic()
    days.keep_interim(generated.NOW)
    interim = time.monotonic() - began
    began = time.monotonic()
    balances.record(generated.NOW)
    return {"interim_seconds": interim, "outlook_seconds": time.monotonic() - began}


def _chores_text(chores: dict[str, float]) -> str:
    return (
        f"worker: today's interim in {chores['interim_seconds']:.1f} s; aging, burn-down and"
        f" dormant balances computed in {chores['outlook_seconds']:.1f} s"
    )


def cross_checks() -> dict[str, bool]:
    """What the reports say now against the accounts' cached totals."""
    from prepaid.reports import balances, queries, statements

    now = generated.NOW
    owed = queries.liability()
    last = statements.liability_series(generated.TODAY, generated.TODAY, now=now)[-1].owed
    seen = balances.standing(now)
    return {
        "series_ends_at_the_liability": (last.paid, last.bonus, last.credit, last.holders)
        == (owed.paid, owed.bonus, owed.credit, owed.customers_with_balance),
        "aging_adds_up_to_the_paid_balances": seen.aging.total == owed.paid,
        "burn_down_holds_paid_and_bonus": seen.burn.held == owed.total,
    }


# -- the reads --------------------------------------------------------------------------


def months(first: date, last: date) -> list[tuple[date, date]]:
    """The calendar months wholly from ``first`` to ``last``."""
    found = []
    start = date(first.year, first.month, 1)
    if start < first:
        start = (start + timedelta(days=32)).replace(day=1)
    while True:
        following = (start + timedelta(days=32)).replace(day=1)
        if following - timedelta(days=1) > last:
            return found
        found.append((start, following - timedelta(days=1)))
        start = following


def reads(shape: Shape) -> list[Read]:
    from prepaid.reports import balances, statements

    now, today = generated.NOW, generated.TODAY
    finished = [shape.first_day + timedelta(days=n) for n in range(shape.days - 1)]
    past = months(shape.first_day, today - timedelta(days=1))

    def daily(rng: random.Random) -> Any:
        day = rng.choice(finished)
        return statements.statement(day, day, statements.Scope(), now=now)

    def monthly(rng: random.Random) -> Any:
        first, last = rng.choice(past)
        return statements.statement(first, last, statements.Scope(), now=now)

    return [
        Read("daily", 50, daily),
        Read("daily today", 50, lambda _: statements.statement(today, today, now=now)),
        Read("monthly", 100, monthly),
        Read(
            "series",
            100,
            lambda _: statements.liability_series(shape.first_day, today, now=now),
        ),
        Read("aging", 1000, lambda _: balances.standing(now).aging),
        Read("burn-down", 1000, lambda _: balances.standing(now).burn),
        Read("dormant", 1000, lambda _: balances.standing(now).dormant[90]),
    ]


class CallTimeout(Exception):
    """A call ran past ``--call-timeout``."""


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Raise ``CallTimeout`` after ``seconds``. On PostgreSQL an alarm signal does it
    (psycopg cancels the query it was waiting for); SQLite runs a statement in C without
    returning to Python, so a timer thread interrupts the connection instead. The
    connection is closed afterwards, to be safe."""
    from django.db import connection
    from django.db.utils import OperationalError

    def expire(_signum: int, _frame: Any) -> None:
        raise CallTimeout

    connection.ensure_connection()
    timer = None
    previous = signal.signal(signal.SIGALRM, expire)
    if connection.vendor == "sqlite":
        timer = threading.Timer(seconds, connection.connection.interrupt)
        timer.start()
    else:
        signal.alarm(seconds)
    try:
        yield
    except OperationalError as error:
        if timer is None or "interrupted" not in str(error):
            raise
        connection.close()
        raise CallTimeout from None
    except CallTimeout:
        connection.close()
        raise
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        if timer is not None:
            timer.cancel()


def _timed(read: Read, rng: random.Random, timeout: int) -> float:
    start = time.perf_counter_ns()
    with deadline(timeout):
        read.call(rng)
    return (time.perf_counter_ns() - start) / 1e6


def measure(read: Read, args: argparse.Namespace) -> dict[str, Any]:
    """One call not timed (unless it alone takes the budget), then up to ``--repeat``
    timed ones within ``--budget`` seconds (three at least); a call past
    ``--call-timeout`` ends the read, failed."""
    rng = random.Random(args.seed)
    samples: list[float] = []
    timed_out = False
    try:
        first = _timed(read, rng, args.call_timeout)
        if first > args.budget * 1000:
            samples.append(first)  # too slow to repeat: the cold call is the figure
        began = time.monotonic()
        while len(samples) < args.repeat and (
            len(samples) < 3 or time.monotonic() - began < args.budget
        ):
            samples.append(_timed(read, rng, args.call_timeout))
    except CallTimeout:
        timed_out = True
    ordered = sorted(samples)
    row = {
        "samples": len(samples),
        "p50_ms": percentile(ordered, 0.50) if ordered and not timed_out else None,
        "p99_ms": percentile(ordered, 0.99) if ordered and not timed_out else None,
        "max_ms": ordered[-1] if ordered and not timed_out else None,
        "timed_out_after_s": args.call_timeout if timed_out else None,
        "target_ms": read.target_ms,
    }
    row["met"] = row["p99_ms"] is not None and row["p99_ms"] <= read.target_ms
    print(f"  {read.name:<12} {_figures(row)}", flush=True)
    return row


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _figures(row: dict[str, Any]) -> str:
    text = (
        f"p50 {_ms(row['p50_ms']):>9} ms  p99 {_ms(row['p99_ms']):>9} ms  ({row['samples']} calls)"
    )
    if row["timed_out_after_s"]:
        text += f", a call ran past {row['timed_out_after_s']} s"
    return text


# -- explaining -------------------------------------------------------------------------


def explain_missed(
    wanted: list[Read], timings: dict[str, dict[str, Any]], timeout: int
) -> list[dict[str, Any]]:
    """For each read over its target: the distinct SQL statements of one call, each
    timed again once (with how often the call ran it), the two slowest explained."""
    plans = []
    for read in wanted:
        if timings[read.name]["met"]:
            continue
        statements = _statements(read, timeout)
        slowest = sorted(statements, key=lambda s: -s["ms"])[:2]
        plans.append(
            {
                "read": read.name,
                "statements": sum(s["runs"] for s in statements),
                "distinct": len(statements),
                "slowest": [
                    {
                        **s,
                        "params": _shorten(_plain(s["params"])),
                        "plan": _plan(s["sql"], s["params"], timeout),
                    }
                    for s in slowest
                ],
            }
        )
    return plans


def _statements(read: Read, timeout: int) -> list[dict[str, Any]]:
    """The distinct SQL statements of one call (up to the timeout), each run again once
    on its own, fetch included."""
    from django.db import connection

    caught: dict[str, dict[str, Any]] = {}

    def catch(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen = caught.setdefault(sql, {"sql": sql, "params": list(params or ()), "runs": 0})
        seen["runs"] += 1
        return execute(sql, params, many, context)

    try:
        with connection.execute_wrapper(catch), deadline(timeout):
            read.call(random.Random(0))
    except CallTimeout:
        pass
    timed = []
    for statement in caught.values():
        began = time.perf_counter_ns()
        try:
            with deadline(timeout), connection.cursor() as cursor:
                cursor.execute(statement["sql"], statement["params"])
                rows = len(cursor.fetchall())
        except CallTimeout:
            rows = -1
        ms = (time.perf_counter_ns() - began) / 1e6
        timed.append({**statement, "ms": ms, "rows": rows})
    return timed


def _plain(params: list[Any]) -> list[Any]:
    return [p if isinstance(p, int | float | str | type(None)) else str(p) for p in params]


def _cut(line: str, width: int = 240) -> str:
    return line if len(line) <= width else line[:width] + "…"


def _plan(sql: str, params: list[Any], timeout: int) -> str:
    from django.db import connection

    with deadline(timeout), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            # Lines cut short: a plan repeats an IN list of 500 ids in several nodes.
            return "\n".join(_cut(row[0]) for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        depth: dict[int, int] = {0: -1}
        lines = []
        for node, parent, _, detail in cursor.fetchall():
            depth[node] = depth.get(parent, -1) + 1
            lines.append(f"{'  ' * depth[node]}{detail}")
        return "\n".join(lines)


# -- reporting --------------------------------------------------------------------------

HEADER = (
    f"{'engine':<9} {'read':<12} {'calls':>5} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}"
    f" {'target':>7}  verdict"
)


def table(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [HEADER, "-" * len(HEADER)]
    for backend, result in results.items():
        for name, row in result["reads"].items():
            verdict = "met" if row["met"] else "NOT MET"
            if row["timed_out_after_s"]:
                verdict += f" (a call ran past {row['timed_out_after_s']} s)"
            lines.append(
                f"{backend:<9} {name:<12} {row['samples']:>5} {_ms(row['p50_ms']):>9}"
                f" {_ms(row['p99_ms']):>9} {_ms(row['max_ms']):>9} {row['target_ms']:>7g}"
                f"  {verdict}"
            )
    return lines


def format_plan(backend: str, plan: dict[str, Any]) -> str:
    parts = [
        f"--- {backend} {plan['read']}: {plan['statements']} statements"
        f" ({plan['distinct']} distinct); the slowest, run again once:"
    ]
    for statement in plan["slowest"]:
        parts.append(
            f"{statement['ms']:.1f} ms, {statement['rows']} rows (run {statement['runs']}"
            f" times in the call):\n{statement['sql'].strip()}\n"
            f"params: {statement['params']}\n{statement['plan']}"
        )
    return "\n\n".join(parts)


def _shorten(params: list[Any], shown: int = 8) -> str:
    if len(params) <= shown:
        return str(params)
    return f"{str(params[:shown])[:-1]}, … ({len(params)} in all)]"


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> Path:
    plans = [format_plan(b, plan) for b, result in results.items() for plan in result["plans"]]
    if plans:
        text = "\n\n".join(plans) + "\n"
        (args.out / "reports-explain.txt").write_text(text)
        print(f"\nThe slowest statements of each read over its target:\n\n{text}")
    print()
    for backend, result in results.items():
        seed, summary, load = result["seed"], result["summary"], result["load_average"]
        print(
            f"{backend} ({result['server']}): {_sizes(seed)};"
            f" {_seed_time(seed)}; {_summary_text(summary)}; {_chores_text(result['chores'])};"
            f" load {load['before']:.1f} →"
            f" {load['after']:.1f} on {os.cpu_count()} cores"
        )
    print("\n".join(table(results)))
    for backend, result in results.items():
        missed = [name for name, row in result["reads"].items() if not row["met"]]
        wrong = [name for name, ok in result["checks"].items() if not ok]
        print(
            f"{backend}: {'every target met' if not missed else 'NOT MET: ' + ', '.join(missed)}"
            + (f"; cross-checks FAILED: {', '.join(wrong)}" if wrong else "")
        )
    path = args.out / "reports.json"
    document = {"meta": describe(args), "engines": results}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"Written to {path}")
    return path


def code_fingerprint() -> str:
    """Which version of the code that writes the day summaries made them: the queries
    (``reports/flows.py``) and ``days.summarise``. Another change to the reports does not
    make the summaries stale (half an hour at 10M to write again)."""
    reports = ROOT / "prepaid" / "reports"
    digest = hashlib.sha256((reports / "flows.py").read_bytes())
    days_source = (reports / "days.py").read_text()
    begin = days_source.index("def summarise(")
    end = days_source.index("\ndef ", begin)
    digest.update(days_source[begin:end].encode())
    return digest.hexdigest()[:12]


def describe(args: argparse.Namespace) -> dict[str, Any]:
    import django

    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "now": generated.NOW.isoformat(),
        "repeat": args.repeat,
        "budget_seconds": args.budget,
        "seed": args.seed,
        "cpus": multiprocessing.cpu_count(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
        "reports_code": code_fingerprint(),
    }


# -- main -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    results = {}
    for backend in args.backends:
        shape = shape_of(backend, args)
        sizes = f"{shape.transfers:,} transfers, {shape.customers:,} customers"
        print(f"{backend}: {sizes}", flush=True)
        with database(backend, shape, args) as place:
            results[backend] = in_child(engine, place, shape, args)
    if not args.seed_only:
        report(results, args)
    print(f"Total {time.monotonic() - began:.0f} s")
    return results


if __name__ == "__main__":
    main()
