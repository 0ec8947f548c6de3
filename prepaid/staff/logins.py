"""Throttling the back office's doors: the login (and its second step), and the set-up
page's one-time code.

Failures are counted per user name (lower case, whether or not such a user exists, so
the answer never tells) and per address, in the database (``LoginThrottle``), so every
server process counts together; the count's row is locked while it grows, so two wrong
attempts at once both count. An attempt is looked at only when neither its name nor its
address has to wait: a refused attempt never reaches the password.

The numbers (docs/security.md):

* a user name: from the 5th failure in a row, each further attempt waits 1 minute,
  then 2, 4, 8, 16; the 10th failure locks the name for an hour, and every failure
  after a lock locks it again;
* an address: the same, from the 10th and the 20th failure (the staff of a shop behind
  one router share their address);
* set-up codes from an address: as a user name;
* a customer kiosk (unknown cards scanned, wrong customer PINs): as an address;
* a right password (and code, with two-step sign-in) starts the name's count again; an
  owner may lift a lock from the Staff page; a count whose last failure is a day old
  starts again.

Every refused attempt, every lock and every lift is an audit event, like the counters'
PIN lockouts (``prepaid.staff.counters``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import ngettext

from prepaid.staff import audit
from prepaid.staff.models import LoginThrottle, Staff

Kind = LoginThrottle.Kind


@dataclass(frozen=True)
class Rule:
    back_off_from: int  # the failure from which each further attempt waits
    lock_at: int  # the failure that locks


RULES = {
    Kind.NAME: Rule(back_off_from=5, lock_at=10),
    Kind.ADDRESS: Rule(back_off_from=10, lock_at=20),
    Kind.SETUP: Rule(back_off_from=5, lock_at=10),
    # Whoever holds a found card guesses the owner's last four phone digits: few tries.
    Kind.CARD: Rule(back_off_from=3, lock_at=5),
    # A customer kiosk: unknown cards scanned and wrong customer PINs, all customers
    # together (each customer's own five are counted apart: ``customers.pins``).
    Kind.KIOSK: Rule(back_off_from=10, lock_at=20),
}
FIRST_WAIT = timedelta(minutes=1)  # doubles with each further failure
LOCK = timedelta(hours=1)
FORGET_AFTER = timedelta(days=1)
NAME_LENGTH = 150


def name_key(username: str) -> str:
    return username.strip().lower()[:NAME_LENGTH]


def _keys(username: str | None, address: str | None, kind: str) -> list[tuple[str, str]]:
    """The counts an attempt is looked up and counted in: a set-up code's address; or a
    login's user name and address."""
    if kind in (Kind.SETUP, Kind.CARD, Kind.KIOSK):  # one count: the address, card, kiosk
        return [(kind, (address or "")[:NAME_LENGTH])]
    keys: list[tuple[str, str]] = []
    if username is not None:
        keys.append((Kind.NAME, name_key(username)))
    if address:
        keys.append((Kind.ADDRESS, address[:NAME_LENGTH]))
    return keys


def wait_message(until: datetime, now: datetime | None = None) -> str:
    """What the person is told: how long until they may try again, in whole minutes."""
    seconds = (until - (now or timezone.now())).total_seconds()
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed attempts. Try again in %(minutes)d minute.",
        "Too many failed attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def _waiting(keys: list[tuple[str, str]], now: datetime) -> LoginThrottle | None:
    """The count among ``keys`` that makes the attempt wait longest, if any."""
    if not keys:
        return None
    match = Q()
    for kind, value in keys:
        match |= Q(kind=kind, value=value)
    return LoginThrottle.objects.filter(match, wait_until__gt=now).order_by("-wait_until").first()


def refused(
    username: str | None, address: str | None, *, kind: str = Kind.NAME, step: str = ""
) -> str | None:
    """The translated refusal if this attempt must wait (audited), else None.

    ``kind`` SETUP: a set-up code from ``address`` (no name)."""
    now = timezone.now()
    keys = _keys(username, address, kind)
    throttle = _waiting(keys, now)
    if throttle is None or throttle.wait_until is None:
        return None
    after = {
        "username": name_key(username) if username is not None else None,
        "address": address,
        "until": throttle.wait_until.isoformat(),
        "counted": throttle.kind,
    }
    if step:
        after["step"] = step
    subject = f"login:{after['username']}" if kind == Kind.NAME else f"{_prefix(kind)}:{address}"
    audit.record(f"{_prefix(kind)}.throttled", subject, by=None, after=after)
    return wait_message(throttle.wait_until, now)


def _prefix(kind: str) -> str:
    return {Kind.SETUP: "setup", Kind.CARD: "card_report", Kind.KIOSK: "kiosk"}.get(
        Kind(kind), "login"
    )


def failed(
    username: str | None, address: str | None, *, kind: str = Kind.NAME, step: str = ""
) -> None:
    """Count a failure against the name and the address (or the set-up code's address),
    each in its locked row; lock or make them wait as ``RULES`` say (audited)."""
    keys = _keys(username, address, kind)
    for key_kind, value in keys:
        _count(key_kind, value, step=step)
    # Counts a day old say nothing any more (their locks are long over): gone, so that
    # names and addresses sprayed at the login do not pile up.
    stale = timezone.now() - FORGET_AFTER
    LoginThrottle.objects.filter(last_failure_at__lt=stale).delete()


@transaction.atomic
def _count(kind: str, value: str, *, step: str) -> None:
    now = timezone.now()
    throttle, _created = LoginThrottle.objects.select_for_update().get_or_create(
        kind=kind, value=value
    )
    if throttle.last_failure_at and now - throttle.last_failure_at > FORGET_AFTER:
        throttle.failures = 0
    throttle.failures += 1
    throttle.last_failure_at = now
    rule = RULES[Kind(kind)]
    if throttle.failures >= rule.lock_at:
        throttle.wait_until = throttle.locked_until = now + LOCK
        after = {"until": throttle.locked_until.isoformat(), "failures": throttle.failures}
        if step:
            after["step"] = step
        audit.record(f"{_prefix(kind)}.locked_out", f"{kind}:{value}", by=None, after=after)
    elif throttle.failures >= rule.back_off_from:
        throttle.wait_until = now + FIRST_WAIT * 2 ** (throttle.failures - rule.back_off_from)
    throttle.save(update_fields=["failures", "last_failure_at", "wait_until", "locked_until"])


def succeeded(username: str) -> None:
    """A right password (and code): the name's count starts again. The address keeps
    its count: one good account must not let its holder go on guessing others."""
    LoginThrottle.objects.filter(kind=Kind.NAME, value=name_key(username)).exclude(
        failures=0, wait_until=None
    ).update(failures=0, wait_until=None, locked_until=None, last_failure_at=None)


def locked_out(now: datetime | None = None) -> list[LoginThrottle]:
    """Names and addresses locked out of the back office now: what the owner is shown."""
    now = now or timezone.now()
    return list(LoginThrottle.objects.filter(locked_until__gt=now).order_by("kind", "value"))


@transaction.atomic
def lift_lock(throttle: LoginThrottle, *, by: Staff | None) -> None:
    """The owner lets a locked name or address try again at once (``by`` None:
    ``prepaid login_unlock`` on the machine, for an owner locked out themselves)."""
    LoginThrottle.objects.filter(pk=throttle.pk).update(
        failures=0, wait_until=None, locked_until=None, last_failure_at=None
    )
    subject = f"{throttle.kind}:{throttle.value}"
    after = {"how": "command"} if by is None else None
    audit.record(f"{_prefix(throttle.kind)}.unlocked_by_owner", subject, by=by, after=after)
