"""Transaction blocks for services, and the envelope's one transaction.

A service that writes runs in ``step()``: its own transaction when called alone; a
savepoint when called inside someone else's transaction (a test, an import), so that a
refusal it raises leaves the caller's transaction usable; and nothing at all inside the
operation envelope (``prepaid.operations``), which runs one transaction per operation
and rolls all of it back on a refusal. The savepoints cost two statements each, several
times in every sale; the envelope does not need them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import wraps
from typing import ParamSpec, TypeVar

from django.db import connection, transaction

P = ParamSpec("P")
R = TypeVar("R")
_FLAG = "prepaid_one_transaction"


def in_envelope() -> bool:
    """Whether the current code runs inside ``one_transaction``."""
    return bool(getattr(connection, _FLAG, False))


def step() -> AbstractContextManager[object]:
    """``atomic()`` outside the envelope; nothing inside it (not even a savepoint-less
    ``atomic``, which would mark the envelope's transaction as failed on a refusal: the
    envelope decides, and it may still read after one, to tell the shortfall)."""
    return nullcontext() if in_envelope() else transaction.atomic()


def stepped(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` in ``step()`` (decided at each call, not at import)."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with step():
            return function(*args, **kwargs)

    return wrapper


@contextmanager
def one_transaction() -> Iterator[None]:
    """One transaction in which the services nest without savepoints: anything raised
    inside rolls back all of it. Nested in a caller's transaction (a test's), it is a
    savepoint of that one, so the caller's transaction stays usable after a refusal."""
    before = in_envelope()
    with transaction.atomic():
        setattr(connection, _FLAG, True)
        try:
            yield
        finally:
            setattr(connection, _FLAG, before)
