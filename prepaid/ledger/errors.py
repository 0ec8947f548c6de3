"""What the ledger refuses. Every refusal leaves every row and balance as it was.

Each is a ``Refusal`` (``prepaid.staff.refusals``) with its stable code, so a refusal of
the ledger reads the same wherever it surfaces; the attributes below are for the code
that composes postings (the sales rules turn an account's shortfall into the
customer's).
"""

from __future__ import annotations

from prepaid.staff.refusals import Refusal


class LedgerError(Refusal):
    """Base of everything the ledger refuses on purpose."""


class InvalidTransfer(LedgerError):
    """A transfer that can never be posted: zero amount, one account on both sides, units
    that differ, an empty batch or key. A bug in the caller, never a customer's doing."""

    def __init__(self, detail: str) -> None:
        super().__init__("invalid_transfer", detail=detail)
        self.detail = detail


class InsufficientFunds(LedgerError):
    """The batch would take a customer account below its floor.

    ``available`` is what the account could still give (balance − floor), ``shortfall``
    what is missing; both in the account's minor units.
    """

    def __init__(self, account_id: int, *, available: int, requested: int) -> None:
        self.account_id = account_id
        self.available = available
        self.requested = requested
        self.shortfall = requested - available
        super().__init__(
            "insufficient_funds", shortfall=self.shortfall, available=max(available, 0)
        )


class AmountTooLarge(LedgerError):
    """A transfer beyond the one ceiling of every amount (``lib.money.MAX_MINOR``)."""

    def __init__(self, amount: int) -> None:
        self.amount = amount
        super().__init__("amount_too_large")


class BalanceTooLarge(LedgerError):
    """The batch would take a customer account's balance beyond the ceiling
    (``lib.money.MAX_MINOR``), or its running totals beyond ``MAX_TOTAL``."""

    def __init__(self, account_id: int, *, most: int) -> None:
        self.account_id = account_id
        super().__init__("balance_too_large", most=most)


class AlreadyReversed(LedgerError):
    """The batch has been reversed before; a batch is reversed at most once."""

    def __init__(self, batch_id: int) -> None:
        self.batch_id = batch_id
        super().__init__("already_reversed")


class NotReversible(LedgerError):
    """The batch is itself a reversal; correct it with a new operation instead."""

    def __init__(self, batch_id: int) -> None:
        self.batch_id = batch_id
        super().__init__("not_reversible")


class IdempotencyConflict(LedgerError):
    """The key was used before for a different request."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__("idempotency_key_reused")
