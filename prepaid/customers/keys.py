"""The shop's data keys over time: rotation, and the check that every customer's key is
at hand (``lib.sealing`` keeps the keys; this module moves the customers between them).

``rotate`` (``prepaid keys rotate``): a new key goes first into the key file, so every
new seal uses it from then on (a running server reads the file again when it changes);
then each customer's data key is wrapped again under it and their blind indexes
computed again, a chunk per transaction; when no customer is left under an old key,
the old keys leave the file. A crash half-way loses nothing (lookups ask with every key
of the ring): running it again finishes. With keys from ``PREPAID_DATA_KEYS`` the new
key is put first in the variable by hand (``prepaid keys new``) and the command moves
the customers.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models import Q

from prepaid.customers.models import Customer, sealed_columns
from prepaid.lib import sealing

CHUNK = 1000
MOVED = ("sealed_key", "personal", "phone_index", "phone_tail", "email_index", "email_local")


def _behind(current: str) -> Q:
    """Customers whose data key is wrapped by another key than ``current``."""
    return ~Q(sealed_key="") & ~Q(sealed_key__startswith=f"{current}.")


def key_counts() -> dict[str, int]:
    """How many customers each key id wraps (erased customers have none)."""
    counts: dict[str, int] = {}
    for wrapped in Customer.objects.exclude(sealed_key="").values_list("sealed_key", flat=True):
        key_id = sealing.key_id(wrapped)
        counts[key_id] = counts.get(key_id, 0) + 1
    return counts


def missing_keys() -> dict[str, int]:
    """Key ids that customers' data keys are wrapped by and the ring does not hold."""
    held = {key.id for key in sealing.ring().keys}
    return {key_id: n for key_id, n in key_counts().items() if key_id not in held}


def rotate(progress: Callable[[int], None] | None = None) -> tuple[str, int]:
    """Move every customer to a new current key; answers (the new key's id, how many
    customers moved)."""
    ring = sealing.ring()
    if missing := missing_keys():
        raise sealing.KeyMissing(", ".join(sorted(missing)))
    if ring.from_file:
        ring = sealing.Ring((sealing.Key.new(), *ring.keys), ring.source)
        sealing.write_ring(ring)
    current = sealing.ring().current.id
    moved = 0
    while True:
        with transaction.atomic():
            chunk = list(
                Customer.objects.select_for_update().filter(_behind(current)).order_by("pk")[:CHUNK]
            )
            for customer in chunk:
                data_key = customer.data_key()
                values = customer._values()
                customer.sealed_key = sealing.wrap(data_key, customer.code)
                for column, value in sealed_columns(customer.code, data_key, values).items():
                    setattr(customer, column, value)
            Customer.objects.bulk_update(chunk, MOVED)
        moved += len(chunk)
        if progress:
            progress(moved)
        if len(chunk) < CHUNK:
            break
    for reseal in sealing.RESEALERS:  # records sealed under the shop's key
        reseal(current)
    if ring.from_file and not Customer.objects.filter(_behind(current)).exists():
        sealing.write_ring(sealing.Ring((sealing.ring().current,), ring.source))
    return current, moved
