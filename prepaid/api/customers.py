"""Customers: register, find, read, change; cards; a customer's transactions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from prepaid.api.common import (
    KEY_HEADER,
    actor,
    amount,
    cursor_id,
    customer_by_code,
    key_of,
    page_limit,
    scope_of,
)
from prepaid.api.errors import not_found
from prepaid.api.permissions import endpoint, require
from prepaid.api.schemas import (
    CardIn,
    CardOut,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    ErasureIn,
    ErasureOut,
    ErrorOut,
    Input,
    TransactionPage,
)
from prepaid.customers import lookup
from prepaid.customers.models import Customer
from prepaid.operations import present
from prepaid.operations.customers import Contact, IssueCard, RegisterCustomer, UpdateCustomer
from prepaid.operations.envelope import Operation, run
from prepaid.operations.privacy import EraseCustomer, export
from prepaid.reports.customers import with_balances
from prepaid.sales import services as sales
from prepaid.staff import audit
from prepaid.staff.models import ApiToken, Business

router = Router(tags=["customers"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class SearchParams(Input):
    q: str = ""
    limit: int | None = None
    cursor: str | None = None


class PageParams(Input):
    limit: int | None = None
    cursor: str | None = None


def _balances(person: Customer) -> sales.Balances:
    paid = getattr(person, "paid", None)
    if paid is not None:  # annotated by with_balances
        return sales.Balances(
            paid=int(paid),
            bonus=int(getattr(person, "bonus", 0)),
            credit_limit=person.credit_limit_minor,
        )
    return sales.balances(person)


def _out(person: Customer, currency: str) -> dict[str, Any]:
    return present.customer(person, _balances(person), currency)


def _contact(body: CustomerIn | CustomerPatch) -> Contact:
    return Contact(
        name=body.name,
        phone=body.phone,
        email=body.email,
        address=body.address,
        notes=body.notes,
        marketing_sms=body.marketing_sms,
        marketing_email=body.marketing_email,
        language=body.language,
        email_receipts=body.email_receipts,
        low_balance_minor=_low_balance(body.low_balance),
    )


def _low_balance(text: str | None) -> int | None:
    """Minor units; -1 for "" (the shop's level, as ``Contact`` takes it); None: as it is."""
    if text is None:
        return None
    if text == "":
        return -1
    return amount(text, Business.get().currency, field="low_balance", positive=False)


def _limit(text: str | None) -> int | None:
    if text is None:
        return None
    return amount(text, Business.get().currency, field="credit_limit", positive=False)


def _answer(token: ApiToken, operation: Operation) -> Status[dict[str, Any]]:
    outcome = run(operation, actor=actor(token), scope=scope_of(token))
    return Status(outcome.status, outcome.data)


@router.post(
    "/customers",
    response={201: CustomerOut, 409: ErrorOut, **ERRORS},
    **endpoint(
        "customers.write",
        "Register a customer",
        description="A `credit_limit` above zero needs an owner's or manager's token. With"
        " `card`, a pre-printed card becomes their card (422 `not_a_blank_card`, 409"
        " `blank_card_used`), in the same step.",
    ),
)
def create_customer(request: HttpRequest, body: CustomerIn) -> Status[dict[str, Any]]:
    token = require(request, "customers.write")
    limit = _limit(body.credit_limit or "0") or 0
    operation = RegisterCustomer(_contact(body), credit_limit_minor=limit, card=body.card.strip())
    return _answer(token, operation)


@router.get(
    "/customers",
    response={200: CustomerPage, **ERRORS},
    **endpoint(
        "customers.read",
        "List or search customers",
        description="With `q`: ranked search by name, 4+ phone digits, email or code (one"
        " page, `next` is null). Without: every customer, oldest first, by cursor.",
    ),
)
def list_customers(request: HttpRequest, params: Query[SearchParams]) -> dict[str, Any]:
    require(request, "customers.read")
    currency = Business.get().currency
    limit = page_limit(params.limit)
    if params.q.strip():
        found = lookup.search(params.q, limit=limit)
        annotated = with_balances(Customer.objects.filter(pk__in=[c.pk for c in found]))
        by_id = {person.pk: person for person in annotated}
        return {"results": [_out(by_id[c.pk], currency) for c in found], "next": None}
    after = cursor_id(params.cursor)
    people = with_balances(Customer.objects.order_by("id"))
    if after is not None:
        people = people.filter(id__gt=after)
    page = list(people[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return {
        "results": [_out(person, currency) for person in page],
        "next": str(page[-1].pk) if more else None,
    }


@router.get(
    "/customers/{code}",
    response={200: CustomerOut, **ERRORS},
    **endpoint("customers.read", "One customer, with balances"),
)
def get_customer(request: HttpRequest, code: str) -> dict[str, Any]:
    require(request, "customers.read")
    return _out(customer_by_code(code), Business.get().currency)


@router.patch(
    "/customers/{code}",
    response={200: CustomerOut, 409: ErrorOut, **ERRORS},
    **endpoint(
        "customers.write",
        "Change a customer",
        description="Contact data, notes, consent; `credit_limit` needs an owner's or"
        " manager's token.",
    ),
)
def update_customer(request: HttpRequest, code: str, body: CustomerPatch) -> dict[str, Any]:
    token = require(request, "customers.write")
    operation = UpdateCustomer(code, _contact(body), credit_limit_minor=_limit(body.credit_limit))
    return run(operation, actor=actor(token), scope=scope_of(token)).data


@router.get(
    "/customers/{code}/export",
    response={200: dict[str, Any], **ERRORS},
    **endpoint(
        "customers.export",
        "Everything kept about a customer",
        description="For an access request: the profile, consents, cards, notes, tags,"
        " every transaction and the recorded changes, as JSON (recorded in the audit"
        " trail).",
    ),
)
def export_customer(request: HttpRequest, code: str) -> dict[str, Any]:
    token = require(request, "customers.export")
    person = customer_by_code(code)
    audit.record("customer.exported", f"customer:{person.code}", by=token)
    return export(person)


@router.post(
    "/customers/{code}/erasure",
    response={200: ErasureOut, 409: ErrorOut, **ERRORS},
    **endpoint(
        "customers.erase",
        "Erase a customer's personal data",
        description="For an erasure request, with a reason: the name becomes a placeholder;"
        " phone, e-mail, address, birthday and notes are gone for good; the cards are"
        " revoked. The ledger, its amounts and the customer code stay. Refused with"
        " `balance_not_zero` while the balance is not zero.",
    ),
)
def erase_customer(request: HttpRequest, code: str, body: ErasureIn) -> Status[dict[str, Any]]:
    token = require(request, "customers.erase")
    return _answer(token, EraseCustomer(code, body.reason))


@router.post(
    "/customers/{code}/cards",
    response={201: CardOut, **ERRORS},
    **endpoint(
        "cards.issue",
        "Issue a card",
        description="A new QR card; `replace: true` revokes the customer's current cards in"
        " the same step (a lost card). With `token`, the pre-printed card of that token"
        " (Card stock) becomes the customer's card instead of a new one"
        " (`not_a_blank_card`, `blank_card_used`).",
    ),
)
def issue_card(
    request: HttpRequest, code: str, body: CardIn | None = None
) -> Status[dict[str, Any]]:
    token = require(request, "cards.issue")
    replace, printed = (body.replace, body.token) if body else (False, "")
    # Optional here (no money moves), honoured when sent: a retried link links once.
    key = key_of(request) if request.headers.get(KEY_HEADER) else None
    operation = IssueCard(code, replace=replace, token=printed)
    outcome = run(operation, actor=actor(token), scope=scope_of(token), key=key)
    return Status(outcome.status, outcome.data)


@router.get(
    "/lookup",
    response={200: CustomerOut, **ERRORS},
    **endpoint(
        "customers.read",
        "Resolve scanned text",
        description="A card URL, a bare card token or a customer code → the customer;"
        " 404 when nothing matches or the card is revoked.",
    ),
)
def lookup_scan(request: HttpRequest, scan: str) -> dict[str, Any]:
    require(request, "customers.read")
    person = lookup.resolve(scan)
    if person is None:
        raise not_found(_("customer"))
    return _out(person, Business.get().currency)


@router.get(
    "/customers/{code}/transactions",
    response={200: TransactionPage, **ERRORS},
    **endpoint("transactions.read", "A customer's transactions, newest first"),
)
def customer_transactions(
    request: HttpRequest, code: str, params: Query[PageParams]
) -> dict[str, Any]:
    require(request, "transactions.read")
    currency = Business.get().currency
    person = customer_by_code(code)
    limit = page_limit(params.limit)
    before = cursor_id(params.cursor)
    batches = present.batches().filter(customer=person).order_by("-id")
    if before is not None:
        batches = batches.filter(id__lt=before)
    page = list(batches[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    results = []
    paid, bonus = _balances_before(person, before)
    for batch in page:
        after = (paid, bonus)
        change = present.change(batch)
        paid, bonus = paid - change[0], bonus - change[1]
        results.append(present.transaction(batch, currency, after=after))
    return {"results": results, "next": str(page[-1].pk) if more else None}


def _balances_before(person: Customer, before: int | None) -> tuple[int, int]:
    """The (paid, bonus) balances just before transaction ``before`` (now, if None):
    today's balances minus what every later transaction changed."""
    now = sales.balances(person)
    if before is None:
        return now.paid, now.bonus
    paid, bonus = now.paid, now.bonus
    for batch in present.batches().filter(customer=person, id__gte=before):
        change = present.change(batch)
        paid, bonus = paid - change[0], bonus - change[1]
    return paid, bonus
