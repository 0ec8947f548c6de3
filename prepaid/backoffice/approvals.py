"""The Approvals page (maker-checker, docs/security.md "Four eyes"): what waits for a
second person's approval, with Approve and Reject for those who may decide (never on
their own requests), Withdraw for the one who asked, and what was decided lately. And
the day's exceptions: a report of one day's approval-gated operations, the owner's own
among them."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from prepaid.backoffice.forms import DayForm
from prepaid.backoffice.permissions import StaffRequest, perform, requires
from prepaid.operations.approvals import Approve, Reject, Withdraw, of_day, requests
from prepaid.operations.envelope import Operation
from prepaid.operations.models import Approval
from prepaid.reports import days
from prepaid.staff.refusals import Refusal
from prepaid.web.people import allowed


@requires("approvals.read")
def approval_list(request: StaffRequest) -> HttpResponse:
    waiting = list(requests().filter(status=Approval.Status.PENDING))
    decided = requests().exclude(status=Approval.Status.PENDING)
    context = {
        "waiting": [(item, item.staff_id == request.staff.pk) for item in waiting],
        "page": Paginator(decided, 50).get_page(request.GET.get("page")),
        "can_decide": allowed(request.staff, "approvals.decide"),
        "can_withdraw": allowed(request.staff, "approvals.withdraw"),
        "key": uuid.uuid4().hex,  # one per page drawn: a double submit is harmless
    }
    return render(request, "backoffice/approvals.html", context)


@require_POST
@requires("approvals.decide")
def approval_approve(request: StaffRequest, approval_id: int) -> HttpResponse:
    operation = Approve(approval=approval_id, note=request.POST.get("note", ""))
    return _decide(request, operation, approval_id, _("Approved: it is done."))


@require_POST
@requires("approvals.decide")
def approval_reject(request: StaffRequest, approval_id: int) -> HttpResponse:
    operation = Reject(approval=approval_id, reason=request.POST.get("reason", ""))
    return _decide(request, operation, approval_id, _("Rejected: nothing was done."))


@require_POST
@requires("approvals.withdraw")
def approval_withdraw(request: StaffRequest, approval_id: int) -> HttpResponse:
    operation = Withdraw(approval=approval_id)
    return _decide(request, operation, approval_id, _("Withdrawn: nothing was done."))


def _decide(
    request: StaffRequest, operation: Operation, approval_id: int, done: str
) -> HttpResponse:
    """Run the decision under the page's key (one per request and decision)."""
    form_key = request.POST.get("key", "").strip()[:64]
    if not form_key:
        messages.error(request, _("Reload the page and try again."))
        return redirect("approvals")
    try:
        perform(request, operation, f"{form_key}:{type(operation).__name__}:{approval_id}")
    except Refusal as refusal:
        if refusal.code == "idempotency_key_reused":
            messages.info(request, _("This form was sent before; nothing more was done."))
        else:
            messages.error(request, refusal.message())
    else:
        messages.success(request, done)
    return redirect("approvals")


@requires("approvals.read")
def exceptions(request: StaffRequest) -> HttpResponse:
    """One day's exceptions (today by default): every refund, reversal and credit-limit
    raise that needed a second person, asked or decided that day, and what the owner
    did themselves."""
    today = days.today()
    form = DayForm(request.GET or None, initial={"day": today})
    day = form.cleaned_data["day"] if form.is_bound and form.is_valid() else today
    day = day or today
    start, end = days.bounds(day)
    found = list(of_day(start, end))
    context = {
        "form": form,
        "day": day,
        "rows": found,
        "waiting": sum(1 for item in found if item.status == Approval.Status.PENDING),
        "owner_made": sum(1 for item in found if item.status == Approval.Status.OWNER_MADE),
    }
    return render(request, "backoffice/exceptions.html", context)
