"""Who is signed in to a page, and what they may do (the one table: ``staff.roles``)."""

from __future__ import annotations

from django.http import HttpRequest

from prepaid.staff.models import Staff
from prepaid.staff.roles import may


def staff_of(request: HttpRequest) -> Staff | None:
    """The active staff member behind the browser's login, or None."""
    user = request.user
    if not user.is_authenticated:
        return None
    return Staff.objects.filter(user=user, active=True).first()


def allowed(staff: Staff | None, action: str) -> bool:
    return staff is not None and may(staff.role, action)
