"""Rows read by fixed SQL are the same instances the ORM would build, on both engines."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict

from prepaid.catalog.models import Product
from prepaid.customers.models import Customer
from prepaid.ledger.models import Account
from prepaid.lib import rows
from tests.factories import make_business, make_customer

pytestmark = pytest.mark.django_db


def fields_of(instance):
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_a_row_has_the_values_and_types_the_orm_gives():
    make_business()
    product = Product.objects.create(name="Alkaline", unit="gallon", unit_price=Decimal("0.3490"))

    found = rows.one(Product, "id = %s AND active = %s", [product.pk, True])

    assert found is not None
    assert fields_of(found) == fields_of(Product.objects.get(pk=product.pk))
    # SQLite hands back text and floats; the converters make them what the ORM makes.
    assert isinstance(found.unit_price, Decimal) and found.unit_price == Decimal("0.3490")
    assert isinstance(found.created_at, datetime) and found.created_at.tzinfo is not None
    assert found.active is True


def test_a_row_is_a_fetched_instance_saving_updates_it():
    make_business()
    product = Product.objects.create(name="Purified", unit="gallon", unit_price=Decimal("0.35"))

    found = rows.one(Product, "id = %s", [product.pk])
    assert found is not None and found._state.adding is False and found._state.db == "default"
    found.name = "Purified water"
    found.save()

    assert Product.objects.count() == 1
    assert Product.objects.get().name == "Purified water"


def test_no_row_is_none_and_many_gives_every_match():
    make_business()
    customer = make_customer(balance="5.00")

    assert rows.one(Customer, "code = %s", ["NOPE-NOPE"]) is None
    accounts = rows.many(Account, "customer_id = %s ORDER BY id", [customer.pk])
    expected = list(Account.objects.filter(customer=customer).order_by("id"))
    assert [model_to_dict(a) for a in accounts] == [model_to_dict(a) for a in expected]
    assert [a.cached_balance for a in accounts] == [a.cached_balance for a in expected]
