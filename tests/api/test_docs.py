"""docs/api.md's examples, replayed in order against the real API.

Each ```http block is a request; the ```json block after it starts with the expected
status, then a JSON object that must be a subset of the answer ("…" matches any value).
"K7MQ-4XZP" stands for the customer's code, "W4NT-3DQX" for a coupon's, product and plan 1
for the real ids, approval 1 for the last request answered 202; "$OWNER_TOKEN" is an
owner's token, "$MANAGER_TOKEN" a manager's, any other a cashier's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from prepaid.catalog import services as catalog
from prepaid.programs import services as programs
from tests.factories import make_product

pytestmark = pytest.mark.django_db
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
COUPON = "W4NT-3DQX"  # stands for the first code the guide's coupons example issued
EXAMPLE = re.compile(r"```http\n(?P<request>.*?)```\s*```json\n(?P<answer>.*?)```", re.S)


def examples() -> list[tuple[str, str]]:
    found = [(m["request"], m["answer"]) for m in EXAMPLE.finditer(GUIDE.read_text())]
    assert len(found) >= 8, "the guide lost its examples"
    return found


def matches(expected, actual) -> bool:
    if expected == "…":
        return True
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and matches(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return expected == actual


def test_the_guide_lists_every_refusal_code():
    """One refusal table in the code (prepaid/staff/refusals.py), one in the guide."""
    from prepaid.staff.refusals import REFUSALS

    text = GUIDE.read_text()
    assert [code for code in REFUSALS if f"`{code}`" not in text] == []


def test_every_example_in_the_guide_answers_as_written(api):
    water = make_product("Purified water", price="0.35")
    plan = catalog.save_plan(None, name="100 → +10", amount_minor=10000, bonus_minor=1000, by=None)
    package = programs.create_package(
        name="10 refills", product=water, count=10, bonus_count=1, price_minor=25000,
        valid_days=90, by=None,
    )  # fmt: skip
    monthly = programs.create_package(
        kind="time", name="Unlimited refills", product=water, price_minor=50000,
        valid_days=30, max_per_day=2, by=None,
    )  # fmt: skip
    ids = {
        '"package": 1': f'"package": {package.pk}',
        '"package": 2': f'"package": {monthly.pk}',
        '"product": "1"': f'"product": "{water.pk}"',
        '"product": 1': f'"product": {water.pk}',
        '"plan": 1': f'"plan": {plan.pk}',
    }
    code = "K7MQ-4XZP"
    coupon = COUPON
    approval = None
    for request, answer in examples():
        head, _, body = request.partition("\n\n")
        line, *header_lines = head.strip().splitlines()
        method, path = line.split(" ", 1)
        headers = dict(h.split(": ", 1) for h in header_lines)
        if "Authorization" in headers:
            written = headers["Authorization"]
            caller = api.cashier
            if "$OWNER_TOKEN" in written:
                caller = api.owner
            elif "$MANAGER_TOKEN" in written:
                caller = api.manager
            headers["Authorization"] = f"Bearer {caller.key}"
        # One pass: a real id may be another written one ("package": 2 for package 1).
        pattern = "|".join(re.escape(written) for written in ids)
        body = re.sub(pattern, lambda found: ids[found.group(0)], body)
        body = body.replace(COUPON, coupon)
        path = path.replace("K7MQ-4XZP", code)
        if approval is not None:
            path = path.replace("/approvals/1/", f"/approvals/{approval}/")
        response = api.cashier.client.generic(
            method,
            path,
            body.strip().encode(),
            content_type="application/json",
            headers=headers,
        )
        status, _, expected_text = answer.partition("\n")
        expected_text = expected_text.replace('"product": 1', f'"product": {water.pk}')
        expected_text = expected_text.replace(COUPON, coupon)
        expected = json.loads(expected_text.replace("K7MQ-4XZP", code))
        actual = response.json()
        assert response.status_code == int(status), (line, actual)
        if response.status_code == 202:
            approval = actual["id"]
        if "code" in actual and method == "POST" and path == "/api/v1/customers":
            code = actual["code"]
            expected["code"] = code
        if method == "POST" and path == "/api/v1/coupons":
            coupon = actual["codes"][0]
        assert matches(expected, actual), (line, expected, actual)
        if headers.get("Idempotency-Key") == "till-1-0002" and '"quantity": "5"' in body:
            replayed = response.get("Idempotent-Replayed")
            assert replayed in (None, "true")
