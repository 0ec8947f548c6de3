"""Member tiers: who is in which, and what it gives.

A customer's **qualifying figure** is what they paid in (top-ups not reversed) or what
they spent (sales not reversed), as the shop chose (``Business.tier_basis``), since they
joined or over the last twelve months (``tier_window``). Their tier is the one with the
highest threshold at or below it.

Upgrades happen as the qualifying posting is made (``reach``, called by the top-up or
the sale in its own transaction): one indexed sum over that customer's own rows, and a
write only when the tier changes, so no row is shared between customers' postings.
Downgrades — a rolling window's old deposits falling out of it, or thresholds the owner
raised — are the daily review's (``review``: the worker and ``prepaid expire``). Every
change is in the audit trail and in the customer's timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from prepaid.catalog.models import CustomerTier, Product, Tier, TierPrice
from prepaid.customers import services as customers
from prepaid.customers.models import Customer, Note
from prepaid.lib import rows
from prepaid.lib.money import MAX_MINOR
from prepaid.staff import audit
from prepaid.staff.models import ApiToken, Business, Staff, TierBasis, TierWindow
from prepaid.staff.refusals import Refusal

# What other programs do when a customer moves up into a tier (the coupons register the
# tier's welcome coupon), in the transaction of the move.
ON_UPGRADE: list[Callable[[Customer, Tier, datetime], None]] = []
YEAR = timedelta(days=365)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Held:
    """A customer's tier with what it takes off each product (basis points)."""

    tier: Tier
    since: datetime
    product_bp: dict[int, int]

    def rate(self, product_id: int) -> int:
        return self.product_bp.get(product_id, self.tier.discount_bp)


def ladder() -> list[Tier]:
    """The tiers, lowest threshold first (a small table, read by fixed SQL)."""
    return rows.many(Tier, "1 = 1 ORDER BY threshold_minor, id", [])


def held(customer_id: int) -> Held | None:
    """The customer's tier and its discounts, or None (two small reads; none at all for
    a customer without a tier beyond the first)."""
    found = rows.joined(
        (CustomerTier, "m", False),
        (Tier, "t", False),
        tail="FROM catalog_customertier m JOIN catalog_tier t ON t.id = m.tier_id"
        " WHERE m.customer_id = %s",
        params=[customer_id],
    )
    if found is None:
        return None
    member, tier = found
    assert isinstance(member, CustomerTier) and isinstance(tier, Tier)
    return held_as(tier, member.since)


def held_as(tier: Tier, since: datetime) -> Held:
    """A tier read already (with the sale's customer), with its own product discounts:
    one more read only for a tier that has some."""
    if not tier.priced:
        return Held(tier, since, {})
    prices = rows.many(TierPrice, "tier_id = %s", [tier.pk])
    return Held(tier, since, {price.product_id: price.discount_bp for price in prices})


def off(amount_minor: int, bp: int) -> int:
    """``bp`` hundredths of a percent of ``amount_minor``, rounded half up."""
    return (amount_minor * bp + 5000) // 10000


_SPEND = (
    "SELECT b.customer_id, COALESCE(SUM(l.amount_minor), 0) FROM ledger_batch b"
    " JOIN sales_saleline l ON l.batch_id = b.id"
    " WHERE {who} AND b.code = 'sale' AND b.created_at >= %s"
    " AND NOT EXISTS (SELECT 1 FROM ledger_batch r WHERE r.reverses_id = b.id)"
    " GROUP BY b.customer_id"
)
_DEPOSIT = (
    "SELECT b.customer_id, COALESCE(SUM(t.amount), 0) FROM ledger_batch b"
    " JOIN ledger_transfer t ON t.batch_id = b.id AND t.code = 'top_up'"
    " WHERE {who} AND b.code = 'top_up' AND b.created_at >= %s"
    " AND NOT EXISTS (SELECT 1 FROM ledger_batch r WHERE r.reverses_id = b.id)"
    " GROUP BY b.customer_id"
)


def _figures(who: str, params: list[Any], now: datetime, business: Business) -> dict[int, int]:
    start = now - YEAR if business.tier_window == TierWindow.YEAR else EPOCH
    sql = (_SPEND if business.tier_basis == TierBasis.SPEND else _DEPOSIT).format(who=who)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, connection.ops.adapt_datetimefield_value(start)])
        return {int(customer): int(total) for customer, total in cursor.fetchall()}


def qualifying(customer_id: int, now: datetime, business: Business | None = None) -> int:
    """What counts towards the customer's tier at ``now`` (the module docstring)."""
    found = _figures("b.customer_id = %s", [customer_id], now, business or Business.get())
    return found.get(customer_id, 0)


def deserved(amount: int, tiers: list[Tier]) -> Tier | None:
    found = None
    for tier in tiers:
        if tier.threshold_minor <= amount:
            found = tier
    return found


def reach(
    customer: Customer, *, now: datetime | None = None, by: Staff | ApiToken | None = None
) -> Tier | None:
    """After a qualifying posting: move the customer up to the tier their figure now
    reaches (never down: that is the review's). Answers the new tier, if it changed."""
    tiers = ladder()
    if not tiers:
        return None
    now = now or timezone.now()
    current = rows.one(CustomerTier, "customer_id = %s", [customer.pk])
    if current is not None and current.tier_id == tiers[-1].pk:
        return None  # at the top already: nothing to add up
    amount = qualifying(customer.pk, now)
    tier = deserved(amount, tiers)
    rank = {t.pk: position for position, t in enumerate(tiers)}
    if tier is None or (current is not None and rank.get(current.tier_id, -1) >= rank[tier.pk]):
        return None
    _move(customer, current, tier, amount, now, by)
    for welcome in ON_UPGRADE:
        welcome(customer, tier, now)
    return tier


def _move(
    customer: Customer,
    current: CustomerTier | None,
    tier: Tier | None,
    amount: int,
    now: datetime,
    by: Staff | ApiToken | None,
) -> None:
    before = None if current is None else Tier.objects.filter(pk=current.tier_id).first()
    if tier is None:
        CustomerTier.objects.filter(customer=customer).delete()
    else:
        CustomerTier.objects.update_or_create(
            customer=customer, defaults={"tier": tier, "since": now, "qualifying_minor": amount}
        )
    names = (before.name if before else "–", tier.name if tier else "–")
    audit.record(
        "customer.tier",
        f"customer:{customer.code}",
        by=by,
        before={"tier": names[0]},
        after={"tier": names[1], "qualifying_minor": amount},
    )
    customers.add_note(customer, f"{names[0]} → {names[1]}", kind=Note.Kind.TIER, by=None)


def review(now: datetime | None = None) -> int:
    """Put every customer with a tier, or who may deserve one, in the tier their figure
    deserves now: down as well as up (a rolling window's deposits falling out of it,
    thresholds raised). Answers how many changed."""
    now = now or timezone.now()
    tiers = ladder()
    business = Business.get()
    changed = 0
    members = {m.customer_id: m for m in CustomerTier.objects.all()}
    if not members:
        return 0
    figures = _figures(  # every member's figure in one query
        "b.customer_id IN (SELECT customer_id FROM catalog_customertier)", [], now, business
    )
    for customer in Customer.objects.filter(pk__in=list(members)):
        amount = figures.get(customer.pk, 0)
        tier = deserved(amount, tiers)
        current = members[customer.pk]
        if tier is None or tier.pk != current.tier_id:
            with transaction.atomic():
                _move(customer, current, tier, amount, now, None)
            changed += 1
    return changed


def save_tier(
    tier: Tier | None,
    *,
    name: str,
    threshold_minor: int,
    discount_bp: int,
    bonus_multiplier: Decimal,
    points_multiplier: Decimal = Decimal(1),
    product_bp: dict[Product, int] | None = None,
    gift_coupon_minor: int = 0,
    gift_coupon_days: int = 30,
    by: Staff | ApiToken | None,
) -> Tier:
    """A new tier or a change to one, with its own discounts per product; audited."""
    name = name.strip()
    if not name:
        raise Refusal("validation_error", field="name", detail=_("Enter a name."))
    if threshold_minor <= 0:
        raise Refusal("amount_not_positive", field="threshold")
    if threshold_minor > MAX_MINOR:
        raise Refusal("amount_too_large", field="threshold")
    if not 0 <= discount_bp <= 10000 or any(
        not 0 <= bp <= 10000 for bp in (product_bp or {}).values()
    ):
        raise Refusal(
            "validation_error", field="discount", detail=_("A discount is 0 to 100 percent.")
        )
    if not Decimal(0) <= points_multiplier <= Decimal(10):
        raise Refusal(
            "validation_error",
            field="points_multiplier",
            detail=_("A points multiplier is 0 to 10 (1: the points as they are)."),
        )
    if not Decimal(0) <= bonus_multiplier <= Decimal(10):
        raise Refusal(
            "validation_error",
            field="bonus_multiplier",
            detail=_("A bonus multiplier is 0 to 10 (1: the bonus as it is)."),
        )
    if gift_coupon_minor < 0 or not 1 <= gift_coupon_days <= 3650:
        raise Refusal(
            "validation_error",
            field="gift_coupon",
            detail=_("A welcome coupon is an amount, valid 1 to 3650 days."),
        )
    taken = Tier.objects.filter(threshold_minor=threshold_minor)
    if tier is not None:
        taken = taken.exclude(pk=tier.pk)
    if taken.exists():
        raise Refusal(
            "validation_error",
            field="threshold",
            detail=_("Another tier starts at the same figure."),
        )
    with transaction.atomic():
        before = None if tier is None else _described(tier)
        tier = tier or Tier()
        tier.name, tier.threshold_minor = name, threshold_minor
        tier.discount_bp, tier.bonus_multiplier = discount_bp, bonus_multiplier
        tier.points_multiplier = points_multiplier
        tier.gift_coupon_minor, tier.gift_coupon_days = gift_coupon_minor, gift_coupon_days
        tier.save()
        if product_bp is not None:
            TierPrice.objects.filter(tier=tier).delete()
            TierPrice.objects.bulk_create(
                TierPrice(tier=tier, product=product, discount_bp=bp)
                for product, bp in product_bp.items()
            )
            tier.priced = bool(product_bp)
            tier.save(update_fields=["priced"])
        action = "tier.created" if before is None else "tier.changed"
        audit.record(action, f"tier:{tier.pk}", by=by, before=before, after=_described(tier))
    return tier


def _described(tier: Tier) -> dict[str, object]:
    return {
        "name": tier.name,
        "threshold": tier.threshold_minor,
        "discount_bp": tier.discount_bp,
        "bonus_multiplier": str(tier.bonus_multiplier),
        "points_multiplier": str(tier.points_multiplier),
        "gift_coupon_minor": tier.gift_coupon_minor,
        "products": {str(p.product_id): p.discount_bp for p in tier.prices.all()},
    }


def members_of(tier: Tier) -> QuerySet[CustomerTier]:
    return CustomerTier.objects.filter(tier=tier).select_related("customer")
