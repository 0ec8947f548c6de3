"""A demo water-refill station, so a newcomer has something to click through.

Three water types, 50 regulars with cards, two weeks of top-ups (with bonus), refills,
and now and then an undone mistake — every cent posted through the same services as the
counter, so ``prepaid verify`` holds afterwards.
"""

from __future__ import annotations

import random
import zoneinfo
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import phonenumbers
from django.db import transaction
from django.utils import timezone

from prepaid.catalog import services as catalog
from prepaid.catalog.models import Product
from prepaid.customers import services as customers
from prepaid.customers.models import Customer
from prepaid.ledger import services as ledger
from prepaid.ledger.models import PaymentMethod
from prepaid.lib.money import exponent, from_minor
from prepaid.sales import services as sales
from prepaid.staff import counters
from prepaid.staff.models import Business, Staff, Store
from prepaid.staff.refusals import Refusal

PRODUCTS = (
    ("Purified water", "PUR-GAL", "gallon", Decimal("0.2500"), "#1e88e5"),
    ("Alkaline water", "ALK-GAL", "gallon", Decimal("0.4000"), "#43a047"),
    ("Mineral water", "MIN-GAL", "gallon", Decimal("0.3500"), "#8e24aa"),
)
# Who unlocks the demo counter, and with which PIN (printed by `prepaid demo`).
CASHIER = ("Carlos", "4827")
OWNER_PIN = "3619"
GIVEN = (
    "Maria",
    "Jose",
    "Ana",
    "Juan",
    "Rosa",
    "Mark",
    "Grace",
    "Paolo",
    "Liza",
    "Ramon",
    "Joy",
    "Carlo",
    "Ella",
    "Noel",
    "Tess",
    "Ben",
    "Ivy",
    "Leo",
    "Mae",
    "Rey",
)
FAMILY = (
    "Santos",
    "Reyes",
    "Cruz",
    "Bautista",
    "Garcia",
    "Mendoza",
    "Dela Cruz",
    "Ramos",
    "Aquino",
    "Flores",
)
CHINESE = ("王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "黄敏", "赵强")
TOP_UPS = ((5, 0), (10, 1), (20, 3))  # (amount, bonus) in US dollars
# Rough price level against the US dollar, so a peso shop's demo reads ₱12.50 a gallon
# and ₱500 top-ups rather than ₱0.25 and ₱10.
PRICE_LEVEL = {
    "PHP": 50,
    "CNY": 7,
    "JPY": 150,
    "INR": 80,
    "IDR": 15000,
    "VND": 25000,
    "THB": 35,
    "MYR": 4,
    "HKD": 8,
    "TWD": 30,
    "MXN": 18,
    "BRL": 5,
    "KRW": 1300,
}


class DemoError(RuntimeError):
    """The demo cannot be loaded here."""


def load(*, seed: int = 7, people: int = 50, days: int = 14) -> int:
    """Fill the set-up shop with demo data; returns the number of transactions posted."""
    business = Business.current()
    if business is None:
        raise DemoError("set up the business first (prepaid init)")
    if Customer.objects.exists():
        raise DemoError("this shop has customers already; the demo only fills an empty shop")
    store = Store.objects.order_by("pk").first()
    owner = Staff.objects.filter(role=Staff.Role.OWNER).order_by("pk").first()
    if store is None or owner is None:
        raise DemoError("the shop has no store or owner")
    generator = random.Random(seed)
    level = PRICE_LEVEL.get(business.currency, 1)
    with transaction.atomic():
        shop = Shop(
            products=_products(level),
            people=_customers(generator, business.region, store, owner, people),
            methods=list(PaymentMethod.objects.filter(active=True)),
            unit=10 ** exponent(business.currency) * level,
        )
        _counter_staff(store, owner, shop.unit)
    # Opening time, 08:00 in the shop's time zone, `days` days ago.
    now = timezone.localtime(timezone=zoneinfo.ZoneInfo(business.time_zone))
    opening = now.replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=days)
    posted = 0
    for day in range(days):
        for event in range(generator.randint(15, 30)):
            # Spread over the day, one customer every 24 minutes or so, until about 20:00.
            at = opening + timedelta(days=day, minutes=event * 24 + generator.randint(0, 20))
            actor = ledger.Actor(store=store, staff=owner, at=at)
            posted += _visit(generator, shop, actor, key=f"demo-{day}-{event}")
    return posted


@dataclass(frozen=True)
class Shop:
    products: list[Product]
    people: list[Customer]
    methods: list[PaymentMethod]
    unit: int  # minor units of one "demo dollar"


def _visit(generator: random.Random, shop: Shop, actor: ledger.Actor, *, key: str) -> int:
    """One customer at the counter: a top-up, or a refill (now and then undone)."""
    customer = generator.choice(shop.people)
    if generator.random() < 0.3 or sales.balances(customer).paid < 2 * shop.unit:
        amount, bonus = generator.choice(TOP_UPS)
        method = generator.choice(shop.methods)
        sales.top_up(
            customer,
            amount * shop.unit,
            method=method,
            bonus_minor=bonus * shop.unit,
            key=key,
            actor=actor,
        )
        return 1
    gallons = Decimal(generator.choice((3, 5, 5, 10)))
    line = sales.Line(generator.choice(shop.products), gallons)
    try:
        receipt = sales.sell(customer, [line], key=key, actor=actor)
    except Refusal:  # not enough money: the customer tops up another day
        return 0
    if generator.random() < 0.03:
        ledger.reverse(receipt.batch, f"{key}-undo", actor=actor, note="Wrong water type")
        return 2
    return 1


def _products(level: int) -> list[Product]:
    return [
        Product.objects.create(
            name=name, sku=sku, unit=unit, unit_price=price * level, colour=colour, position=n
        )
        for n, (name, sku, unit, price, colour) in enumerate(PRODUCTS)
    ]


def _counter_staff(store: Store, owner: Staff, unit: int) -> None:
    """A cashier and the owner with PINs, and the top-up plans, for the counter."""
    name, pin = CASHIER
    cashier = Staff.objects.create(name=name, role=Staff.Role.CASHIER)
    cashier.stores.add(store)
    counters.set_pin(cashier, pin, by=owner)
    counters.set_pin(owner, OWNER_PIN, by=owner)
    currency = Business.get().currency
    for position, (amount, bonus) in enumerate(TOP_UPS[1:]):
        # Named by what they are in the shop's money: "500 → +50" in a peso shop.
        label = f"{_major(amount * unit, currency)} → +{_major(bonus * unit, currency)}"
        catalog.save_plan(
            None,
            name=label,
            amount_minor=amount * unit,
            bonus_minor=bonus * unit,
            position=position,
            by=owner,
        )


def _major(amount_minor: int, currency: str) -> str:
    """``amount_minor`` in major units, without decimals when it is whole."""
    amount = from_minor(amount_minor, currency)
    return f"{amount:f}" if amount != amount.to_integral_value() else f"{int(amount)}"


def _customers(
    generator: random.Random, region: str, store: Store, owner: Staff, count: int
) -> list[Customer]:
    people = []
    for number in range(count):
        if number % 6 == 5:
            name = CHINESE[number % len(CHINESE)]
        else:
            name = f"{generator.choice(GIVEN)} {generator.choice(FAMILY)}"
        profile = customers.Profile(name=name, phone=_phone(region, number))
        person = customers.register(profile, by=owner, store=store)
        ledger.open_accounts(person, unit=Business.get().currency)
        people.append(person)
    return people


def _phone(region: str, number: int) -> str:
    """A valid mobile number of the region, different for each demo customer."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        return ""
    national = str(example.national_number)
    parsed = phonenumbers.parse(national[:-4] + f"{number:04d}", region)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
