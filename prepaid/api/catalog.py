"""The catalog: products (a price change applies to later sales only), payment methods,
top-up plans."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from prepaid.api.common import decimal
from prepaid.api.errors import invalid, not_found
from prepaid.api.permissions import endpoint, require
from prepaid.api.schemas import (
    ErrorOut,
    PaymentMethodOut,
    PlanOut,
    ProductIn,
    ProductOut,
    ProductPatch,
)
from prepaid.catalog import services as catalog
from prepaid.catalog.models import Product, TopUpPlan
from prepaid.ledger.models import PaymentMethod
from prepaid.operations import present
from prepaid.staff.models import Business

router = Router(tags=["catalog"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _change(body: ProductIn | ProductPatch) -> catalog.ProductChange:
    price = None
    if body.unit_price is not None:
        price = decimal(body.unit_price, field="unit_price", places=4)
    return catalog.ProductChange(
        name=body.name,
        sku=body.sku,
        unit=body.unit,
        unit_price=price,
        active=body.active,
        position=body.position,
        colour=body.colour,
    )


@router.get(
    "/products",
    response={200: list[ProductOut], **ERRORS},
    **endpoint("products.read", "Products, in the counter's order (inactive ones too)"),
)
def list_products(request: HttpRequest) -> list[dict[str, Any]]:
    require(request, "products.read")
    currency = Business.get().currency
    return [present.product(item, currency) for item in Product.objects.all()]


@router.post(
    "/products",
    response={201: ProductOut, **ERRORS},
    **endpoint("catalog.write", "Add a product"),
)
def create_product(request: HttpRequest, body: ProductIn) -> Status[dict[str, Any]]:
    token = require(request, "catalog.write")
    try:
        item = catalog.create_product(_change(body), by=token)
    except catalog.CatalogError as error:
        raise invalid(str(error), error.field) from None
    return Status(201, present.product(item, Business.get().currency))


@router.patch(
    "/products/{product_id}",
    response={200: ProductOut, **ERRORS},
    **endpoint(
        "catalog.write",
        "Change a product",
        description="A new `unit_price` applies to later sales only; sales keep the price"
        " they were sold at, and the price history keeps every change.",
    ),
)
def update_product(request: HttpRequest, product_id: int, body: ProductPatch) -> dict[str, Any]:
    token = require(request, "catalog.write")
    item = Product.objects.filter(pk=product_id).first()
    if item is None:
        raise not_found(_("product"))
    try:
        item = catalog.update_product(item, _change(body), by=token)
    except catalog.CatalogError as error:
        raise invalid(str(error), error.field) from None
    return present.product(item, Business.get().currency)


@router.get(
    "/payment-methods",
    response={200: list[PaymentMethodOut], **ERRORS},
    **endpoint("payment_methods.read", "Payment methods in use"),
)
def list_payment_methods(request: HttpRequest) -> list[dict[str, Any]]:
    require(request, "payment_methods.read")
    return [present.payment_method(m) for m in PaymentMethod.objects.filter(active=True)]


@router.get(
    "/top-up-plans",
    response={200: list[PlanOut], **ERRORS},
    **endpoint("products.read", "Top-up plans on offer"),
)
def list_plans(request: HttpRequest) -> list[dict[str, Any]]:
    require(request, "products.read")
    currency = Business.get().currency
    return [present.plan(plan, currency) for plan in TopUpPlan.objects.filter(active=True)]
