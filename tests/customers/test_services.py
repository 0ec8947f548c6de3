from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from prepaid.customers import services as customers
from prepaid.customers.models import Card, Customer, NameKey, Note
from prepaid.ledger.errors import InsufficientFunds
from prepaid.sales import services as sales
from prepaid.staff.models import AuditEvent
from tests.conftest import assert_ledger_sound
from tests.factories import key, make_customer, make_product, method

pytestmark = pytest.mark.django_db

Profile = customers.Profile


def test_a_new_customer_gets_a_readable_code_a_normalised_phone_and_a_card(business, owner):
    customer = customers.register(
        Profile(name="  Maria   Santos ", phone="(212) 555-0123", email="Maria@Example.COM"),
        by=owner,
    )
    assert customer.name == "Maria Santos"
    assert customer.phone == "+12125550123"
    assert customer.email == "maria@example.com"
    assert len(customer.code) == 9 and str(customer.pk) not in customer.code
    assert Card.objects.filter(customer=customer, revoked_at__isnull=True).count() == 1
    event = AuditEvent.objects.get(action="customer.registered")
    assert (event.staff, event.subject) == (owner, f"customer:{customer.code}")


def test_a_phone_stored_as_a_number_gets_its_leading_zero_back(business, owner):
    business.region = "NL"
    business.save()
    customer = customers.register(Profile(name="Jan", phone="612345678"), by=owner)
    assert customer.phone == "+31612345678"


@pytest.mark.parametrize("field", ["phone", "email"])
def test_a_duplicate_phone_or_email_points_at_the_existing_customer(business, owner, field):
    first = customers.register(
        Profile(name="Maria", phone="212 555 0123", email="m@example.com"), by=owner
    )
    values = {"phone": "+1 212-555-0123", "email": "M@example.com"}

    with pytest.raises(customers.DuplicateCustomer) as duplicate:
        customers.register(Profile(name="Other", **{field: values[field]}), by=owner)

    assert duplicate.value.existing == first
    assert duplicate.value.field == field
    assert first.code in str(duplicate.value)
    assert Customer.objects.count() == 1


def test_consent_needs_the_channel_and_records_who_and_when(business, owner):
    with pytest.raises(customers.CustomerError) as refused:
        customers.register(Profile(name="Ana", marketing_sms=True), by=owner)
    assert refused.value.field == "marketing_sms"
    assert not Customer.objects.exists()

    customer = customers.register(Profile(name="Ana", email="ana@example.com"), by=owner)
    customer = customers.update(customer, Profile(marketing_email=True), by=owner)
    assert customer.marketing_email
    assert customer.marketing_email_changed_by == owner
    assert customer.marketing_email_changed_at is not None
    with pytest.raises(customers.CustomerError):
        customers.update(customer, Profile(email=""), by=owner)  # consent would lose its channel
    assert Customer.objects.get(pk=customer.pk).email == "ana@example.com"


def test_an_edit_is_audited_with_before_and_after(business, owner):
    customer = customers.register(Profile(name="Ana", phone="2125550123"), by=owner)
    customers.update(customer, Profile(name="Ana Reyes", tags=["VIP", " vip "]), by=owner)
    event = AuditEvent.objects.get(action="customer.updated")
    assert set(event.before["name"]) == {"sealed"}  # the name is sealed in the trail
    assert customers.revealed(customer, event.before) == {"name": "Ana"}
    assert customers.revealed(customer, event.after) == {"name": "Ana Reyes"}
    assert sorted(customer.tags.values_list("name", flat=True)) == ["VIP", "vip"]


def saved(customer: Customer) -> dict[str, object]:
    """What registering left for the customer, but its id and code."""
    customer = Customer.objects.get(pk=customer.pk)
    # Sealed values differ (each seal has its own nonce): compared opened, below.
    varying = {"id", "code", "created_at", "updated_at", "sealed_key", "personal"}
    columns = Customer._meta.concrete_fields
    event = AuditEvent.objects.get(subject=f"customer:{customer.code}")
    return {
        "columns": {c.attname: getattr(customer, c.attname) for c in columns}
        | dict.fromkeys(varying),
        "personal": customer._values(),
        "name keys": sorted(
            NameKey.objects.filter(customer=customer).values_list("key", flat=True)
        ),
        "cards": customer.cards.filter(revoked_at__isnull=True).count(),
        "tags": sorted(customer.tags.values_list("name", flat=True)),
        "audit": (
            event.action,
            event.staff,
            event.api_token,
            event.store,
            customers.revealed(customer, event.after),
        ),
    }


def test_registering_many_saves_what_registering_one_saves(business, owner, store_a):
    birthday = dt.date(1990, 6, 19)
    with transaction.atomic():  # registered once, looked at, and rolled back
        one = customers.register(
            Profile(
                name="José  Rizal",
                phone="(212) 555-0123",
                email="jose@example.com",
                address="Calle Real 1",
                birthday=birthday,
                notes="Likes it cold",
                tags=["vip", "school"],
            ),
            by=owner,
            store=store_a,
        )
        expected = saved(one)
        transaction.set_rollback(True)
    new = customers.NewCustomer(
        name="José Rizal",
        phone="+12125550123",
        email="jose@example.com",
        address="Calle Real 1",
        birthday=birthday,
        notes="Likes it cold",
        tags=["vip", "school"],
    )
    customers.register_many([new], by=owner, store=store_a)
    assert new.pk and len(new.code) == 9
    assert saved(Customer(pk=new.pk)) == expected


def test_notes_form_a_timeline_with_their_author(business, owner):
    customer = customers.register(Profile(name="Ana"), by=owner)
    customers.add_note(customer, "Prefers alkaline", by=owner)
    customers.add_note(customer, "Water tasted odd", kind=Note.Kind.COMPLAINT, by=owner)
    kinds = list(customer.timeline.values_list("kind", "author__name"))
    assert kinds == [("complaint", "Olivia"), ("note", "Olivia")]


def test_replacing_a_card_revokes_the_old_one_and_keeps_the_balance(actor, owner):
    customer = make_customer(balance="20.00", actor=actor)
    customers.issue_card(customer, by=owner)
    new = customers.issue_card(customer, replace=True, by=owner)
    assert customers.active_cards(customer) == [new]
    assert sales.balances(customer).paid == 2000


def test_a_credit_limit_change_moves_the_floor_in_the_ledger(actor, owner):
    customer = make_customer(balance="1.00", actor=actor)
    water = make_product(price="1.00")
    with pytest.raises(InsufficientFunds):
        sales.sell(customer, [sales.Line(water, 3)], key=key(), actor=actor)

    sales.set_credit_limit(customer, 500, by=owner)
    sales.sell(customer, [sales.Line(water, 3)], key=key(), actor=actor)

    assert sales.balances(customer).paid == -200
    with pytest.raises(customers.CustomerError):
        sales.set_credit_limit(customer, 100, by=owner)  # already 2.00 in credit
    assert Customer.objects.get(pk=customer.pk).credit_limit_minor == 500
    assert_ledger_sound()


def test_an_account_closes_only_at_zero_and_its_cards_stop_working(actor, owner):
    customer = make_customer(balance="5.00", actor=actor)
    with pytest.raises(customers.CustomerError):
        sales.close_account(customer, by=owner)

    sales.cash_out(customer, 500, method=method(), key=key(), actor=actor, reason="moving away")
    sales.close_account(customer, by=owner)

    assert Customer.objects.get(pk=customer.pk).status == "closed"
    assert customers.active_cards(customer) == []


@pytest.mark.django_db(transaction=True)
def test_registering_many_is_all_or_nothing_like_registering_one(business, owner, monkeypatch):
    taken = make_customer("Already here")
    customers.update(taken, customers.Profile(phone="+12125550100"), by=owner)
    monkeypatch.setattr(customers, "WRITE_CHUNK", 1)  # the refusal comes in a later chunk
    news = [
        customers.NewCustomer(name="First"),
        customers.NewCustomer(name="Second", phone="+12125550100"),
    ]
    with pytest.raises(IntegrityError):
        customers.register_many(news, by=owner)
    assert not Customer.objects.filter(name="First").exists()
