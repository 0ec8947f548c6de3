"""HTTP benchmark: sales through /api/v1 against the production server (granian).

Run by ``make bench`` (``python -m bench.http_sales``); see bench/README.md. On SQLite and
PostgreSQL, each in a fresh database seeded like the ledger benchmark's (100,000
customers with a paid and a bonus account, and one hot customer), ``prepaid serve``
runs as docs/install.md advises (one worker process on SQLite, two on PostgreSQL), and 4
or 16 client processes, each with one keep-alive connection, post sales of one product
for a fixed time: to random customers, or all to the hot one. Each sale is a real API
request: token, Idempotency-Key, JSON body, the selling service, the stored idempotent
answer. The raw-SQL baseline of the ledger benchmark runs on the same database with as
many workers, so the ratio compares like with like on this machine at this moment.
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
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from bench import ledger as ledger_bench
from bench import seed
from bench.served import Client, server
from bench.worker import Case

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "bench"
TARGET = {"backend": "postgres", "accounts": "random", "clients": 4}
TARGET_RATIO = 0.25
TARGET_P99_MS = 25.0


@dataclass(frozen=True)
class Shop:
    token: str
    product_id: int
    customers: int
    hot_code: str


@dataclass(frozen=True)
class Measure:
    rate: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.http_sales", description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgres", type=lambda s: s.split(","))
    parser.add_argument("--clients", default="4,16", type=lambda s: [int(n) for n in s.split(",")])
    parser.add_argument("--customers", default=100_000, type=int)
    parser.add_argument(
        "--server-workers",
        default=None,
        type=int,
        help="server processes; default as docs/install.md advises: 1 on SQLite, 2 on PostgreSQL",
    )
    parser.add_argument("--warmup", default=2.0, type=float, help="seconds, not measured")
    parser.add_argument("--duration", default=5.0, type=float, help="seconds measured")
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


def statements_per_sale(env: dict[str, str], shop: Shop) -> dict[str, int]:
    """In a child process: the SQL statements of one API sale, counted in-process by
    Django (after a first sale has warmed the token's last use and the revenue account).
    The transaction's BEGIN and COMMIT count too (added where Django did not record
    them), and so does the connection's health check: the figure is what the database
    server receives (checked against PostgreSQL's log_statement once)."""
    seed.setup_django(env)
    from django.db import connection
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    browser = DjangoClient(SERVER_NAME="127.0.0.1")
    body = json.dumps({"lines": [{"product": str(shop.product_id), "quantity": "1"}]})
    path = f"/api/v1/customers/{seed.customer_code(1)}/sales"

    def sale() -> int:
        headers = {"Authorization": f"Bearer {shop.token}", "Idempotency-Key": uuid.uuid4().hex}
        response = browser.post(path, body, content_type="application/json", headers=headers)
        return int(response.status_code)

    sale()
    with CaptureQueriesContext(connection) as queries:
        status = sale()
    sql = [query["sql"] for query in queries.captured_queries]
    savepoints = sum(1 for text in sql if "SAVEPOINT" in text)
    control = sum(1 for word in ("BEGIN", "COMMIT") if not any(t.startswith(word) for t in sql))
    # Django's check that a kept connection still works (CONN_HEALTH_CHECKS: a "SELECT 1"
    # before the first query of each request) goes around the recorded cursor.
    health = 1 if connection.settings_dict.get("CONN_HEALTH_CHECKS") else 0
    counted = len(sql) + control + health
    return {"status": status, "statements": counted, "savepoints": savepoints}


def client(
    host: str,
    port: int,
    shop: Shop,
    accounts: str,
    timing: tuple[float, float],
    barrier: Any,
    results: Any,
    number: int,
) -> None:
    """One client process: sales for warm-up + duration seconds; latencies of the second."""
    warmup, duration = timing
    picker = random.Random(number)
    connection = Client(host, port, token=shop.token)
    body = {"lines": [{"product": str(shop.product_id), "quantity": "1"}]}
    latencies, errors = array("q"), 0
    barrier.wait()
    began = time.monotonic()
    measuring_from, ends = began + warmup, began + warmup + duration
    while (now := time.monotonic()) < ends:
        code = (
            shop.hot_code
            if accounts == "hot"
            else seed.customer_code(picker.randrange(shop.customers))
        )
        sent = time.perf_counter_ns()
        status, _ = connection.request(
            "POST", f"/api/v1/customers/{code}/sales", body, key=uuid.uuid4().hex
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
    accounts: str,
    clients: int,
    timing: tuple[float, float],
) -> Measure:
    barrier, results = ctx.Barrier(clients), ctx.Queue()
    processes = [
        ctx.Process(
            target=client, args=(*address, shop, accounts, timing, barrier, results, number)
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


def run_backend(
    ctx: BaseContext, backend: str, args: argparse.Namespace, scratch: Path
) -> list[dict[str, Any]]:
    rows = []
    timing = (args.warmup, args.duration)
    workers = args.server_workers or (1 if backend == "sqlite" else 2)
    with ledger_bench.database(backend, scratch) as env:
        fixture = ledger_bench.seeded(ctx, backend, env, args.customers)
        shop = ledger_bench.in_child(ctx, prepare_shop, env, args.customers)
        counted = ledger_bench.in_child(ctx, statements_per_sale, env, shop)
        print(
            f"{backend}: an API sale is {counted['statements']} SQL statements"
            f" ({counted['savepoints']} of them SAVEPOINT/RELEASE; answer {counted['status']})",
            flush=True,
        )
        for accounts in ("random", "hot"):
            for clients in args.clients:
                with server(env["DATABASE_URL"], scratch, workers=workers) as address:
                    http = run_case(ctx, address, shop, accounts, clients, timing)
                raw_case = Case(backend, "raw", accounts, clients)
                raw = ledger_bench.run_case(ctx, env, raw_case, fixture, timing)
                row = {
                    "backend": backend,
                    "statements_per_sale": counted["statements"],
                    "server_workers": workers,
                    "accounts": accounts,
                    "clients": clients,
                    "http": asdict(http),
                    "raw": {"rate": raw.rate, "p50_ms": raw.p50_ms, "p99_ms": raw.p99_ms},
                    "ratio": http.rate / max(raw.rate, 1e-9),
                }
                print("  " + format_row(row), flush=True)
                rows.append(row)
        transfers, violations = ledger_bench.in_child(ctx, seed.check, env)
        print(f"{backend}: {transfers:,} transfers, verify: {violations or 'ok'}", flush=True)
    return rows


HEADER = (
    f"{'backend':<8} {'accounts':<7} {'clients':>7} | {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}"
    f" | {'raw tx/s':>8} | http/raw"
)


def format_row(row: dict[str, Any]) -> str:
    http = row["http"]
    text = (
        f"{row['backend']:<8} {row['accounts']:<7} {row['clients']:>7} | {http['rate']:>7,.0f}"
        f" {http['p50_ms']:>7.2f} {http['p99_ms']:>7.2f} | {row['raw']['rate']:>8,.0f} |"
        f" {row['ratio']:>8.0%}"
    )
    return text + (f"  ({http['errors']} not 201)" if http["errors"] else "")


def statements(rows: list[dict[str, Any]]) -> str:
    counted = {row["backend"]: row.get("statements_per_sale") for row in rows}
    return ", ".join(f"{backend} {count}" for backend, count in counted.items())


def target(rows: list[dict[str, Any]]) -> dict[str, Any]:
    wanted = [row for row in rows if all(row[key] == value for key, value in TARGET.items())]
    if not wanted:
        return {"checked": False}
    row = wanted[0]
    met = row["ratio"] >= TARGET_RATIO and row["http"]["p99_ms"] <= TARGET_P99_MS
    return {"checked": True, "ratio": row["ratio"], "p99_ms": row["http"]["p99_ms"], "met": met}


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    goal = target(rows)
    print(f"\nSales through HTTP, {args.duration:g} s per case, N = {args.customers:,}")
    print(HEADER)
    print("-" * len(HEADER))
    for row in rows:
        print(format_row(row))
    print(f"SQL statements per API sale (BEGIN and COMMIT included): {statements(rows)}")
    if goal["checked"]:
        print(
            f"\nTarget (PostgreSQL, random, 4 clients: ≥ {TARGET_RATIO:.0%} of raw, p99 ≤"
            f" {TARGET_P99_MS:g} ms): {'MET' if goal['met'] else 'NOT MET'} —"
            f" {goal['ratio']:.0%}, p99 {goal['p99_ms']:.2f} ms"
        )
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "customers": args.customers,
        "duration_seconds": args.duration,
        "cpus": multiprocessing.cpu_count(),
        "load_average_at_end": os.getloadavg()[0],
        "python": platform.python_version(),
    }
    path = OUT_DIR / "http_sales.json"
    path.write_text(json.dumps({"meta": meta, "target": goal, "cases": rows}, indent=2) + "\n")
    print(f"Written to {path.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    ctx = multiprocessing.get_context("fork")
    scratch = Path(tempfile.mkdtemp(prefix="http-", dir=OUT_DIR))
    try:
        rows = [row for name in args.backends for row in run_backend(ctx, name, args, scratch)]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report(rows, args)


if __name__ == "__main__":
    main()
