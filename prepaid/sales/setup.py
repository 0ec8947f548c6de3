"""First run: the business, its first store, the owner and the usual payment methods.

Used by the set-up page and by ``prepaid init``, so both create exactly the same shop.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass

import phonenumbers
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from prepaid.ledger.models import PaymentMethod
from prepaid.lib.money import is_currency
from prepaid.staff import audit, setup_code
from prepaid.staff.models import Business, Staff, Store

DEFAULT_METHODS = PaymentMethod.DEFAULTS  # stored in English, translated when shown


class SetupError(ValueError):
    """The set-up cannot be done as asked; the message says why, translated."""


@dataclass(frozen=True)
class Setup:
    business: str
    currency: str
    region: str
    time_zone: str
    store: str
    owner: str
    password: str


def problems(setup: Setup) -> dict[str, str]:
    """Field name → translated message, for every value that cannot be used."""
    found = {}
    if not setup.business.strip():
        found["business"] = _("Enter the name of the business.")
    if not is_currency(setup.currency):
        found["currency"] = _("Enter a three-letter ISO 4217 currency code, such as USD or PHP.")
    if setup.region not in phonenumbers.SUPPORTED_REGIONS:
        found["region"] = _("Enter a two-letter country code, such as PH or NL.")
    if setup.time_zone not in zoneinfo.available_timezones():
        found["time_zone"] = _("Enter a time zone such as Asia/Manila or Europe/Amsterdam.")
    if not setup.store.strip():
        found["store"] = _("Enter the name of the first store.")
    if not setup.owner.strip():
        found["owner"] = _("Enter a user name for the owner.")
    try:
        validate_password(setup.password, user=get_user_model()(username=setup.owner))
    except ValidationError as error:
        found["password"] = " ".join(error.messages)
    return found


def set_up(setup: Setup) -> Staff:
    """Create the shop in one transaction; refuse if it exists already."""
    if errors := problems(setup):
        raise SetupError(" ".join(errors.values()))
    with transaction.atomic():
        if Business.objects.exists():
            raise SetupError(_("This installation has been set up already."))
        Business.objects.create(
            pk=1,
            name=setup.business.strip(),
            currency=setup.currency,
            region=setup.region,
            time_zone=setup.time_zone,
        )
        store = Store.objects.create(name=setup.store.strip())
        for position, (code, name) in enumerate(DEFAULT_METHODS):
            PaymentMethod.objects.get_or_create(
                code=code, defaults={"name": name, "position": position}
            )
        # The set-up page's one-time code has done its work (prepaid.staff.setup_code).
        transaction.on_commit(setup_code.used)
        return create_owner(setup.owner.strip(), setup.password, stores=[store])


def create_owner(username: str, password: str, *, stores: list[Store] | None = None) -> Staff:
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise SetupError(_("The user name %(name)s is taken.") % {"name": username})
    user = user_model.objects.create_user(username=username, password=password)
    staff = Staff.objects.create(name=username, role=Staff.Role.OWNER, user=user)
    staff.stores.set(stores if stores is not None else Store.objects.all())
    # By nobody signed in: the set-up page or ``prepaid createowner`` on the machine.
    audit.record("owner.created", f"staff:{staff.pk}", by=None, after={"username": username})
    return staff
