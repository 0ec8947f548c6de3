"""Counters and PINs: a browser enrolled as a store's counter, and the staff who unlock
it with a PIN of their own.

A PIN is short by nature, so its hash alone would not stop someone holding the database
from trying all 10,000 four-digit PINs: what protects a PIN is that it only works on an
enrolled counter, and that five wrong tries, on any of the shop's counters together,
lock that staff member out of every counter: for 15 minutes, then an hour, then until
an owner lets them try again (the back office's overview and staff page show who is
locked out). Every attempt that fails, every lockout and every unlock is an audit
event.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from prepaid.lib.codes import digest
from prepaid.staff import audit
from prepaid.staff.models import Device, PinLockout, Staff, Store

MAX_FAILURES = 5
# How long the n-th lockout in a row lasts; past the last, until an owner unlocks.
LOCKOUTS = (timedelta(minutes=15), timedelta(hours=1))
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
def enroll(
    store: Store, name: str, *, by: Staff, kind: Device.Kind = Device.Kind.COUNTER
) -> tuple[Device, str]:
    """Make a browser the counter (or the customer kiosk) of ``store``: the secret goes
    into its cookie, once."""
    secret = secrets.token_urlsafe(32)
    fallback = _("Counter") if kind == Device.Kind.COUNTER else _("Kiosk")
    device = Device.objects.create(
        name=name.strip() or fallback,
        store=store,
        kind=kind,
        digest=digest(secret),
        enrolled_by=by,
    )
    after = {"name": device.name, "kind": kind.value}
    audit.record("counter.enrolled", f"counter:{device.pk}", by=by, store=store, after=after)
    return device, secret


def device_for(secret: str | None, kind: Device.Kind | None = Device.Kind.COUNTER) -> Device | None:
    """The enrolled, not revoked device of ``kind`` (None: either) holding this cookie
    secret. A kiosk is never a counter, nor a counter a kiosk."""
    if not secret:
        return None
    found = Device.objects.select_related("store").filter(
        digest=digest(secret), revoked_at__isnull=True
    )
    device = (found if kind is None else found.filter(kind=kind)).first()
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
    """Who may unlock this counter: active staff of its store with a PIN (nobody, on a
    kiosk)."""
    if device.kind != Device.Kind.COUNTER:
        return []
    return list(
        Staff.objects.filter(stores=device.store, active=True).exclude(pin_hash="").order_by("name")
    )


def _locked_message(lockout: PinLockout) -> str:
    if lockout.level >= PinLockout.UNTIL_OWNER:
        return _("Too many wrong PINs. Ask the owner to let you try again.")
    if lockout.level == 1:
        return _("Too many wrong PINs. Try again in 15 minutes, or ask the owner to unlock.")
    return _("Too many wrong PINs. Try again in an hour, or ask the owner to unlock.")


@transaction.atomic
def unlock(device: Device, staff: Staff, pin: str, *, action: str = "counter.unlocked") -> Attempt:
    """Try ``staff``'s PIN on the counter.

    The answer to a wrong PIN is the same whoever else's PIN it might be. Five wrong in a
    row, on any counters, lock this staff member out of all of them (``LOCKOUTS``, then
    until an owner unlocks); a right PIN starts the count again. A refusal is an answer,
    not an exception: the count of failures must be kept.
    """
    lockout, _created = PinLockout.objects.select_for_update().get_or_create(staff=staff)
    now = timezone.now()
    if lockout.locked(now):
        until = lockout.locked_until.isoformat() if lockout.locked_until else "owner"
        after = {"counter": device.pk, "until": until}
        audit.record("pin.refused_locked", f"staff:{staff.pk}", by=None, store=device.store,
                     after=after)  # fmt: skip
        return Attempt(unlocked=False, message=_locked_message(lockout))
    valid = (
        device.kind == Device.Kind.COUNTER
        and staff.active
        and bool(staff.pin_hash)
        and staff.stores.filter(pk=device.store_id).exists()
        and check_password(pin.strip(), staff.pin_hash)
    )
    if valid:
        if lockout.failures or lockout.level or lockout.locked_until:
            lockout.failures, lockout.level, lockout.locked_until = 0, 0, None
            lockout.save(update_fields=["failures", "level", "locked_until"])
        audit.record(action, f"counter:{device.pk}", by=staff, store=device.store)
        return Attempt(unlocked=True)
    lockout.failures += 1
    lockout.device = device
    subject = f"staff:{staff.pk}"
    if lockout.failures >= MAX_FAILURES:
        lockout.failures, lockout.level = 0, lockout.level + 1
        lasting = LOCKOUTS[lockout.level - 1] if lockout.level <= len(LOCKOUTS) else None
        lockout.locked_until = now + lasting if lasting else None
        until = lockout.locked_until.isoformat() if lockout.locked_until else "owner"
        after = {"counter": device.pk, "until": until, "level": lockout.level}
        audit.record("pin.locked_out", subject, by=None, store=device.store, after=after)
    else:
        after = {"counter": device.pk, "failures": lockout.failures}
        audit.record("pin.failed", subject, by=None, store=device.store, after=after)
    lockout.save(update_fields=["failures", "level", "locked_until", "device"])
    if lockout.locked(now):
        return Attempt(unlocked=False, message=_locked_message(lockout))
    return Attempt(unlocked=False, message=_("Wrong PIN."))


def locked_out(now: datetime | None = None) -> list[PinLockout]:
    """Who is locked out of the counters now: what the owner is shown."""
    now = now or timezone.now()
    held = PinLockout.objects.select_related("staff", "device").filter(
        Q(level__gte=PinLockout.UNTIL_OWNER) | Q(locked_until__gt=now)
    )
    return list(held.order_by("staff__name"))


@transaction.atomic
def lift_lockout(staff: Staff, *, by: Staff) -> None:
    """The owner lets a locked-out staff member try again at once, on every counter."""
    PinLockout.objects.filter(staff=staff).update(failures=0, level=0, locked_until=None)
    audit.record("pin.unlocked_by_owner", f"staff:{staff.pk}", by=by)
