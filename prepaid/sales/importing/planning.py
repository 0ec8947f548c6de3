"""Planning: what the import will do with every row, written nowhere.

``plan`` cleans every row under the mapping, matches it to an existing customer — by
code, then phone, then email; a row with none of these by its name — and decides what
will happen: create, update or skip, or lists why it cannot. Existing customers and past
openings are fetched up front by a few ``IN`` queries, never a query per row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from prepaid.customers import services as customers
from prepaid.customers.models import Customer
from prepaid.ledger import services as ledger
from prepaid.ledger.models import Batch
from prepaid.lib import bulk, sealing
from prepaid.lib.bulk import IN_CHUNK
from prepaid.lib.phones import display_phone
from prepaid.sales.importing import reading
from prepaid.sales.importing.cleaning import CLEANERS, InvalidCell, Rules, Values
from prepaid.sales.importing.mapping import Field, Mapping
from prepaid.sales.importing.problems import ImportProblem
from prepaid.sales.importing.reading import PROGRESS_EVERY, Progress, Sheet, text_of


class Action(models.TextChoices):
    CREATE = "create", gettext_lazy("Create")
    UPDATE = "update", gettext_lazy("Update")
    SKIP = "skip", gettext_lazy("Skip")
    ERROR = "error", gettext_lazy("Error")


@dataclass
class Row:
    """One row of the sheet and what the import will do with it."""

    number: int  # as the spreadsheet shows it
    cells: tuple[object, ...]  # as the file holds them
    values: Values
    errors: list[str] = field(default_factory=list)
    customer: Customer | None = None  # the existing customer the row is about
    action: Action = Action.CREATE
    changes: list[Field] = field(default_factory=list)  # what an update changes
    post_opening: bool = False  # the opening balance is still to be posted

    def text(self, index: int) -> str:
        """A cell as the preview shows it."""
        return text_of(self.cells[index]) if index < len(self.cells) else ""

    @property
    def target_code(self) -> str:
        return self.customer.code if self.customer is not None else self.values.code


@dataclass
class Plan:
    """Every row with its action or errors; nothing is written by planning."""

    name: str
    mapping: Mapping
    rows: list[Row]
    rules: Rules

    def count(self, action: Action) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def error_rows(self) -> list[Row]:
        return [row for row in self.rows if row.errors]

    @property
    def openings(self) -> list[Row]:
        return [row for row in self.rows if row.post_opening]

    @property
    def opening_minor(self) -> int:
        return sum(row.values.opening_minor for row in self.openings)

    @property
    def digest(self) -> str:
        """What the plan would do, in short: a commit refuses a plan that changed since
        the preview the person confirmed."""
        lines = (
            f"{row.number}:{row.action}:{row.target_code}:{row.post_opening}:"
            f"{row.values.opening_minor}:{','.join(row.changes)}"
            for row in self.rows
        )
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    def shown(self, row: Row, column: Field) -> str:
        """A mapped cell as it will be saved — the phone with its leading zero back, the
        date an Excel serial stands for — or as the sheet has it when it cannot be read."""
        values = row.values
        if column == Field.PHONE and values.phone:
            return display_phone(values.phone, self.rules.region)
        if column == Field.BIRTHDAY and values.birthday:
            return values.birthday.isoformat()
        if column == Field.BALANCE and values.opening_minor:
            return self.rules.money(values.opening_minor)
        if column == Field.TAGS and values.tags:
            return ", ".join(values.tags)
        if column in (Field.NAME, Field.EMAIL, Field.CODE) and getattr(values, column.value):
            return str(getattr(values, column.value))
        return row.text(self.mapping[column])

    def details(self, row: Row) -> list[str]:
        """What will happen to the row, or what is wrong with it, in words."""
        if row.errors:
            return row.errors
        said = []
        if row.action == Action.UPDATE and row.changes:
            changed = ", ".join(str(change.label).lower() for change in row.changes)
            said.append(_("Changes: %(fields)s.") % {"fields": changed})
        if row.post_opening:
            amount = self.rules.money(row.values.opening_minor)
            said.append(_("Opening balance %(amount)s.") % {"amount": amount})
        if row.action == Action.SKIP:
            said.append(_("Already up to date."))
        return said


def opening_key(code: str) -> str:
    return f"opening:{code}"


def opening_request(code: str, amount_minor: int, currency: str) -> dict[str, object]:
    """What an opening posting asks for; its digest tells a replay from a conflict."""
    return {"opening": code, "amount": amount_minor, "unit": currency}


def plan(sheet: Sheet, mapping: Mapping, *, progress: Progress | None = None) -> Plan:
    """Read, clean, match and decide every row. Queries are a few per thousand rows."""
    rules = Rules.of_business()
    if not {Field.NAME, Field.CODE, Field.PHONE, Field.EMAIL} & mapping.keys():
        raise ImportProblem(_("Choose the column that holds the customers' names."))
    rows = []
    for done, (number, cells) in enumerate(sheet.rows, start=1):
        rows.append(_row(number, cells, mapping, rules))
        if progress and done % PROGRESS_EVERY == 0:
            progress("check", done, len(sheet.rows))
    existing = _existing(rows, with_tags=Field.TAGS in mapping)
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        _match(row, existing, seen)
    existing.openings = _openings(rows)
    for row in rows:
        _decide(row, existing, rules)
    return Plan(sheet.name, mapping, rows, rules)


def _row(number: int, cells: tuple[object, ...], mapping: Mapping, rules: Rules) -> Row:
    row = Row(number, cells, Values())
    for column, index in mapping.items():
        cell = cells[index] if index < len(cells) else None
        if reading.blank(cell):
            continue
        try:
            CLEANERS[column](row.values, cell, rules)
        except InvalidCell as error:
            row.errors.append(str(error))
    return row


# The columns a row's customer is compared with: the personal ones are sealed together.
LOADED = ("id", "code", "name", "sealed_key", "personal", "erased_at", "status")
BLIND = {"phone": "phone_index", "email": "email_index"}  # found by their blind indexes


@dataclass
class Existing:
    """The customers the sheet mentions, fetched once."""

    by_code: dict[str, Customer]
    by_phone: dict[str, Customer]
    by_email: dict[str, Customer]
    by_name: dict[str, list[Customer]]  # customers without phone and email, by folded name
    tags: dict[int, set[str]] = field(default_factory=dict)
    openings: dict[str, tuple[str, int]] = field(default_factory=dict)  # key → (digest, amount)


def _fetch(column: str, wanted: Iterable[str]) -> dict[str, Customer]:
    """The customers whose ``column`` is one of ``wanted``, by that value; a phone or an
    email by its blind index under each of the shop's keys."""
    if column in BLIND:
        kind = column
        wanted = [blinded for value in wanted if value for blinded in sealing.blinds(kind, value)]
        column = BLIND[kind]
    else:
        kind = column
    ids = sorted(set(bulk.ids(Customer, column, wanted).values()))
    found: dict[str, Customer] = {}
    for start in range(0, len(ids), IN_CHUNK // 10):
        chunk = ids[start : start + IN_CHUNK // 10]
        for customer in Customer.objects.filter(pk__in=chunk).only(*LOADED).order_by():
            found[getattr(customer, kind)] = customer
    return found


def _only_named(values: Values) -> bool:
    return not (values.code or values.phone or values.email)


def _existing(rows: list[Row], *, with_tags: bool) -> Existing:
    values = [row.values for row in rows]
    by_name: dict[str, list[Customer]] = {}
    names = (customers.folded_name(v.name) for v in values if v.name and _only_named(v))
    for chunk in bulk.chunks(names):
        query = Customer.objects.filter(
            search_name__in=chunk, phone_index__isnull=True, email_index__isnull=True
        )
        for customer in query.only(*LOADED, "search_name").order_by("id"):
            by_name.setdefault(customer.search_name, []).append(customer)
    existing = Existing(
        by_code=_fetch("code", (v.code for v in values)),
        by_phone=_fetch("phone", (v.phone for v in values)),
        by_email=_fetch("email", (v.email for v in values)),
        by_name=by_name,
    )
    if with_tags:
        ids = {c.pk for found in (existing.by_code, existing.by_phone) for c in found.values()}
        ids |= {c.pk for c in existing.by_email.values()}
        ids |= {c.pk for namesakes in by_name.values() for c in namesakes}
        existing.tags = _tags_of(ids)
    return existing


def _tags_of(ids: set[int]) -> dict[int, set[str]]:
    through = Customer.tags.through
    found: dict[int, set[str]] = {}
    for chunk in bulk.chunks(str(pk) for pk in ids):
        links = through.objects.filter(customer_id__in=chunk).values_list(
            "customer_id", "tag__name"
        )
        for customer_id, name in links:
            found.setdefault(customer_id, set()).add(name)
    return found


def _openings(rows: list[Row]) -> dict[str, tuple[str, int]]:
    found: dict[str, tuple[str, int]] = {}
    keys = (opening_key(row.target_code) for row in rows if row.target_code)
    for chunk in bulk.chunks(keys):
        batches = Batch.objects.filter(key__in=chunk).annotate(amount=Sum("transfers__amount"))
        for key, fingerprint, amount in batches.values_list("key", "fingerprint", "amount"):
            found[key] = (fingerprint, int(amount or 0))
    return found


def _find(row: Row, existing: Existing) -> Customer | None:
    """By code; else by phone, then email; a row with none of them by its name."""
    values = row.values
    if values.code:
        return existing.by_code.get(values.code)
    for found in (existing.by_phone.get(values.phone), existing.by_email.get(values.email)):
        if found is not None:
            return found
    if not _only_named(values) or not values.name:
        return None
    namesakes = existing.by_name.get(customers.folded_name(values.name), [])
    if len(namesakes) > 1:
        message = _(
            "%(count)s customers are called %(name)s; add a code, phone or email to tell "
            "which one this is."
        )
        row.errors.append(message % {"count": len(namesakes), "name": values.name})
        return None
    return namesakes[0] if namesakes else None


SAME_AS = {
    "code": gettext_lazy("Same code as row %(row)s."),
    "phone": gettext_lazy("Same phone number as row %(row)s."),
    "email": gettext_lazy("Same email address as row %(row)s."),
    "name": gettext_lazy(
        "Same name as row %(row)s, and neither has a code, phone or email to tell them apart."
    ),
    "customer": gettext_lazy("Row %(row)s is about the same customer."),
}


def _match(row: Row, existing: Existing, seen: dict[tuple[str, str], int]) -> None:
    """Find the row's customer; flag a phone or email of someone else, and rows that
    say the same as an earlier row."""
    customer = row.customer = _find(row, existing)
    values = row.values
    for kind, others in (("phone", existing.by_phone), ("email", existing.by_email)):
        other = others.get(getattr(values, kind))
        if other is not None and (customer is None or other.pk != customer.pk):
            row.errors.append(str(customers.DuplicateCustomer(other, field=kind)))
    keys = [("code", values.code), ("phone", values.phone), ("email", values.email)]
    if _only_named(values):
        keys.append(("name", customers.folded_name(values.name)))
    if customer is not None:
        keys.append(("customer", str(customer.pk)))
    for kind, value in keys:
        if value and (first := seen.setdefault((kind, value), row.number)) != row.number:
            row.errors.append(str(SAME_AS[kind]) % {"row": first})
            break


def _decide(row: Row, existing: Existing, rules: Rules) -> None:
    _check_opening(row, existing, rules)
    if row.customer is None and not row.values.name:
        row.errors.append(_("The name is missing."))
    if row.errors:
        row.action, row.post_opening = Action.ERROR, False
    elif row.customer is None:
        row.action = Action.CREATE
    else:
        row.changes = _changes(row.customer, row.values, existing.tags)
        row.action = Action.UPDATE if row.changes or row.post_opening else Action.SKIP


def _check_opening(row: Row, existing: Existing, rules: Rules) -> None:
    """Post an opening balance once per customer: the same amount again is nothing to
    do, another amount is an error (correct a balance at the counter, not by import)."""
    amount, code = row.values.opening_minor, row.target_code
    previous = existing.openings.get(opening_key(code)) if code else None
    if previous is not None:
        digest, imported = previous
        request = opening_request(code, amount, rules.currency)
        if amount and digest != ledger.fingerprint_of(request):
            message = _("Opening balance already imported (%(amount)s).")
            row.errors.append(message % {"amount": rules.money(imported)})
        return
    if amount and row.customer is not None and row.customer.status == Customer.Status.CLOSED:
        row.errors.append(_("The account of this customer is closed."))
        return
    row.post_opening = amount > 0


def _changes(customer: Customer, values: Values, tags: dict[int, set[str]]) -> list[Field]:
    """The fields the row gives that differ from the customer's; empty cells change nothing."""
    pairs: list[tuple[Field, object, object]] = [
        (Field.NAME, values.name, customer.name),
        (Field.PHONE, values.phone, customer.phone),
        (Field.EMAIL, values.email, customer.email),
        (Field.ADDRESS, values.address, customer.address),
        (Field.BIRTHDAY, values.birthday, customer.birthday),
        (Field.NOTES, values.notes, customer.notes),
    ]
    changed = [name for name, new, old in pairs if new and new != old]
    if values.tags and set(values.tags) != tags.get(customer.pk, set()):
        changed.append(Field.TAGS)
    return changed
