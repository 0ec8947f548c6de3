"""Staff setting, removing or unlocking a customer's kiosk PIN (docs/kiosk.md): one
form, posted from the counter's customer panel and the back office's customer page
(``web/kiosk_pin.html``), handled here so both say and do the same."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _

from prepaid.customers import pins
from prepaid.customers.models import Customer
from prepaid.staff.models import Staff


def change(request: HttpRequest, customer: Customer, *, by: Staff, how: str) -> tuple[bool, str]:
    """Do what the form asks (``do``: set, remove or unlock); answers whether it was
    done and the message to show."""
    what = request.POST.get("do", "")
    if what == "unlock":
        pins.unlock(customer, by=by)
        return True, _("%(name)s may use the kiosk again.") % {"name": customer.name}
    if what == "remove":
        pins.clear_pin(customer, by=by, how=how)
        return True, _("The kiosk PIN is removed.")
    try:
        pins.set_pin(customer, request.POST.get("pin", ""), by=by, how=how)
    except pins.PinError as error:
        return False, str(error)
    return True, _("The kiosk PIN is set.")
