"""Approval requests (maker-checker, docs/security.md "Four eyes"): a refund or reversal
above the shop's threshold, a credit-limit raise, answered ``202`` with the request
instead of being done. The owner, or a manager other than the one who asked, approves
it (the operation runs then, once) or rejects it with a reason; the one who asked may
withdraw it. Deciding takes its own Idempotency-Key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from prepaid.api.common import actor, cursor_id, key_of, page_limit, scope_of
from prepaid.api.errors import invalid, not_found
from prepaid.api.permissions import endpoint, require
from prepaid.api.schemas import ErrorOut, Input
from prepaid.lib.numbers import whole_number
from prepaid.operations import present
from prepaid.operations.approvals import Approve, Reject, Withdraw, requests
from prepaid.operations.envelope import Operation, run
from prepaid.operations.models import Approval
from prepaid.staff.models import ApiToken, Business

router = Router(tags=["approvals"])
ERRORS: dict[int, Any] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}
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


class ApprovalOut(Schema):
    id: int
    kind: str = Field(
        description="`refund`, `reversal`, `credit_limit`, `bonus` (a plan or bonus rule) or"
        " `opening` (an import with opening balances)",
        examples=["refund"],
    )
    status: str = Field(
        description="`pending`, `approved`, `rejected`, `withdrawn`, or `owner_made` (the"
        " owner did it themselves: it ran at once)",
        examples=["pending"],
    )
    operation: str = Field(description="The operation asked for", examples=["Refund"])
    request: dict[str, Any] = Field(
        description="Its fields as asked (amounts in minor units, as the operation holds them)"
    )
    amount: str = Field(
        description="What made it wait: the refund, what the transaction reversed moved,"
        " the new credit limit",
        examples=["250.00"],
    )
    currency: str = Field(examples=["PHP"])
    customer: str | None = Field(description="Customer code", examples=["K7MQ-4XZP"])
    reason: str = Field(description="The reason of the one who asked")
    store: str
    staff: str | None = Field(description="Who asked: a staff member, or null for a token")
    token: str | None = Field(description="Who asked: an API token's name, or null")
    asked_by: str | None
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str = Field(description="The checker's note; a rejection's reason")
    transaction: int | None = Field(description="The transaction an approval posted")
    result: dict[str, Any] | None = Field(
        None, description="An approval's answer: the transaction, as its own endpoint answers"
    )


class ApprovalPage(Schema):
    results: list[ApprovalOut]
    next: str | None = Field(description="Cursor of the next (older) page, or null")


class ApprovalParams(Input):
    status: str | None = Field(None, description="`pending`, `approved`, `rejected`…")
    limit: int | None = None
    cursor: str | None = None


class ApproveIn(Input):
    note: str = Field("", max_length=255, examples=["Checked the receipt"])


class RejectIn(Input):
    reason: str = Field(min_length=1, max_length=255, examples=["No receipt"])


def _decision(action: str, summary: str, description: str) -> dict[str, Any]:
    options = endpoint(action, summary, description=description)
    options["openapi_extra"] = {**options["openapi_extra"], **KEY}
    return options


def _run(request: HttpRequest, token: ApiToken, operation: Operation) -> HttpResponse:
    outcome = run(operation, actor=actor(token), scope=scope_of(token), key=key_of(request))
    response = HttpResponse(outcome.body, status=outcome.status, content_type="application/json")
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


@router.get(
    "/approvals",
    response={200: ApprovalPage, **ERRORS},
    **endpoint(
        "approvals.read",
        "Approval requests, newest first",
        description="What waits for a second person's approval, and what was decided.",
    ),
)
def list_approvals(request: HttpRequest, params: Query[ApprovalParams]) -> dict[str, Any]:
    require(request, "approvals.read")
    limit, before = page_limit(params.limit), cursor_id(params.cursor)
    found = requests()
    if params.status is not None:
        if params.status not in Approval.Status.values:
            statuses = ", ".join(Approval.Status.values)
            raise invalid(
                _("The status is one of %(statuses)s.") % {"statuses": statuses}, "status"
            )
        found = found.filter(status=params.status)
    if before is not None:
        found = found.filter(id__lt=before)
    page = list(found[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    currency = Business.get().currency
    return {
        "results": [present.approval(item, currency) for item in page],
        "next": str(page[-1].pk) if more else None,
    }


@router.get(
    "/approvals/{approval_id}",
    response={200: ApprovalOut, **ERRORS},
    **endpoint("approvals.read", "One approval request"),
)
def get_approval(request: HttpRequest, approval_id: str) -> dict[str, Any]:
    require(request, "approvals.read")
    found = None
    if (number := whole_number(approval_id)) is not None:
        found = requests().filter(pk=number).first()
    if found is None:
        raise not_found(_("approval request"))
    return present.approval(found, Business.get().currency)


@router.post(
    "/approvals/{approval_id}/approve",
    response={200: ApprovalOut, **ERRORS},
    **_decision(
        "approvals.decide",
        "Approve a request",
        "The operation runs now, once, as the one who asked made it (their store, their"
        " name on the transaction); `result` is its answer. Never one's own request"
        " (403 `approval_own_request`); a request already decided is 409"
        " `approval_not_pending`. When the operation cannot be done any more (the money"
        " was spent since), its own refusal answers and the request keeps waiting.",
    ),
)
def approve(request: HttpRequest, approval_id: int, body: ApproveIn) -> HttpResponse:
    token = require(request, "approvals.decide")
    return _run(request, token, Approve(approval=approval_id, note=body.note))


@router.post(
    "/approvals/{approval_id}/reject",
    response={200: ApprovalOut, **ERRORS},
    **_decision(
        "approvals.decide",
        "Reject a request",
        "With a reason; nothing of the request is done. Never one's own request.",
    ),
)
def reject(request: HttpRequest, approval_id: int, body: RejectIn) -> HttpResponse:
    token = require(request, "approvals.decide")
    return _run(request, token, Reject(approval=approval_id, reason=body.reason))


@router.post(
    "/approvals/{approval_id}/withdraw",
    response={200: ApprovalOut, **ERRORS},
    **_decision(
        "approvals.withdraw",
        "Withdraw one's own request",
        "Only the token that asked (403 `approval_not_yours`); nothing of it is done.",
    ),
)
def withdraw(request: HttpRequest, approval_id: int) -> HttpResponse:
    token = require(request, "approvals.withdraw")
    return _run(request, token, Withdraw(approval=approval_id))
