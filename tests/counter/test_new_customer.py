"""A walk-in customer registered at the counter (issue #13): from the search box when
nobody matches, one short form, then their panel with their card's QR code."""

from __future__ import annotations

import re

import pytest

from prepaid.customers import services as customers
from prepaid.customers.models import Customer
from prepaid.staff.models import AuditEvent

pytestmark = pytest.mark.django_db


def _key(page) -> str:
    return re.search(r'name="key" value="([^"]+)"', page.content.decode())[1]


def _initial(page, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page.content.decode())
    return found[1] if found else ""


def test_nobody_found_offers_a_new_customer_with_what_was_typed(till):
    found = till.get("/counter/find/", {"q": "Rosa Diaz"}).content.decode()
    assert "New customer: Rosa Diaz" in found
    assert 'href="/counter/new/?q=Rosa%20Diaz"' in found
    assert _initial(till.get("/counter/new/", {"q": "Rosa Diaz"}), "name") == "Rosa Diaz"
    assert _initial(till.get("/counter/new/", {"q": "0917 123 4567"}), "phone") == "0917 123 4567"
    assert _initial(till.get("/counter/new/", {"q": "rosa@example.com"}), "email") == (
        "rosa@example.com"
    )


def test_one_form_then_the_panel_with_the_new_card(till, business, cashier_a):
    form = till.get("/counter/new/", {"q": "Rosa Diaz"})
    data = {"key": _key(form), "name": "Rosa Diaz", "phone": "2125550123", "marketing_sms": "on"}
    done = till.post("/counter/new/", data)
    rosa = Customer.objects.get(name="Rosa Diaz")
    assert done.status_code == 302 and done["Location"] == f"/counter/c/{rosa.code}/?new=1"
    assert rosa.phone == "+12125550123" and rosa.marketing_sms
    assert AuditEvent.objects.get(action="customer.registered").staff == cashier_a

    panel = till.get(done["Location"]).content.decode()
    assert "Their card" in panel and "<svg" in panel
    printed = till.get(f"/counter/c/{rosa.code}/card/")
    assert printed.status_code == 200 and "<svg" in printed.content.decode()

    again = till.post("/counter/new/", data)  # a double tap: the same customer, once
    assert again["Location"] == done["Location"] and Customer.objects.count() == 1


def test_a_phone_of_someone_else_offers_that_customer(till, maria, owner):
    customers.update(maria, customers.Profile(phone="+12125550123"), by=owner)
    form = till.get("/counter/new/")
    data = {"key": _key(form), "name": "Somebody", "phone": "(212) 555-0123"}
    page = till.post("/counter/new/", data).content.decode()
    assert "Maria Santos" in page and f'href="/counter/c/{maria.code}/"' in page
    assert not Customer.objects.filter(name="Somebody").exists()


def test_the_consent_rules_are_on_the_form(till, business):
    form = till.get("/counter/new/")
    data = {"key": _key(form), "name": "Rosa Diaz", "marketing_email": "on"}
    page = till.post("/counter/new/", data)
    assert page.status_code == 200 and not Customer.objects.exists()
    assert "email" in page.content.decode().lower() and 'class="error"' in page.content.decode()
