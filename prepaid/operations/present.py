"""Domain objects as JSON: the API's answers, which are also the data of the outbox's
events. Money as decimal strings of the major unit."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from prepaid.catalog import tiers
from prepaid.catalog.models import Product, TopUpPlan
from prepaid.coupons.models import Coupon
from prepaid.customers.models import Customer
from prepaid.customers.services import NewCustomer
from prepaid.ledger.models import Account, Batch, PaymentMethod, Transfer
from prepaid.lib.money import from_minor
from prepaid.lib.phones import mask_phone
from prepaid.operations.models import Approval
from prepaid.programs import services as programs
from prepaid.programs.models import Package, Pass, PunchCard
from prepaid.reports.queries import customer_change
from prepaid.sales import points
from prepaid.sales import services as sales
from prepaid.sales.models import SaleLine


def money(amount_minor: int, currency: str) -> str:
    return str(from_minor(amount_minor, currency))


def batches() -> QuerySet[Batch]:
    """Transactions with everything ``transaction`` shows, in a fixed number of queries."""
    return Batch.objects.select_related(
        "customer", "store", "staff", "api_token", "reversed_by"
    ).prefetch_related(
        "transfers__debit_account",
        "transfers__credit_account",
        "sale_lines__product",
        "coupon_uses__coupon",
    )


def change(batch: Batch) -> tuple[int, int]:
    """What the batch did to its customer's (paid, bonus) balances."""
    return customer_change(batch)


def customer(
    person: Customer | NewCustomer,
    balances: sales.Balances,
    currency: str,
    *,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    """A customer as ``GET /customers/{code}`` answers; ``created_at`` for a customer
    registered in bulk (an import), which has no instance to read it from."""
    return {
        "code": person.code,
        "name": person.name,
        "phone": person.phone,
        "phone_masked": mask_phone(person.phone) if person.phone else "",
        "email": person.email,
        "address": person.address,
        "notes": person.notes,
        "marketing_sms": person.marketing_sms,
        "marketing_email": person.marketing_email,
        "status": person.status,
        "balance": money(balances.paid, currency),
        "bonus_balance": money(balances.bonus, currency),
        "available": money(max(balances.available, 0), currency),
        "credit_limit": money(balances.credit_limit, currency),
        "language": person.language,
        "email_receipts": person.email_receipts,
        "low_balance": None
        if person.low_balance_minor is None
        else money(person.low_balance_minor, currency),
        "currency": currency,
        "tier": _tier(person),
        "points": str(points.balance(person))
        if isinstance(person, Customer) and person.pk
        else "0",
        "punch_cards": _punch_cards(person),
        "passes": _passes(person),
        "created_at": created_at or getattr(person, "created_at", None),
    }


def _punch_cards(person: Customer | NewCustomer) -> list[dict[str, Any]]:
    """The customer's punch cards with uses left and not ended, in the order they are
    used (none for a customer just imported)."""
    if not isinstance(person, Customer) or person.pk is None:
        return []
    return [punch_card(held.card, held.remaining) for held in programs.holdings(person)]


def _tier(person: Customer | NewCustomer) -> dict[str, Any] | None:
    """The customer's tier and since when (none for a customer just imported)."""
    if not isinstance(person, Customer) or person.pk is None:
        return None
    found = tiers.held(person.pk)
    if found is None:
        return None
    return {
        "name": found.tier.name,
        "since": found.since,
        "discount_percent": str(Decimal(found.tier.discount_bp) / 100),
    }


def _passes(person: Customer | NewCustomer) -> list[dict[str, Any]]:
    """The customer's passes in force, soonest-ending first."""
    if not isinstance(person, Customer) or person.pk is None:
        return []
    return [time_pass(held) for held in programs.passes(person)]


def time_pass(held: programs.PassHolding) -> dict[str, Any]:
    """A pass with the uses made under it today and this week, and what it still allows
    today (``left_today``: null when it has no cap)."""
    item = held.time_pass
    return {
        "id": item.pk,
        "name": item.name,
        "product": item.product_id,
        "product_name": item.product.name if item.product else None,
        "valid_from": item.starts_at,
        "valid_until": item.ends_at,
        "uses_today": held.today,
        "uses_this_week": held.this_week,
        "max_per_day": item.max_per_day,
        "max_per_week": item.max_per_week,
        "left_today": held.left_today,
    }


def sold_pass(item: Pass) -> dict[str, Any]:
    """A pass just sold: nothing used under it yet."""
    return time_pass(programs.PassHolding(item, 0, 0))


def punch_card(card: PunchCard, remaining: int) -> dict[str, Any]:
    return {
        "id": card.pk,
        "name": card.name,
        "product": card.product_id,
        "product_name": card.product.name,
        "uses": card.uses,
        "also": sorted(x.product_id for x in card.also.all()),
        "remaining": remaining,
        "expires_at": card.expires_at,
    }


def package(item: Package, currency: str) -> dict[str, Any]:
    return {
        "id": item.pk,
        "kind": item.kind,
        "name": item.name,
        "product": item.product_id,
        "count": item.count,
        "bonus_count": item.bonus_count,
        "price": money(item.price_minor, currency),
        "currency": currency,
        "valid_days": item.valid_days,
        "max_per_day": item.max_per_day,
        "max_per_week": item.max_per_week,
        "also": sorted(product.pk for product in item.also.all()),
        "active": item.active,
    }


def transaction(
    batch: Batch,
    currency: str,
    *,
    after: tuple[int, int] | None = None,
    now: sales.Balances | None = None,
) -> dict[str, Any]:
    """A batch as the customer sees it. ``after``: the (paid, bonus) balances right after
    it; ``now``: the balances at the time of answering a POST."""
    paid, bonus = customer_change(batch)
    staff = batch.staff.name if batch.staff_id and batch.staff else None
    token = batch.api_token.name if batch.api_token_id and batch.api_token else None
    reversal = getattr(batch, "reversed_by", None)
    return {
        "id": batch.pk,
        "kind": batch.code,
        "customer": batch.customer.code if batch.customer_id and batch.customer else None,
        "total": money(_total(batch.code, paid, bonus, batch), currency),
        "amount": money(paid, currency),
        "bonus_amount": money(bonus, currency),
        "balance_after": money(after[0], currency) if after else None,
        "bonus_balance_after": money(after[1], currency) if after else None,
        "balance": money(now.paid, currency) if now else None,
        "bonus_balance": money(now.bonus, currency) if now else None,
        "currency": currency,
        "reference": batch.reference,
        "note": batch.note,
        "store": batch.store.name,
        "staff": staff,
        "token": token,
        "created_at": batch.created_at,
        "discount": money(sum(line.discount_minor for line in batch.sale_lines.all()), currency),
        "coupon": _coupon(batch),
        "points_earned": _points_earned(batch),
        "lines": [_line(line, currency) for line in batch.sale_lines.all()],
        "reverses": batch.reverses_id,
        "reversed_by": reversal.pk if reversal is not None else None,
    }


def _points_earned(batch: Batch) -> int | None:
    """The points a sale earned (transfers prefetched); None for anything else."""
    if batch.code != Batch.Code.SALE:
        return None
    return sum(t.amount for t in batch.transfers.all() if t.code == Transfer.Code.POINTS)


def _coupon(batch: Batch) -> str | None:
    """The code of the coupon a sale took, if any (only sales with a discount look)."""
    if batch.code != Batch.Code.SALE:
        return None
    if not any(line.discount_minor for line in batch.sale_lines.all()):
        return None
    use = next(iter(batch.coupon_uses.all()), None)
    return use.coupon.code if use is not None else None


def sold(
    sale: sales.Sold, customer: Customer, currency: str, *, coupon: str | None = None
) -> dict[str, Any]:
    """A fresh sale, from what posting it returned: no query. The same fields and
    values as ``transaction`` reading it back. ``coupon``: the code it took, if any."""
    assert sale.after is not None, "a replayed sale is answered from the stored answer"
    batch = sale.batch
    change: dict[str, int] = {Account.Kind.WALLET: 0, Account.Kind.BONUS: 0}
    for leg in sale.legs:
        for account, sign in ((leg.credit, 1), (leg.debit, -1)):
            if account.customer_id == customer.pk and account.kind in change:
                change[account.kind] += sign * leg.amount
    paid, bonus = change[Account.Kind.WALLET], change[Account.Kind.BONUS]
    return {
        "id": batch.pk,
        "kind": batch.code,
        "customer": customer.code,
        "total": money(_total(batch.code, paid, bonus), currency),
        "amount": money(paid, currency),
        "bonus_amount": money(bonus, currency),
        "balance_after": None,
        "bonus_balance_after": None,
        "balance": money(sale.after.paid, currency),
        "bonus_balance": money(sale.after.bonus, currency),
        "currency": currency,
        "reference": batch.reference,
        "note": batch.note,
        "store": batch.store.name,
        "staff": batch.staff.name if batch.staff else None,
        "token": batch.api_token.name if batch.api_token else None,
        "created_at": batch.created_at,
        "discount": money(sum(line.discount_minor for line in sale.lines), currency),
        "coupon": coupon,
        "points_earned": sale.points,
        "lines": [_line(line, currency) for line in sale.lines],
        "reverses": None,
        "reversed_by": None,
    }


def redeemed(
    used: programs.Used, customer: Customer, balances: sales.Balances, currency: str
) -> dict[str, Any]:
    """A fresh redemption, from what posting it returned (no read-back): the fields and
    values ``transaction`` shows, and the cards and passes it used."""
    batch = used.receipt.batch
    worth = sum(leg.amount for leg in used.receipt.legs if leg.code in PROGRAM_MONEY)
    first = used.taken[0] if used.taken else None
    return {
        "id": batch.pk,
        "kind": batch.code,
        "customer": customer.code,
        "total": money(worth, currency),
        "amount": money(0, currency),
        "bonus_amount": money(0, currency),
        "balance_after": None,
        "bonus_balance_after": None,
        "balance": money(balances.paid, currency),
        "bonus_balance": money(balances.bonus, currency),
        "currency": currency,
        "reference": batch.reference,
        "note": batch.note,
        "store": batch.store.name,
        "staff": batch.staff.name if batch.staff else None,
        "token": batch.api_token.name if batch.api_token else None,
        "created_at": batch.created_at,
        "lines": [],
        "reverses": None,
        "reversed_by": None,
        "punch_card": punch_card(first[0], first[2]) if first else None,
        "cards": [
            {"id": card.pk, "used": count, "remaining": left} for card, count, left in used.taken
        ],
        "passes": [
            {"id": item.pk, "name": item.name, "used": count, "uses_today": today}
            for item, count, today in used.passes
        ],
        "remaining": used.remaining,
    }


def _line(line: SaleLine, currency: str) -> dict[str, Any]:
    return {
        "product": line.product_id,
        "name": line.product.name,
        "unit": line.product.unit,
        "quantity": str(line.quantity),
        "unit_price": str(line.unit_price),
        "amount": money(line.amount_minor, currency),
        "discount": money(line.discount_minor, currency),
        "tier_discount": money(line.tier_discount_minor, currency),
    }


PROGRAM_MONEY = (Transfer.Code.PACKAGE, Transfer.Code.RECOGNISE)


def _total(code: str, paid: int, bonus: int, batch: Batch | None = None) -> int:
    """What the operation was worth: a sale's price (paid and bonus money together), a
    reversal's whole amount, a punch card's price, the value of the uses redeemed, the
    paid amount of the rest (their bonus moves apart)."""
    if code in (Batch.Code.PACKAGE, Batch.Code.REDEMPTION) and batch is not None:
        return sum(t.amount for t in batch.transfers.all() if t.code in PROGRAM_MONEY)
    if code == Batch.Code.REVERSAL and batch is not None and not (paid or bonus):
        return sum(t.amount for t in batch.transfers.all() if _reverses_program_money(t))
    if code in (Batch.Code.SALE, Batch.Code.REVERSAL):
        return abs(paid) + abs(bonus)
    if code == Batch.Code.REFUND and not paid and batch is not None:  # a punch card's
        return sum(t.amount for t in batch.transfers.all() if t.code == Transfer.Code.REFUND)
    return abs(paid)


def _reverses_program_money(transfer: Transfer) -> bool:
    """A reversal's transfer that gives a punch card's money back."""
    kinds = {transfer.debit_account.kind, transfer.credit_account.kind}
    return Account.Kind.DEFERRED in kinds


def product(item: Product, currency: str) -> dict[str, Any]:
    return {
        "id": item.pk,
        "name": item.name,
        "sku": item.sku,
        "unit": item.unit,
        "unit_price": str(item.unit_price),
        "currency": currency,
        "active": item.active,
        "position": item.position,
        "colour": item.colour,
    }


def payment_method(method: PaymentMethod) -> dict[str, Any]:
    return {
        "code": method.code,
        "name": method.name,
        "requires_reference": method.requires_reference,
        "active": method.active,
    }


def plan(item: TopUpPlan, currency: str) -> dict[str, Any]:
    return {
        "id": item.pk,
        "name": item.name,
        "amount": money(item.amount_minor, currency),
        "bonus": money(item.bonus_minor, currency),
        "gift_points": item.gift_points,
        "gift_coupon": money(item.gift_coupon_minor, currency),
        "currency": currency,
    }


def coupon(item: Coupon, currency: str, *, used: int | None = None) -> dict[str, Any]:
    """A coupon as ``GET /coupons`` lists it; ``used``: its uses whose sale was not
    reversed (``coupons.counted``)."""
    value: str | int = item.value
    if item.kind == Coupon.Kind.AMOUNT:
        value = money(item.value, currency)
    return {
        "code": item.code,
        "kind": item.kind,
        "value": value,
        "product": item.product_id,
        "min_spend": money(item.min_spend_minor, currency),
        "valid_from": item.valid_from,
        "valid_until": item.valid_until,
        "uses": item.uses_allowed,
        "per_customer": item.per_customer,
        "used": used if used is not None else getattr(item, "used", None),
        "customer": item.customer.code if item.customer_id and item.customer else None,
        "series": item.series,
        "withdrawn": item.withdrawn_at is not None,
        "currency": currency,
        "created_at": item.created_at,
    }


# An approval request's fields that are neither shown nor audited: an import's sheet
# (its rows are the customers it registers: too large, and personal).
HIDDEN_FIELDS = frozenset({"sheet"})


def _asked(request: Approval) -> dict[str, Any]:
    return {name: value for name, value in request.fields.items() if name not in HIDDEN_FIELDS}


def approval(request: Approval, currency: str) -> dict[str, Any]:
    """An approval request as ``GET /approvals/{id}`` answers: what was asked (the
    operation and its fields, amounts in minor units as the operation holds them), by
    whom and where, and what the checker decided."""
    maker = request.staff or request.api_token
    checker = request.decided_by or request.decided_by_token
    return {
        "id": request.pk,
        "kind": request.kind,
        "status": request.status,
        "operation": request.operation,
        "request": _asked(request),
        "amount": money(request.amount_minor, currency),
        "currency": currency,
        "customer": request.customer.code if request.customer else None,
        "reason": request.reason,
        "store": request.store.name,
        "staff": request.staff.name if request.staff else None,
        "token": request.api_token.name if request.api_token else None,
        "asked_by": maker.name if maker else None,
        "created_at": request.created_at,
        "decided_by": checker.name if checker else None,
        "decided_at": request.decided_at,
        "decision_note": request.decision_note,
        "transaction": request.batch_id,
    }


def approval_audited(request: Approval) -> dict[str, Any]:
    """What the audit trail keeps of a request's new state (plain JSON values)."""
    return {
        "kind": request.kind,
        "status": request.status,
        "operation": request.operation,
        "request": _asked(request),
        "amount_minor": request.amount_minor,
        "customer": request.customer.code if request.customer else None,
        "reason": request.reason,
        "decision_note": request.decision_note,
        "transaction": request.batch_id,
    }
