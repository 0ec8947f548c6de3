"""Rows read by fixed SQL are the same instances the ORM would build, on both engines."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict

from prepaid.catalog.models import Product
from prepaid.customers.models import Customer, Tag
from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.lib import bulk, rows
from prepaid.operations.models import Event, Outcome
from prepaid.sales.models import SaleLine
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


def test_an_insert_writes_every_column_of_the_model():
    """The posting path's INSERTs take their columns from the model: a column added to
    Batch or Transfer is written at once, never silently left NULL."""
    for model in (Batch, Transfer, SaleLine, Event, Outcome):
        shape = rows.columns(model)
        expected = [f.column for f in model._meta.concrete_fields if not f.primary_key]
        assert [field.column for field in shape.fields] == expected, model


def test_pending_rows_are_written_together_and_read_back_as_the_orm_would():
    make_business()
    customer = make_customer()
    pending = rows.Pending()
    pending.add(Event(type="a", customer_id=customer.pk, data="{}"))
    pending.add(Event(type="b", data="[]"), Tag(name="regular"))
    pending.flush()
    assert list(Event.objects.order_by("id").values_list("type", "customer_id")) == [
        ("a", customer.pk),
        ("b", None),
    ]
    assert Event.objects.filter(created_at__isnull=False, uid__startswith="evt_").count() == 2
    assert Tag.objects.filter(name="regular").exists()


def test_a_bulk_insert_without_a_value_for_a_required_column_is_refused():
    make_business()
    with pytest.raises(TypeError, match="needs a value"):
        bulk.insert(Tag, [{}])  # no name, and a name has no default
