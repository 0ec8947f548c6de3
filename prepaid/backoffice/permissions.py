"""Who may open which back-office screen: one table, tested as a matrix."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails

from prepaid.staff.models import Business, Role, Staff

# Screen → roles allowed. Reading customers is open to the accountant; changing them is not.
ROLES: dict[str, frozenset[str]] = {
    "overview": frozenset({Role.OWNER, Role.MANAGER, Role.ACCOUNTANT}),
    "customers.read": frozenset({Role.OWNER, Role.MANAGER, Role.ACCOUNTANT}),
    "customers.write": frozenset({Role.OWNER, Role.MANAGER}),
    "cards.print": frozenset({Role.OWNER, Role.MANAGER}),
    "settings": frozenset({Role.OWNER}),
    "catalog.write": frozenset({Role.OWNER, Role.MANAGER}),  # products, prices, plans
    "staff.write": frozenset({Role.OWNER}),  # staff, PINs, stores, counters, tokens
    "activity": frozenset({Role.OWNER, Role.MANAGER}),
    "transactions.reverse": frozenset({Role.OWNER, Role.MANAGER}),
}


class StaffRequest(HttpRequest):
    """A request that passed ``requires``: the staff member is known, and so is the shop."""

    staff: Staff
    business: Business
    htmx: HtmxDetails


def staff_of(request: HttpRequest) -> Staff | None:
    user = request.user
    if not user.is_authenticated:
        return None
    staff = Staff.objects.filter(user=user, active=True).first()
    return staff


def allowed(staff: Staff | None, screen: str) -> bool:
    return staff is not None and staff.role in ROLES[screen]


def requires(screen: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Log in first; then the staff member's role must be allowed on ``screen`` (403)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            staff = staff_of(request)
            if not allowed(staff, screen):
                raise PermissionDenied
            request.staff = staff  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
