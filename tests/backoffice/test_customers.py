"""The customer screens as the owner, a manager, the accountant and a cashier use them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from prepaid.customers import services as customers
from prepaid.customers.models import Card, Customer, Note
from prepaid.customers.services import revealed
from prepaid.ledger import services as ledger
from prepaid.sales import services as sales
from prepaid.staff.models import AuditEvent
from tests.factories import key, make_customer, method

pytestmark = pytest.mark.django_db


@pytest.fixture
def maria(owner):
    return customers.register(
        customers.Profile(name="Maria Santos", phone="212 555 0123", email="maria@example.com"),
        by=owner,
    )


def urls(code: str) -> dict[str, tuple[str, str]]:
    """Every customer screen: name → (method, path)."""
    return {
        "list": ("get", "/customers/"),
        "detail": ("get", f"/customers/{code}/"),
        "new": ("get", "/customers/new/"),
        "edit": ("get", f"/customers/{code}/edit/"),
        "note": ("post", f"/customers/{code}/notes/"),
        "card": ("post", f"/customers/{code}/cards/"),
        "close": ("post", f"/customers/{code}/close/"),
        "print": ("get", f"/customers/print/?code={code}"),
    }


READERS = {"list", "detail"}
SELLERS = {"list", "detail", "new", "edit", "note", "card", "print"}  # not "close"


@pytest.mark.parametrize("persona", ["owner", "manager", "accountant", "cashier_a", "outsider"])
def test_who_may_open_which_customer_screen(client, request, maria, persona):
    person = request.getfixturevalue(persona)
    client.force_login(getattr(person, "user", person))
    for screen, (verb, path) in urls(maria.code).items():
        response = getattr(client, verb)(
            path, {"text": "hi", "kind": "note"} if verb == "post" else None
        )
        if (
            persona in ("owner", "manager")
            or (persona == "accountant" and screen in READERS)
            or (persona == "cashier_a" and screen in SELLERS)
        ):
            assert response.status_code in (200, 302), (screen, response.status_code)
        else:
            assert response.status_code == 403, (screen, persona)


def test_screens_ask_for_a_login_first(client, maria):
    for verb, path in urls(maria.code).values():
        response = getattr(client, verb)(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")


def test_registering_a_customer_from_the_form(client, owner):
    client.force_login(owner.user)
    response = client.post(
        "/customers/new/",
        {
            "name": "José Reyes",
            "phone": "(212) 555-0199",
            "email": "",
            "tags": "vip, weekly",
            "marketing_sms": "on",
            "credit_limit": "25.00",
        },
        follow=True,
    )
    customer = Customer.objects.get(name="José Reyes")
    assert response.redirect_chain[-1][0] == f"/customers/{customer.code}/"
    assert "José Reyes is registered." in response.content.decode()
    assert customer.phone == "+12125550199"
    assert customer.marketing_sms and customer.marketing_sms_changed_by == owner
    assert sorted(customer.tags.values_list("name", flat=True)) == ["vip", "weekly"]
    assert sales.balances(customer).credit_limit == 2500
    assert customer.cards.count() == 1


def test_a_duplicate_phone_is_refused_with_a_pointer_to_the_existing_customer(client, owner, maria):
    client.force_login(owner.user)
    response = client.post("/customers/new/", {"name": "Other", "phone": "+1 212 555 0123"})
    assert response.status_code == 200
    errors = response.context["form"].errors["phone"]
    assert errors == [f"This phone number belongs to Maria Santos ({maria.code})."]
    assert Customer.objects.count() == 1


def test_an_impossible_phone_or_consent_without_a_channel_is_explained(client, owner):
    client.force_login(owner.user)
    response = client.post("/customers/new/", {"name": "Ana", "phone": "12"})
    assert "not a phone number" in response.context["form"].errors["phone"][0]
    response = client.post("/customers/new/", {"name": "Ana", "marketing_email": "on"})
    assert response.context["form"].errors["marketing_email"]
    assert not Customer.objects.exists()


def test_editing_keeps_an_audit_trail(client, owner, maria):
    client.force_login(owner.user)
    client.post(
        f"/customers/{maria.code}/edit/",
        {"name": "Maria S. Santos", "phone": "2125550123", "email": "maria@example.com"},
    )
    maria.refresh_from_db()
    assert maria.name == "Maria S. Santos"
    event = AuditEvent.objects.get(action="customer.updated")
    before, after = revealed(maria, event.before), revealed(maria, event.after)
    assert (before, after, event.staff) == (
        {"name": "Maria Santos"},
        {"name": "Maria S. Santos"},
        owner,
    )


def test_the_profile_shows_balances_history_cards_and_notes(client, owner, actor, maria):
    sales.top_up(maria, 5000, method=method(), bonus_minor=500, key=key(), actor=actor)
    client.force_login(owner.user)
    client.post(f"/customers/{maria.code}/notes/", {"kind": "complaint", "text": "Cap was loose"})

    page = client.get(f"/customers/{maria.code}/").content.decode()

    assert "$50.00" in page and "$5.00" in page and "$55.00" in page
    assert "(212) 555-0123" in page
    assert "Cap was loose" in page and "Complaint" in page
    assert page.count("<svg") == 1
    assert Note.objects.get().author == owner


def test_lost_card_replacement_from_the_profile(client, owner, maria):
    old = Card.objects.get(customer=maria)
    client.force_login(owner.user)
    response = client.post(f"/customers/{maria.code}/cards/", {"replace": "1"}, follow=True)
    assert "the old cards no longer work" in response.content.decode()
    assert Card.objects.get(pk=old.pk).revoked_at is not None
    assert len(customers.active_cards(maria)) == 1


def test_closing_needs_a_zero_balance(client, owner, actor):
    customer = make_customer(balance="3.00", actor=actor)
    client.force_login(owner.user)
    response = client.post(f"/customers/{customer.code}/close/", follow=True)
    assert "Refund the balance before closing" in response.content.decode()
    assert Customer.objects.get(pk=customer.pk).status == "active"


def test_the_list_searches_and_filters(client, owner, actor):
    rich = make_customer("Rosa Rich", balance="10.00", actor=actor)
    poor = make_customer("Rosa Poor")
    old = make_customer(
        "Rosa Old",
        balance="1.00",
        actor=ledger.Actor(actor.store, actor.staff, at=timezone.now() - timedelta(days=90)),
    )
    customers.update(rich, customers.Profile(tags=["vip"]), by=owner)
    client.force_login(owner.user)

    def listed(**params):
        page = client.get("/customers/", params).context["page"]
        return [customer.name for customer in page]

    assert listed(q="rosa") == ["Rosa Old", "Rosa Poor", "Rosa Rich"]
    assert listed(has_balance="1") == ["Rosa Old", "Rosa Rich"]
    assert listed(dormant="30") == ["Rosa Old", "Rosa Poor"]
    assert listed(tag="vip") == ["Rosa Rich"]
    assert listed(q=poor.code) == ["Rosa Poor"]
    assert old.code in client.get("/customers/").content.decode()


def test_live_search_returns_only_the_rows(client, owner, maria):
    client.force_login(owner.user)
    response = client.get("/customers/", {"q": "mar"}, headers={"hx-request": "true"})
    body = response.content.decode()
    assert "Maria Santos" in body
    assert "<html" not in body


def test_printing_a_card_sheet(client, owner, maria):
    other = customers.register(customers.Profile(name="王芳"), by=owner)
    Card.objects.filter(customer=other).update(revoked_at=timezone.now())
    client.force_login(owner.user)

    chosen = {"code": [maria.code, other.code], "layout": "sheet"}
    shown = client.get("/customers/print/", chosen)
    assert shown.content.decode().count('class="card-print"') == 1  # a GET issues nothing
    assert customers.active_cards(other) == []

    printed = client.post("/customers/print/", chosen, follow=True)

    body = printed.content.decode()
    assert body.count('class="card-print"') == 2
    assert "王芳" in body and maria.code in body
    assert len(customers.active_cards(other)) == 1  # a customer without a card got one
