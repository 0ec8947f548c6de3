"""Customers' PINs for the shop's self-service kiosk (docs/kiosk.md).

A customer may set a PIN of 4 to 6 digits, on their own page (after the same check as a
lost-card report: the last four digits of their phone, or their e-mail address) or at
the counter or the back office. It is hashed with Django's password hashers; like a
cashier's PIN, what protects so short a secret is where it works (only on an enrolled
kiosk) and how few tries it gets: five wrong in a row, on any kiosks together, lock the
customer out of every kiosk until staff unlock them (the counter's customer panel and
the back office's customer page) or the customer sets a new PIN on their own page. A
right PIN starts the count again. Setting, clearing, every wrong PIN, the lock and the
unlock are audit events of the customer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from prepaid.customers.models import Customer, KioskPin
from prepaid.customers.services import Author
from prepaid.staff import audit, counters
from prepaid.staff.models import Device

MAX_FAILURES = 5
PIN = re.compile(r"^[0-9]{4,6}$")


class PinError(ValueError):
    """A PIN that may not be set; the message is translated."""


class Outcome(StrEnum):
    OPEN = "open"  # the right PIN: show the customer their account
    WRONG = "wrong"
    LOCKED = "locked"  # this one locked them, or they were locked already
    NO_PIN = "no_pin"


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    left: int = 0  # tries left before the lock, after a wrong PIN


def check_new_pin(pin: str) -> str:
    """The PIN, if it may be used: 4–6 digits, not a common one, a run or a repeat."""
    pin = pin.strip()
    if not PIN.match(pin):
        raise PinError(_("A kiosk PIN has 4 to 6 digits."))
    try:
        return counters.check_new_pin(pin)
    except counters.PinError as error:
        raise PinError(str(error)) from error


def held(customer: Customer) -> KioskPin | None:
    return KioskPin.objects.filter(customer=customer).first()


def locked_out() -> list[KioskPin]:
    """The customers the kiosk refuses now (five wrong PINs), the latest lock first: what
    staff are shown, to unlock them when the customer asks."""
    found = KioskPin.objects.filter(locked_at__isnull=False, customer__erased_at__isnull=True)
    return list(found.select_related("customer").order_by("-locked_at"))


@transaction.atomic
def set_pin(customer: Customer, pin: str, *, by: Author, how: str) -> None:
    """Set (or change) the customer's kiosk PIN; a lock ends with it. ``how``: where
    it was set (``portal``, ``counter``, ``backoffice``), for the audit trail."""
    pin_hash = make_password(check_new_pin(pin))
    fresh = {"pin_hash": pin_hash, "failures": 0, "locked_at": None, "set_at": timezone.now()}
    KioskPin.objects.update_or_create(customer=customer, defaults=fresh)
    audit.record("customer.kiosk_pin_set", f"customer:{customer.code}", by=by, after={"how": how})


@transaction.atomic
def clear_pin(customer: Customer, *, by: Author, how: str) -> bool:
    """No kiosk PIN any more (the kiosk then refuses the customer's card). Answers
    whether there was one."""
    removed, _kinds = KioskPin.objects.filter(customer=customer).delete()
    if removed:
        subject = f"customer:{customer.code}"
        audit.record("customer.kiosk_pin_cleared", subject, by=by, after={"how": how})
    return bool(removed)


@transaction.atomic
def unlock(customer: Customer, *, by: Author) -> None:
    """Staff let a locked-out customer try their PIN at the kiosk again."""
    KioskPin.objects.filter(customer=customer).update(failures=0, locked_at=None)
    audit.record("kiosk.unlocked", f"customer:{customer.code}", by=by)


@transaction.atomic
def try_pin(customer: Customer, pin: str, *, kiosk: Device) -> Attempt:
    """The customer's PIN typed at ``kiosk``. The count's row is locked while it grows,
    so two wrong PINs at once both count. A refusal is an answer, not an exception:
    the count must be kept."""
    found = KioskPin.objects.select_for_update().filter(customer=customer).first()
    subject = f"customer:{customer.code}"
    where = {"kiosk": kiosk.pk}
    if found is None:
        return Attempt(Outcome.NO_PIN)
    if found.locked_at is not None:
        audit.record("kiosk.refused_locked", subject, by=None, store=kiosk.store, after=where)
        return Attempt(Outcome.LOCKED)
    if check_password(pin.strip(), found.pin_hash):
        if found.failures:
            KioskPin.objects.filter(pk=found.pk).update(failures=0)
        audit.record("kiosk.opened", subject, by=None, store=kiosk.store, after=where)
        return Attempt(Outcome.OPEN)
    failures = found.failures + 1
    if failures >= MAX_FAILURES:
        KioskPin.objects.filter(pk=found.pk).update(failures=failures, locked_at=timezone.now())
        audit.record("kiosk.locked_out", subject, by=None, store=kiosk.store, after=where)
        return Attempt(Outcome.LOCKED)
    KioskPin.objects.filter(pk=found.pk).update(failures=failures)
    after = {**where, "failures": failures}
    audit.record("kiosk.pin_failed", subject, by=None, store=kiosk.store, after=after)
    return Attempt(Outcome.WRONG, left=MAX_FAILURES - failures)
