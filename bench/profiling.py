"""Where one service worker's time goes: ``python -m bench.ledger --profile SECONDS``.

One process posts sales to random wallets on PostgreSQL:

1. unprofiled, both paths: wall time, worker CPU and PostgreSQL CPU per sale;
2. under cProfile: the steps of ``post`` and the busiest functions (cProfile slows
   Python more than waiting, so it overstates the ORM's share);
3. unprofiled again, with a clock around each step of ``post`` and around every query
   the ORM executes: per step, the time in the driver and server versus the rest.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import random
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from time import perf_counter
from typing import Any

from bench.seed import Fixture, setup_django
from bench.worker import Case, Post, drive, picker, raw_poster, service_poster

SERVICES = "prepaid/ledger/services.py"
QUERYSET = "django/db/models/query.py"

# A step of ``post``: its label and the functions whose cumulative time it is.
STEPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("post() in all", ((SERVICES, "post"),)),
    ("  _check + fingerprint_of", ((SERVICES, "_check"), (SERVICES, "fingerprint_of"))),
    ("  _replay: SELECT batch by key", ((SERVICES, "_replay"),)),
    ("  Batch.objects.create (+ BEGIN)", ((QUERYSET, "create"),)),
    ("  _move_cached_totals: UPDATE", ((SERVICES, "_move_cached_totals"),)),
    ("  Transfer bulk_create", ((QUERYSET, "bulk_create"),)),
    ("  COMMIT", (("django/db/backends/base/base.py", "commit"),)),
    ("waiting for the server (psycopg wait)", (("psycopg/connection.py", "wait"),)),
    ("sending queries (psycopg send)", (("psycopg/client_cursor.py", "_execute_send"),)),
)


def server_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend process."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def unprofiled(fixture: Fixture, rng: random.Random, seconds: float) -> str:
    """Wall time, worker CPU and server CPU per sale of both paths, without a profiler."""
    case = Case("postgres", "service", "random", 1)
    pick = picker(case, fixture, rng)
    lines = ["One worker, unprofiled, per sale:\n"]
    for name, make in (("raw", raw_poster), ("service", service_poster)):
        post = make(fixture)
        drive(post, pick, rng, 0.5)
        server = server_cpu()
        outcome = drive(post, pick, rng, seconds)
        sales = max(len(outcome.latencies), 1)
        server = server_cpu() - server
        lines.append(
            f"  {name:<8} {outcome.seconds / sales * 1e3:6.2f} ms wall,"
            f" {outcome.cpu_seconds / sales * 1e3:5.2f} ms worker CPU,"
            f" {server / sales * 1e3:5.2f} ms PostgreSQL CPU\n"
        )
    return "".join(lines)


def cumulative(stats: pstats.Stats, path: str, function: str) -> float:
    return sum(
        row[3]
        for (filename, _, name), row in stats.stats.items()  # type: ignore[attr-defined]
        if name == function and filename.endswith(path)
    )


def steps(stats: pstats.Stats, sales: int) -> str:
    total = cumulative(stats, SERVICES, "post")
    lines = []
    for label, functions in STEPS:
        seconds = sum(cumulative(stats, path, name) for path, name in functions)
        share = seconds / total if total else 0.0
        lines.append(f"  {label:<40} {seconds / sales * 1e3:6.2f} ms {share:6.0%}\n")
    return "".join(lines)


class StepClock:
    """Wall time per step of ``post``, and the part of it spent executing queries."""

    def __init__(self) -> None:
        self.wall: Counter[str] = Counter()
        self.db: Counter[str] = Counter()
        self.step = "post() outside the steps below"

    def wrap(self, owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            outer, self.step = self.step, label
            began = perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.wall[label] += perf_counter() - began
                self.step = outer

        setattr(owner, name, timed)

    def query(self, execute: Callable[..., Any], *args: Any) -> Any:
        began = perf_counter()
        try:
            return execute(*args)
        finally:
            self.db[self.step] += perf_counter() - began


def clocked_steps(post: Post, pick: Callable[[], tuple[int, int]], seconds: float) -> str:
    """Run the service path with a StepClock (this patches the process for good)."""
    from django.db import connections
    from django.db.models.query import QuerySet

    from prepaid.ledger import services

    clock = StepClock()
    clock.wrap(services, "_replay", "_replay: SELECT batch by key")
    clock.wrap(QuerySet, "create", "Batch.objects.create (+ BEGIN)")
    clock.wrap(services, "_move_cached_totals", "_move_cached_totals: UPDATE")
    clock.wrap(QuerySet, "bulk_create", "Transfer bulk_create")
    clock.wrap(connections["default"], "commit", "COMMIT (no ORM query)")
    with connections["default"].execute_wrapper(clock.query):
        outcome = drive(post, pick, random.Random(1), seconds)
    sales = max(len(outcome.latencies), 1)
    lines = [f"Clocked, unprofiled: {outcome.seconds / sales * 1e3:.2f} ms per sale\n"]
    lines.append(f"  {'step':<34} {'wall ms':>8} {'in queries':>10} {'rest':>7}\n")
    rows = list(clock.wall.items())
    rows.append(("other (digest, atomic, models…)", outcome.seconds - sum(clock.wall.values())))
    rows.append(("all", outcome.seconds))
    for label, wall in rows:
        db = sum(clock.db.values()) if label == "all" else clock.db[label]
        lines.append(
            f"  {label:<34} {wall / sales * 1e3:8.2f} {db / sales * 1e3:10.2f}"
            f" {(wall - db) / sales * 1e3:7.2f}\n"
        )
    return "".join(lines)


def profile(env: dict[str, str], fixture: Fixture, seconds: float) -> str:
    """Profile the service path in this process; the findings as text."""
    setup_django(env)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rng = random.Random(0)
    out = io.StringIO()
    out.write(unprofiled(fixture, rng, seconds))
    post = service_poster(fixture)
    pick = picker(Case("postgres", "service", "random", 1), fixture, rng)
    with CaptureQueriesContext(connection) as queries:
        post(*pick(), 1, f"bench-profile-{uuid.uuid4().hex}")
    out.write("SQL of one service sale (psycopg sends BEGIN before the INSERT):\n")
    out.writelines(f"  {query['sql'][:96]}…\n" for query in queries.captured_queries)
    profiler = cProfile.Profile()
    outcome = profiler.runcall(drive, post, pick, rng, seconds)
    sales = max(len(outcome.latencies), 1)
    stats = pstats.Stats(profiler, stream=out)
    out.write(f"Under cProfile: {sales} sales in {outcome.seconds:.1f} s; per sale:\n")
    out.write(steps(stats, sales))
    stats.strip_dirs().sort_stats("tottime").print_stats(12)
    out.write(clocked_steps(post, pick, seconds))
    return out.getvalue()
