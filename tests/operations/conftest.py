"""One shop seen through its three interfaces: the API (a token per role), the counter
(enrolled, unlocked by the cashier) and the back office (logged in)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.test import Client

from prepaid.customers.models import Customer
from prepaid.staff import counters
from prepaid.staff.counters import COOKIE
from prepaid.staff.models import Staff, Store
from tests.api.conftest import Callers
from tests.factories import make_business, make_customer, make_product, make_staff, make_store


@dataclass
class Shop:
    store: Store
    owner: Staff
    manager: Staff
    cashier: Staff
    api: Callers
    counter: Client  # unlocked by the cashier
    customer: Customer
    product_id: int

    def backoffice(self, person: Staff, language: str = "en") -> Client:
        client = Client(headers={"accept-language": language})
        client.force_login(person.user)
        return client

    def panel_key(self, client: Client | None = None) -> str:
        panel = (client or self.counter).get(f"/counter/c/{self.customer.code}/")
        return re.search(rb'name="key" value="([0-9a-f]+)"', panel.content).group(1).decode()


@pytest.fixture
def shop(db) -> Shop:
    make_business(currency="PHP", region="PH")
    store = make_store("Main Street")
    owner = make_staff("Olivia", role="owner", store=store, password="owner-pass-1")
    manager = make_staff("Mona", role="manager", store=store, password="manager-pass-1")
    cashier = make_staff("Carlos", role="cashier", store=store, password="cashier-pass-1")
    counters.set_pin(cashier, "4827", by=owner)
    _device, secret = counters.enroll(store, "Till 1", by=owner)
    till = Client()
    till.cookies[COOKIE] = secret
    unlocked = till.post("/counter/unlock/", {"staff": cashier.pk, "pin": "4827"})
    assert unlocked.status_code == 302
    customer = make_customer("Maria Santos")
    product = make_product("Purified water", price="0.25")
    return Shop(store, owner, manager, cashier, Callers(), till, customer, product.pk)
