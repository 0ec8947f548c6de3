"""Lookup benchmark: ``prepaid.customers.lookup`` among a million customers.

Run with ``python -m bench.lookup`` (``make bench`` runs it too); see bench/README.md.
On SQLite and on PostgreSQL, each in a fresh database of its own, it seeds the same
made-up customers (``bench.people``), then times one client's name, phone, e-mail and
scan look-ups drawn from them (``bench.lookup_queries``) and reports p50 and p99 latency
and how many customers each kind found. The goal: p99 ≤ 20 ms for every kind, on both.
For a kind that misses it, the slowest queries' SQL is explained (EXPLAIN ANALYZE on
PostgreSQL, EXPLAIN QUERY PLAN on SQLite).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import platform
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import django
import psycopg

from bench import lookup_db, lookup_queries, people
from bench.common import in_child, percentile, server_version
from bench.databases import scratch_database
from bench.lookup_queries import Query

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "var" / "bench"
TARGET_P99_MS = 20.0


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.lookup", description=__doc__)
    parser.add_argument("--customers", default=1_000_000, type=int)
    parser.add_argument("--backends", default="sqlite,postgres", type=lambda s: s.split(","))
    parser.add_argument("--queries", default=500, type=int, help="measured, per kind")
    parser.add_argument("--warmup", default=25, type=int, help="not measured, per kind")
    parser.add_argument("--seed", default=42, type=int)
    parser.add_argument("--target-ms", default=TARGET_P99_MS, type=float, help="p99 goal")
    parser.add_argument(
        "--explain",
        default=1,
        type=int,
        metavar="N",
        help="explain the N slowest queries of each variant whose p99 misses the goal",
    )
    return parser.parse_args(argv)


# -- databases and processes ------------------------------------------------------------


@contextmanager
def database(backend: str, scratch: Path) -> Iterator[dict[str, str]]:
    """The environment of a fresh, empty benchmark database; dropped afterwards."""
    with scratch_database(backend, scratch, "bench_lookup") as env:
        yield env


def run(lookup: Any, query: Query) -> list[Any]:
    """The customers the query finds: ``resolve`` for scans, ``search`` for the rest."""
    if query.kind in lookup_queries.RESOLVED:
        found = lookup.resolve(query.text)
        return [] if found is None else [found]
    return list(lookup.search(query.text))


def timed(lookup: Any, crowd: people.Population, query: Query) -> dict[str, Any]:
    began = time.perf_counter_ns()
    found = run(lookup, query)
    elapsed = time.perf_counter_ns() - began
    return {
        "kind": query.kind,
        "variant": query.variant,
        "ms": elapsed / 1e6,
        "results": len(found),
        "source_found": any(c.code == crowd.codes[query.source] for c in found),
    }


def engine(
    env: dict[str, str],
    crowd: people.Population,
    warmup: list[Query],
    queries: list[Query],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Seed one engine's database, then time every query once, one after the other."""
    seeding = lookup_db.prepare(env, crowd)
    from django.db import connection

    from prepaid.customers import lookup

    print(f"  seeded in {seeding['seed_seconds']:.0f} s", flush=True)
    for query in warmup:
        run(lookup, query)
    load_before = os.getloadavg()[0]
    began = time.monotonic()
    samples = [timed(lookup, crowd, query) for query in queries]
    # The 1-minute load average around the queries: on 2 shared cores, anyone else's
    # work shows in the tail latencies.
    load = {"before": load_before, "after": os.getloadavg()[0]}
    print(
        f"  {len(samples):,} queries in {time.monotonic() - began:.1f} s"
        f" (load {load['before']:.1f} → {load['after']:.1f})",
        flush=True,
    )
    variants = summarize(samples, "variant")
    slow = [key for key, row in variants.items() if row["p99_ms"] > args.target_ms]
    plans = explain_slowest(lookup, queries, samples, slow, args.explain)
    return {
        "engine": connection.vendor,
        "server": server_version(connection),
        "seed": seeding,
        "load_average": load,
        "kinds": summarize(samples, "kind"),
        "variants": variants,
        "plans": plans,
    }


def summarize(samples: list[dict[str, Any]], by: str) -> dict[str, dict[str, Any]]:
    """Per kind (or ``kind/variant``): latency percentiles and what the queries found."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for sample in samples:
        key = sample["kind"] if by == "kind" else f"{sample['kind']}/{sample['variant']}"
        groups.setdefault(key, []).append(sample)
    return {key: _group(group) for key, group in sorted(groups.items(), key=_order)}


def _order(item: tuple[str, Any]) -> tuple[int, int]:
    kind, _, variant = item[0].partition("/")
    kinds = list(lookup_queries.VARIANTS)
    variants = lookup_queries.VARIANTS[kind]
    return kinds.index(kind), variants.index(variant) if variant else -1


def _group(group: list[dict[str, Any]]) -> dict[str, Any]:
    latencies = sorted(sample["ms"] for sample in group)
    count = len(group)
    return {
        "queries": count,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": latencies[-1],
        "mean_ms": sum(latencies) / count,
        "mean_results": sum(sample["results"] for sample in group) / count,
        "with_results": sum(sample["results"] > 0 for sample in group) / count,
        "source_found": sum(sample["source_found"] for sample in group) / count,
    }


# -- explaining -------------------------------------------------------------------------


def explain_slowest(
    lookup: Any, queries: list[Query], samples: list[dict[str, Any]], slow: list[str], n: int
) -> list[dict[str, Any]]:
    """For the ``n`` slowest queries of each ``kind/variant`` in ``slow``: run them again,
    catch every SQL statement with its time, and explain the slowest statement."""
    plans = []
    for key in slow:
        mine = [
            (sample["ms"], query)
            for sample, query in zip(samples, queries, strict=True)
            if f"{query.kind}/{query.variant}" == key
        ]
        for measured, query in sorted(mine, key=lambda pair: -pair[0])[:n]:
            statements = _statements(lookup, query)
            worst = max(statements, key=lambda statement: statement["ms"])
            plans.append(
                {
                    "kind": query.kind,
                    "variant": query.variant,
                    "text": query.text,
                    "measured_ms": measured,
                    "statements_ms": [statement["ms"] for statement in statements],
                    "slowest_statement": worst,
                    "plan": _plan(worst["sql"], worst["params"]),
                }
            )
    return plans


def _statements(lookup: Any, query: Query) -> list[dict[str, Any]]:
    """The SQL statements the query runs, each timed again on its own, fetch included
    (SQLite computes rows as they are fetched, after ``execute`` has returned)."""
    from django.db import connection

    caught: list[tuple[str, list[Any]]] = []

    def catch(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        caught.append((sql, list(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(catch):
        run(lookup, query)
    timed = []
    with connection.cursor() as cursor:
        for sql, params in caught:
            began = time.perf_counter_ns()
            cursor.execute(sql, params)
            cursor.fetchall()
            ms = (time.perf_counter_ns() - began) / 1e6
            timed.append({"ms": ms, "sql": sql, "params": params})
    return timed


def _plan(sql: str, params: list[Any]) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        depth: dict[int, int] = {0: -1}
        lines = []
        for node, parent, _, detail in cursor.fetchall():
            depth[node] = depth.get(parent, -1) + 1
            lines.append(f"{'  ' * depth[node]}{detail}")
        return "\n".join(lines)


# -- reporting --------------------------------------------------------------------------

HEADER = (
    f"{'engine':<9} {'kind':<18} {'queries':>7} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}"
    f" {'results':>7} {'found':>6} {'any':>5}  p99 goal"
)
LEGEND = (
    "results: mean customers returned (at most 20; scans 0 or 1); found: share of queries"
    " whose source customer was among them; any: share that returned anyone"
)


def format_row(backend: str, key: str, row: dict[str, Any], goal: float) -> str:
    verdict = "met" if row["p99_ms"] <= goal else "NOT MET"
    label = key if "/" not in key else "  " + key.split("/")[1]
    return (
        f"{backend:<9} {label:<18} {row['queries']:>7} {row['p50_ms']:>7.2f}"
        f" {row['p99_ms']:>7.2f} {row['max_ms']:>7.1f} {row['mean_results']:>7.1f}"
        f" {row['source_found']:>6.0%} {row['with_results']:>5.0%}"
        + (f"  {verdict}" if "/" not in key else "")
    )


def table(results: dict[str, dict[str, Any]], goal: float) -> list[str]:
    lines = [HEADER, "-" * len(HEADER)]
    for backend, result in results.items():
        for kind, row in result["kinds"].items():
            lines.append(format_row(backend, kind, row, goal))
            for key, variant in result["variants"].items():
                if key.startswith(f"{kind}/"):
                    lines.append(format_row(backend, key, variant, goal))
    return [*lines, LEGEND]


def verdicts(results: dict[str, dict[str, Any]], goal: float) -> dict[str, dict[str, bool]]:
    return {
        backend: {kind: row["p99_ms"] <= goal for kind, row in result["kinds"].items()}
        for backend, result in results.items()
    }


COLUMNS = re.compile(r'SELECT (?:"customers_customer"\."\w+", )+"customers_customer"\."\w+" FROM')


def format_plan(backend: str, plan: dict[str, Any]) -> str:
    worst = plan["slowest_statement"]
    sql = COLUMNS.sub("SELECT <every customer column> FROM", worst["sql"])
    return (
        f"--- {backend} {plan['kind']}/{plan['variant']} {plan['text']!r}:"
        f" {plan['measured_ms']:.1f} ms measured; its statements run again (ms): "
        + ", ".join(f"{ms:.1f}" for ms in plan["statements_ms"])
        + f"\nslowest, {worst['ms']:.1f} ms:\n{sql}\nparams: {worst['params']}\n{plan['plan']}"
    )


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace, meta: dict) -> None:
    goal = args.target_ms
    plans = [format_plan(b, plan) for b, result in results.items() for plan in result["plans"]]
    if plans:
        text = "\n\n".join(plans) + "\n"
        (OUT_DIR / "lookup-explain.txt").write_text(text)
        print(f"\nThe slowest query of each variant with p99 over {goal:g} ms:\n\n{text}")
    print(f"\nLook-ups among {args.customers:,} customers, one client (p99 goal ≤ {goal:g} ms)")
    print("\n".join(table(results, goal)))
    met = verdicts(results, goal)
    for backend, kinds in met.items():
        missed = [kind for kind, ok in kinds.items() if not ok]
        state = "all kinds MET" if not missed else f"NOT MET for {', '.join(missed)}"
        load = results[backend]["load_average"]
        print(
            f"{backend}: p99 ≤ {goal:g} ms {state}"
            f" (load average {load['before']:.1f} → {load['after']:.1f} on {os.cpu_count()} cores)"
        )
    path = OUT_DIR / "lookup.json"
    document = {"meta": meta, "target_p99_ms": goal, "met": met, "engines": results}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    print(f"Written to {path.relative_to(ROOT)}")


def fingerprint() -> dict[str, str]:
    """Which version of the search code was measured: the first hex digits of its hash."""
    paths = ("customers/lookup.py", "customers/search_indexes.py", "customers/models.py")
    return {
        path: hashlib.sha256((ROOT / "prepaid" / path).read_bytes()).hexdigest()[:12]
        for path in paths
    }


def describe(args: argparse.Namespace, generated: float, code: dict[str, str]) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "customers": args.customers,
        "queries_per_kind": args.queries,
        "warmup_per_kind": args.warmup,
        "seed": args.seed,
        "generate_seconds": generated,
        "cpus": multiprocessing.cpu_count(),
        "load_average_at_end": os.getloadavg()[0],
        "python": platform.python_version(),
        "django": django.get_version(),
        "psycopg": psycopg.__version__,
        "code": code,
    }


# -- main -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    code = fingerprint()  # before the run, which takes minutes: the code may change
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    print(f"making {args.customers:,} customers…", end=" ", flush=True)
    crowd = people.generate(args.customers, args.seed)
    generated = time.monotonic() - began
    print(f"{generated:.0f} s", flush=True)
    warmup = lookup_queries.draw(crowd, args.warmup, args.seed + 1)
    queries = lookup_queries.draw(crowd, args.queries, args.seed)
    scratch = Path(tempfile.mkdtemp(prefix="lookup-", dir=OUT_DIR))
    results = {}
    try:
        for backend in args.backends:
            print(f"{backend}: migrating and seeding {args.customers:,} customers…", flush=True)
            with database(backend, scratch) as env:
                results[backend] = in_child(engine, env, crowd, warmup, queries, args)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report(results, args, describe(args, generated, code))
    print(f"Total {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
