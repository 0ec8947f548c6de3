"""Two-step sign-in for owners and accountants: after the password, a 6-digit code from
an authenticator app (TOTP, RFC 6238: SHA-1, 30-second steps, the authenticator apps'
common ground), made by ``cryptography``'s TOTP.

A code is accepted for its own step and the one before and after it (a phone's clock a
little off), and once only: the step of the last code accepted is kept, and a code of
that step or an earlier one is refused, so a code seen over someone's shoulder cannot be
used again. The secret is kept in ``Staff.totp_secret`` (base32), sealed under the shop's
key (``lib.sealing.seal_record``): the database alone does not give the codes away.
"""

from __future__ import annotations

import base64
import enum
import secrets
import time

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from django.db import transaction
from django.utils.crypto import constant_time_compare

from prepaid.lib import sealing
from prepaid.staff import audit
from prepaid.staff.models import Staff
from prepaid.staff.roles import may

DIGITS = 6
STEP_SECONDS = 30
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends
ISSUER = "prepaid"


class Check(enum.Enum):
    RIGHT = "right"
    WRONG = "wrong"
    USED = "used"  # right, but already used: a replay


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _totp(secret: str) -> TOTP:
    # SHA-1 is what RFC 6238 and every authenticator app use for TOTP; an HMAC, where
    # SHA-1's collisions do not matter.
    return TOTP(base64.b32decode(secret), DIGITS, SHA1(), STEP_SECONDS)  # noqa: S303


def is_on(staff: Staff | None) -> bool:
    return staff is not None and bool(staff.totp_secret)


def may_use(staff: Staff | None) -> bool:
    return staff is not None and may(staff.role, "two_step")


def uri(secret: str, account: str, business: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    issuer = f"{business} ({ISSUER})" if business else ISSUER
    return _totp(secret).get_provisioning_uri(account, issuer)


def grouped(secret: str) -> str:
    """The secret as it is typed into an app: groups of four."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _matching_step(secret: str, code: str, now: float) -> int | None:
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = _totp(secret)
    current = int(now // STEP_SECONDS)
    found = None
    for step in (current - 1, current, current + 1):
        # Every step is tried (no early return), each compared in constant time.
        if constant_time_compare(totp.generate(step * STEP_SECONDS), code.encode()):
            found = step
    return found


def check(staff: Staff, code: str, *, now: float | None = None) -> Check:
    """Whether ``code`` is ``staff``'s current code, and not one already used. A right
    one is used up here: of two sign-ins at once with the same code, one is refused."""
    secret = sealing.open_record(staff.totp_secret)
    step = _matching_step(secret, code, time.time() if now is None else now)
    if step is None:
        return Check.WRONG
    used = Staff.objects.filter(pk=staff.pk, totp_last_step__lt=step).update(totp_last_step=step)
    return Check.RIGHT if used else Check.USED


def verify_new(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The step of ``code`` for a secret being turned on, or None."""
    return _matching_step(secret, code, time.time() if now is None else now)


@transaction.atomic
def turn_on(staff: Staff, secret: str, code: str, *, now: float | None = None) -> bool:
    """Turn two-step sign-in on with ``secret``, once ``code`` shows the app has it."""
    step = verify_new(secret, code, now=now)
    if step is None or not may_use(staff):
        return False
    staff.totp_secret, staff.totp_last_step = sealing.seal_record(secret), step
    staff.save(update_fields=["totp_secret", "totp_last_step"])
    audit.record("two_step.on", f"staff:{staff.pk}", by=staff)
    return True


@transaction.atomic
def turn_off(staff: Staff, *, by: Staff | None, how: str = "") -> None:
    """Turn it off: by the person (with a code), an owner, or ``prepaid two_step_off``
    on the machine (``by`` None, ``how`` "command")."""
    Staff.objects.filter(pk=staff.pk).update(totp_secret="", totp_last_step=0)
    staff.totp_secret, staff.totp_last_step = "", 0
    after = {"how": how} if how else None
    audit.record("two_step.off", f"staff:{staff.pk}", by=by, after=after)


def current_code(secret: str, *, now: float | None = None) -> str:
    """The code of this moment, as the person's app shows it."""
    return _totp(secret).generate(time.time() if now is None else now).decode()


def reseal(current: str) -> int:
    """Move the sealed secrets to the shop's ``current`` key (a key rotation)."""
    moved = 0
    for staff in Staff.objects.exclude(totp_secret=""):
        if sealing.record_key_id(staff.totp_secret) != current:
            secret = sealing.open_record(staff.totp_secret)
            Staff.objects.filter(pk=staff.pk).update(totp_secret=sealing.seal_record(secret))
            moved += 1
    return moved
