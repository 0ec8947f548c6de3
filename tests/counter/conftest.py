"""A counter enrolled at store A, and cashiers with PINs."""

from __future__ import annotations

import pytest
from django.test import Client

from prepaid.staff import counters
from prepaid.staff.counters import COOKIE
from tests.factories import make_customer, make_product

PINS = {"Carlos": "4827", "Mona": "9051", "Olivia": "3619"}


@pytest.fixture
def device(store_a, owner):
    made, secret = counters.enroll(store_a, "Till 1", by=owner)
    made.secret = secret
    return made


@pytest.fixture
def with_pins(owner, manager, cashier_a):
    for person in (owner, manager, cashier_a):
        counters.set_pin(person, PINS[person.name], by=owner)
    return {owner.name: owner, manager.name: manager, cashier_a.name: cashier_a}


def at_counter(device) -> Client:
    client = Client()
    client.cookies[COOKIE] = device.secret
    return client


@pytest.fixture
def till(device, with_pins, cashier_a) -> Client:
    """The counter, unlocked by Carlos the cashier."""
    client = at_counter(device)
    response = client.post("/counter/unlock/", {"staff": cashier_a.pk, "pin": PINS["Carlos"]})
    assert response.status_code == 302 and response["Location"] == "/counter/"
    return client


@pytest.fixture
def water(business):
    return make_product("Purified water", price="0.25")


@pytest.fixture
def maria(actor):
    return make_customer("Maria Santos", balance="10.00", actor=actor)
