"""Reports: the daily statement, a statement of any span, what was owed day by day
(API.md, "Reports"). Read by owners, managers and accountants; a day is the shop's
calendar day in its time zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from prepaid.api.errors import invalid
from prepaid.api.permissions import endpoint, require
from prepaid.api.schemas import ErrorOut, Input
from prepaid.customers.models import Customer
from prepaid.lib.money import from_minor
from prepaid.reports import balances
from prepaid.reports.flows import Owed
from prepaid.reports.statements import Scope, Statement, liability_series, statement
from prepaid.staff.models import Business, Store

router = Router(tags=["reports"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
LONGEST_SPAN_DAYS = 3 * 366


class DailyParams(Input):
    date: str = Field(description="The shop's calendar day, YYYY-MM-DD", examples=["2026-03-01"])
    store: int | None = Field(None, description="A store's id; without it, the whole chain")


class SpanParams(Input):
    start: str = Field(alias="from", description="First day, YYYY-MM-DD")
    end: str = Field(alias="to", description="Last day (included), YYYY-MM-DD")
    store: int | None = Field(None, description="A store's id; without it, the whole chain")


class LiabilityParams(Input):
    start: str = Field(alias="from", description="First day, YYYY-MM-DD")
    end: str = Field(alias="to", description="Last day (included), YYYY-MM-DD")


class OwedOut(Schema):
    paid: str = Field(description="Paid balances above zero", examples=["12500.00"])
    bonus: str = Field(examples=["830.50"])
    credit: str = Field(description="What customers owe the shop; never netted", examples=["40.00"])


class TopUpOut(Schema):
    method: str = Field(description="The payment method's code", examples=["cash"])
    name: str = Field(examples=["Cash"])
    count: int
    amount: str = Field(description="Money paid in", examples=["5400.00"])
    bonus: str = Field(description="Bonus given with it", examples=["540.00"])


class SaleOut(Schema):
    product: int = Field(description="The product's id")
    name: str = Field(examples=["Purified water"])
    unit: str = Field(examples=["gallon"])
    count: int = Field(description="Sale lines")
    quantity: str = Field(examples=["1250.000"])
    amount: str
    from_paid: str = Field(description="Paid from paid balances (or credit)")
    from_bonus: str


class RefundOut(Schema):
    method: str
    name: str
    count: int
    amount: str
    forfeited: str = Field(description="Bonus forfeited with the refunds")


class ReversalsOut(Schema):
    count: int
    amount: str = Field(description="Paid and bonus money moved back, gross")


class PackageSoldOut(Schema):
    method: str
    name: str
    count: int
    amount: str


class LiabilityOut(Schema):
    opening: OwedOut
    closing: OwedOut


class StatementOut(Schema):
    store: str | None = Field(description="The store's name, or null for the whole chain")
    currency: str
    top_ups: list[TopUpOut]
    packages: list[PackageSoldOut] = Field(
        description="Punch cards sold, by payment method (money paid in, revenue use by use)"
    )
    sales: list[SaleOut]
    refunds: list[RefundOut]
    reversals: ReversalsOut
    liability: LiabilityOut
    net_change: str = Field(description="Closing − opening of paid + bonus")


class DailyOut(StatementOut):
    date: date


class SpanOut(StatementOut):
    start: date = Field(alias="from")
    end: date = Field(alias="to")


class DayOut(Schema):
    date: date
    paid: str
    bonus: str
    credit: str
    customers_with_balance: int


class LiabilityDaysOut(Schema):
    currency: str
    days: list[DayOut]


def _day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise invalid(_("Enter a date as YYYY-MM-DD."), field) from None


def _span(start: str, end: str) -> tuple[date, date]:
    first, last = _day(start, "from"), _day(end, "to")
    if last < first:
        raise invalid(_("The last day comes before the first."), "to")
    if (last - first).days >= LONGEST_SPAN_DAYS:
        raise invalid(_("Ask for at most three years at a time."), "to")
    return first, last


def _store(store_id: int | None) -> Store | None:
    if store_id is None:
        return None
    store = Store.objects.filter(pk=store_id).first()
    if store is None:
        raise invalid(_("There is no such store."), "store")
    return store


def money(amount_minor: int, currency: str) -> str:
    return str(from_minor(amount_minor, currency))


def owed(value: Owed, currency: str) -> dict[str, str]:
    return {
        "paid": money(value.paid, currency),
        "bonus": money(value.bonus, currency),
        "credit": money(value.credit, currency),
    }


def shown(found: Statement, store: Store | None) -> dict[str, Any]:
    """A statement as the API answers it."""
    currency = found.currency
    return {
        "store": store.name if store else None,
        "currency": currency,
        "top_ups": [
            {
                "method": line.method.code,
                "name": line.method.label,
                "count": line.count,
                "amount": money(line.amount, currency),
                "bonus": money(line.bonus, currency),
            }
            for line in found.top_ups
        ],
        "packages": [
            {
                "method": line.method.code,
                "name": line.method.label,
                "count": line.count,
                "amount": money(line.amount, currency),
            }
            for line in found.packages
        ],
        "sales": [
            {
                "product": line.product.pk,
                "name": line.product.name,
                "unit": line.product.unit,
                "count": line.count,
                "quantity": str(line.quantity),
                "amount": money(line.amount, currency),
                "from_paid": money(line.from_paid, currency),
                "from_bonus": money(line.from_bonus, currency),
            }
            for line in found.sales
        ],
        "refunds": [
            {
                "method": line.method.code,
                "name": line.method.label,
                "count": line.count,
                "amount": money(line.amount, currency),
                "forfeited": money(line.forfeited, currency),
            }
            for line in found.refunds
        ],
        "reversals": {
            "count": found.reversal_count,
            "amount": money(found.reversal_amount, currency),
        },
        "liability": {
            "opening": owed(found.opening, currency),
            "closing": owed(found.closing, currency),
        },
        "net_change": money(found.net_change, currency),
    }


@router.get(
    "/reports/daily",
    response={200: DailyOut, **ERRORS},
    **endpoint(
        "reports.read",
        "The statement of one day",
        description="Top-ups by payment method, sales by product, refunds by method and"
        " reversals of the shop's day (its time zone), and what was owed to customers at"
        " its start and end. Top-ups and sales count every one of the day, reversed or"
        " not; reversals are reported apart (gross, like a Z-report). What is owed is the"
        " whole chain's.",
    ),
)
def daily(request: HttpRequest, params: Query[DailyParams]) -> dict[str, Any]:
    require(request, "reports.read")
    day = _day(params.date, "date")
    store = _store(params.store)
    found = statement(day, day, Scope(store=store.pk if store else None))
    return {"date": day, **shown(found, store)}


@router.get(
    "/reports/statement",
    response={200: SpanOut, **ERRORS},
    by_alias=True,
    **endpoint(
        "reports.read",
        "The statement of a span of days",
        description="As /reports/daily, for the days `from` to `to` (both included; at"
        " most three years).",
    ),
)
def span_statement(request: HttpRequest, params: Query[SpanParams]) -> dict[str, Any]:
    require(request, "reports.read")
    first, last = _span(params.start, params.end)
    store = _store(params.store)
    found = statement(first, last, Scope(store=store.pk if store else None))
    return {"from": first, "to": last, **shown(found, store)}


@router.get(
    "/reports/liability",
    response={200: LiabilityDaysOut, **ERRORS},
    **endpoint(
        "reports.read",
        "What was owed to customers, day by day",
        description="At the end of each day from `from` to `to` (today: now): paid"
        " balances above zero, bonus, credit (what customers owe; never netted) and the"
        " number of customers with a paid or bonus balance.",
    ),
)
def liability(request: HttpRequest, params: Query[LiabilityParams]) -> dict[str, Any]:
    require(request, "reports.read")
    first, last = _span(params.start, params.end)
    currency = Business.get().currency
    return {
        "currency": currency,
        "days": [
            {
                "date": row.day,
                **owed(row.owed, currency),
                "customers_with_balance": row.owed.holders,
            }
            for row in liability_series(first, last)
        ],
    }


class AgeOut(Schema):
    days: str = Field(description="0-30, 31-90, 91-180, 181-365 or 366-", examples=["0-30"])
    paid: str = Field(description="Paid balances of that age", examples=["1200.00"])


class AgingOut(Schema):
    currency: str
    as_of: datetime = Field(
        description="When these figures were computed: once a day, shortly after the"
        " shop's day ends (or on demand from the back office)"
    )
    total: str
    ages: list[AgeOut]


class BurnDownOut(Schema):
    currency: str
    as_of: datetime = Field(
        description="When these figures were computed: once a day, shortly after the"
        " shop's day ends (or on demand from the back office)"
    )
    held: str = Field(description="Paid balances above zero and bonus, at as_of")
    within_30_days: str
    within_60_days: str
    within_90_days: str
    beyond_90_days: str
    likely_never_used: str = Field(
        description="What customers who spent nothing in the last 90 days hold"
    )


class QuietOut(Schema):
    customer: str = Field(description="The customer's code")
    balance: str
    bonus_balance: str
    last_transaction: datetime | None


class DormantOut(Schema):
    currency: str
    as_of: datetime = Field(
        description="When these figures were computed: for 30, 60, 90, 180 or 365 days and"
        " at most 50 listed, the day's computation (as for aging); otherwise now"
    )
    days: int
    customers: int
    balance: str
    bonus_balance: str
    largest: list[QuietOut]


class DormantParams(Input):
    days: int = Field(90, ge=1, le=3660, description="Not seen for at least this many days")
    limit: int = Field(50, ge=0, le=500, description="How many of the largest to list")


AGE_NAMES = ("0-30", "31-90", "91-180", "181-365", "366-")


@router.get(
    "/reports/aging",
    response={200: AgingOut, **ERRORS},
    **endpoint(
        "reports.read",
        "How old the paid money customers hold is",
        description="Paid balances by the age of the payment they came from, first in"
        " first out (a sale spends the oldest money first).",
    ),
)
def aging(request: HttpRequest) -> dict[str, Any]:
    require(request, "reports.read")
    currency = Business.get().currency
    seen = balances.standing()
    aged = seen.aging
    return {
        "currency": currency,
        "as_of": seen.as_of,
        "total": money(aged.total, currency),
        "ages": [
            {"days": name, "paid": money(amount, currency)}
            for name, amount in zip(AGE_NAMES, aged.amounts, strict=True)
        ],
    }


@router.get(
    "/reports/burn-down",
    response={200: BurnDownOut, **ERRORS},
    **endpoint(
        "reports.read",
        "How much of what is owed is expected to be used",
        description="At each customer's own pace over the last 90 days: what of their"
        " balances is used within 30, 60 and 90 days; what customers who spent nothing in"
        " 90 days hold is the likely breakage.",
    ),
)
def burn_down(request: HttpRequest) -> dict[str, Any]:
    require(request, "reports.read")
    currency = Business.get().currency
    seen = balances.standing()
    burn = seen.burn
    return {
        "currency": currency,
        "as_of": seen.as_of,
        "held": money(burn.held, currency),
        "within_30_days": money(burn.within[0], currency),
        "within_60_days": money(burn.within[1], currency),
        "within_90_days": money(burn.within[2], currency),
        "beyond_90_days": money(burn.beyond, currency),
        "likely_never_used": money(burn.breakage, currency),
    }


@router.get(
    "/reports/dormant",
    response={200: DormantOut, **ERRORS},
    **endpoint(
        "reports.read",
        "Customers holding money who have not been back",
        description="Customers with a paid or bonus balance and no transaction for `days`"
        " days: how many, how much, and the largest.",
    ),
)
def dormant(request: HttpRequest, params: Query[DormantParams]) -> dict[str, Any]:
    require(request, "reports.read")
    currency = Business.get().currency
    seen = balances.standing()
    kept = seen.dormant.get(params.days) if params.limit <= 50 else None
    if kept is not None:
        as_of = seen.as_of
        quiet = replace(kept, largest=kept.largest[: params.limit])
    else:
        as_of = timezone.now()
        quiet = balances.dormant(params.days, show=params.limit, now=as_of)
    codes = dict(
        Customer.objects.filter(pk__in=[q.customer_id for q in quiet.largest]).values_list(
            "pk", "code"
        )
    )
    return {
        "currency": currency,
        "as_of": as_of,
        "days": quiet.days,
        "customers": quiet.count,
        "balance": money(quiet.paid, currency),
        "bonus_balance": money(quiet.bonus, currency),
        "largest": [
            {
                "customer": codes.get(q.customer_id, ""),
                "balance": money(q.paid, currency),
                "bonus_balance": money(q.bonus, currency),
                "last_transaction": q.last_seen,
            }
            for q in quiet.largest
        ],
    }
