"""Where one service worker's time goes: ``python -m bench.ledger --profile SECONDS``.

One process posts sales to random wallets on PostgreSQL, first unprofiled (the honest
per-sale times of both paths), then under cProfile. cProfile slows Python down more than
it slows waiting, so its shares overstate the ORM a little; the unprofiled times are the
yardstick.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import random
import uuid
from pathlib import Path

from bench.seed import Fixture, setup_django
from bench.worker import Case, drive, picker, raw_poster, service_poster

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
    stats.strip_dirs().sort_stats("tottime").print_stats(15)
    return out.getvalue()
