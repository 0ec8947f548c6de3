"""The ``prepaid`` command as an operator runs it: a separate process, its own data
folder and database, and a permissive umask (022), so that what it creates is private
because prepaid makes it so, not because the test runner's umask did."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import psycopg
import pytest
from django.db import connection

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PERMISSIVE_UMASK = 0o022  # a common default: new files 0644, new folders 0755


def clean_environment(**extra: str) -> dict[str, str]:
    """The operator's environment: none of the test runner's own switches."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {**env, **extra}


@pytest.fixture
def prepaid(tmp_path):
    """Run ``prepaid`` on a database of its own: SQLite in tmp_path, or a scratch
    PostgreSQL database when the suite runs on PostgreSQL."""
    env = clean_environment(PREPAID_DATA_DIR=str(tmp_path / "var"), DATABASE_URL="")
    scratch = None
    if connection.vendor == "postgresql":
        scratch = f"prepaid_cli_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{scratch}"')
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{scratch}"

    def run(
        *args: str, check: bool = True, answer: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``answer``: what the operator types (without one, nobody is there to type)."""
        result = subprocess.run(
            [sys.executable, "-m", "prepaid", *args],
            env=env,
            cwd=tmp_path,
            input=answer,
            stdin=None if answer is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
            preexec_fn=lambda: os.umask(PERMISSIVE_UMASK),
        )
        if check:
            assert result.returncode == 0, result.stderr
        return result

    yield run
    if scratch:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{scratch}" WITH (FORCE)')


def set_up_shop(prepaid, tmp_path, business: str = "Agua Pura") -> None:
    password = tmp_path / "password"
    password.write_text("refill-2026!\n")
    prepaid(
        *("init", "--business", business, "--currency", "PHP", "--region", "PH"),
        *("--time-zone", "Asia/Manila", "--store", "Main Street", "--owner", "rosa"),
        *("--password-file", str(password)),
    )
