"""A fresh, empty database for one benchmark run, and the environment that points
prepaid at it: a file in the scratch folder on SQLite, a new database on the local
PostgreSQL (trust auth), dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

PG_SERVER = "postgres://postgres@127.0.0.1:5432"


def _admin(sql: str) -> None:
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(sql)


@contextmanager
def scratch_database(backend: str, scratch: Path, name: str) -> Iterator[dict[str, str]]:
    """The environment of a fresh database called ``name`` (``<name>.sqlite3`` in
    ``scratch`` on SQLite, ``prepaid_<name>`` on PostgreSQL); removed afterwards."""
    env = {
        "DJANGO_SETTINGS_MODULE": "prepaid.settings",
        "PREPAID_DATA_DIR": str(scratch),
        "SECRET_KEY": "bench-only-not-secret",
        "DEBUG": "false",
    }
    if backend == "sqlite":
        path = scratch / f"{name}.sqlite3"
        try:
            yield {**env, "DATABASE_URL": f"sqlite:///{path}"}
        finally:
            for leftover in scratch.glob(f"{name}.sqlite3*"):
                leftover.unlink()
        return
    if backend != "postgres":
        raise ValueError(f"unknown backend {backend!r}")
    database = f"prepaid_{name}"
    _admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    _admin(f"CREATE DATABASE {database}")
    try:
        yield {**env, "DATABASE_URL": f"{PG_SERVER}/{database}"}
    finally:
        _admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
