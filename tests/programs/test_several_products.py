"""A punch card good for several products ("10 refills, any water"): bought once, its
uses taken by a refill of any of them, shown on each product's button at the counter;
the products are the package's at the purchase."""

from __future__ import annotations

import pytest

from prepaid.programs import services as programs
from prepaid.programs.models import PunchCard
from tests.api.conftest import register
from tests.conftest import assert_ledger_sound
from tests.factories import make_product

pytestmark = pytest.mark.django_db


def test_a_card_for_any_water(api):
    purified = make_product("Purified 5 gal", price="30")
    alkaline = make_product("Alkaline 5 gal", price="40")
    answer = api.owner.post(
        "/packages",
        {"name": "10 refills, any water", "product": purified.pk, "also": [alkaline.pk],
         "count": 10, "price": "300.00"},
    )  # fmt: skip
    assert answer.status_code == 201, answer.content
    assert answer.json()["also"] == [alkaline.pk]
    customer = register(api)["code"]
    bought = api.cashier.post(
        f"/customers/{customer}/packages",
        {"package": answer.json()["id"], "method": "cash"},
        key="b",
    )
    assert bought.status_code == 201 and bought.json()["punch_card"]["also"] == [alkaline.pk]

    used = api.cashier.post(
        f"/customers/{customer}/redemptions", {"product": alkaline.pk, "quantity": 2}, key="u1"
    )
    assert used.status_code == 201, used.content
    assert used.json()["remaining"] == 8
    assert used.json()["punch_card"]["also"] == [alkaline.pk]  # read with the card's lock
    again = api.cashier.post(
        f"/customers/{customer}/redemptions", {"product": purified.pk, "quantity": 1}, key="u2"
    )
    assert again.status_code == 201 and again.json()["remaining"] == 7
    card = PunchCard.objects.get()
    held = programs.holdings(card.customer)
    assert programs.uses_left(held) == {purified.pk: 7, alkaline.pk: 7}
    other = make_product("Mineral 5 gal", price="35")
    refused = api.cashier.post(
        f"/customers/{customer}/redemptions", {"product": other.pk, "quantity": 1}, key="u3"
    )
    assert refused.status_code == 409
    assert_ledger_sound()
    unknown = api.owner.post(
        "/packages",
        {"name": "x", "product": purified.pk, "also": [999999], "count": 1, "price": "1.00"},
    )
    assert unknown.status_code == 404
