"""The ``prepaid`` command as an operator runs it, in a separate process and data folder."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import psycopg
import pytest
from django.db import connection

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
LIABILITY = (
    "from prepaid.reports.queries import liability; "
    "from prepaid.ledger.models import Batch; l = liability(); "
    "print(l.paid, l.bonus, l.customers_with_balance, Batch.objects.count())"
)


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

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "prepaid", *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check:
            assert result.returncode == 0, result.stderr
        return result

    yield run
    if scratch:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{scratch}" WITH (FORCE)')


def test_init_demo_verify_backup_and_restore_round_trip(prepaid, tmp_path):
    password = tmp_path / "password"
    password.write_text("refill-2026!\n")
    prepaid(
        "init",
        "--business",
        "Agua Pura",
        "--currency",
        "PHP",
        "--region",
        "PH",
        "--time-zone",
        "Asia/Manila",
        "--store",
        "Main Street",
        "--owner",
        "rosa",
        "--password-file",
        str(password),
    )
    assert "Demo loaded" in prepaid("demo").stdout
    assert prepaid("verify").stdout.startswith("Ledger OK")
    before = prepaid("shell", "--no-imports", "-c", LIABILITY).stdout
    paid, bonus, holders, batches = map(int, before.split())
    assert paid > 0 and bonus > 0 and holders > 10 and batches > 100

    prepaid("backup", str(tmp_path / "backup.db"))
    prepaid("demo", check=False)  # refused: the shop has customers already
    token = prepaid("token", "create", "--name", "kiosk", "--role", "cashier").stdout.strip()
    assert token.startswith("pp_")
    restored = prepaid("restore", str(tmp_path / "backup.db"))

    assert "Ledger OK" in restored.stdout
    assert prepaid("shell", "--no-imports", "-c", LIABILITY).stdout == before


def test_init_refuses_a_second_shop_and_bad_values(prepaid, tmp_path):
    password = tmp_path / "password"
    password.write_text("refill-2026!\n")
    args = [
        "--region",
        "PH",
        "--time-zone",
        "Asia/Manila",
        "--store",
        "S",
        "--owner",
        "o",
        "--password-file",
        str(password),
    ]
    bad = prepaid("init", "--business", "B", "--currency", "XYZ", *args, check=False)
    assert bad.returncode != 0 and "ISO 4217" in bad.stderr
    prepaid("init", "--business", "B", "--currency", "EUR", *args)
    again = prepaid("init", "--business", "B", "--currency", "EUR", *args, check=False)
    assert again.returncode != 0 and "set up already" in again.stderr


def test_check_deploy_is_clean_in_production_mode(prepaid, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "prepaid", "check", "--deploy", "--fail-level", "WARNING"],
        env=clean_environment(
            PREPAID_DATA_DIR=str(tmp_path / "var"),
            SITE_URL="https://shop.example.com",
            ALLOWED_HOSTS="shop.example.com",
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
