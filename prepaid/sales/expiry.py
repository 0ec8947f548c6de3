"""Money that expires: bonus not spent N days after it was given (``Business.
bonus_expiry_days``), and — only under rules that allow it (``ExpiryRules``) — paid money
not spent N days after it was paid in (``paid_expiry_days``).

What a customer spends is taken from the oldest money first, so what expires at a
moment ``now`` is what was put on the account up to ``now − N days`` and has not been
taken off since (by a sale, a cash-out, a reversal or an earlier expiry)::

    due = max(0, credits up to the cut-off − every debit so far)

Every credit counts from its own moment: a top-up, a bonus, an opening balance, and
money a reversal gave back (from the day it came back). The expiry posts, in a
transaction of its own that the shop makes itself (``Batch.Code.EXPIRY``, no staff)::

    bonus:C  → promotion:S   due   EXPIRY   (given, not paid: the promotion takes it back)
    wallet:C → breakage:S    due   EXPIRY   (paid, never to be claimed)
    points:C → issued:S(pt)  due   EXPIRY   (points, ``points_expiry_days``)

at the store where the customer's money last came in. ``prepaid expire`` and the
worker post what is due once a day however often they run (the key is the account and
the day); a manager can reverse an expiry like any transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from prepaid.customers.models import Customer
from prepaid.ledger import services as ledger
from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.lib.transactions import stepped
from prepaid.sales import points
from prepaid.staff.models import Business, ExpiryRules, Store
from prepaid.staff.refusals import Refusal


@dataclass(frozen=True)
class Due:
    """An account with money to expire: ``amount`` of it, by the rules at ``cutoff``."""

    account_id: int
    customer_id: int
    kind: str
    amount: int
    cutoff: datetime


def cutoffs(business: Business, now: datetime) -> dict[str, datetime]:
    """For each kind of account that expires under the shop's settings, the moment up to
    which what came in has expired."""
    found = {}
    if business.bonus_expiry_days:
        found[Account.Kind.BONUS.value] = now - timedelta(days=business.bonus_expiry_days)
    if business.expiry_rules == ExpiryRules.PAID_MAY_EXPIRE and business.paid_expiry_days:
        found[Account.Kind.WALLET.value] = now - timedelta(days=business.paid_expiry_days)
    if business.points_expiry_days:
        found[Account.Kind.POINTS.value] = now - timedelta(days=business.points_expiry_days)
    return found


def _unit(kind: str, business: Business) -> str:
    return points.UNIT if kind == Account.Kind.POINTS else business.currency


# Per customer account of the kind with money on it: what came in up to the cut-off,
# against everything taken off so far.
_DUE = (
    "SELECT a.id, a.customer_id, SUM(t.amount) - a.debits_posted"
    " FROM ledger_account a JOIN ledger_transfer t ON t.credit_account_id = a.id"
    " WHERE a.kind = %s AND a.customer_id IS NOT NULL AND a.unit = %s"
    " AND a.credits_posted > a.debits_posted AND t.created_at <= %s"
    " GROUP BY a.id, a.customer_id, a.debits_posted"
    " HAVING SUM(t.amount) > a.debits_posted"
    " ORDER BY a.id"
)


def due(now: datetime | None = None) -> list[Due]:
    """Every account with money that has expired by ``now`` and is not posted yet."""
    now = now or timezone.now()
    business = Business.get()
    found = []
    for kind, cutoff in cutoffs(business, now).items():
        with connection.cursor() as cursor:
            cursor.execute(
                _DUE,
                [kind, _unit(kind, business), connection.ops.adapt_datetimefield_value(cutoff)],
            )
            for account, customer, amount in cursor.fetchall():
                found.append(Due(int(account), int(customer), kind, int(amount), cutoff))
    return found


def _due_now(account: Account, cutoff: datetime) -> int:
    """What has expired on ``account`` (locked by the caller), read afresh."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(amount), 0) FROM ledger_transfer"
            " WHERE credit_account_id = %s AND created_at <= %s",
            [account.pk, connection.ops.adapt_datetimefield_value(cutoff)],
        )
        (came_in,) = cursor.fetchone()
    balance = int(account.credits_posted - account.debits_posted)
    return max(0, min(int(came_in) - int(account.debits_posted), balance))


def store_of_last_credit(account_id: int) -> Store:
    """Where the account's money last came in: where its expiry is booked."""
    last = (
        Transfer.objects.filter(credit_account_id=account_id)
        .select_related("store")
        .order_by("-created_at", "-id")
        .first()
    )
    return last.store if last is not None else Store.objects.order_by("pk").first()  # type: ignore[return-value]


@stepped
def expire(account: Account, *, key: str, actor: ledger.Actor) -> ledger.Receipt:
    """Post what has expired on the customer's bonus or paid ``account`` by the actor's
    moment under the shop's settings, at the actor's store (``store_of_last_credit``);
    ``nothing_to_expire`` when nothing has (used, reversed or posted meanwhile)."""
    now = actor.at or timezone.now()
    business = Business.get()
    cutoff = cutoffs(business, now).get(account.kind)
    locked = ledger.lock(account)
    if cutoff is None or locked.customer_id is None:
        raise Refusal("nothing_to_expire")
    amount = _due_now(locked, cutoff)
    if amount <= 0:
        raise Refusal("nothing_to_expire")
    kind = {
        Account.Kind.BONUS: Account.Kind.PROMOTION,
        Account.Kind.POINTS: Account.Kind.ISSUED,
    }.get(Account.Kind(locked.kind), Account.Kind.BREAKAGE)
    house = ledger.house_account(kind, store=actor.store, unit=locked.unit)
    customer = Customer.objects.get(pk=locked.customer_id)
    what = {"bonus": "bonus", "points": "points"}.get(locked.kind, "paid money")
    return ledger.post(
        key,
        [ledger.Leg(locked, house, amount, Transfer.Code.EXPIRY)],
        code=Batch.Code.EXPIRY,
        actor=actor,
        customer=customer,
        note=f"{what} given before {cutoff:%Y-%m-%d} expired",
        request={"expire": locked.pk, "until": cutoff.isoformat()},
    )
