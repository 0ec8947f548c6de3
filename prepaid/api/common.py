"""What every endpoint needs: the shop's currency, the acting store and the key's scope,
the Idempotency-Key, a customer by code, amounts parsed from strings, cursors."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.http import HttpRequest
from django.utils.translation import gettext as _

from prepaid.api.errors import ApiError, invalid, not_found
from prepaid.customers.models import Customer
from prepaid.ledger.services import Actor
from prepaid.lib import rows
from prepaid.lib.codes import normalize_code
from prepaid.lib.money import AmountTooLarge, MoneyError, to_minor, too_large
from prepaid.staff.models import ApiToken, Business, Store

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


KEY_HEADER = "Idempotency-Key"


def actor(token: ApiToken) -> Actor:
    """The token acts at its own store, or, when it has none, at the first store (read
    with the token, see ``staff.tokens.authenticate``)."""
    store = getattr(token, "acting_store", None) or token.store
    store = store or rows.one(Store, "active = %s ORDER BY id", [True])
    if store is None:
        raise ApiError(503, "not_set_up", _("The business has no store yet."))
    return Actor(store=store, api_token=token)


def scope_of(token: ApiToken) -> str:
    """Idempotency keys belong to their token: two integrations cannot collide."""
    return f"api:{token.pk}"


def key_of(request: HttpRequest) -> str:
    """The request's Idempotency-Key: required on every POST that moves money."""
    key = request.headers.get(KEY_HEADER, "").strip()
    if not key:
        raise ApiError(
            400,
            "idempotency_key_missing",
            _("This request moves money: send an Idempotency-Key header."),
        )
    if not key.isprintable():
        raise ApiError(
            400,
            "validation_error",
            _("The Idempotency-Key may not contain control characters."),
            fields={KEY_HEADER: _("Control characters are not allowed.")},
        )
    if len(key) > 255:
        raise ApiError(
            400,
            "validation_error",
            _("The Idempotency-Key may have at most 255 characters."),
            fields={KEY_HEADER: _("Too long.")},
        )
    return key


def customer_by_code(code: str) -> Customer:
    canonical = normalize_code(code)
    found = rows.one(Customer, "code = %s", [canonical]) if canonical else None
    if found is None:
        raise not_found(_("customer"))
    return found


def amount(text: str | None, currency: str, *, field: str, positive: bool = True) -> int:
    """Minor units of a decimal string; a clear 422 for anything else."""
    try:
        value = to_minor(text if text is not None else "", currency)
    except AmountTooLarge:
        raise invalid(too_large(currency, region=Business.get().region), field) from None
    except MoneyError:
        raise invalid(
            _("Enter an amount such as 12.50, with at most the currency's decimals."), field
        ) from None
    if positive and value <= 0:
        raise invalid(_("Enter an amount of more than zero."), field)
    if value < 0:
        raise invalid(_("The amount cannot be negative."), field)
    return value


def decimal(text: str, *, field: str, places: int) -> Decimal:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        value = Decimal("NaN")
    if not value.is_finite() or value != value.quantize(Decimal(1).scaleb(-places)):
        raise invalid(
            _("Enter a number with at most %(places)s decimals.") % {"places": places}, field
        )
    if abs(value) >= 10**9:
        raise invalid(_("That number is too large."), field)
    return value


def page_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid(_("limit must be between 1 and 500."), "limit")
    return limit


def cursor_id(cursor: str | None) -> int | None:
    """Cursors are the last id seen, opaque to clients."""
    if not cursor:
        return None
    if not re.fullmatch(r"[0-9]{1,18}", cursor):
        raise invalid(_("This cursor is not valid; start again without it."), "cursor")
    return int(cursor)
