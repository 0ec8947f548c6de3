"""Setting up what the shop offers: products and prices, payment methods, top-up plans
and bonus rules; and the one rule that says how much bonus a top-up earns.

Every change is an audit event with before and after; a price change also starts a new
row of the product's price history. Sales snapshot the price they were sold at, so a
change applies to later sales only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from prepaid.catalog.models import BonusRule, PriceChange, Product, TopUpPlan
from prepaid.ledger.models import PaymentMethod
from prepaid.lib import rows
from prepaid.lib.money import MAX_MINOR, too_large
from prepaid.staff import audit
from prepaid.staff.models import ApiToken, Business, Staff
from prepaid.staff.refusals import Refusal

Author = Staff | ApiToken | None
MAX_PRICE = Decimal("9999999999.9999")


class CatalogError(Refusal):
    """A product, method, plan or rule cannot be saved as asked; ``field`` is at fault.
    A ``validation_error`` refusal whose message is the set-up form's own."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__("validation_error", field=field, detail=str(message))


@dataclass(frozen=True)
class ProductChange:
    """What to set on a product; None leaves a value as it is."""

    name: str | None = None
    sku: str | None = None
    unit: str | None = None
    unit_price: Decimal | None = None
    active: bool | None = None
    position: int | None = None
    colour: str | None = None


def _snapshot(product: Product) -> dict[str, Any]:
    return {
        "name": product.name,
        "sku": product.sku,
        "unit": product.unit,
        "unit_price": str(product.unit_price),
        "active": product.active,
        "position": product.position,
        "colour": product.colour,
    }


def _apply(product: Product, change: ProductChange) -> None:
    for item in fields(change):
        value = getattr(change, item.name)
        if value is None:
            continue
        if isinstance(value, str):
            value = value.strip()
        setattr(product, item.name, value)
    if not product.name:
        raise CatalogError(_("Enter the product's name."), field="name")
    if not product.unit:
        raise CatalogError(_("Enter the unit it is sold by, such as gallon."), field="unit")
    price = Decimal(product.unit_price)
    if not price.is_finite() or price < 0 or price > MAX_PRICE or _places(price) > 4:
        raise CatalogError(
            _("Enter a price of zero or more with at most four decimals."), field="unit_price"
        )
    product.unit_price = price.quantize(Decimal("0.0001"))
    if product.sku and Product.objects.filter(sku=product.sku).exclude(pk=product.pk).exists():
        raise CatalogError(_("Another product has this SKU."), field="sku")
    try:
        product.full_clean(exclude=["created_at"], validate_unique=False)
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise CatalogError(" ".join(messages), field=field) from None


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


@transaction.atomic
def create_product(change: ProductChange, *, by: Author) -> Product:
    product = Product(unit_price=Decimal(0))
    _apply(product, change)
    product.save()
    PriceChange.objects.create(product=product, unit_price=product.unit_price, **_who(by))
    audit.record("product.created", f"product:{product.pk}", by=by, after=_snapshot(product))
    return product


@transaction.atomic
def update_product(product: Product, change: ProductChange, *, by: Author) -> Product:
    """Change a product; a new price applies from now on, recorded in its history."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    before = _snapshot(product)
    _apply(product, change)
    after = _snapshot(product)
    if after == before:
        return product
    product.save()
    if after["unit_price"] != before["unit_price"]:
        PriceChange.objects.create(product=product, unit_price=product.unit_price, **_who(by))
    audit.record("product.changed", f"product:{product.pk}", by=by, before=before, after=after)
    return product


def _who(by: Author) -> dict[str, Any]:
    return {
        "staff": by if isinstance(by, Staff) else None,
        "api_token": by if isinstance(by, ApiToken) else None,
    }


def find_product(reference: str | int) -> Product | None:
    """An active product by id or SKU, as the API and the counter name it."""
    text = str(reference).strip()
    if re.fullmatch(r"[0-9]{1,18}", text):  # not str.isdigit: "²" and "٣" are digits too
        by_id = rows.one(Product, "id = %s AND active = %s", [int(text), True])
        if by_id is not None:
            return by_id
    return rows.one(Product, "sku = %s AND active = %s", [text, True]) if text else None


def find_products(references: list[str]) -> dict[str, Product]:
    """Active products by id or SKU, in one query: each reference as given → its
    product (an id wins over a SKU that looks like one); unknown ones are left out."""
    texts = [str(reference).strip() for reference in references]
    ids = [int(text) for text in texts if re.fullmatch(r"[0-9]{1,18}", text)]
    skus = [text for text in texts if text]
    where = "active = %s AND (sku IN ({}){})".format(
        ", ".join(["%s"] * len(skus)) or "NULL",
        f" OR id IN ({', '.join(['%s'] * len(ids))})" if ids else "",
    )
    found = rows.many(Product, where, [True, *skus, *ids])
    by_id = {str(product.pk): product for product in found}
    by_sku = {product.sku: product for product in found if product.sku}
    answer = {}
    for reference, text in zip(references, texts, strict=True):
        numeric = re.fullmatch(r"[0-9]{1,18}", text) is not None
        product = (by_id.get(str(int(text))) if numeric else None) or by_sku.get(text)
        if product is not None:
            answer[str(reference)] = product
    return answer


# -- payment methods, plans, rules -------------------------------------------------------


@transaction.atomic
def save_payment_method(
    method: PaymentMethod | None,
    *,
    name: str,
    requires_reference: bool = False,
    active: bool = True,
    position: int = 0,
    by: Author,
) -> PaymentMethod:
    """Create (``method`` None) or change a payment method. Its code, made from the
    name, never changes: the method's house account and reports hang on it."""
    name = name.strip()
    if not name:
        raise CatalogError(_("Enter the payment method's name."), field="name")
    if method is None:
        code = _free_code(slugify(name)[:24] or "method")
        method = PaymentMethod(code=code)
        before = None
    else:
        before = _method_snapshot(method)
    method.name = name
    method.requires_reference = requires_reference
    method.active = active
    method.position = position
    method.save()
    audit.record(
        "payment_method.saved",
        f"payment_method:{method.code}",
        by=by,
        before=before,
        after=_method_snapshot(method),
    )
    return method


def _free_code(base: str) -> str:
    code, number = base, 1
    while PaymentMethod.objects.filter(code=code).exists():
        number += 1
        code = f"{base}-{number}"
    return code


def _method_snapshot(method: PaymentMethod) -> dict[str, Any]:
    return {
        "name": method.name,
        "requires_reference": method.requires_reference,
        "active": method.active,
        "position": method.position,
    }


@transaction.atomic
def save_plan(
    plan: TopUpPlan | None,
    *,
    name: str,
    amount_minor: int,
    bonus_minor: int,
    active: bool = True,
    position: int = 0,
    gift_points: int = 0,
    gift_coupon_minor: int = 0,
    gift_coupon_days: int = 30,
    by: Author,
) -> TopUpPlan:
    if amount_minor <= 0:
        raise CatalogError(_("A plan's amount must be more than zero."), field="amount")
    if bonus_minor < 0:
        raise CatalogError(_("A bonus cannot be negative."), field="bonus")
    if not 0 <= gift_points <= 10**9 or gift_coupon_minor < 0:
        raise CatalogError(_("A gift cannot be negative."), field="gift_points")
    if not 1 <= gift_coupon_days <= 3650:
        raise CatalogError(_("Between 1 and 3650 days."), field="gift_coupon_days")
    for field, value in (("amount", amount_minor), ("bonus", bonus_minor)):
        if value > MAX_MINOR:
            raise CatalogError(
                too_large(Business.get().currency, region=Business.get().region), field=field
            )
    if gift_coupon_minor > MAX_MINOR:
        raise CatalogError(
            too_large(Business.get().currency, region=Business.get().region), field="gift_coupon"
        )
    plan = plan or TopUpPlan()
    before = None if plan.pk is None else _plan_snapshot(plan)
    plan.name = name.strip() or str(amount_minor)
    plan.amount_minor, plan.bonus_minor = amount_minor, bonus_minor
    plan.gift_points, plan.gift_coupon_minor = gift_points, gift_coupon_minor
    plan.gift_coupon_days = gift_coupon_days
    plan.active, plan.position = active, position
    plan.save()
    audit.record("plan.saved", f"plan:{plan.pk}", by=by, before=before, after=_plan_snapshot(plan))
    return plan


def _plan_snapshot(plan: TopUpPlan) -> dict[str, Any]:
    return {
        "name": plan.name,
        "amount_minor": plan.amount_minor,
        "bonus_minor": plan.bonus_minor,
        "gift_points": plan.gift_points,
        "gift_coupon_minor": plan.gift_coupon_minor,
        "gift_coupon_days": plan.gift_coupon_days,
        "active": plan.active,
    }


@transaction.atomic
def save_rule(
    rule: BonusRule | None, *, every_minor: int, bonus_minor: int, active: bool = True, by: Author
) -> BonusRule:
    if every_minor <= 0:
        raise CatalogError(_("Enter the amount that earns the bonus."), field="every")
    if bonus_minor <= 0:
        raise CatalogError(_("A bonus must be more than zero."), field="bonus")
    for field, value in (("every", every_minor), ("bonus", bonus_minor)):
        if value > MAX_MINOR:
            raise CatalogError(
                too_large(Business.get().currency, region=Business.get().region), field=field
            )
    rule = rule or BonusRule()
    before = None if rule.pk is None else _rule_snapshot(rule)
    rule.every_minor, rule.bonus_minor, rule.active = every_minor, bonus_minor, active
    rule.save()
    audit.record(
        "bonus_rule.saved",
        f"bonus_rule:{rule.pk}",
        by=by,
        before=before,
        after=_rule_snapshot(rule),
    )
    return rule


def _rule_snapshot(rule: BonusRule) -> dict[str, Any]:
    return {"every_minor": rule.every_minor, "bonus_minor": rule.bonus_minor, "active": rule.active}


# -- the bonus a top-up earns ------------------------------------------------------------


def bonus_for(amount_minor: int, *, plan: TopUpPlan | None = None) -> int:
    """The bonus of a top-up: the plan's when one is chosen (its amount must be paid in
    full), otherwise the best active rule for the amount ("every 100 gets 10")."""
    if plan is not None:
        return plan.bonus_minor
    best = 0
    for rule in BonusRule.objects.filter(active=True):
        best = max(best, amount_minor // rule.every_minor * rule.bonus_minor)
    return best
