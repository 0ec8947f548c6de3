"""The ``prepaid`` command as an operator runs it, in a separate process and data folder."""

from __future__ import annotations

import subprocess
import sys

from tests.ops.conftest import clean_environment

LIABILITY = (
    "from prepaid.reports.queries import liability; "
    "from prepaid.ledger.models import Batch; l = liability(); "
    "print(l.paid, l.bonus, l.customers_with_balance, Batch.objects.count())"
)


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
    restored = prepaid("restore", str(tmp_path / "backup.db"), "--yes")

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
