"""Who may open which back-office screen: each view names its action in the one role
table (``prepaid.staff.roles``), tested as a matrix; and how a screen runs an operation
as the signed-in staff member (``perform``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from prepaid.ledger.services import Actor
from prepaid.operations.envelope import Operation, Result, run
from prepaid.staff.models import Business, Staff, Store
from prepaid.staff.refusals import Refusal
from prepaid.web.people import allowed, staff_of


class StaffRequest(HttpRequest):
    """A request that passed ``requires``: the staff member is known, and so is the shop."""

    staff: Staff
    business: Business
    htmx: HtmxDetails


def requires(action: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Log in first; then the staff member's role must be allowed ``action`` (403)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        view.action = action  # type: ignore[attr-defined]  # read by the matrix test

        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            staff = staff_of(request)
            if not allowed(staff, action):
                raise PermissionDenied
            request.staff = staff  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def perform(request: StaffRequest, operation: Operation, key: str | None = None) -> Result:
    """Run ``operation`` as the signed-in staff member, under their keys
    (``backoffice:<staff>``), booked at their first store, else the shop's first (a
    reversal is booked at the store of its original anyway)."""
    store = request.staff.stores.filter(active=True).order_by("id").first()
    store = store or Store.objects.order_by("id").first()
    if store is None:
        raise Refusal("not_set_up")
    actor = Actor(store=store, staff=request.staff)
    return run(operation, actor=actor, scope=f"backoffice:{request.staff.pk}", key=key)
