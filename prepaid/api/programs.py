"""Punch cards and passes: the packages on offer (owner and manager define them), a
customer buying one, and redeeming uses — each purchase and redemption an operation run
once per Idempotency-Key (``prepaid.operations.programs``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status

from prepaid.api.common import amount
from prepaid.api.errors import not_found
from prepaid.api.money import ERRORS, _money_endpoint, _run
from prepaid.api.permissions import endpoint, require
from prepaid.api.schemas import (
    BuyPackageIn,
    CardRefundIn,
    PackageIn,
    PackageOut,
    PackageSaleOut,
    PointsIn,
    PointsOut,
    RedemptionIn,
    RedemptionOut,
)
from prepaid.catalog.models import Product
from prepaid.operations import present
from prepaid.operations.money import RedeemPoints
from prepaid.operations.programs import BuyPackage, Redeem, RefundPunchCard
from prepaid.programs import services as programs
from prepaid.programs.models import Package
from prepaid.staff.models import Business

router = Router(tags=["punch cards and passes"])


@router.get(
    "/packages",
    response={200: list[PackageOut], **ERRORS},
    **endpoint("products.read", "Punch card packages (those no longer offered too)"),
)
def list_packages(request: HttpRequest) -> list[dict[str, Any]]:
    require(request, "products.read")
    currency = Business.get().currency
    return [present.package(item, currency) for item in Package.objects.all()]


@router.post(
    "/packages",
    response={201: PackageOut, **ERRORS},
    **endpoint(
        "catalog.write",
        "Offer a punch card or a pass",
        description="A punch card (`kind` `count`): `count` uses of `product` (and"
        " `bonus_count` free ones) for `price`, valid `valid_days` from the purchase (none:"
        " no end). A pass (`kind` `time`): uses of `product` (none: of every product) for"
        " `valid_days`, at most `max_per_day` a day and `max_per_week` a week (none: no cap).",
    ),
)
def create_package(request: HttpRequest, body: PackageIn) -> Status[dict[str, Any]]:
    token = require(request, "catalog.write")
    currency = Business.get().currency
    product = None
    if body.product is not None:
        product = Product.objects.filter(pk=body.product).first()
        if product is None:
            raise not_found(_("product"))
    also = list(Product.objects.filter(pk__in=body.also))
    if len(also) != len(set(body.also)):
        raise not_found(_("product"))
    package = programs.create_package(
        also=also,
        kind=body.kind,
        name=body.name,
        product=product,
        count=body.count,
        bonus_count=body.bonus_count,
        price_minor=amount(body.price, currency, field="price", positive=False),
        valid_days=body.valid_days,
        max_per_day=body.max_per_day,
        max_per_week=body.max_per_week,
        by=token,
    )
    return Status(201, present.package(package, currency))


@router.post(
    "/customers/{code}/packages",
    response={201: PackageSaleOut, **ERRORS},
    **_money_endpoint(
        "package.sell",
        "Sell a punch card or a pass",
        "The customer pays the package's price by `method`. A punch card holds its uses"
        " (free ones included) until `expires_at`, its money revenue use by use; a pass"
        " allows uses until `valid_until` within its caps, its price revenue when it ends.",
    ),
)
def buy_package(request: HttpRequest, code: str, body: BuyPackageIn) -> HttpResponse:
    token = require(request, "package.sell")
    operation = BuyPackage(
        customer=code, package=body.package, method=body.method, reference=body.reference
    )
    return _run(request, token, operation)


@router.post(
    "/customers/{code}/redemptions",
    response={201: RedemptionOut, **ERRORS},
    **_money_endpoint(
        "redeem",
        "Redeem uses of a pass or a punch card",
        "`quantity` uses of `product`: under the customer's passes first (as far as their"
        " caps for the day and the week allow), then from their punch cards, the"
        " soonest-ending first. 409 `nothing_to_redeem` when together they cover fewer;"
        " nothing is posted then.",
    ),
)
def redeem(request: HttpRequest, code: str, body: RedemptionIn) -> HttpResponse:
    token = require(request, "redeem")
    operation = Redeem(customer=code, product=str(body.product), quantity=body.quantity)
    return _run(request, token, operation)


@router.post(
    "/customers/{code}/points/redemptions",
    response={201: PointsOut, **ERRORS},
    **_money_endpoint(
        "points.redeem",
        "Redeem points for bonus money",
        "`points` of the customer's points become bonus money at the shop's point value."
        " 409 `not_enough_points` beyond what they hold, `points_not_redeemable` when the"
        " shop gives points no value; nothing is posted then.",
    ),
)
def redeem_points(request: HttpRequest, code: str, body: PointsIn) -> HttpResponse:
    token = require(request, "points.redeem")
    return _run(request, token, RedeemPoints(customer=code, points=body.points))


@router.post(
    "/punch-cards/{card_id}/refund",
    response={201: PackageSaleOut, **ERRORS},
    **_money_endpoint(
        "refund",
        "Refund the uses left on a punch card",
        "Where the shop allows it (a setting): the uses left go back to the store and what"
        " they are worth of the card's price is paid out by `method`, with a reason. 409"
        " `card_refund_not_allowed` when the shop does not refund cards, `nothing_to_refund`"
        " for a card without uses left or one that has ended.",
    ),
)
def refund_card(request: HttpRequest, card_id: int, body: CardRefundIn) -> HttpResponse:
    token = require(request, "refund")
    operation = RefundPunchCard(card=card_id, method=body.method, reason=body.reason)
    return _run(request, token, operation)
