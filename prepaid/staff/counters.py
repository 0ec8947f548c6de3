"""Counters and PINs: a browser enrolled as a store's counter, and the staff who unlock
it with a PIN of their own.

A PIN is short by nature, so its hash alone would not stop someone holding the database
from trying all 10,000 four-digit PINs: what protects a PIN is that it only works on an
enrolled counter, and that five wrong tries lock that staff member out there for 15
minutes. Every attempt that fails, every lockout and every unlock is an audit event.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from itertools import pairwise

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from prepaid.lib.codes import digest
from prepaid.staff import audit
from prepaid.staff.models import Device, PinLockout, Staff, Store

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
COOKIE = "prepaid_counter"
PIN = re.compile(r"^[0-9]{4,8}$")
# Among the most chosen PINs; with runs and repeats (checked apart) they are what a
# thief tries first.
COMMON = frozenset(
    {"1212", "1122", "1313", "2580", "0852", "6969", "1004", "2000", "2001", "1010",
     "4444", "7777", "1357", "2468", "5683", "121212", "112233", "123123", "696969",
     "159753", "147258", "789456", "12341234", "11223344", "20002000"}
)  # fmt: skip


class PinError(ValueError):
    """A PIN cannot be set or does not unlock; the message is translated."""


@dataclass(frozen=True)
class Attempt:
    """The outcome of a PIN: ``unlocked``, or the ``message`` to show."""

    unlocked: bool
    message: str = ""


def check_new_pin(pin: str) -> str:
    """The PIN, if it may be used: 4–8 digits, not a common one, not a run or a repeat."""
    pin = pin.strip()
    if not PIN.match(pin):
        raise PinError(_("A PIN has 4 to 8 digits."))
    steps = {int(b) - int(a) for a, b in pairwise(pin)}
    if pin in COMMON or len(set(pin)) == 1 or steps in ({1}, {-1}):
        raise PinError(_("This PIN is too easy to guess; choose another."))
    return pin


@transaction.atomic
def set_pin(staff: Staff, pin: str, *, by: Staff | None) -> None:
    staff.pin_hash = make_password(check_new_pin(pin))
    staff.save(update_fields=["pin_hash"])
    audit.record("staff.pin_set", f"staff:{staff.pk}", by=by)


@transaction.atomic
def enroll(store: Store, name: str, *, by: Staff) -> tuple[Device, str]:
    """Make a browser the counter of ``store``: the secret goes into its cookie, once."""
    secret = secrets.token_urlsafe(32)
    device = Device.objects.create(
        name=name.strip() or _("Counter"), store=store, digest=digest(secret), enrolled_by=by
    )
    audit.record(
        "counter.enrolled", f"counter:{device.pk}", by=by, store=store, after={"name": device.name}
    )
    return device, secret


def device_for(secret: str | None) -> Device | None:
    """The enrolled, not revoked counter holding this cookie secret."""
    if not secret:
        return None
    device = (
        Device.objects.select_related("store")
        .filter(digest=digest(secret), revoked_at__isnull=True)
        .first()
    )
    if device is not None:
        now = timezone.now()
        if device.last_seen_at is None or now - device.last_seen_at > timedelta(minutes=1):
            Device.objects.filter(pk=device.pk).update(last_seen_at=now)
    return device


@transaction.atomic
def revoke(device: Device, *, by: Staff) -> None:
    Device.objects.filter(pk=device.pk).update(revoked_at=timezone.now())
    audit.record("counter.revoked", f"counter:{device.pk}", by=by, store=device.store)


def staff_at(device: Device) -> list[Staff]:
    """Who may unlock this counter: active staff of its store with a PIN."""
    return list(
        Staff.objects.filter(stores=device.store, active=True).exclude(pin_hash="").order_by("name")
    )


@transaction.atomic
def unlock(device: Device, staff: Staff, pin: str) -> Attempt:
    """Try ``staff``'s PIN on the counter.

    The answer to a wrong PIN is the same whoever else's PIN it might be. Five wrong in a
    row lock this staff member out on this counter for 15 minutes. A refusal is an
    answer, not an exception: the count of failures must be kept.
    """
    lockout, _created = PinLockout.objects.select_for_update().get_or_create(
        staff=staff, device=device
    )
    now = timezone.now()
    locked = _("Too many wrong PINs. Try again in 15 minutes, or ask the owner to unlock.")
    if lockout.locked_until and lockout.locked_until > now:
        after = {"counter": device.pk, "until": lockout.locked_until.isoformat()}
        audit.record("pin.refused_locked", f"staff:{staff.pk}", by=None, store=device.store,
                     after=after)  # fmt: skip
        return Attempt(unlocked=False, message=locked)
    valid = (
        staff.active
        and bool(staff.pin_hash)
        and staff.stores.filter(pk=device.store_id).exists()
        and check_password(pin.strip(), staff.pin_hash)
    )
    if valid:
        if lockout.failures or lockout.locked_until:
            lockout.failures, lockout.locked_until = 0, None
            lockout.save(update_fields=["failures", "locked_until"])
        audit.record("counter.unlocked", f"counter:{device.pk}", by=staff, store=device.store)
        return Attempt(unlocked=True)
    lockout.failures += 1
    subject = f"staff:{staff.pk}"
    if lockout.failures >= MAX_FAILURES:
        lockout.failures, lockout.locked_until = 0, now + LOCKOUT
        after = {"counter": device.pk, "until": lockout.locked_until.isoformat()}
        audit.record("pin.locked_out", subject, by=None, store=device.store, after=after)
    else:
        after = {"counter": device.pk, "failures": lockout.failures}
        audit.record("pin.failed", subject, by=None, store=device.store, after=after)
    lockout.save(update_fields=["failures", "locked_until"])
    return Attempt(unlocked=False, message=locked if lockout.locked_until else _("Wrong PIN."))


@transaction.atomic
def lift_lockout(staff: Staff, device: Device, *, by: Staff) -> None:
    """The owner lets a locked-out staff member try again at once."""
    PinLockout.objects.filter(staff=staff, device=device).update(failures=0, locked_until=None)
    audit.record(
        "pin.unlocked_by_owner",
        f"staff:{staff.pk}",
        by=by,
        store=device.store,
        after={"counter": device.pk},
    )
