"""The reports benchmark (``python -m bench.reports``) end to end on a tiny ledger, so a
change to the reports, the ledger's schema or the benchmark itself that breaks it fails
here rather than in the next ``make bench``; and its generated sales split and share
money as the selling service does."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from bench import reports_ledger
from prepaid.lib.money import price_line
from prepaid.sales import services as sales
from prepaid.staff.models import SpendOrder

ROOT = Path(__file__).resolve().parent.parent
READS = {"daily", "daily today", "monthly", "series", "aging", "burn-down", "dormant"}


def test_the_benchmark_seeds_summarises_and_times_every_read_on_a_tiny_ledger(tmp_path):
    command = [
        *(sys.executable, "-m", "bench.reports", "--backends", "sqlite"),
        *("--transfers", "3000", "--customers", "300", "--repeat", "3"),
        *("--no-cache", "--out", str(tmp_path)),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "daily today" in done.stdout
    engine = json.loads((tmp_path / "reports.json").read_text())["engines"]["sqlite"]
    seed = engine["seed"]
    assert seed["customers"] == 300
    assert 2700 <= seed["transfers"] <= 3300
    assert {"sale", "top_up", "reversal"} <= set(seed["batches_by_code"])
    assert seed["checks"]["accounts_with_wrong_totals"] == 0
    assert seed["checks"]["violations"] == []  # prepaid verify, in full at this size
    assert engine["summary"]["days"] == 364  # every finished day of the year
    assert engine["summary"]["flow_rows"] > 0
    assert engine["checks"] and all(engine["checks"].values()), engine["checks"]
    assert set(engine["reads"]) == READS
    for name, read in engine["reads"].items():
        assert read["samples"] == 3, name
        assert 0 < read["p50_ms"] <= read["p99_ms"] <= read["max_ms"], name
        assert read["met"] == (read["p99_ms"] <= read["target_ms"]), name
    assert not list(tmp_path.glob("scratch-*")), "the scratch database was left behind"


def test_generated_sales_split_and_share_money_as_the_selling_service_does():
    rng = random.Random(7)
    for _ in range(2000):
        total = rng.randrange(1, 100_000)
        paid, bonus = rng.randrange(0, 200_000), rng.randrange(0, 50_000)
        expected = sales.split_payment(total, paid, bonus, SpendOrder.PROPORTIONAL)[1]
        assert reports_ledger.split(total, paid, bonus) == expected, (total, paid, bonus)
        amounts = [rng.randrange(1, 10_000) for _ in range(rng.randrange(1, 4))]
        part = rng.randrange(0, sum(amounts) + 1)
        assert reports_ledger.share(part, amounts) == sales.share(part, amounts)


def test_generated_lines_cost_what_the_price_list_says():
    for _name, _unit, price, quantities, _weight in reports_ledger.PRODUCTS:
        for quantity in quantities:
            unit_price = Decimal(reports_ledger.price_text(price))
            exact = Decimal(reports_ledger.quantity_text(quantity))
            expected = price_line(unit_price, exact, reports_ledger.CURRENCY)
            assert reports_ledger.line_amount(price, quantity) == expected
