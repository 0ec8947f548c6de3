"""Money: top-ups, sales, refunds and reversals, each an operation run once per
Idempotency-Key (``prepaid.operations``); and reading transactions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router

from prepaid.api.approvals import ApprovalOut
from prepaid.api.common import actor, amount, decimal, key_of, scope_of
from prepaid.api.errors import not_found
from prepaid.api.permissions import endpoint, require
from prepaid.api.schemas import (
    ErrorOut,
    MoveIn,
    RefundIn,
    ReversalIn,
    SaleIn,
    TopUpIn,
    TransactionOut,
)
from prepaid.operations import present
from prepaid.operations.envelope import Operation, run
from prepaid.operations.money import MoveSale, Refund, Reversal, Sale, TopUp
from prepaid.staff.models import ApiToken, Business

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


def _run(request: HttpRequest, token: ApiToken, operation: Operation) -> HttpResponse:
    """Run the operation once per Idempotency-Key: its answer (201), again for a retry
    (``Idempotent-Replayed: true``), or its refusal (the API's error shape)."""
    outcome = run(operation, actor=actor(token), scope=scope_of(token), key=key_of(request))
    response = HttpResponse(outcome.body, status=outcome.status, content_type="application/json")
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


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
def top_up(request: HttpRequest, code: str, body: TopUpIn) -> HttpResponse:
    token = require(request, "top_up")
    paid = amount(body.amount, Business.get().currency, field="amount")
    operation = TopUp(
        customer=code,
        amount_minor=paid,
        method=body.method,
        plan=body.plan,
        reference=body.reference,
    )
    return _run(request, token, operation)


@router.post(
    "/customers/{code}/sales",
    response={201: TransactionOut, **ERRORS},
    **_money_endpoint(
        "sell",
        "Sell to a customer",
        "Each line is a product (id or SKU) × quantity, priced now and rounded half-up."
        " The balance pays: paid and bonus money by the shop's spend order, then credit."
        " 409 `insufficient_funds` with `available` when it does not cover the total;"
        " nothing is posted then. A `coupon` takes its discount off the lines it is for;"
        " 409 `coupon_not_valid` with a `reason` when it cannot be taken (unknown, used,"
        " expired…), and nothing is posted.",
    ),
)
def sell(request: HttpRequest, code: str, body: SaleIn) -> HttpResponse:
    token = require(request, "sell")
    lines = tuple(
        (str(line.product), str(decimal(line.quantity, field=f"lines.{number}.quantity", places=3)))
        for number, line in enumerate(body.lines)
    )
    operation = Sale(customer=code, lines=lines, note=body.note, coupon=body.coupon.strip())
    return _run(request, token, operation)


@router.post(
    "/customers/{code}/refunds",
    response={201: TransactionOut, 202: ApprovalOut, **ERRORS},
    **_money_endpoint(
        "refund",
        "Pay back paid balance",
        "Cash-out of paid money through a payment method, with a reason. When it empties"
        " the paid balance, the bonus is forfeited in the same transaction. Above the"
        " shop's approval threshold, a token other than the owner's gets `202` with an"
        " approval request instead: the refund is made when the owner or another manager"
        " approves it (`/approvals`).",
    ),
)
def refund(request: HttpRequest, code: str, body: RefundIn) -> HttpResponse:
    token = require(request, "refund")
    paid = amount(body.amount, Business.get().currency, field="amount")
    operation = Refund(
        customer=code,
        amount_minor=paid,
        method=body.method,
        reason=body.reason,
        reference=body.reference,
    )
    return _run(request, token, operation)


@router.post(
    "/transactions/{transaction_id}/reversal",
    response={201: TransactionOut, 202: ApprovalOut, **ERRORS},
    **_money_endpoint(
        "reverse",
        "Reverse a transaction",
        "Undo a sale, top-up or refund once, with a reason: 409 `already_reversed` the"
        " second time, 409 `top_up_spent` for a top-up whose money was spent since. A"
        " cashier's token reverses only its own sales and top-ups, within the counter's"
        " undo window (403 `undo_not_allowed`). The reversal is booked at the store of the"
        " original. A reversal of more than the shop's approval threshold answers `202`"
        " with an approval request (the owner's token: done at once).",
    ),
)
def reverse(request: HttpRequest, transaction_id: int, body: ReversalIn) -> HttpResponse:
    token = require(request, "reverse")
    return _run(request, token, Reversal(transaction=transaction_id, reason=body.reason))


@router.post(
    "/transactions/{transaction_id}/move",
    response={201: TransactionOut, 202: ApprovalOut, **ERRORS},
    **_money_endpoint(
        "reverse",
        "Move a sale to another customer",
        "A sale charged to the wrong customer, put right in one step: it is reversed and"
        " the same products and quantities are sold to `customer` (priced as a sale now"
        " is, with that customer's tier), with a reason; both or neither. The answer is"
        " the new sale. Who may reverse the sale may move it (a cashier's token: its own"
        " sale, within the undo window). 422"
        " `same_customer` when it is already that customer's; 409 `sale_has_coupon` for a"
        " sale with a coupon (reverse it and sell again); 409 `insufficient_funds` when"
        " the right customer's balance does not cover it, and nothing moves.",
    ),
)
def move(request: HttpRequest, transaction_id: int, body: MoveIn) -> HttpResponse:
    token = require(request, "reverse")
    require(request, "sell")
    operation = MoveSale(transaction=transaction_id, customer=body.customer, reason=body.reason)
    return _run(request, token, operation)


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
    return present.transaction(batch, Business.get().currency)
