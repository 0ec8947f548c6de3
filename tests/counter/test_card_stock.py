"""Pre-printed cards at the counter (issue #13): a new customer takes one from the
stack, the cashier scans it into their panel; a card nobody holds yet opens no account."""

from __future__ import annotations

import re

import pytest

from prepaid.customers import services as customers
from prepaid.customers.models import BlankCard, Card, Customer
from prepaid.lib import sealing
from prepaid.operations.models import Event
from prepaid.staff.models import AuditEvent
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def _key(page) -> str:
    return re.search(r'name="key" value="([^"]+)"', page.content.decode())[1]


@pytest.fixture
def stack(owner):
    """Three pre-printed cards, as their scanned URLs."""
    batch = customers.generate_blanks(3, by=owner)
    return [blank.url for blank in BlankCard.objects.filter(batch=batch).order_by("id")]


def _register(till, name: str) -> Customer:
    form = till.get("/counter/new/", {"q": name})
    till.post("/counter/new/", {"key": _key(form), "name": name})
    return Customer.objects.get(name=name)


def test_a_walk_in_gets_a_printed_card_in_place_of_the_one_on_screen(till, stack, cashier_a):
    rosa = _register(till, "Rosa Diaz")
    panel = till.get(f"/counter/c/{rosa.code}/?new=1")
    assert "Scan a pre-printed card" in panel.content.decode()
    on_screen = rosa.cards.get()
    data = {"key": _key(panel), "card": stack[0]}

    done = till.post(f"/counter/c/{rosa.code}/link-card/", data)
    again = till.post(f"/counter/c/{rosa.code}/link-card/", data)  # a double tap

    assert done.status_code == 302 and done["Location"] == f"/counter/c/{rosa.code}/"
    assert again.status_code == 302
    token = stack[0].rsplit("/c/", 1)[1]
    card = Card.objects.get(token_digest=sealing.digest(token))
    assert card.customer == rosa and card.token == token and card.revoked_at is None
    on_screen.refresh_from_db()
    assert on_screen.revoked_at is not None  # one card per customer: the one they carry
    assert Card.objects.filter(customer=rosa).count() == 2  # linked once
    blank = BlankCard.objects.get(token_digest=card.token_digest)
    assert blank.used_at is not None and blank.card == card
    assert AuditEvent.objects.get(action="card.linked").staff == cashier_a
    assert Event.objects.filter(type="card.replaced", customer=rosa).count() == 1
    assert "The printed card is now their card." in till.get(done["Location"]).content.decode()

    # Scanned in the search box now, the card opens Rosa.
    opened = till.get("/counter/", {"q": stack[0]})
    assert opened.status_code == 302 and opened["Location"] == f"/counter/c/{rosa.code}/"


def test_refusals_not_a_printed_card_and_already_linked(till, stack, owner):
    maria = make_customer("Maria Santos")
    customers.link_blank(maria, stack[0].rsplit("/c/", 1)[1], replace=False, by=owner)
    rosa = _register(till, "Rosa Diaz")
    for scanned, words in (
        (stack[0], "This pre-printed card is already linked to a customer."),
        (maria.cards.order_by("id").first().url, "not one of the shop&#x27;s pre-printed cards"),
        ("hello", "not one of the shop&#x27;s pre-printed cards"),
    ):
        panel = till.get(f"/counter/c/{rosa.code}/?new=1")
        page = till.post(
            f"/counter/c/{rosa.code}/link-card/", {"key": _key(panel), "card": scanned}
        )
        assert page.status_code == 200 and words in page.content.decode()
    assert rosa.cards.filter(revoked_at__isnull=True).count() == 1  # nothing changed


def test_scanning_a_card_nobody_holds_offers_a_new_customer_with_it(till, stack):
    page = till.get("/counter/", {"q": stack[1]})
    text = page.content.decode()
    assert page.status_code == 200 and "This card is not linked yet" in text
    link = re.search(r'href="(/counter/new/\?card=[^"]+)"', text)[1]

    form = till.get(link.replace("&amp;", "&"))
    assert "becomes this customer's card" in form.content.decode()
    hidden = re.search(r'name="card" value="([^"]+)"', form.content.decode())[1]
    done = till.post("/counter/new/", {"key": _key(form), "name": "Ana Cruz", "card": hidden})

    ana = Customer.objects.get(name="Ana Cruz")
    assert done["Location"] == f"/counter/c/{ana.code}/?new=1"
    live = ana.cards.get(revoked_at__isnull=True)
    assert live.url == stack[1]
    assert till.get("/counter/", {"q": stack[1]})["Location"] == f"/counter/c/{ana.code}/"


def test_registering_with_a_used_card_registers_nobody(till, stack, owner):
    customers.link_blank(
        make_customer("Maria Santos"), stack[2].rsplit("/c/", 1)[1], replace=True, by=owner
    )
    form = till.get("/counter/new/", {"card": stack[2]})
    page = till.post("/counter/new/", {"key": _key(form), "name": "Ana Cruz", "card": stack[2]})
    assert page.status_code == 200 and "already linked to a customer" in page.content.decode()
    assert not Customer.objects.filter(name="Ana Cruz").exists()


def test_the_page_of_a_card_nobody_holds_says_so(client, business, stack):
    token = stack[0].rsplit("/c/", 1)[1]
    page = client.get(f"/c/{token}")
    text = page.content.decode()
    assert page.status_code == 200 and "This card is not in use yet" in text
    assert "Ask at the counter of Agua Pura" in text
    assert client.get(f"/c/{token}/statement-2026-11.csv").status_code == 404
    assert client.get(f"/c/{token}/qr.svg").status_code == 404
