"""Deciding approval requests (maker-checker, docs/security.md "Four eyes").

An operation that needs a second person's approval was kept as an ``Approval`` by the
envelope (``envelope.perform_or_hold``). Here the checker approves it (the operation
then runs, once, as the maker's: their store, their name on the transaction; the
request records the checker and the transaction), or rejects it with a reason; the
maker may withdraw it. The checker is the owner, or a manager other than the maker.

Exactly once: deciding locks the request's row and refuses anything but a pending one
(``approval_not_pending``), and the operation's ledger batch has the request's own key
(``approval:<id>``), unique forever; two checkers approving at the same moment get one
run and one refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from prepaid.ledger.services import Actor
from prepaid.operations import present
from prepaid.operations.catalog import SaveBonusRule, SavePlan
from prepaid.operations.customers import SetCreditLimit
from prepaid.operations.envelope import Context, Done, Operation, rebuilt
from prepaid.operations.imports import ImportSheet
from prepaid.operations.models import Approval
from prepaid.operations.money import Refund, Reversal
from prepaid.staff import audit
from prepaid.staff.refusals import Refusal

LONGEST_NOTE = 255
# The operations that may wait for approval (their ``gate`` says when). Imported here so
# that each is known by its name wherever a request is approved.
GATED: tuple[type[Operation], ...] = (
    Refund,
    Reversal,
    SetCreditLimit,
    SavePlan,
    SaveBonusRule,
    ImportSheet,
)


def requests() -> QuerySet[Approval]:
    """Approval requests with what ``present.approval`` shows, newest first."""
    return Approval.objects.select_related(
        "customer", "store", "staff", "api_token", "decided_by", "decided_by_token"
    ).order_by("-id")


def of_day(start: datetime, end: datetime) -> QuerySet[Approval]:
    """The day's exceptions: the approval-gated operations asked or decided between
    ``start`` and ``end`` (excluded), whatever became of them, the owner's own among
    them; in the order they were asked."""
    asked = Q(created_at__gte=start, created_at__lt=end)
    decided = Q(decided_at__gte=start, decided_at__lt=end)
    return requests().filter(asked | decided).order_by("id")


def own(request: Approval, actor: Actor) -> bool:
    """Whether ``actor`` is the request's maker (the same staff member, or token)."""
    if actor.staff is not None:
        return request.staff_id == actor.staff.pk
    return actor.api_token is not None and request.api_token_id == actor.api_token.pk


def maker(request: Approval) -> Actor:
    """Who asked, where: the operation runs as theirs."""
    return Actor(
        store=request.store, staff=request.staff, api_token=request.api_token, device=request.device
    )


def _pending(number: int) -> Approval:
    """The request, its row locked until the decision commits; only a pending one."""
    found = (
        Approval.objects.select_for_update(of=("self",))
        .select_related("customer", "store", "staff", "api_token", "device")
        .filter(pk=number)
        .first()
    )
    if found is None:
        raise Refusal("not_found", what=_("approval request"))
    if found.status != Approval.Status.PENDING:
        raise Refusal("approval_not_pending", status=found.status)
    return found


def _note(text: str, *, required: bool) -> str:
    note = text.strip()
    if required and not note:
        raise Refusal("reason_required", field="reason")
    if len(note) > LONGEST_NOTE:
        detail = _("A reason has at most %(count)s characters.") % {"count": LONGEST_NOTE}
        raise Refusal("validation_error", field="reason", detail=detail)
    return note


def _decided(request: Approval, context: Context, status: str, note: str) -> None:
    """The request's new state, and its audit entry (by the one who decided)."""
    before = {"status": request.status}
    if "sheet" in request.fields:  # decided: an import's rows are not kept any longer
        request.fields = {**request.fields, "sheet": ""}
    request.status = status
    request.decision_note = note
    request.decided_at = timezone.now()
    if status != Approval.Status.WITHDRAWN:
        request.decided_by = context.actor.staff
        request.decided_by_token = context.actor.api_token
    request.save(
        update_fields=[
            "fields",
            "status",
            "decision_note",
            "decided_at",
            "decided_by",
            "decided_by_token",
            "batch",
        ]
    )
    audit.record(
        f"approval.{status}",
        f"approval:{request.pk}",
        by=context.actor.by,
        store=request.store,
        before=before,
        after=present.approval_audited(request),
    )


@dataclass(frozen=True)
class Approve(Operation):
    """Approve a pending request: its operation runs now, as the maker's."""

    action: ClassVar[str] = "approvals.decide"

    approval: int
    note: str = ""

    def perform(self, context: Context) -> Done:
        request = _pending(self.approval)
        if own(request, context.actor):
            raise Refusal("approval_own_request")
        note = _note(self.note, required=False)
        operation = rebuilt(request)
        # The maker's operation, in this transaction: its rows and events are written
        # with this answer; its batch has the request's own key.
        as_asked = Context(
            maker(request),
            context.business,
            f"approval:{request.pk}",
            pending=context.pending,
            events=context.events,
            asked_at=request.created_at,
        )
        done = operation.perform(as_asked)
        request.batch = done.batch
        _decided(request, context, Approval.Status.APPROVED, note)
        data = present.approval(request, context.business.currency)
        data["result"] = done.data
        return Done(data, status=200, batch=done.batch)


@dataclass(frozen=True)
class Reject(Operation):
    """Reject a pending request, with a reason: nothing of it is done."""

    action: ClassVar[str] = "approvals.decide"
    moves_money: ClassVar[bool] = False

    approval: int
    reason: str

    def perform(self, context: Context) -> Done:
        request = _pending(self.approval)
        if own(request, context.actor):
            raise Refusal("approval_own_request")
        note = _note(self.reason, required=True)
        _decided(request, context, Approval.Status.REJECTED, note)
        return Done(present.approval(request, context.business.currency), status=200)


@dataclass(frozen=True)
class Withdraw(Operation):
    """The maker takes back their own pending request."""

    action: ClassVar[str] = "approvals.withdraw"
    moves_money: ClassVar[bool] = False

    approval: int

    def perform(self, context: Context) -> Done:
        request = _pending(self.approval)
        if not own(request, context.actor):
            raise Refusal("approval_not_yours")
        _decided(request, context, Approval.Status.WITHDRAWN, "")
        return Done(present.approval(request, context.business.currency), status=200)
