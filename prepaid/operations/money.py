"""The money operations: top-up, sale, refund, reversal (a manager's correction or a
cashier's undo). Each is what was asked, as plain values; ``perform`` finds the objects,
applies the selling rules (``sales.services``) and answers the transaction's JSON, which
is also the data of its event.
"""

from __future__ import annotations

import dataclasses
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from django.utils import timezone
from django.utils.translation import gettext as _

from prepaid.catalog import services as catalog
from prepaid.catalog import tiers
from prepaid.catalog.models import TopUpPlan
from prepaid.coupons import services as coupons
from prepaid.customers.models import Customer
from prepaid.ledger.models import Batch, PaymentMethod, Transfer
from prepaid.lib import rows
from prepaid.lib.codes import normalize_code
from prepaid.operations import present
from prepaid.operations.envelope import Context, Done, Gate, Operation
from prepaid.operations.models import Approval
from prepaid.sales import points
from prepaid.sales import services as sales
from prepaid.staff.refusals import Refusal
from prepaid.staff.roles import may


def find_customer(code: str) -> Customer:
    """The customer with this code (in any spelling the code reader accepts)."""
    canonical = normalize_code(code)
    found = rows.one(Customer, "code = %s", [canonical]) if canonical else None
    if found is None:
        raise Refusal("not_found", what=_("customer"))
    return found


def find_method(code: str) -> PaymentMethod:
    method = rows.one(PaymentMethod, "code = %s AND active = %s", [code, True])
    if method is None:
        raise Refusal("unknown_payment_method", field="method")
    return method


@dataclass(frozen=True)
class TopUp(Operation):
    """Money paid in by ``method`` (a payment method's code), with a plan's or the bonus
    rules' bonus."""

    action: ClassVar[str] = "top_up"

    customer: str
    amount_minor: int
    method: str
    plan: int | None = None
    reference: str = ""

    def perform(self, context: Context) -> Done:
        customer = find_customer(self.customer)
        method = find_method(self.method)
        plan = None
        if self.plan is not None:
            plan = TopUpPlan.objects.filter(pk=self.plan, active=True).first()
            if plan is None:
                raise Refusal("unknown_plan", field="plan")
        receipt = sales.top_up(
            customer,
            self.amount_minor,
            method=method,
            plan=plan,
            reference=self.reference,
            key=context.ledger_key,
            actor=context.actor,
        )
        gift = None
        if plan is not None and plan.gift_coupon_minor:
            zone = zoneinfo.ZoneInfo(context.business.time_zone)
            today = timezone.localdate(receipt.batch.created_at, zone)
            gift = coupons.give(customer, plan, receipt.batch, today=today)
        data, posted = shown(context, receipt.batch, customer)
        data["gift_points"] = plan.gift_points if plan is not None else 0
        data["gift_coupon"] = present.coupon(gift, context.business.currency) if gift else None
        context.emit("top_up.created", data, customer=customer)
        return Done(data, batch=posted)


@dataclass(frozen=True)
class Sale(Operation):
    """Products by id or SKU × quantities (decimal text), charged to the balance, less
    what the ``coupon`` (its code, if any) takes off."""

    action: ClassVar[str] = "sell"

    customer: str
    lines: tuple[tuple[str, str], ...]
    note: str = ""
    coupon: str = ""

    def perform(self, context: Context) -> Done:
        currency = context.business.currency
        found = sales.customer_for_sale(self.customer, store_id=context.actor.store.pk)
        customer, mine, revenue = found.customer, found.accounts, found.revenue
        tier = None
        if found.member is not None and found.tier is not None:
            tier = tiers.held_as(found.tier, found.member.since)
        products = catalog.find_products([reference for reference, _ in self.lines])
        lines = []
        for number, (reference, quantity) in enumerate(self.lines):
            product = products.get(reference)
            if product is None:
                raise Refusal("unknown_product", field=f"lines.{number}.product", product=reference)
            lines.append(sales.Line(product, Decimal(quantity)))
        coupon = None
        if self.coupon.strip():
            taken = coupons.sell(
                customer,
                lines,
                coupon=self.coupon,
                key=context.ledger_key,
                actor=context.actor,
                note=self.note,
                read=(mine, revenue),
                pending=context.pending,
                tier=tier,
            )
            sold, coupon = taken.sold, taken.coupon.code
        else:
            sold = sales.sell(
                customer,
                lines,
                key=context.ledger_key,
                actor=context.actor,
                note=self.note,
                read=(mine, revenue),
                pending=context.pending,
                tier=tier,
            )
        data = present.sold(sold, customer, currency, coupon=coupon)
        context.emit("sale.created", data, customer=customer)
        return Done(data, batch=sold.batch)


@dataclass(frozen=True)
class Refund(Operation):
    """Paid money paid back through ``method``, with a reason (a cash-out)."""

    action: ClassVar[str] = "refund"

    customer: str
    amount_minor: int
    method: str
    reason: str
    reference: str = ""

    def gate(self, context: Context) -> Gate | None:
        """Above the shop's threshold, a second person approves it."""
        threshold = context.business.approval_above_minor
        if threshold is None or self.amount_minor <= threshold:
            return None
        customer = find_customer(self.customer)
        return Gate(Approval.Kind.REFUND, self.amount_minor, customer, self.reason)

    def perform(self, context: Context) -> Done:
        customer = find_customer(self.customer)
        method = find_method(self.method)
        receipt = sales.cash_out(
            customer,
            self.amount_minor,
            method=method,
            key=context.ledger_key,
            actor=context.actor,
            reason=self.reason,
            reference=self.reference,
        )
        return _answer(context, "refund.created", receipt.batch, customer)


@dataclass(frozen=True)
class Reversal(Operation):
    """Undo a transaction with a reason. Whoever may ``reverse.any`` (owner, manager)
    corrects any transaction; a cashier undoes their own sales and top-ups within the
    undo window. Booked at the store of the original."""

    action: ClassVar[str] = "reverse"

    transaction: int
    reason: str

    def gate(self, context: Context) -> Gate | None:
        """A reversal of more than the shop's threshold (what the original moved, in
        money: ``worth``) waits for a second person; so does a cashier's undo of one."""
        threshold = context.business.approval_above_minor
        if threshold is None:
            return None
        batch = self._original(context)
        amount = worth(batch, context.business.currency)
        if amount <= threshold:
            return None
        return Gate(Approval.Kind.REVERSAL, amount, batch.customer, self.reason)

    def _original(self, context: Context) -> Batch:
        """The transaction to reverse, if this actor may: a cashier only their own, and
        within the undo window (counted to when they asked, for an approved request)."""
        batch = (
            Batch.objects.select_related("customer", "store").filter(pk=self.transaction).first()
        )
        if batch is None:
            raise Refusal("not_found", what=_("transaction"))
        if not may(context.actor.role, "reverse.any") and not sales.own_and_recent(
            batch, context.actor, now=context.asked_at
        ):
            raise Refusal("undo_not_allowed", minutes=int(sales.UNDO_WINDOW.total_seconds() // 60))
        return batch

    def perform(self, context: Context) -> Done:
        batch = self._original(context)
        receipt = sales.reverse(
            batch, key=context.ledger_key, actor=context.actor, reason=self.reason
        )
        return _answer(context, "reversal.created", receipt.batch, batch.customer)


@dataclass(frozen=True)
class MoveSale(Operation):
    """A sale charged to the wrong customer, put right in one step (the counter's "Remove
    or Change"): the sale is reversed and the same lines are sold to ``customer``, with a
    reason; both or neither. Who may undo the sale may move it: a cashier their own
    within the undo window, an owner or manager any. A sale with a coupon is not moved
    (the coupon was the first customer's): reverse it and sell again."""

    action: ClassVar[str] = "reverse"

    transaction: int
    customer: str
    reason: str

    def perform(self, context: Context) -> Done:
        context.require("sell")
        original = Reversal(self.transaction, self.reason)._original(context)
        if original.code != Batch.Code.SALE or original.customer is None:
            raise Refusal("not_reversible")
        target = find_customer(self.customer)
        if target.pk == original.customer_id:
            raise Refusal("same_customer", field="customer")
        if original.coupon_uses.exists():
            raise Refusal("sale_has_coupon")
        lines = tuple(
            (str(line.product_id), str(line.quantity)) for line in original.sale_lines.all()
        )
        reason = self.reason.strip()
        if not reason:
            raise Refusal("reason_required", field="reason")
        undone = sales.reverse(original, key=context.ledger_key, actor=context.actor, reason=reason)
        _answer(context, "reversal.created", undone.batch, original.customer)  # its event
        moved = dataclasses.replace(context, ledger_key=f"{context.ledger_key}:moved")
        note = _("Moved from %(code)s: %(reason)s") % {
            "code": original.customer.code,
            "reason": reason,
        }
        return Sale(target.code, lines, note=note[:255]).perform(moved)


@dataclass(frozen=True)
class RedeemPoints(Operation):
    """``points`` of the customer's points become bonus money at the shop's point value."""

    action: ClassVar[str] = "points.redeem"

    customer: str
    points: int

    def perform(self, context: Context) -> Done:
        customer = find_customer(self.customer)
        receipt = points.redeem(customer, self.points, key=context.ledger_key, actor=context.actor)
        data, posted = shown(context, receipt.batch, customer)
        data["points"] = self.points
        data["points_balance"] = points.balance(customer)
        context.emit("points.redeemed", data, customer=customer)
        return Done(data, batch=posted)


def worth(batch: Batch, currency: str) -> int:
    """What a transaction moved in money: the sum of its transfers in the currency
    (a top-up's paid amount and bonus, a sale's price, a refund and its forfeited bonus;
    never units or points)."""
    return sum(t.amount for t in Transfer.objects.filter(batch=batch, debit_account__unit=currency))


def _answer(context: Context, event: str, batch: Batch, customer: Customer | None) -> Done:
    """The transaction as the API shows it, with the customer's balances now; also the
    data of its event."""
    data, posted = shown(context, batch, customer)
    context.emit(event, data, customer=customer)
    return Done(data, batch=posted)


def shown(
    context: Context, batch: Batch, customer: Customer | None
) -> tuple[dict[str, Any], Batch]:
    """The transaction as the API shows it, with the customer's balances now, and the
    batch read back with what that needs."""
    posted = present.batches().get(pk=batch.pk)
    now = sales.balances(customer) if customer is not None else None
    return present.transaction(posted, context.business.currency, now=now), posted
