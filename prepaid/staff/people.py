"""The people who work for the shop and the stores they work in: created and changed by
the owner, every change an audit event with before and after."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from prepaid.staff import audit, counters
from prepaid.staff.models import Role, Staff, Store

LOGIN_ROLES = frozenset({Role.OWNER, Role.MANAGER, Role.ACCOUNTANT})


class PeopleError(ValueError):
    """A staff member or store cannot be saved as asked; ``field`` is at fault."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _snapshot(staff: Staff) -> dict[str, Any]:
    return {
        "name": staff.name,
        "role": staff.role,
        "active": staff.active,
        "stores": sorted(staff.stores.values_list("name", flat=True)) if staff.pk else [],
        "login": staff.user.get_username() if staff.user_id and staff.user else "",
    }


@transaction.atomic
def save_staff(
    staff: Staff | None,
    *,
    name: str,
    role: Role,
    stores: Iterable[Store],
    active: bool = True,
    by: Staff,
) -> Staff:
    """Create (``staff`` None) or change a staff member. The last active owner cannot be
    demoted or deactivated: someone must be able to run the shop."""
    name = name.strip()
    if not name:
        raise PeopleError(_("Enter the person's name."), field="name")
    staff = staff or Staff()
    before = _snapshot(staff) if staff.pk else None
    if staff.pk and staff.role == Role.OWNER and (role != Role.OWNER or not active):
        others = Staff.objects.filter(role=Role.OWNER, active=True).exclude(pk=staff.pk)
        if not others.exists():
            raise PeopleError(_("The shop needs at least one active owner."), field="role")
    staff.name, staff.role, staff.active = name, role, active
    staff.save()
    staff.stores.set(list(stores))
    if staff.user_id:  # the login follows the person: off when they leave, on when back
        get_user_model().objects.filter(pk=staff.user_id).update(is_active=active)
    after = _snapshot(staff)
    if after != before:
        action = "staff.created" if before is None else "staff.changed"
        audit.record(action, f"staff:{staff.pk}", by=by, before=before, after=after)
    return staff


@transaction.atomic
def set_login(staff: Staff, username: str, password: str, *, by: Staff) -> None:
    """Give an owner, manager or accountant a back-office login, or a new password."""
    if staff.role not in LOGIN_ROLES:
        raise PeopleError(_("Cashiers work at the counter with a PIN only."), field="username")
    users = get_user_model()
    username = username.strip()
    if not username:
        raise PeopleError(_("Enter a user name."), field="username")
    taken = users.objects.filter(username=username)
    if staff.user_id:
        taken = taken.exclude(pk=staff.user_id)
    if taken.exists():
        raise PeopleError(
            _("The user name %(name)s is taken.") % {"name": username}, field="username"
        )
    user = staff.user or users(username=username)
    user.username = username
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise PeopleError(" ".join(error.messages), field="password") from None
    user.set_password(password)
    user.is_active = staff.active
    user.save()
    if staff.user_id != user.pk:
        staff.user = user
        staff.save(update_fields=["user"])
    audit.record("staff.login_set", f"staff:{staff.pk}", by=by, after={"login": username})


def set_pin(staff: Staff, pin: str, *, by: Staff) -> None:
    try:
        counters.set_pin(staff, pin, by=by)
    except counters.PinError as error:
        raise PeopleError(str(error), field="pin") from None


@transaction.atomic
def save_store(
    store: Store | None, *, name: str, address: str = "", active: bool = True, by: Staff
) -> Store:
    name = name.strip()
    if not name:
        raise PeopleError(_("Enter the store's name."), field="name")
    same_name = Store.objects.filter(name=name)
    if store is not None:
        same_name = same_name.exclude(pk=store.pk)
    if same_name.exists():
        raise PeopleError(_("Another store has this name."), field="name")
    store = store or Store()
    before = (
        None
        if store.pk is None
        else {"name": store.name, "address": store.address, "active": store.active}
    )
    if store.pk and not active and not Store.objects.filter(active=True).exclude(pk=store.pk):
        raise PeopleError(_("The shop needs at least one open store."), field="active")
    store.name, store.address, store.active = name, address.strip(), active
    store.save()
    after = {"name": store.name, "address": store.address, "active": store.active}
    if after != before:
        audit.record("store.saved", f"store:{store.pk}", by=by, before=before, after=after)
    return store
