"""The HTTP benchmark (``python -m bench.http_sales``): its shop set-up on a tiny SQLite
database — every customer's punch card written in bulk, the program sale's tier
members, points and coupons, one API request of each kind answered 201 (the program
sale's with a tier discount, a coupon and points), ``prepaid verify`` clean — so a
change to the ledger's, the punch cards' or the coupons' schema that breaks the
bulk-written rows fails here rather than in the next ``make bench``; how its kinds'
bodies differ per request; and how it judges its targets."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import http_kinds, http_sales, seed
from bench.http_kinds import KINDS

ROOT = Path(__file__).resolve().parent.parent
CUSTOMERS = 40


def test_the_set_ups_give_cards_tiers_and_coupons_the_api_takes_and_verify_passes(tmp_path):
    command = [
        *(sys.executable, "-m", "bench.http_sales", "--backends", "sqlite"),
        *("--customers", str(CUSTOMERS), "--kinds", "sale,redemption,program_sale"),
        *("--setup-only", "--out", str(tmp_path)),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    checked = json.loads((tmp_path / "http_sales.json").read_text())["checked"]["sqlite"]
    for kind in ("sale", "redemption", "program_sale"):
        assert checked["requests"][kind]["status"] == 201, kind
        assert checked["requests"][kind]["statements"] > 0, kind
        # The program sale's answer has a tier discount, a coupon and points earned.
        assert checked["requests"][kind]["problems"] == [], kind
    assert checked["verify"] == []
    # The seed's opening transfer per wallet (and the hot one's); two per card sold (the
    # price, the uses); a top-up per member (as many as the customers here, and a hot
    # one); each kind's request twice (a warm-up, the counted one): a sale one transfer,
    # a redemption two (the use, its revenue), a program sale two (the paid money, the
    # points).
    cards = members = CUSTOMERS + 1
    assert checked["transfers"] == cards + 2 * cards + members + 2 * 1 + 2 * 2 + 2 * 2
    assert "program_sale: sqlite" in done.stdout


def test_every_client_takes_coupons_no_other_request_takes():
    shop = http_sales.Shop(
        "token", 1, 10, "2222-2222", first=11, slots=3, per_slot=4, extra={"product_id": 7}
    )
    bodies = [
        http_kinds.program_sale_body(shop, slot, count) for slot in range(3) for count in range(4)
    ]
    codes = [body["coupon"] for body in bodies]

    assert len(set(codes)) == 12
    assert {http_kinds.coupon_code(i) for i in range(12)} == set(codes)
    assert bodies[0]["lines"] == [{"product": "7", "quantity": "1"}]
    # A client past its slot gets a code no coupon has (refused: counted as not 201).
    assert http_kinds.program_sale_body(shop, 1, 4)["coupon"] == http_kinds.coupon_code(12)
    # Coupon codes are valid codes, and no benchmark customer's.
    assert codes[0] != seed.customer_code(0) and len(codes[0]) == 9
    # Each case's clients have slots of their own (0: the counted request).
    args = http_sales.parse(["--clients", "4,16", "--warmup", "2", "--duration", "5"])
    assert http_sales.slots(args) == (1 + 3 * 2 * 20, 7 * 1000)  # 3 rounds, 2 accounts
    one = http_sales.parse(["--clients", "4", "--accounts", "random", "--rounds", "5"])
    assert http_sales.slots(one)[0] == 1 + 5 * 4


def test_rounds_take_turns_and_ratios_pair_a_round_with_its_own_sale():
    kinds = ["sale", "redemption", "program_sale"]
    assert [http_sales.turn(kinds, n)[0] for n in range(4)] == [*kinds, "sale"]

    def measure(rate: float) -> http_sales.Measure:
        return http_sales.Measure(rate=rate, p50_ms=rate, p99_ms=rate, requests=1, errors=0)

    # The machine slows down between rounds: each round's ratio is its own.
    rounds = [
        {"sale": measure(200), "redemption": measure(210)},
        {"sale": measure(100), "redemption": measure(104)},
        {"sale": measure(150), "redemption": measure(120)},
    ]
    assert http_sales.vs_sale(rounds, "redemption") == pytest.approx(1.04)
    # The median round, with its own latencies (not a mix).
    assert http_sales.median_measure([r["redemption"] for r in rounds]).p50_ms == 120
    assert http_sales.vs_sale([{"redemption": measure(1)}], "redemption") is None


def test_the_program_sale_check_finds_a_missing_program():
    line = {"discount": "3.15", "tier_discount": "1.15"}
    answer = {"discount": "3.15", "points_earned": 21, "coupon": "P222-2222", "lines": [line]}
    assert http_kinds.program_sale_check(answer) == []
    plain = {"discount": "0.00", "points_earned": 0, "coupon": None, "lines": []}
    assert len(http_kinds.program_sale_check(plain)) == 4


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


def test_a_program_sale_is_judged_within_15_percent_of_a_sale():
    rows = [row("sale", 200.0, 1.0), row("program_sale", 180.0, 0.90)]
    lines = http_sales.target_lines(http_sales.targets(rows))

    assert (
        "Sale with tier, points and coupon within 15% of a plain sale (PostgreSQL, random,"
        " 4 clients): MET — ratio 0.90 (at least 0.85)" in lines
    )


def test_kinds_are_chosen_by_name():
    assert http_sales.parse([]).kinds == ["sale", "redemption", "program_sale"]
    assert http_sales.parse(["--kinds", "redemption"]).kinds == ["redemption"]
    with pytest.raises(argparse.ArgumentTypeError):
        http_sales.kinds("sale,refill")
    assert set(KINDS) >= {"sale", "redemption", "program_sale"}
