"""The login locks the owner is shown (the Overview, the Staff page), each named as the
owner knows it."""

from __future__ import annotations

from prepaid.customers.models import Card
from prepaid.staff import logins
from prepaid.staff.models import Device, LoginThrottle

Kind = LoginThrottle.Kind


def login_locks() -> list[LoginThrottle]:
    """``logins.locked_out()``, each with ``shown``: a kiosk's name rather than
    ``kiosk:7``, the code of the customer whose card page was asked to report it lost
    rather than ``card:12``, a user name or an address as it is."""
    locks = logins.locked_out()
    kiosks = {f"kiosk:{device.pk}": device.name for device in Device.objects.all()}
    card_ids = [
        int(lock.value.removeprefix("card:"))
        for lock in locks
        if lock.kind == Kind.CARD and lock.value.removeprefix("card:").isdigit()
    ]
    cards = {
        f"card:{card.pk}": card.customer.code
        for card in Card.objects.filter(pk__in=card_ids).select_related("customer")
    }
    for lock in locks:
        names = {Kind.KIOSK: kiosks, Kind.CARD: cards}.get(Kind(lock.kind), {})
        lock.shown = names.get(lock.value, lock.value)  # type: ignore[attr-defined]
    return locks
