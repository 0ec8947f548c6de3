"""Money: top-ups, sales, refunds and reversals, each exactly once per Idempotency-Key;
and reading transactions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Router

from prepaid.api import present
from prepaid.api.common import actor, amount, business, customer_by_code, decimal
from prepaid.api.errors import ApiError, invalid, not_found
from prepaid.api.idempotency import Answer, run_once
from prepaid.api.permissions import endpoint, may_reverse_others, require
from prepaid.api.schemas import ErrorOut, RefundIn, ReversalIn, SaleIn, TopUpIn, TransactionOut
from prepaid.catalog import services as catalog
from prepaid.catalog.models import TopUpPlan
from prepaid.customers.models import Customer
from prepaid.ledger.errors import (
    AlreadyReversed,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransfer,
)
from prepaid.ledger.models import Batch, PaymentMethod
from prepaid.lib.money import format_money
from prepaid.sales import services as sales

router = Router(tags=["money"])
KEY = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": True,
            "description": "Any unique printable text up to 255 characters; a retry sends it again",
            "schema": {"type": "string", "maxLength": 255},
        }
    ]
}
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


def _money_endpoint(action: str, summary: str, description: str) -> dict[str, Any]:
    options = endpoint(action, summary, description=description)
    options["openapi_extra"] = {**options["openapi_extra"], **KEY}
    return options


def _posting(
    customer: Customer,
    currency: str,
    post: Callable[[], sales.Receipt],
    *,
    paid_only: bool = False,
) -> Answer:
    """Run a posting and answer 201 with the transaction; refusals become API errors.
    ``paid_only``: what is available is the paid balance alone (a refund)."""
    try:
        receipt = post()
    except InsufficientFunds as refusal:
        balances = sales.balances(customer)
        available = balances.paid if paid_only else balances.available
        raise ApiError(
            409,
            "insufficient_funds",
            _("The balance does not cover this; %(short)s short.")
            % {"short": _readable(refusal.shortfall, currency)},
            extra={
                "available": present.money(max(available, 0), currency),
                "shortfall": present.money(refusal.shortfall, currency),
            },
            stored=True,
        ) from None
    except sales.SaleError as error:
        raise invalid(str(error), error.field) from None
    except IdempotencyConflict:
        raise ApiError(
            422, "idempotency_key_reused", _("This key was used for a different request.")
        ) from None
    except InvalidTransfer as error:
        raise invalid(str(error)) from None
    if isinstance(receipt, sales.Sold) and receipt.after is not None:
        return 201, present.sold(receipt, customer, currency)
    batch = present.batches().get(pk=receipt.batch.pk)
    now = sales.balances_after(receipt, customer) if receipt.balances else None
    return 201, present.transaction(batch, currency, now=now or sales.balances(customer))


def _readable(amount_minor: int, currency: str) -> str:
    """Money in a message, as a person reads it: "₱31.75", "€ 31,75" (the fields beside it
    carry the plain decimal strings for programs)."""
    return format_money(amount_minor, currency, get_language() or "en", region=business().region)


def _method(code: str) -> PaymentMethod:
    method = PaymentMethod.objects.filter(code=code, active=True).first()
    if method is None:
        raise invalid(_("Unknown payment method; see GET /payment-methods."), "method")
    return method


@router.post(
    "/customers/{code}/top-ups",
    response={201: TransactionOut, **ERRORS},
    **_money_endpoint(
        "top_up",
        "Top up a customer's balance",
        "Money paid by `method` goes to the paid balance; the plan's bonus, or the best"
        " bonus rule's, and a first-top-up bonus go to the bonus balance.",
    ),
)
def top_up(request: HttpRequest, code: str, body: TopUpIn) -> Any:
    token = require(request, "top_up")
    currency = business().currency
    customer = customer_by_code(code)
    paid = amount(body.amount, currency, field="amount")

    def operation(key: str) -> Answer:
        # Checked here, after the stored answer: a retry of a top-up made before the
        # method or plan was withdrawn gets its answer, not a refusal.
        method = _method(body.method)
        plan = None
        if body.plan is not None:
            plan = TopUpPlan.objects.filter(pk=body.plan, active=True).first()
            if plan is None:
                raise invalid(_("Unknown top-up plan."), "plan")
        return _posting(
            customer,
            currency,
            lambda: sales.top_up(
                customer,
                paid,
                method=method,
                plan=plan,
                reference=body.reference,
                key=key,
                actor=actor(token),
            ),
        )

    return run_once(request, token, operation)


@router.post(
    "/customers/{code}/sales",
    response={201: TransactionOut, **ERRORS},
    **_money_endpoint(
        "sell",
        "Sell to a customer",
        "Each line is a product (id or SKU) × quantity, priced now and rounded half-up."
        " The balance pays: paid and bonus money by the shop's spend order, then credit."
        " 409 `insufficient_funds` with `available` when it does not cover the total;"
        " nothing is posted then.",
    ),
)
def sell(request: HttpRequest, code: str, body: SaleIn) -> Any:
    token = require(request, "sell")
    currency = business().currency
    customer = customer_by_code(code)
    quantities = [
        decimal(line.quantity, field=f"lines.{number}.quantity", places=3)
        for number, line in enumerate(body.lines)
    ]

    def operation(key: str) -> Answer:
        # Products are found after the stored answer: a retry of a sale made before a
        # product was withdrawn gets its answer, not a refusal.
        lines = []
        for number, (line, quantity) in enumerate(zip(body.lines, quantities, strict=True)):
            product = catalog.find_product(line.product)
            if product is None:
                raise invalid(
                    _("Unknown product: %(product)s.") % {"product": line.product},
                    f"lines.{number}.product",
                )
            lines.append(sales.Line(product, quantity))
        return _posting(
            customer,
            currency,
            lambda: sales.sell(customer, lines, key=key, actor=actor(token), note=body.note),
        )

    return run_once(request, token, operation)


@router.post(
    "/customers/{code}/refunds",
    response={201: TransactionOut, **ERRORS},
    **_money_endpoint(
        "refund",
        "Pay back paid balance",
        "Cash-out of paid money through a payment method, with a reason. When it empties"
        " the paid balance, the bonus is forfeited in the same transaction.",
    ),
)
def refund(request: HttpRequest, code: str, body: RefundIn) -> Any:
    token = require(request, "refund")
    currency = business().currency
    customer = customer_by_code(code)
    paid = amount(body.amount, currency, field="amount")

    def operation(key: str) -> Answer:
        method = _method(body.method)
        return _posting(
            customer,
            currency,
            lambda: sales.cash_out(
                customer,
                paid,
                method=method,
                key=key,
                actor=actor(token),
                reason=body.reason,
                reference=body.reference,
            ),
            paid_only=True,
        )

    return run_once(request, token, operation)


@router.post(
    "/transactions/{transaction_id}/reversal",
    response={201: TransactionOut, **ERRORS},
    **_money_endpoint(
        "reverse",
        "Reverse a transaction",
        "Undo a sale, top-up or refund once, with a reason: 409 `already_reversed` the"
        " second time, 409 `top_up_spent` for a top-up whose money was spent since. A"
        " cashier's token reverses only its own transactions.",
    ),
)
def reverse(request: HttpRequest, transaction_id: int, body: ReversalIn) -> Any:
    token = require(request, "reverse")
    currency = business().currency
    batch = Batch.objects.select_related("customer").filter(pk=transaction_id).first()
    if batch is None:
        raise not_found(_("transaction"))
    if not may_reverse_others(token) and batch.api_token_id != token.pk:
        raise ApiError(
            403, "permission_denied", _("A cashier may reverse only their own transactions.")
        )

    def operation(key: str) -> Answer:
        try:
            receipt = sales.reverse(batch, key=key, actor=actor(token), reason=body.reason)
        except AlreadyReversed:
            raise ApiError(
                409,
                "already_reversed",
                _("This transaction has already been reversed."),
                stored=True,
            ) from None
        except sales.TopUpSpent as error:
            raise ApiError(409, "top_up_spent", str(error), stored=True) from None
        except IdempotencyConflict:
            raise ApiError(
                422, "idempotency_key_reused", _("This key was used for a different request.")
            ) from None
        except InsufficientFunds:
            raise ApiError(
                409,
                "insufficient_funds",
                _("Reversing this would take a balance below its limit."),
                stored=True,
            ) from None
        except sales.SaleError as error:
            raise invalid(str(error), error.field) from None
        reversal = present.batches().get(pk=receipt.batch.pk)
        now = sales.balances(batch.customer) if batch.customer else None
        return 201, present.transaction(reversal, currency, now=now)

    return run_once(request, token, operation)


@router.get(
    "/transactions/{transaction_id}",
    response={200: TransactionOut, **ERRORS},
    **endpoint("transactions.read", "One transaction"),
)
def get_transaction(request: HttpRequest, transaction_id: int) -> dict[str, Any]:
    require(request, "transactions.read")
    batch = present.batches().filter(pk=transaction_id).first()
    if batch is None:
        raise not_found(_("transaction"))
    return present.transaction(batch, business().currency)
