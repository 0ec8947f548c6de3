"""Who may do what: one table for the API, the back office, the counter and every
operation. Each interface asks ``may(role, action)``; a generated test tries every role
on every endpoint and page against this table (tests/test_roles.py).

The cashier's rights, decided once (docs/counter.md, "Who may do what"):
  * sell, top up, and undo their own sales and top-ups within the undo window;
  * find and read customers, register them and change their contact data, notes and
    consent, issue and replace their cards — at the counter, through a cashier's API
    token, and in the back office alike;
  * not: credit limits, refunds, closing accounts, other people's corrections, reports,
    the shop's set-up.
The accountant reads (customers, transactions, reports, products) and changes nothing
in the shop; they export reports, approve day closes and match settlement files.
"""

from __future__ import annotations

from prepaid.staff.models import Role

EVERYONE = frozenset(Role)
SELLERS = frozenset({Role.OWNER, Role.MANAGER, Role.CASHIER})
MANAGERS = frozenset({Role.OWNER, Role.MANAGER})
READERS = frozenset({Role.OWNER, Role.MANAGER, Role.ACCOUNTANT})
OWNER = frozenset({Role.OWNER})

PERMISSIONS: dict[str, frozenset[Role]] = {
    # customers and cards
    "customers.read": EVERYONE,
    "customers.write": SELLERS,  # register, contact data, notes, consent
    "customers.credit": MANAGERS,  # credit limits
    "customers.close": MANAGERS,
    "customers.erase": OWNER,  # erase a person's data on request (docs/privacy.md)
    "customers.import": MANAGERS,  # the old sheet, with opening balances
    "customers.export": MANAGERS,  # everyone's contact data in one file; one person's
    "cards.issue": SELLERS,  # issue, replace a lost one, print
    "cards.stock": MANAGERS,  # generate and print sheets of pre-printed cards
    "customers.kiosk_pin": SELLERS,  # set, remove, unlock a customer's kiosk PIN
    # money
    "transactions.read": EVERYONE,
    "top_up": SELLERS,
    "sell": SELLERS,
    "refund": MANAGERS,
    "reverse": SELLERS,  # a cashier only their own, within the undo window
    "reverse.any": MANAGERS,  # anyone's, at any time
    "package.sell": SELLERS,  # sell a punch card (paid like a top-up)
    "redeem": SELLERS,  # use a punch card's uses
    "points.redeem": SELLERS,  # points into bonus money
    "expire": OWNER,  # post what has ended (run on a schedule by the shop itself)
    "coupons.issue": MANAGERS,  # issue coupons (a batch, a sheet, a CSV), list, withdraw
    # four eyes (docs/security.md): refunds and reversals above the shop's threshold,
    # credit-limit raises wait for the owner or a manager other than the one who asked
    "approvals.read": READERS,
    "approvals.decide": MANAGERS,  # approve or reject, never one's own request
    "approvals.withdraw": SELLERS,  # one's own request only
    # the shop
    "products.read": EVERYONE,
    "catalog.write": MANAGERS,  # products, prices, payment methods, plans, bonus rules,
    # punch card packages
    "payment_methods.read": EVERYONE,
    "reports.read": READERS,  # the overview, statements, liability, aging, X-reports
    "reports.export": READERS,  # Excel and CSV of every report (audited)
    "day.close": MANAGERS,  # count the drawer, close a store's day or a counter's shift
    "day.approve": frozenset({Role.OWNER, Role.ACCOUNTANT}),  # approve a close
    "shift.read": SELLERS,  # the running X-report of one's own counter
    "reconcile": frozenset({Role.OWNER, Role.MANAGER, Role.ACCOUNTANT}),  # settlements
    "activity": MANAGERS,  # the audit trail
    "webhooks": MANAGERS,
    "settings": OWNER,
    "staff.write": OWNER,  # staff, PINs, stores, counters, API tokens, login locks
    "two_step": frozenset({Role.OWNER, Role.ACCOUNTANT}),  # one's own two-step sign-in
}


def may(role: str | None, action: str) -> bool:
    """Whether ``role`` may do ``action`` (an unknown action is a bug: KeyError)."""
    allowed = PERMISSIONS[action]
    return role is not None and role in allowed


def roles_for(action: str) -> list[str]:
    return sorted(PERMISSIONS[action])
