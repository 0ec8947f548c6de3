"""What the ledger refuses. Every refusal leaves every row and balance as it was."""

from __future__ import annotations


class LedgerError(Exception):
    """Base of everything the ledger refuses on purpose."""


class InvalidTransfer(LedgerError):
    """A transfer that can never be posted: zero amount, one account on both sides, units
    that differ, an empty batch or key."""


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
            f"account {account_id}: {requested} requested, {available} available "
            f"(short by {self.shortfall})"
        )


class AlreadyReversed(LedgerError):
    """The batch has been reversed before; a batch is reversed at most once."""

    def __init__(self, batch_id: int) -> None:
        self.batch_id = batch_id
        super().__init__(f"transaction {batch_id} has already been reversed")


class NotReversible(LedgerError):
    """The batch is itself a reversal; correct it with a new operation instead."""


class IdempotencyConflict(LedgerError):
    """The key was used before for a different request."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"idempotency key {key!r} was used for a different request")
