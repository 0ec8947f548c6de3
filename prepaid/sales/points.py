"""Points: earned on the paid money a sale spends, redeemed for bonus money.

A customer's points are a ledger account of their own (``Account.Kind.POINTS``, unit
``pt``), floored at zero like every customer account, so points can never go negative
and a point is never used twice. A sale earns, in the same batch as its money::

    issued:S(pt) → points:C     floor(paid part × tier multiplier / paid money per point)

only on what the paid balance (or credit) paid — never on the part paid by bonus or by
points' own bonus. A reversal of the sale takes them back with the rest of the batch
(refused with ``points_used`` when they were redeemed since). Redeeming (``redeem``)
gives bonus money, paid for by the store's promotion like any bonus::

    points:C → issued:S(pt)     points          POINTS_USED
    promotion:S → bonus:C       points × value  BONUS

Points may expire as the bonus does (``prepaid.sales.expiry``, oldest first).
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from prepaid.customers.models import Customer
from prepaid.ledger import services as ledger
from prepaid.ledger.errors import InsufficientFunds
from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.lib import rows
from prepaid.lib.transactions import stepped
from prepaid.staff.models import Business
from prepaid.staff.refusals import Refusal

UNIT = "pt"
MAX_POINTS = 10**12


def earned(paid_minor: int, business: Business, multiplier: Decimal = Decimal(1)) -> int:
    """The points ``paid_minor`` of paid money earns (none when points are off)."""
    every = business.points_every_minor
    if not every or paid_minor <= 0:
        return 0
    return int((Decimal(paid_minor) * multiplier / every).to_integral_value(ROUND_FLOOR))


def balance(customer: Customer) -> int:
    """The customer's points now (zero when they never had any; nothing written)."""
    found = rows.one(
        Account, "customer_id = %s AND kind = %s AND unit = %s", [customer.pk, "points", UNIT]
    )
    return 0 if found is None else found.cached_balance


def account(customer: Customer) -> Account:
    """The customer's points account, opened if missing (a posting is about to write)."""
    return ledger.customer_account(customer, Account.Kind.POINTS, unit=UNIT)


def earning_leg(
    customer: Customer,
    points: int,
    *,
    store_id: int,
    held: Account | None = None,
    issued: Account | None = None,
) -> ledger.Leg:
    """The transfer that gives ``points`` to the customer in a sale's batch (``held``,
    ``issued``: the customer's and the store's points accounts, if read already)."""
    return ledger.Leg(
        issued or _issued(store_id), held or account(customer), points, Transfer.Code.POINTS
    )


def _issued(store_id: int) -> Account:
    found = rows.one(
        Account,
        "kind = %s AND store_id = %s AND unit = %s AND customer_id IS NULL"
        " AND payment_method_id IS NULL",
        ["issued", store_id, UNIT],
    )
    if found is not None:
        return found
    made, _ = Account.objects.get_or_create(
        kind=Account.Kind.ISSUED, store_id=store_id, unit=UNIT, customer=None, payment_method=None
    )
    return made


@stepped
def redeem(customer: Customer, points: int, *, key: str, actor: ledger.Actor) -> ledger.Receipt:
    """``points`` of the customer's points become bonus money at the shop's point value.
    Refused when points are not redeemed here (``points_not_redeemable``), for a number
    that is not a whole number from 1 (``points_not_valid``), and beyond what the
    customer holds (``not_enough_points``); nothing is posted then."""
    from prepaid.sales.services import accounts, check_open  # the selling rules' module

    business = Business.get()
    if not business.point_value_minor:
        raise Refusal("points_not_redeemable")
    if isinstance(points, bool) or not isinstance(points, int) or not 0 < points <= MAX_POINTS:
        raise Refusal("points_not_valid", field="points")
    check_open(customer)
    mine = accounts(customer)
    held = account(customer)
    value = points * business.point_value_minor
    promotion = ledger.house_account(
        Account.Kind.PROMOTION, store=actor.store, unit=business.currency
    )
    legs = [
        ledger.Leg(held, _issued(actor.store.pk), points, Transfer.Code.POINTS_USED),
        ledger.Leg(promotion, mine.bonus, value, Transfer.Code.BONUS),
    ]
    try:
        return ledger.post(
            key,
            legs,
            code=Batch.Code.POINTS,
            actor=actor,
            customer=customer,
            request={"points": customer.pk, "count": points, "value": value},
        )
    except InsufficientFunds:
        raise Refusal("not_enough_points", field="points", points=balance(customer)) from None
