"""Coupons: issue them, take one on a sale, withdraw one.

Taking a coupon (``sell``) is a sale with a discount, in the sale's one transaction:

1. Lock the coupon's row (``SELECT … FOR UPDATE``): two counters taking the last use of
   a coupon at once queue here, and the second reads the first one's use once it has
   committed. (SQLite runs one writer at a time already.)
2. Check it: known, not withdrawn, within its days (the shop's calendar), for this
   customer, uses left (its uses whose sale was not reversed: a reversal gives the use
   back), uses left for this customer, its product in the sale, the minimum spend
   (on the sale before any discount).
3. What it takes off: an amount (at most the eligible lines' total), a percentage of
   the eligible lines (half-up to the minor unit), or ``value`` units of its product
   priced as the sale prices them. Shared over the eligible lines in proportion
   (``sales.discount_over``). A coupon that would leave nothing to pay is refused: a
   sale moves money, and one that costs nothing would move none.
4. Sell with that discount (``sales.sell``) and record the use beside the sale lines.

Every refusal is ``coupon_not_valid`` with a ``reason`` (``REASONS``), so the cashier,
the customer and an integrator read why; nothing is posted then.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from prepaid.catalog import tiers
from prepaid.catalog.models import Product, Tier, TopUpPlan
from prepaid.coupons.models import Coupon, CouponUse
from prepaid.customers.models import Customer
from prepaid.ledger.models import Account, Batch
from prepaid.lib import rows
from prepaid.lib.codes import new_code, normalize_code
from prepaid.lib.money import MAX_MINOR, price_line
from prepaid.lib.transactions import stepped
from prepaid.sales import services as sales
from prepaid.sales.services import Actor, Discount, Line
from prepaid.staff import audit
from prepaid.staff.models import ApiToken, Business, Staff
from prepaid.staff.refusals import Refusal

MAX_COUNT = 1000  # codes issued at once: a printed sheet holds far fewer
MAX_UNITS = 10_000
REASONS = (
    "unknown",
    "withdrawn",
    "used",
    "expired",
    "not_yet",
    "other_customer",
    "customer_limit",
    "product",
    "min_spend",
    "whole_sale",
    "nothing",
)


@dataclass(frozen=True)
class Terms:
    """What a coupon gives and when. ``value``: minor units off (``amount``), a whole
    percent (``percent``), units free (``product``). ``product``: the product given
    free, or the only product an amount or percent comes off. ``uses``: how many sales
    may take it in all (None: no limit); ``per_customer``: how many by one customer."""

    kind: Coupon.Kind
    value: int
    product: Product | None = None
    min_spend_minor: int = 0
    valid_from: date | None = None
    valid_until: date | None = None
    uses: int | None = 1
    per_customer: int | None = None
    customer: Customer | None = None


@dataclass(frozen=True)
class Taken:
    """A coupon checked for a sale, and what it takes off each line."""

    coupon: Coupon
    discount: Discount


@dataclass(frozen=True)
class CouponSale:
    sold: sales.Sold
    coupon: Coupon
    uses: tuple[CouponUse, ...] = field(default=())


def refuse(coupon: str, reason: str, **params: object) -> Refusal:
    assert reason in REASONS, reason
    return Refusal("coupon_not_valid", field="coupon", coupon=coupon, reason=reason, **params)


def today(now: datetime | None = None) -> date:
    """The shop's calendar day: a coupon "valid until 31 March" is valid all that day."""
    zone = zoneinfo.ZoneInfo(Business.get().time_zone)
    return timezone.localdate(now or timezone.now(), zone)


# -- issuing -------------------------------------------------------------------------------


def _check_terms(terms: Terms) -> None:
    def invalid(name: str, detail: str) -> Refusal:
        return Refusal("validation_error", field=name, detail=detail)

    if terms.kind not in Coupon.Kind.values:
        raise invalid("kind", _("Choose amount, percent or product."))
    if terms.kind == Coupon.Kind.PERCENT and not 1 <= terms.value <= 100:
        raise invalid("value", _("A percentage is a whole number from 1 to 100."))
    if terms.kind == Coupon.Kind.AMOUNT and terms.value <= 0:
        raise invalid("value", _("Enter an amount of more than zero."))
    if terms.value > MAX_MINOR or terms.min_spend_minor > MAX_MINOR:
        raise Refusal("amount_too_large", field="value" if terms.value > MAX_MINOR else "min_spend")
    if terms.kind == Coupon.Kind.PRODUCT:
        if terms.product is None:
            raise invalid("product", _("Choose the product given free."))
        if not 1 <= terms.value <= MAX_UNITS:
            raise invalid("value", _("Give at least one unit free."))
    if terms.min_spend_minor < 0:
        raise invalid("min_spend", _("The minimum spend cannot be negative."))
    if terms.valid_from and terms.valid_until and terms.valid_until < terms.valid_from:
        raise invalid("valid_until", _("The last day comes before the first."))
    if terms.valid_until and terms.valid_until < today():
        raise invalid("valid_until", _("That day is past."))
    for name, limit in (("uses", terms.uses), ("per_customer", terms.per_customer)):
        if limit is not None and limit < 1:
            raise invalid(name, _("Allow at least one use, or leave it empty for no limit."))


def _fresh_codes(count: int) -> list[str]:
    """``count`` codes no coupon has (nor each other). The customer codes' alphabet and
    grouping: read aloud, typed or scanned alike (``lib.codes``)."""
    codes: set[str] = set()
    while len(codes) < count:
        wanted = {new_code() for _ in range(count - len(codes))} - codes
        taken = set(Coupon.objects.filter(code__in=wanted).values_list("code", flat=True))
        codes |= wanted - taken
    return sorted(codes)


@stepped
def issue(
    terms: Terms, *, count: int = 1, series: str = "", by: Staff | ApiToken | None
) -> list[Coupon]:
    """Issue ``count`` coupons on ``terms``, as one series (named ``series``, or after
    the time they were issued): audited."""
    _check_terms(terms)
    if not 1 <= count <= MAX_COUNT:
        raise Refusal(
            "validation_error",
            field="count",
            detail=_("Issue from 1 to %(count)s coupons at once.") % {"count": MAX_COUNT},
        )
    series = series.strip()[:80] or timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
    coupons = [
        Coupon(
            code=code,
            kind=terms.kind,
            value=terms.value,
            product=terms.product,
            min_spend_minor=terms.min_spend_minor,
            valid_from=terms.valid_from,
            valid_until=terms.valid_until,
            uses_allowed=terms.uses,
            per_customer=terms.per_customer,
            customer=terms.customer,
            series=series,
            created_by=by if isinstance(by, Staff) else None,
            created_by_token=by if isinstance(by, ApiToken) else None,
        )
        for code in _fresh_codes(count)
    ]
    Coupon.objects.bulk_create(coupons)
    audit.record(
        "coupons.issued",
        f"coupons:{series}",
        by=by,
        after={
            "kind": str(terms.kind),
            "value": terms.value,
            "product": terms.product.pk if terms.product else None,
            "min_spend_minor": terms.min_spend_minor,
            "valid_from": terms.valid_from.isoformat() if terms.valid_from else None,
            "valid_until": terms.valid_until.isoformat() if terms.valid_until else None,
            "uses": terms.uses,
            "per_customer": terms.per_customer,
            "customer": terms.customer.code if terms.customer else None,
            "codes": [coupon.code for coupon in coupons],
        },
    )
    return coupons


@stepped
def withdraw(coupon: Coupon, *, by: Staff | ApiToken | None) -> Coupon:
    """No sale takes the coupon from now on (its uses so far stay); audited."""
    if coupon.withdrawn_at is None:
        coupon.withdrawn_at = timezone.now()
        Coupon.objects.filter(pk=coupon.pk).update(withdrawn_at=coupon.withdrawn_at)
        audit.record("coupon.withdrawn", f"coupon:{coupon.code}", by=by)
    return coupon


# -- reading -------------------------------------------------------------------------------


def find(code: str) -> Coupon | None:
    """The coupon with this code, in any spelling the code reader accepts."""
    canonical = normalize_code(code)
    if canonical is None:
        return None
    return Coupon.objects.select_related("product", "customer").filter(code=canonical).first()


def counted(coupons: QuerySet[Coupon] | None = None) -> QuerySet[Coupon]:
    """Coupons with ``used``: their uses whose sale was not reversed."""
    found = Coupon.objects.all() if coupons is None else coupons
    return found.annotate(
        used=Count("uses", filter=Q(uses__batch__reversed_by__isnull=True), distinct=True)
    )


def uses_of(coupon: Coupon, customer: Customer | None = None) -> tuple[int, int]:
    """(all uses, this customer's uses) of the coupon whose sale was not reversed: fixed
    SQL, as every sale with a coupon asks (after the coupon's lock: a statement of its
    own, so that it sees a use committed while it waited)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN u.customer_id = %s THEN 1 ELSE 0 END), 0)"
            " FROM coupons_couponuse u WHERE u.coupon_id = %s"
            " AND NOT EXISTS (SELECT 1 FROM ledger_batch r WHERE r.reverses_id = u.batch_id)",
            [customer.pk if customer is not None else None, coupon.pk],
        )
        everyone, theirs = cursor.fetchone()
    return int(everyone), int(theirs)


# -- taking one on a sale --------------------------------------------------------------------


def take(
    code: str, customer: Customer, lines: Sequence[Line], *, now: datetime | None = None
) -> Taken:
    """The coupon with ``code`` checked for this sale (steps 1–3 of the module
    docstring), locked until the transaction ends; ``coupon_not_valid`` otherwise."""
    canonical = normalize_code(code)
    coupon = locked(canonical) if canonical is not None else None
    if coupon is None:
        raise refuse(canonical or code.strip()[:20], "unknown")
    _check_standing(coupon, customer, now)
    currency = Business.get().currency
    priced = sales.price(lines, currency)
    amounts = [amount for _, amount in priced]
    total = sum(amounts)
    eligible = [
        coupon.product_id is None or line.product.pk == coupon.product_id for line, _ in priced
    ]
    if not any(eligible):
        raise refuse(coupon.code, "product", product=_product_name(coupon))
    if total < coupon.min_spend_minor:
        raise refuse(coupon.code, "min_spend", minimum=coupon.min_spend_minor)
    worth = _worth(coupon, priced, eligible, currency)
    if worth <= 0:
        raise refuse(coupon.code, "nothing")
    if worth >= total:
        raise refuse(coupon.code, "whole_sale")
    return Taken(coupon, sales.discount_over(worth, amounts, eligible))


def locked(code: str) -> Coupon | None:
    """The coupon with this (canonical) code, its row locked until the transaction ends
    on PostgreSQL; SQLite has no row locks and needs none (one writer at a time)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    found = rows.many(Coupon, f"code = %s{lock}", [code])  # the code is unique
    return found[0] if found else None


def _check_standing(coupon: Coupon, customer: Customer, now: datetime | None) -> None:
    """Withdrawn, its days, its customer, its uses: what does not depend on the lines."""
    if coupon.withdrawn_at is not None:
        raise refuse(coupon.code, "withdrawn")
    day = today(now)
    if coupon.valid_until is not None and day > coupon.valid_until:
        raise refuse(coupon.code, "expired", day=coupon.valid_until.isoformat())
    if coupon.valid_from is not None and day < coupon.valid_from:
        raise refuse(coupon.code, "not_yet", day=coupon.valid_from.isoformat())
    if coupon.customer_id is not None and coupon.customer_id != customer.pk:
        raise refuse(coupon.code, "other_customer")
    if coupon.uses_allowed is None and coupon.per_customer is None:
        return
    everyone, theirs = uses_of(coupon, customer)
    if coupon.uses_allowed is not None and everyone >= coupon.uses_allowed:
        raise refuse(coupon.code, "used")
    if coupon.per_customer is not None and theirs >= coupon.per_customer:
        raise refuse(coupon.code, "customer_limit")


def _worth(
    coupon: Coupon, priced: list[tuple[Line, int]], eligible: list[bool], currency: str
) -> int:
    """What the coupon takes off the sale, at most what its eligible lines cost."""
    base = sum(amount for (_, amount), chosen in zip(priced, eligible, strict=True) if chosen)
    if coupon.kind == Coupon.Kind.AMOUNT:
        return min(coupon.value, base)
    if coupon.kind == Coupon.Kind.PERCENT:
        share = (Decimal(base) * coupon.value / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return min(int(share), base)
    quantity = sum(
        (line.quantity for (line, _), chosen in zip(priced, eligible, strict=True) if chosen),
        Decimal(0),
    )
    units = min(Decimal(coupon.value), quantity)
    product = priced[eligible.index(True)][0].product
    return min(price_line(product.unit_price, units, currency), base)


def _product_name(coupon: Coupon) -> str:
    product = coupon.product
    return product.name if product is not None else ""


@stepped
def sell(
    customer: Customer,
    lines: Sequence[Line],
    *,
    coupon: str,
    key: str,
    actor: Actor,
    note: str = "",
    read: tuple[sales.Accounts, Account] | None = None,
    pending: rows.Pending | None = None,
    tier: tiers.Held | None = None,
) -> CouponSale:
    """A sale with a coupon (the module docstring): ``sales.sell`` with the coupon's
    discount, and the coupon's use written with the sale lines (``pending``)."""
    sales.check_open(customer)
    taken = take(coupon, customer, lines, now=actor.at)
    sold = sales.sell(
        customer,
        lines,
        key=key,
        actor=actor,
        note=note,
        read=read,
        pending=pending,
        discount=taken.discount,
        tier=tier,
    )
    if sold.replayed:
        return CouponSale(sold, taken.coupon)
    use = CouponUse(
        coupon=taken.coupon,
        batch=sold.batch,
        customer=customer,
        discount_minor=taken.discount.total,
    )
    if pending is not None:
        pending.add(use)
    else:
        use.save()
    return CouponSale(sold, taken.coupon, (use,))


# -- a top-up plan's gift ----------------------------------------------------------------


def give(customer: Customer, plan: TopUpPlan, batch: Batch, *, today: date) -> Coupon | None:
    """The coupon a top-up plan gives with the top-up ``batch``: an amount off, for this
    customer only, valid the plan's days from ``today`` (none when the plan gives none)."""
    if not plan.gift_coupon_minor:
        return None
    terms = Terms(
        Coupon.Kind.AMOUNT,
        plan.gift_coupon_minor,
        valid_until=today + timedelta(days=plan.gift_coupon_days),
        customer=customer,
    )
    (coupon,) = issue(terms, series=plan.name, by=None)
    Coupon.objects.filter(pk=coupon.pk).update(gift_of=batch)
    coupon.gift_of = batch
    return coupon


def welcome(customer: Customer, tier: Tier, now: datetime) -> None:
    """The tier's welcome coupon for a customer who has just moved up into it
    (registered with ``tiers.reach``): an amount off, theirs alone."""
    if not tier.gift_coupon_minor:
        return
    terms = Terms(
        Coupon.Kind.AMOUNT,
        tier.gift_coupon_minor,
        valid_until=today(now) + timedelta(days=tier.gift_coupon_days),
        customer=customer,
    )
    issue(terms, series=tier.name, by=None)


def refuse_used_gift(batch: Batch) -> None:
    """A top-up whose gift coupon was used is not taken back (registered with
    ``sales.reverse``): the discount was given for it."""
    if (
        batch.code == Batch.Code.TOP_UP
        and CouponUse.objects.filter(
            coupon__gift_of=batch, batch__reversed_by__isnull=True
        ).exists()
    ):
        raise Refusal("gift_used")


def withdraw_gifts(batch: Batch) -> None:
    """A top-up taken back takes its gift coupon with it (registered with
    ``sales.reverse``, in the reversal's transaction)."""
    if batch.code == Batch.Code.TOP_UP:
        Coupon.objects.filter(gift_of=batch, withdrawn_at__isnull=True).update(
            withdrawn_at=timezone.now()
        )
