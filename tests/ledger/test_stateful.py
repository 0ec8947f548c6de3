"""The ledger against a reference model in plain Python, under random sequences of
top-ups, bonuses, sales (with coupons), refunds, punch cards bought and used, points
earned and redeemed, reversals and replays, each run as the interfaces run it: an
operation through the envelope (``prepaid.operations``).

After every step the database's balances equal the model's and ``verify`` passes. In CI
the run is derandomized (a fixed seed), so a failure there reproduces locally.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from prepaid.catalog import services as catalog
from prepaid.coupons import services as coupons
from prepaid.coupons.models import Coupon
from prepaid.ledger import services as ledger
from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.operations.envelope import run
from prepaid.operations.money import RedeemPoints, Refund, Reversal, Sale, TopUp
from prepaid.operations.programs import BuyPackage, Redeem
from prepaid.programs import services as programs
from prepaid.programs.models import PunchCard
from prepaid.sales import points
from prepaid.sales import services as sales
from prepaid.staff.models import Business, SpendOrder
from prepaid.staff.refusals import Refusal
from tests.conftest import assert_ledger_sound
from tests.factories import make_customer, make_product

AMOUNTS = st.integers(min_value=1, max_value=50_000)


@dataclass
class Wallet:
    paid: int = 0
    bonus: int = 0
    points: int = 0


POINT_EVERY = 100  # a point for every 1.00 of paid money spent
POINT_VALUE = 1  # a point gives 0.01 of bonus


@dataclass
class Card:
    """The model's punch card: whose, how many uses it was bought with, how many are left."""

    customer: int
    bought: int
    remaining: int
    card_id: int


@dataclass
class Posted:
    """What the model knows of one posted operation: how to replay it, what it moved
    (money, and uses of punch cards: ``(card index, uses)``, negative when used)."""

    key: str
    customer: int
    call: tuple[str, dict[str, int]]
    paid: int
    bonus: int
    batch_id: int
    reversed: bool = field(default=False)
    uses: list[tuple[int, int]] = field(default_factory=list)
    points: int = 0


def rows() -> tuple[int, int, list[tuple[int, int, int]]]:
    accounts = Account.objects.order_by("pk").values_list("pk", "debits_posted", "credits_posted")
    return Batch.objects.count(), Transfer.objects.count(), list(accounts)


class LedgerMachine(RuleBasedStateMachine):
    actor: ledger.Actor
    product: object

    posted = Bundle("posted")

    def __init__(self) -> None:
        super().__init__()
        # Each example starts from the same database: rolled back in teardown.
        self.savepoint = transaction.savepoint()
        self.customers = [make_customer(f"Model customer {index}") for index in range(2)]
        self.model = [Wallet() for _ in self.customers]
        self.count = 0
        self.refusals: list[tuple[str, str, dict[str, int], int]] = []
        self.cards: list[Card] = []
        self.coupons: list[str] = []

    @initialize(order=st.sampled_from(list(SpendOrder)))
    def choose_spend_order(self, order):
        Business.objects.filter(pk=1).update(
            spend_order=order, points_every_minor=POINT_EVERY, point_value_minor=POINT_VALUE
        )
        self.order = order

    def split(self, wallet: Wallet, cents: int) -> tuple[int, int]:
        """The model's own reading of the spend order (integers only, half-up)."""
        paid, bonus = wallet.paid, wallet.bonus
        if self.order == SpendOrder.BONUS_FIRST:
            from_bonus = min(cents, bonus)
        elif self.order == SpendOrder.PAID_FIRST:
            from_bonus = cents - min(cents, paid)
        else:
            from_bonus = (2 * cents * bonus + paid + bonus) // (2 * (paid + bonus))
        return cents - from_bonus, from_bonus

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)

    def next_key(self) -> str:
        self.count += 1
        return f"machine-{self.count}"

    def operation(self, name: str, options: dict[str, int], customer: int):
        code = self.customers[customer].code
        if name == "top_up":
            return TopUp(code, options["amount"], "cash", plan=options.get("plan"))
        if name == "sell":
            index = options.get("coupon")
            coupon = "" if index is None else (self.coupons + ["ZZZZ-ZZZZ"] * index)[index]
            return Sale(code, ((str(self.product.pk), str(options["cents"])),), coupon=coupon)
        if name == "points":
            return RedeemPoints(code, options["points"])
        if name == "package":
            return BuyPackage(code, options["package"], "cash")
        if name == "redeem":
            return Redeem(code, str(self.product.pk), options["quantity"])
        return Refund(code, options["amount"], "cash", reason="leaving")

    def call(self, name: str, options: dict[str, int], customer: int, key: str):
        return run(self.operation(name, options, customer), actor=self.actor, scope="t", key=key)

    def record(self, name, options, customer, paid, bonus, earned=0) -> Posted:
        key = self.next_key()
        outcome = self.call(name, options, customer, key)
        assert not outcome.replayed
        self.model[customer].paid += paid
        self.model[customer].bonus += bonus
        self.model[customer].points += earned
        posted = Posted(key, customer, (name, options), paid, bonus, outcome.batch_id)
        posted.points = earned
        return posted

    def refused(self, code: str, action) -> None:
        before = rows()
        with pytest.raises(Refusal) as refusal:
            action()
        assert refusal.value.code == code
        assert rows() == before

    def reverse(self, batch_id: int):
        operation = Reversal(batch_id, reason="model")
        return run(operation, actor=self.actor, scope="t", key=self.next_key())

    @rule(target=posted, customer=st.integers(0, 1), amount=AMOUNTS)
    def top_up(self, customer, amount):
        return self.record("top_up", {"amount": amount}, customer, amount, 0)

    @rule(target=posted, customer=st.integers(0, 1), amount=AMOUNTS, bonus=AMOUNTS)
    def top_up_with_bonus(self, customer, amount, bonus):
        plan = catalog.save_plan(
            None, name="model", amount_minor=amount, bonus_minor=bonus, by=None
        )
        options = {"amount": amount, "plan": plan.pk}
        return self.record("top_up", options, customer, amount, bonus)

    @rule(target=posted, customer=st.integers(0, 1), share=st.floats(0.01, 1.0))
    def sale(self, customer, share):
        wallet = self.model[customer]
        cents = int((wallet.paid + wallet.bonus) * share)
        if cents < 1:
            return self.top_up(customer, 100)
        from_paid, from_bonus = self.split(wallet, cents)
        earned = from_paid // POINT_EVERY  # on the paid part only
        return self.record("sell", {"cents": cents}, customer, -from_paid, -from_bonus, earned)

    @rule(target=posted, customer=st.integers(0, 1), share=st.floats(0.01, 1.0), off=AMOUNTS)
    def sale_with_a_coupon(self, customer, share, off):
        """A single-use coupon of ``off``: charged less by it; used again, refused."""
        wallet = self.model[customer]
        cents = int((wallet.paid + wallet.bonus) * share)
        if cents < 2:
            return self.top_up(customer, 100)
        off = 1 + off % (cents - 1)  # something to take off, something left to pay
        (coupon,) = coupons.issue(coupons.Terms(Coupon.Kind.AMOUNT, off), by=None)
        self.coupons.append(coupon.code)
        options = {"cents": cents, "coupon": len(self.coupons) - 1}
        from_paid, from_bonus = self.split(wallet, cents - off)
        earned = from_paid // POINT_EVERY
        done = self.record("sell", options, customer, -from_paid, -from_bonus, earned)
        again = {"cents": 1, "coupon": options["coupon"]}
        key = self.next_key()
        self.refused("coupon_not_valid", lambda: self.call("sell", again, customer, key))
        return done

    @rule(target=posted, customer=st.integers(0, 1), share=st.floats(0.01, 1.0))
    def redeem_points(self, customer, share):
        held = self.model[customer].points
        count = int(held * share)
        if count < 1:
            key = self.next_key()
            options = {"points": held + 1}
            self.refused("not_enough_points", lambda: self.call("points", options, customer, key))
            return self.top_up(customer, 100)
        done = self.record("points", {"points": count}, customer, 0, count * POINT_VALUE, -count)
        return done

    @rule(customer=st.integers(0, 1), extra=AMOUNTS)
    def sale_beyond_balance(self, customer, extra):
        wallet = self.model[customer]
        cents = wallet.paid + wallet.bonus + extra
        key = self.next_key()
        self.refused(
            "insufficient_funds", lambda: self.call("sell", {"cents": cents}, customer, key)
        )
        self.refusals.append((key, "sell", {"cents": cents}, customer))

    @rule(data=st.data())
    def replay_of_a_refusal_is_the_refusal(self, data):
        """Even when the money is there by now: a key keeps its first outcome."""
        if not self.refusals:
            return
        key, name, options, customer = data.draw(st.sampled_from(self.refusals))
        self.top_up(customer, options["cents"])
        before = rows()
        with pytest.raises(Refusal) as refusal:
            self.call(name, options, customer, key)
        assert (refusal.value.code, refusal.value.replayed) == ("insufficient_funds", True)
        assert rows() == before

    @rule(target=posted, customer=st.integers(0, 1), share=st.floats(0.01, 1.0))
    def refund(self, customer, share):
        wallet = self.model[customer]
        amount = int(wallet.paid * share)
        if amount < 1:
            return self.top_up(customer, 100)
        forfeit = wallet.bonus if amount >= wallet.paid else 0
        return self.record("cash_out", {"amount": amount}, customer, -amount, -forfeit)

    @rule(target=posted, customer=st.integers(0, 1), uses=st.integers(1, 4), price=AMOUNTS)
    def buy_punch_card(self, customer, uses, price):
        package = programs.create_package(
            name="model", product=self.product, count=uses, price_minor=price, by=None
        )
        key = self.next_key()
        outcome = self.call("package", {"package": package.pk}, customer, key)
        card_id = json.loads(outcome.body)["punch_card"]["id"]
        self.cards.append(Card(customer, uses, uses, card_id))
        index = len(self.cards) - 1
        call = ("package", {"package": package.pk})
        return Posted(key, customer, call, 0, 0, outcome.batch_id, uses=[(index, uses)])

    @rule(target=posted, customer=st.integers(0, 1), quantity=st.integers(1, 5))
    def use_punch_cards(self, customer, quantity):
        """The oldest card first (none of the model's cards ends), then the next."""
        held = [i for i, c in enumerate(self.cards) if c.customer == customer and c.remaining]
        if sum(self.cards[i].remaining for i in held) < quantity:
            key = self.next_key()
            options = {"quantity": quantity}
            self.refused("nothing_to_redeem", lambda: self.call("redeem", options, customer, key))
            return self.top_up(customer, 100)
        key = self.next_key()
        outcome = self.call("redeem", {"quantity": quantity}, customer, key)
        taken, wanted = [], quantity
        for index in held:
            take = min(self.cards[index].remaining, wanted)
            if take:
                self.cards[index].remaining -= take
                taken.append((index, -take))
                wanted -= take
        answered = [(c["id"], c["used"]) for c in json.loads(outcome.body)["cards"]]
        assert answered == [(self.cards[i].card_id, -n) for i, n in taken]
        call = ("redeem", {"quantity": quantity})
        return Posted(key, customer, call, 0, 0, outcome.batch_id, uses=taken)

    @rule(operation=posted)
    def reversal(self, operation: Posted):
        wallet = self.model[operation.customer]
        batch_id = operation.batch_id
        if operation.reversed:
            self.refused("already_reversed", lambda: self.reverse(batch_id))
            return
        if operation.call[0] == "package":
            ((index, bought),) = operation.uses
            if self.cards[index].remaining < bought:
                self.refused("punch_card_used", lambda: self.reverse(batch_id))
                return
        if operation.points > 0 and wallet.points < operation.points:
            self.refused("points_used", lambda: self.reverse(batch_id))
            return
        if wallet.paid - operation.paid < 0 or wallet.bonus - operation.bonus < 0:
            spent = "top_up_spent" if operation.call[0] == "top_up" else "reversal_below_floor"
            self.refused(spent, lambda: self.reverse(batch_id))
            return
        self.reverse(batch_id)
        wallet.paid -= operation.paid
        wallet.bonus -= operation.bonus
        wallet.points -= operation.points
        for index, uses in operation.uses:
            self.cards[index].remaining -= uses
        operation.reversed = True

    @rule(operation=posted)
    def replay_with_the_same_key(self, operation: Posted):
        before = rows()
        name, options = operation.call
        outcome = self.call(name, options, operation.customer, operation.key)
        assert outcome.replayed
        assert outcome.batch_id == operation.batch_id
        assert rows() == before

    @rule(operation=posted, other=AMOUNTS)
    def replay_with_the_same_key_and_another_amount(self, operation: Posted, other):
        name, options = operation.call
        changed = {name: value + other for name, value in options.items()}
        self.refused(
            "idempotency_key_reused",
            lambda: self.call(name, changed, operation.customer, operation.key),
        )

    @invariant()
    def database_agrees_with_the_model(self):
        for customer, wallet in zip(self.customers, self.model, strict=True):
            balances = sales.balances(customer)
            assert (balances.paid, balances.bonus) == (wallet.paid, wallet.bonus)
            assert points.balance(customer) == wallet.points
        cards = {
            c.pk: programs.remaining_of(c) for c in PunchCard.objects.select_related("account")
        }
        assert cards == {card.card_id: card.remaining for card in self.cards}
        assert_ledger_sound()  # with the punch cards' deferred money and the coupons' uses


@pytest.mark.django_db
def test_the_ledger_agrees_with_its_model(store_a, owner):
    LedgerMachine.actor = ledger.Actor(store=store_a, staff=owner)
    LedgerMachine.product = make_product("Cent", price="0.01", unit="cent")
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=int(os.getenv("PREPAID_STATEFUL_EXAMPLES", "40")),
            stateful_step_count=25,
            derandomize=bool(os.getenv("CI")),
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
