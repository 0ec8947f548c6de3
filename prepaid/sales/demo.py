"""A demo water-refill station, so a newcomer has something to click through.

Three water types, 50 regulars with cards, two weeks of top-ups (with bonus), refills,
an undone mistake and a cash-out — every cent posted through the same services as the
counter, so ``prepaid verify`` holds afterwards.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import phonenumbers
from django.db import transaction
from django.utils import timezone

from prepaid.catalog.models import Product
from prepaid.customers.models import Card, Customer
from prepaid.ledger import services as ledger
from prepaid.ledger.errors import InsufficientFunds
from prepaid.ledger.models import PaymentMethod
from prepaid.lib.money import exponent
from prepaid.sales import services as sales
from prepaid.staff.models import Business, Staff, Store

PRODUCTS = (
    ("Purified water", "PUR-GAL", "gallon", Decimal("0.2500")),
    ("Alkaline water", "ALK-GAL", "gallon", Decimal("0.4000")),
    ("Mineral water", "MIN-GAL", "gallon", Decimal("0.3500")),
)
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
TOP_UPS = ((5, 0), (10, 1), (20, 3))  # (major units ×10, bonus major units ×10)


class DemoError(RuntimeError):
    """The demo cannot be loaded here."""


def load(*, seed: int = 7, customers: int = 50, days: int = 14) -> int:
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
    with transaction.atomic():
        products = _products()
        people = _customers(generator, business.region, store, customers)
    scale = 10 ** exponent(business.currency)
    methods = list(PaymentMethod.objects.filter(active=True))
    start = timezone.now() - timedelta(days=days)
    posted = 0
    for day in range(days):
        for event in range(generator.randint(15, 30)):
            at = start + timedelta(
                days=day, hours=8 + event * 0.4, minutes=generator.randint(0, 20)
            )
            actor = ledger.Actor(store=store, staff=owner, at=at)
            customer = generator.choice(people)
            key = f"demo-{day}-{event}"
            if generator.random() < 0.3 or sales.balances(customer).paid < 2 * scale:
                tens, bonus = generator.choice(TOP_UPS)
                sales.top_up(
                    customer,
                    tens * 10 * scale,
                    method=generator.choice(methods),
                    bonus_minor=bonus * 10 * scale,
                    key=key,
                    actor=actor,
                )
            else:
                line = sales.Line(
                    generator.choice(products), Decimal(generator.choice((3, 5, 5, 10)))
                )
                try:
                    receipt = sales.sell(customer, [line], key=key, actor=actor)
                except InsufficientFunds:
                    continue
                if generator.random() < 0.03:
                    ledger.reverse(
                        receipt.batch, f"{key}-undo", actor=actor, note="Wrong water type"
                    )
                    posted += 1
            posted += 1
    return posted


def _products() -> list[Product]:
    return [
        Product.objects.create(name=name, sku=sku, unit=unit, unit_price=price)
        for name, sku, unit, price in PRODUCTS
    ]


def _customers(generator: random.Random, region: str, store: Store, count: int) -> list[Customer]:
    people = []
    for number in range(count):
        if number % 6 == 5:
            name = CHINESE[number % len(CHINESE)]
        else:
            name = f"{generator.choice(GIVEN)} {generator.choice(FAMILY)}"
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        phone = ""
        if example is not None:
            national = str(example.national_number)
            digits = national[:-4] + f"{number:04d}"
            parsed = phonenumbers.parse(digits, region)
            phone = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        customer = Customer.objects.create(name=name, phone=phone, home_store=store)
        Card.objects.create(customer=customer)
        people.append(customer)
    return people
