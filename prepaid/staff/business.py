"""Changing the business's settings: one service, so the change and its audit entry are
one transaction whichever screen or command asks."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from prepaid.staff import audit
from prepaid.staff.models import Business, Staff

# What an owner may change after set-up. The currency is fixed: every amount in the
# ledger is in its minor unit.
SETTINGS = (
    "name",
    "spend_order",
    "time_zone",
    "counter_idle_minutes",
    "top_up_minimum_minor",
    "top_up_maximum_minor",
    "first_top_up_bonus_minor",
    "bonus_expiry_days",
    "expiry_rules",
    "paid_expiry_days",
    "points_every_minor",
    "point_value_minor",
    "points_expiry_days",
    "punch_card_refunds",
    "tier_basis",
    "tier_window",
    "approval_above_minor",
    "approval_credit_raises",
    "approval_bonus_percent",
    "language",
    "low_balance_minor",
    "reminder_days",
)


@transaction.atomic
def change_settings(values: dict[str, Any], *, by: Staff) -> Business:
    """Set the given settings (names from ``SETTINGS``, checked by the caller's form);
    the audit trail keeps what changed, before and after."""
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise KeyError(f"not a setting: {sorted(unknown)}")
    business = Business.objects.select_for_update().get(pk=1)
    changed = [name for name, value in values.items() if getattr(business, name) != value]
    if not changed:
        return business
    before = {name: _plain(getattr(business, name)) for name in changed}
    for name in changed:
        setattr(business, name, values[name])
    business.save(update_fields=changed)
    audit.record(
        "business.settings",
        "business",
        by=by,
        before=before,
        after={name: _plain(values[name]) for name in changed},
    )
    return business


def _plain(value: object) -> object:
    """A value as the audit trail's JSON can hold it (amounts as text)."""
    return value if value is None or isinstance(value, bool | int | str) else str(value)
