"""HTTP benchmark: sales and other operations through /api/v1 against the production
server (granian).

Run by ``make bench`` (``python -m bench.http_sales``); see bench/README.md. On SQLite and
PostgreSQL, each in a fresh database seeded like the ledger benchmark's (100,000
customers with a paid and a bonus account, and one hot customer), ``prepaid serve``
runs as docs/install.md advises (one worker process on SQLite, two on PostgreSQL), and 4
or 16 client processes, each with one keep-alive connection, post requests of one kind
for a fixed time: to random customers, or all to the hot one. The kinds
(``bench.http_kinds``): ``sale``, a sale of one product; ``redemption``, one use of a
punch card every customer holds; ``program_sale``, a sale to a tier member with a
coupon of its own, earning points. Each request is a real API request: token,
Idempotency-Key, JSON body, the service, the stored idempotent answer. The raw-SQL
baseline of the ledger benchmark runs on the same database with as many workers, so the
ratio compares like with like on this machine at this moment; every kind is compared
with the sale measured just before it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import shutil
import tempfile
import time
import uuid
from array import array
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from bench import ledger as ledger_bench
from bench import seed
from bench.databases import scratch_database
from bench.http_kinds import KINDS, SALE, Kind
from bench.served import Client, server
from bench.worker import Case

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "bench"
TARGET = {"backend": "postgres", "accounts": "random", "clients": 4}
TARGET_RATIO = 0.25
TARGET_P99_MS = 25.0
# More requests a second than one client process could send (they are ~30–150): the
# per-request things a kind writes for each client (coupons) are sized by it.
MAX_CLIENT_RATE = 1_000


@dataclass(frozen=True)
class Shop:
    """What the clients post with: the cashier's token, the product a sale sells, the
    customers (codes of the indexes ``first`` … ``first + customers − 1``, and a hot one)
    and what a kind's set-up adds for its bodies (``extra``). Every client process of a
    kind's cases has a slot of its own, numbered from 1 (0: the request
    ``statements_per_request`` counts): ``slots`` of them, of ``per_slot`` requests at
    most each, so a kind may write a thing per request (a coupon) no other request
    takes."""

    token: str
    product_id: int
    customers: int
    hot_code: str
    first: int = 0
    slots: int = 1
    per_slot: int = 2
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Measure:
    rate: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def kinds(text: str) -> list[str]:
    names = [name for name in text.split(",") if name]
    unknown = [name for name in names if name not in KINDS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown kind {', '.join(unknown) or '(none)'}; known: {', '.join(KINDS)}"
        )
    return names


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.http_sales", description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgres", type=lambda s: s.split(","))
    parser.add_argument("--clients", default="4,16", type=lambda s: [int(n) for n in s.split(",")])
    parser.add_argument("--customers", default=100_000, type=int)
    parser.add_argument(
        "--kinds",
        default="sale,redemption,program_sale",
        type=kinds,
        help=f"what the clients post, each in its own case: {', '.join(KINDS)}",
    )
    parser.add_argument(
        "--server-workers",
        default=None,
        type=int,
        help="server processes; default as docs/install.md advises: 1 on SQLite, 2 on PostgreSQL",
    )
    parser.add_argument(
        "--accounts",
        default="random,hot",
        type=lambda s: s.split(","),
        help="random customers, all to the hot one, or both",
    )
    parser.add_argument(
        "--rounds",
        default=3,
        type=int,
        help="times each case runs, the kinds in turn (a different one first each round);"
        " the figures are the rounds' medians",
    )
    parser.add_argument("--warmup", default=2.0, type=float, help="seconds, not measured")
    parser.add_argument("--duration", default=5.0, type=float, help="seconds measured")
    parser.add_argument(
        "--setup-only",
        action="store_true",
        help="set up, count one request of each kind and verify; measure nothing",
    )
    parser.add_argument("--out", default=OUT_DIR, type=Path, help="folder of http_sales.json")
    return parser.parse_args(argv)


def prepare_shop(env: dict[str, str], customers: int) -> Shop:
    """In a child process: bonus accounts beside the seeded wallets (as every real
    customer has after a top-up), a product of 0.01 and a cashier's token."""
    seed.setup_django(env)
    from decimal import Decimal

    from django.db import connection
    from django.utils import timezone

    from prepaid.catalog.models import Product
    from prepaid.staff.models import Role, Store
    from prepaid.staff.tokens import create_token

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_account (kind, customer_id, unit, debits_posted,"
            ' credits_posted, "floor", created_at) SELECT %s, customer_id, unit, 0, 0, 0, %s'
            " FROM ledger_account WHERE kind = %s",
            ["bonus", timezone.now(), "wallet"],
        )
    product = Product.objects.create(name="Refill", unit="piece", unit_price=Decimal("0.01"))
    _, key = create_token("bench", Role.CASHIER, store=Store.objects.get())
    seed.settle(connection)
    return Shop(key, product.pk, customers, seed.customer_code(customers))


def prepare_kind(env: dict[str, str], shop: Shop, name: str) -> Shop:
    """In a child process: what the kind needs beside the shop (a punch card each, tier
    members and coupons…); answers the kind's shop."""
    setup = KINDS[name].setup
    if setup is None:
        return shop
    seed.setup_django(env)
    return setup(shop) or shop


def slots(args: argparse.Namespace) -> tuple[int, int]:
    """``Shop.slots`` and ``Shop.per_slot`` for this run: a slot per client process of a
    kind's cases (both accounts, every number of clients) and one for the counted
    request; each as long as a client could post in a case's warm-up and duration."""
    cases = 0 if args.setup_only else args.rounds * len(args.accounts) * sum(args.clients)
    per_slot = max(2, int((args.warmup + args.duration) * MAX_CLIENT_RATE))
    return 1 + cases, per_slot


def statements_per_request(env: dict[str, str], shop: Shop, name: str) -> dict[str, Any]:
    """In a child process: the SQL statements of one API request of the kind, counted
    in-process by Django (after a first request has warmed the token's last use and the
    house accounts), and what the kind's ``check`` finds wrong with its answer. The
    transaction's BEGIN and COMMIT count too (added where Django did not record them),
    and so does the connection's health check: the figure is what the database server
    receives (checked against PostgreSQL's log_statement once)."""
    seed.setup_django(env)
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    kind = KINDS[name]
    browser = DjangoClient(SERVER_NAME="127.0.0.1")
    path = kind.path.format(code=seed.customer_code(shop.first + 1))

    def request(count: int) -> tuple[int, Any]:
        body = json.dumps(kind.body(shop, 0, count))
        headers = {"Authorization": f"Bearer {shop.token}", "Idempotency-Key": uuid.uuid4().hex}
        response = browser.post(path, body, content_type="application/json", headers=headers)
        status = int(response.status_code)
        return status, json.loads(response.content) if status == 201 else None

    request(0)
    with CaptureQueriesContext(connection) as queries:
        status, answer = request(1)
    sql = [query["sql"] for query in queries.captured_queries]
    savepoints = sum(1 for text in sql if "SAVEPOINT" in text)
    control = sum(1 for word in ("BEGIN", "COMMIT") if not any(t.startswith(word) for t in sql))
    # Django's check that a kept connection still works (CONN_HEALTH_CHECKS: a "SELECT 1"
    # before the first query of each request) goes around the recorded cursor.
    health = 1 if connection.settings_dict.get("CONN_HEALTH_CHECKS") else 0
    counted = len(sql) + control + health
    problems = kind.check(answer) if kind.check is not None and answer is not None else []
    return {"status": status, "statements": counted, "savepoints": savepoints, "problems": problems}


def client(
    host: str,
    port: int,
    shop: Shop,
    case: tuple[str, str],
    timing: tuple[float, float],
    barrier: Any,
    results: Any,
    number: int,
    slot: int,
) -> None:
    """One client process: requests of the kind for warm-up + duration seconds;
    latencies of the second. ``slot``: its own in the run (``Shop``)."""
    name, accounts = case
    warmup, duration = timing
    kind = KINDS[name]
    picker = random.Random(number)
    connection = Client(host, port, token=shop.token)
    latencies, errors, count = array("q"), 0, 0
    barrier.wait()
    began = time.monotonic()
    measuring_from, ends = began + warmup, began + warmup + duration
    while (now := time.monotonic()) < ends:
        code = (
            shop.hot_code
            if accounts == "hot"
            else seed.customer_code(shop.first + picker.randrange(shop.customers))
        )
        body = kind.body(shop, slot, count)
        count += 1
        sent = time.perf_counter_ns()
        status, _ = connection.request(
            "POST", kind.path.format(code=code), body, key=uuid.uuid4().hex
        )
        if now >= measuring_from:
            if status == 201:
                latencies.append(time.perf_counter_ns() - sent)
            else:
                errors += 1
    connection.close()
    results.put((latencies, errors))


def run_case(
    ctx: BaseContext,
    address: tuple[str, int],
    shop: Shop,
    case: tuple[str, str],
    clients: int,
    timing: tuple[float, float],
    first_slot: int = 1,
) -> Measure:
    """``clients`` processes posting requests of ``case`` = (kind, accounts), in the
    slots from ``first_slot`` on."""
    barrier, results = ctx.Barrier(clients), ctx.Queue()
    processes = [
        ctx.Process(
            target=client,
            args=(*address, shop, case, timing, barrier, results, number, first_slot + number),
        )
        for number in range(clients)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    ordered = sorted(latency for latencies, _ in outcomes for latency in latencies)
    return Measure(
        rate=len(ordered) / timing[1],
        p50_ms=ledger_bench.percentile(ordered, 0.50),
        p99_ms=ledger_bench.percentile(ordered, 0.99),
        requests=len(ordered),
        errors=sum(errors for _, errors in outcomes),
    )


def turn(names: list[str], number: int) -> list[str]:
    """The kinds in the order of round ``number``: each round starts one further, so no
    kind always runs first after the database was idle, or last after the others warmed
    it (a slow drift of the machine weighs on every kind alike)."""
    shift = number % len(names)
    return names[shift:] + names[:shift]


def median_measure(measures: list[Measure]) -> Measure:
    """The round whose rate is the median (the lower middle of an even count): its
    rate with its own latencies, not a mix of rounds."""
    ordered = sorted(measures, key=lambda measure: measure.rate)
    return ordered[(len(ordered) - 1) // 2]


def vs_sale(rounds: list[dict[str, Measure]], name: str) -> float | None:
    """The median over the rounds of the kind's rate over the sale's in the same round
    (a pair measured within seconds of each other), or None without a sale."""
    ratios = sorted(
        measured[name].rate / max(measured[SALE.name].rate, 1e-9)
        for measured in rounds
        if SALE.name in measured
    )
    if not ratios:
        return None
    middle = len(ratios) // 2
    return ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2


def run_backend(
    ctx: BaseContext, backend: str, args: argparse.Namespace, scratch: Path
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The cases of one backend (table rows), and what was checked: each kind's first
    answer and statements, the transfers at the end and ``verify``'s violations."""
    rows = []
    timing = (args.warmup, args.duration)
    workers = args.server_workers or (1 if backend == "sqlite" else 2)
    # A database of this run's own (prepaid_bench_http_<pid> on PostgreSQL): another run,
    # or another benchmark, beside it cannot drop it.
    with scratch_database(backend, scratch, f"bench_http_{os.getpid()}") as env:
        fixture = ledger_bench.seeded(ctx, backend, env, args.customers)
        shop = ledger_bench.in_child(ctx, prepare_shop, env, args.customers)
        count, per_slot = slots(args)
        shop = replace(shop, slots=count, per_slot=per_slot)
        counted, shops = {}, {}
        for name in args.kinds:
            began = time.monotonic()
            shops[name] = ledger_bench.in_child(ctx, prepare_kind, env, shop, name)
            counted[name] = ledger_bench.in_child(
                ctx, statements_per_request, env, shops[name], name
            )
            problems = counted[name]["problems"]
            wrong = f"; WRONG: {', '.join(problems)}" if problems else ""
            print(
                f"{backend}: an API {name} is {counted[name]['statements']} SQL statements"
                f" ({counted[name]['savepoints']} of them SAVEPOINT/RELEASE; answer"
                f" {counted[name]['status']}{wrong}; set up in {time.monotonic() - began:.0f} s)",
                flush=True,
            )
        next_slot = dict.fromkeys(args.kinds, 1)
        for accounts in () if args.setup_only else args.accounts:
            for clients in args.clients:
                rounds: list[dict[str, Measure]] = []
                for number in range(args.rounds):
                    measured = {}
                    for name in turn(args.kinds, number):
                        with server(env["DATABASE_URL"], scratch, workers=workers) as address:
                            case = (name, accounts)
                            measured[name] = run_case(
                                ctx, address, shops[name], case, clients, timing, next_slot[name]
                            )
                        next_slot[name] += clients
                    rounds.append(measured)
                raw_case = Case(backend, "raw", accounts, clients)
                raw = ledger_bench.run_case(ctx, env, raw_case, fixture, timing)
                for name in args.kinds:
                    http = median_measure([measured[name] for measured in rounds])
                    row = {
                        "backend": backend,
                        "kind": name,
                        "statements_per_request": counted[name]["statements"],
                        "server_workers": workers,
                        "accounts": accounts,
                        "clients": clients,
                        "http": asdict(http),
                        "rounds": [measured[name].rate for measured in rounds],
                        "raw": {"rate": raw.rate, "p50_ms": raw.p50_ms, "p99_ms": raw.p99_ms},
                        "ratio": http.rate / max(raw.rate, 1e-9),
                        "vs_sale": vs_sale(rounds, name),
                    }
                    print("  " + format_row(row), flush=True)
                    rows.append(row)
        transfers, violations = ledger_bench.in_child(ctx, seed.check, env)
        print(f"{backend}: {transfers:,} transfers, verify: {violations or 'ok'}", flush=True)
    return rows, {"requests": counted, "transfers": transfers, "verify": violations}


HEADER = (
    f"{'backend':<8} {'kind':<12} {'accounts':<7} {'clients':>7} | {'req/s':>7} {'p50 ms':>7}"
    f" {'p99 ms':>7} | {'raw tx/s':>8} | http/raw | {'÷ sale':>6}"
)


def format_row(row: dict[str, Any]) -> str:
    http = row["http"]
    vs_sale = "" if row["vs_sale"] is None else f"{row['vs_sale']:.2f}"
    text = (
        f"{row['backend']:<8} {row['kind']:<12} {row['accounts']:<7} {row['clients']:>7} |"
        f" {http['rate']:>7,.0f} {http['p50_ms']:>7.2f} {http['p99_ms']:>7.2f} |"
        f" {row['raw']['rate']:>8,.0f} | {row['ratio']:>8.0%} | {vs_sale:>6}"
    )
    spread = row.get("rounds") or []
    if len(spread) > 1:
        text += f"  (rounds {min(spread):,.0f}–{max(spread):,.0f})"
    return text + (f"  ({http['errors']} not 201)" if http["errors"] else "")


def statements(checked: dict[str, dict[str, Any]]) -> str:
    by_kind: dict[str, list[str]] = {}
    for backend, found in checked.items():
        for kind, counted in found["requests"].items():
            by_kind.setdefault(kind, []).append(f"{backend} {counted['statements']}")
    return "; ".join(f"{kind}: {', '.join(counts)}" for kind, counts in by_kind.items())


def _target_row(rows: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    wanted = {**TARGET, "kind": kind}
    found = [row for row in rows if all(row[key] == value for key, value in wanted.items())]
    return found[0] if found else None


def targets(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The sale against raw SQL (≥ TARGET_RATIO, p99 ≤ TARGET_P99_MS); every other kind
    with a goal against the sale, at the TARGET case."""
    goals: dict[str, dict[str, Any]] = {}
    sale = _target_row(rows, SALE.name)
    goals["sale"] = (
        {
            "checked": True,
            "ratio": sale["ratio"],
            "p99_ms": sale["http"]["p99_ms"],
            "met": sale["ratio"] >= TARGET_RATIO and sale["http"]["p99_ms"] <= TARGET_P99_MS,
        }
        if sale
        else {"checked": False}
    )
    for kind in KINDS.values():
        if kind.goal is None:
            continue
        row = _target_row(rows, kind.name)
        if row is None or row["vs_sale"] is None:
            goals[kind.name] = {"checked": False}
            continue
        least, _words = kind.goal
        goals[kind.name] = {
            "checked": True,
            "least_vs_sale": least,
            "vs_sale": row["vs_sale"],
            "met": row["vs_sale"] >= least,
        }
    return goals


def target_lines(goals: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    sale = goals["sale"]
    if sale["checked"]:
        lines.append(
            f"Target (PostgreSQL, random, 4 clients: a sale ≥ {TARGET_RATIO:.0%} of raw, p99 ≤"
            f" {TARGET_P99_MS:g} ms): {'MET' if sale['met'] else 'NOT MET'} —"
            f" {sale['ratio']:.0%}, p99 {sale['p99_ms']:.2f} ms"
        )
    for name, goal in goals.items():
        kind: Kind | None = KINDS.get(name)
        if kind is None or kind.goal is None or not goal["checked"]:
            continue
        lines.append(
            f"{kind.goal[1]} (PostgreSQL, random, 4 clients): {'MET' if goal['met'] else 'NOT MET'}"
            f" — ratio {goal['vs_sale']:.2f} (at least {goal['least_vs_sale']:.2f})"
        )
    return lines


def report(
    rows: list[dict[str, Any]],
    checked: dict[str, dict[str, Any]],
    args: argparse.Namespace,
    load_at_start: float,
) -> None:
    goals = targets(rows)
    if rows:
        print(f"\nThrough HTTP, {args.duration:g} s per case, N = {args.customers:,}")
        print(HEADER)
        print("-" * len(HEADER))
        for row in rows:
            print(format_row(row))
        print(
            f"req/s, p50, p99: the median of {args.rounds} round(s), the kinds in turn;"
            " ÷ sale: the median of each round's kind req/s over its sale's"
        )
    print(f"SQL statements per API request (BEGIN and COMMIT included): {statements(checked)}")
    if lines := target_lines(goals):
        print("\n" + "\n".join(lines))
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "customers": args.customers,
        "kinds": args.kinds,
        "rounds": args.rounds,
        "warmup_seconds": args.warmup,
        "duration_seconds": args.duration,
        "cpus": multiprocessing.cpu_count(),
        "load_average_at_start": load_at_start,
        "load_average_at_end": os.getloadavg()[0],
        "python": platform.python_version(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "http_sales.json"
    document = {"meta": meta, "targets": goals, "checked": checked, "cases": rows}
    path.write_text(json.dumps(document, indent=2) + "\n")
    ended = meta["load_average_at_end"]
    print(f"1-minute load average: {load_at_start:.2f} at the start, {ended:.2f} at the end")
    print(f"Written to {path}")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    load_at_start = os.getloadavg()[0]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    ctx = multiprocessing.get_context("fork")
    scratch = Path(tempfile.mkdtemp(prefix="http-", dir=OUT_DIR))
    try:
        done = {name: run_backend(ctx, name, args, scratch) for name in args.backends}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    rows = [row for found, _checked in done.values() for row in found]
    checked = {name: checked for name, (_rows, checked) in done.items()}
    report(rows, checked, args, load_at_start)


if __name__ == "__main__":
    main()
