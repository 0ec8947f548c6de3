from __future__ import annotations

import pytest

from tests.api.conftest import register

pytestmark = pytest.mark.django_db


def test_a_morning_through_the_api(api, water):
    maria = register(api, phone="0917 123 4567")
    code = maria["code"]
    top_up = api.cashier.post(
        f"/customers/{code}/top-ups", {"amount": "100.00", "method": "cash"}, key="t1"
    )
    assert top_up.status_code == 201, top_up.content
    sale = api.cashier.post(
        f"/customers/{code}/sales",
        {"lines": [{"product": str(water.pk), "quantity": "5"}]},
        key="s1",
    )
    assert sale.status_code == 201, sale.content
    print(sale.json())
    again = api.cashier.post(
        f"/customers/{code}/sales",
        {"lines": [{"product": str(water.pk), "quantity": "5"}]},
        key="s1",
    )
    assert again.json() == sale.json()
    assert again["Idempotent-Replayed"] == "true"
    history = api.accountant.get(f"/customers/{code}/transactions")
    assert history.status_code == 200, history.content
    print(history.json())
    doc = api.anonymous.get("/openapi.json")
    assert doc.status_code == 200
