"""Coupons: owners and managers issue them (one code or a series), list them and
withdraw one; a sale takes one with ``coupon`` in its body (``money.sell``)."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from prepaid.api.common import amount, cursor_id, customer_by_code, page_limit
from prepaid.api.errors import invalid, not_found
from prepaid.api.money import ERRORS
from prepaid.api.permissions import endpoint, require
from prepaid.api.schemas import CouponIn, CouponOut, CouponPage, CouponsIssued, Input
from prepaid.catalog.models import Product
from prepaid.coupons import services as coupons
from prepaid.coupons.models import Coupon
from prepaid.lib.numbers import whole_number
from prepaid.operations import present
from prepaid.staff.models import Business

router = Router(tags=["coupons"])


class CouponParams(Input):
    series: str | None = None
    state: str | None = None  # unused, used, withdrawn
    limit: int | None = None
    cursor: str | None = None


def _value(body: CouponIn, kind: Coupon.Kind, currency: str) -> int:
    if kind == Coupon.Kind.AMOUNT:
        return amount(str(body.value), currency, field="value")
    number = whole_number(str(body.value).strip())
    if number is None:
        raise invalid(_("Enter a whole number."), "value")
    return number


@router.post(
    "/coupons",
    response={201: CouponsIssued, **ERRORS},
    **endpoint(
        "coupons.issue",
        "Issue coupons",
        description="`count` codes of one kind: `amount` (money off), `percent` (of the"
        " lines it is for, half-up to the cent) or `product` (units of it free), each"
        " taken once unless `uses` says otherwise. A sale takes one with `coupon` in its"
        " body.",
    ),
)
def issue(request: HttpRequest, body: CouponIn) -> Status[dict[str, Any]]:
    token = require(request, "coupons.issue")
    currency = Business.get().currency
    if body.kind not in Coupon.Kind.values:
        raise invalid(_("Choose amount, percent or product."), "kind")
    kind = Coupon.Kind(body.kind)
    product = None
    if body.product is not None:
        product = Product.objects.filter(pk=body.product).first()
        if product is None:
            raise not_found(_("product"))
    terms = coupons.Terms(
        kind,
        _value(body, kind, currency),
        product=product,
        min_spend_minor=amount(body.min_spend, currency, field="min_spend", positive=False),
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        uses=body.uses,
        per_customer=body.per_customer,
        customer=customer_by_code(body.customer) if body.customer else None,
    )
    made = coupons.issue(terms, count=body.count, series=body.series, by=token)
    return Status(201, {"codes": [item.code for item in made], "series": made[0].series})


@router.get(
    "/coupons",
    response={200: CouponPage, **ERRORS},
    **endpoint(
        "coupons.issue",
        "List coupons, newest first",
        description="`series` narrows to one series; `state`: `unused`, `used` (taken as"
        " often as allowed) or `withdrawn`.",
    ),
)
def list_coupons(request: HttpRequest, params: Query[CouponParams]) -> dict[str, Any]:
    require(request, "coupons.issue")
    currency = Business.get().currency
    limit, before = page_limit(params.limit), cursor_id(params.cursor)
    found = coupons.counted(Coupon.objects.select_related("customer").order_by("-id"))
    if params.series:
        found = found.filter(series=params.series)
    if params.state:
        found = _in_state(found, params.state)
    if before is not None:
        found = found.filter(id__lt=before)
    page = list(found[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return {
        "results": [present.coupon(item, currency) for item in page],
        "next": str(page[-1].pk) if more else None,
    }


def _in_state(found: QuerySet[Coupon], state: str) -> QuerySet[Coupon]:
    if state == "withdrawn":
        return found.filter(withdrawn_at__isnull=False)
    used_up = Q(uses_allowed__isnull=False) & Q(used__gte=F("uses_allowed"))
    if state == "used":
        return found.filter(withdrawn_at__isnull=True).filter(used_up)
    if state == "unused":
        return found.filter(withdrawn_at__isnull=True).exclude(used_up)
    raise invalid(_("state is unused, used or withdrawn."), "state")


@router.get(
    "/coupons/{code}",
    response={200: CouponOut, **ERRORS},
    **endpoint("coupons.issue", "One coupon, with its uses"),
)
def get_coupon(request: HttpRequest, code: str) -> dict[str, Any]:
    require(request, "coupons.issue")
    found = coupons.find(code)
    if found is None:
        raise not_found(_("coupon"))
    return present.coupon(found, Business.get().currency, used=_used(found))


def _used(item: Coupon) -> int:
    return coupons.uses_of(item, None)[0]


@router.delete(
    "/coupons/{code}",
    response={200: CouponOut, **ERRORS},
    **endpoint(
        "coupons.issue",
        "Withdraw a coupon",
        description="No sale takes it from now on; the sales that took it stay as they are.",
    ),
)
def withdraw(request: HttpRequest, code: str) -> dict[str, Any]:
    token = require(request, "coupons.issue")
    found = coupons.find(code)
    if found is None:
        raise not_found(_("coupon"))
    coupons.withdraw(found, by=token)
    return present.coupon(found, Business.get().currency, used=_used(found))
