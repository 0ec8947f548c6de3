"""Plain-function factories: ``make_customer(balance="50.00")``."""

from __future__ import annotations

import itertools
from decimal import Decimal

from django.contrib.auth import get_user_model

from prepaid.catalog.models import Product
from prepaid.customers import services as customers
from prepaid.customers.models import Customer
from prepaid.ledger import services as ledger
from prepaid.ledger.models import PaymentMethod
from prepaid.lib.money import to_minor
from prepaid.sales import services as sales
from prepaid.sales.setup import DEFAULT_METHODS
from prepaid.staff.models import Business, Staff, Store

_keys = itertools.count(1)


def key(prefix: str = "test") -> str:
    """A fresh idempotency key."""
    return f"{prefix}-{next(_keys)}"


def make_business(currency: str = "USD", region: str = "US") -> Business:
    business, _ = Business.objects.get_or_create(
        pk=1,
        defaults={"name": "Agua Pura", "currency": currency, "region": region, "time_zone": "UTC"},
    )
    for position, (code, name) in enumerate(DEFAULT_METHODS):
        PaymentMethod.objects.get_or_create(
            code=code, defaults={"name": name, "position": position}
        )
    return business


def make_store(name: str = "Main Street") -> Store:
    make_business()
    store, _ = Store.objects.get_or_create(name=name)
    return store


def make_staff(
    name: str = "Ana",
    role: Staff.Role = Staff.Role.CASHIER,
    store: Store | None = None,
    password: str | None = None,
) -> Staff:
    user = None
    if password is not None:
        user = get_user_model().objects.create_user(username=name.lower(), password=password)
    staff = Staff.objects.create(name=name, role=role, user=user)
    staff.stores.add(store or make_store())
    return staff


def make_actor(store: Store | None = None, staff: Staff | None = None) -> ledger.Actor:
    store = store or make_store()
    return ledger.Actor(store=store, staff=staff or make_staff(store=store))


def method(code: str = "cash") -> PaymentMethod:
    make_business()
    return PaymentMethod.objects.get(code=code)


def make_customer(
    name: str = "Maria Santos",
    *,
    balance: str = "0",
    bonus: str = "0",
    credit_limit: str = "0",
    actor: ledger.Actor | None = None,
) -> Customer:
    business = make_business()
    customer = customers.register(customers.Profile(name=name), by=None)
    ledger.open_accounts(customer, unit=business.currency)
    if limit := to_minor(credit_limit, business.currency):
        sales.set_credit_limit(customer, limit, by=None)
    paid, extra = to_minor(balance, business.currency), to_minor(bonus, business.currency)
    if paid or extra:
        if not paid:
            raise ValueError("a bonus comes with a top-up")
        sales.top_up(
            customer,
            paid,
            method=method(),
            bonus_minor=extra,
            key=key("seed"),
            actor=actor or make_actor(),
        )
    return customer


def make_product(
    name: str = "Purified water", price: str = "0.25", unit: str = "gallon"
) -> Product:
    return Product.objects.create(name=name, unit=unit, unit_price=Decimal(price))
