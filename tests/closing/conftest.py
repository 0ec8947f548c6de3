"""A day at store A, back-dated to yesterday, and helpers to close it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from prepaid.closing.operations import CloseDay, DecideClose
from prepaid.ledger.models import Batch
from prepaid.ledger.services import Actor
from prepaid.operations.envelope import Result, run
from prepaid.reports import days
from prepaid.sales import services as sales
from prepaid.staff import counters
from prepaid.staff.models import Device, Staff, Store
from tests import factories
from tests.factories import make_customer, make_product, method

_keys = itertools.count(1)


def key() -> str:
    return f"close-{next(_keys)}"


def close_day(
    by: Staff, place: str, day: date, *, form_key: str | None = None, **counts: Any
) -> Result:
    """Run ``CloseDay`` as the back office does, under a fresh key."""
    operation = CloseDay(place=place, day=day, **counts)
    actor = Actor(store=by.stores.first() or Store.objects.first(), staff=by)  # type: ignore[arg-type]
    return run(operation, actor=actor, scope=f"backoffice:{by.pk}", key=form_key or key())


def decide(by: Staff, close_id: int, *, approve: bool, note: str = "") -> Result:
    operation = DecideClose(close=close_id, approve=approve, note=note)
    actor = Actor(store=by.stores.first() or Store.objects.first(), staff=by)  # type: ignore[arg-type]
    return run(operation, actor=actor, scope=f"backoffice:{by.pk}", key=key())


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return days.bounds(day)[0] + timedelta(hours=hour, minutes=minute)


@dataclass
class Day:
    """Yesterday at store A, at the counter Till 1 and in the back office."""

    day: date
    store: Store
    device: Device
    other_device: Device
    cashier: Staff
    batches: dict[str, Batch]

    @property
    def store_place(self) -> str:
        return f"store:{self.store.pk}"

    @property
    def counter_place(self) -> str:
        return f"counter:{self.device.pk}"


@pytest.fixture
def yesterday(store_a, owner, cashier_a) -> Day:
    """At Till 1: cash top-ups of 100.00 and 50.00 (the 50.00 reversed at 11:00), a cash
    refund of 20.00, a card top-up of 30.00 (slip C-1) and a sale of 2.50. At Till 2:
    a cash top-up of 7.00."""
    day = timezone.now().astimezone(days.zone()).date() - timedelta(days=1)
    till, _secret = counters.enroll(store_a, "Till 1", by=owner)
    other, _secret = counters.enroll(store_a, "Till 2", by=owner)
    water = make_product("Water", price="0.25")
    maria = make_customer("Maria Santos")
    juan = make_customer("Juan Cruz")

    def actor(hour: int, minute: int = 0, device: Device = till) -> Actor:
        return Actor(store=store_a, staff=cashier_a, device=device, at=at(day, hour, minute))

    cash, card = method("cash"), method("card")
    made = {
        "top_up": sales.top_up(maria, 10000, method=cash, key=key(), actor=actor(9)).batch,
        "reversed": sales.top_up(juan, 5000, method=cash, key=key(), actor=actor(9, 30)).batch,
        "card": sales.top_up(
            juan, 3000, method=card, reference="C-1", key=key(), actor=actor(10)
        ).batch,
        "refund": sales.cash_out(
            maria, 2000, method=cash, reason="moving", key=key(), actor=actor(10, 30)
        ).batch,
        "sale": sales.sell(maria, [sales.Line(water, 10)], key=key(), actor=actor(10, 45)).batch,
        "other_till": sales.top_up(
            juan, 700, method=cash, key=key(), actor=actor(12, device=other)
        ).batch,
    }
    made["reversal"] = sales.reverse(
        made["reversed"], key=key(), actor=actor(11), reason="wrong customer"
    ).batch
    return Day(day, store_a, till, other, cashier_a, made)


@pytest.fixture(params=["UTC", "Asia/Manila"])
def business_in_two_zones(request, db):
    """The shop in UTC, then in Manila (UTC+8), where the shop's day and UTC's differ:
    a module that names this ``business`` runs each of its tests in both."""
    business = factories.make_business()
    business.time_zone = request.param
    business.save()
    return business
