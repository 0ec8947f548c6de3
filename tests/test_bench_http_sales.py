"""The HTTP benchmark (``python -m bench.http_sales``): its shop set-up on a tiny SQLite
database — every customer's punch card written in bulk, one API request of each kind
answered 201, ``prepaid verify`` clean — so a change to the ledger's or the punch
cards' schema that breaks the bulk-written cards fails here rather than in the next
``make bench``; and how it judges its targets."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import http_sales
from bench.http_kinds import KINDS

ROOT = Path(__file__).resolve().parent.parent
CUSTOMERS = 40


def test_the_redemption_set_up_gives_every_customer_a_card_the_api_redeems_and_verify_passes(
    tmp_path,
):
    command = [
        *(sys.executable, "-m", "bench.http_sales", "--backends", "sqlite"),
        *("--customers", str(CUSTOMERS), "--kinds", "sale,redemption"),
        *("--setup-only", "--out", str(tmp_path)),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    checked = json.loads((tmp_path / "http_sales.json").read_text())["checked"]["sqlite"]
    for kind in ("sale", "redemption"):
        assert checked["requests"][kind]["status"] == 201, kind
        assert checked["requests"][kind]["statements"] > 0, kind
    assert checked["verify"] == []
    # The seed's opening transfer per wallet (and the hot one's); two per card sold (the
    # price, the uses); each kind's request twice (a warm-up, the counted one): a sale
    # one transfer, a redemption two (the use, its revenue).
    cards = CUSTOMERS + 1
    assert checked["transfers"] == cards + 2 * cards + 2 * 1 + 2 * 2
    assert "redemption: sqlite" in done.stdout


def row(kind: str, rate: float, vs_sale: float | None, **where: object) -> dict[str, object]:
    case = {**http_sales.TARGET, **where}
    http = {"rate": rate, "p50_ms": 5.0, "p99_ms": 10.0, "requests": 1, "errors": 0}
    return {"kind": kind, "http": http, "ratio": 0.5, "vs_sale": vs_sale, **case}


def test_a_redemption_is_judged_against_the_sale_of_the_same_case():
    rows = [
        row("sale", 200.0, 1.0),
        row("redemption", 150.0, 0.75),
        row("sale", 100.0, 1.0, clients=16),
        row("redemption", 300.0, 3.0, clients=16),  # not the target case
    ]
    goals = http_sales.targets(rows)

    assert goals["sale"]["met"] is True
    assert goals["redemption"] == {
        "checked": True,
        "least_vs_sale": 1.0,
        "vs_sale": 0.75,
        "met": False,
    }
    lines = http_sales.target_lines(goals)
    assert (
        "Redemption at least as fast as a sale (PostgreSQL, random, 4 clients): NOT MET"
        " — ratio 0.75" in lines[1]
    )


def test_kinds_are_chosen_by_name():
    assert http_sales.parse([]).kinds == ["sale", "redemption"]
    assert http_sales.parse(["--kinds", "redemption"]).kinds == ["redemption"]
    with pytest.raises(argparse.ArgumentTypeError):
        http_sales.kinds("sale,refill")
    assert set(KINDS) >= {"sale", "redemption"}
