"""docs/ledger.md's worked examples, run against the code, and its tables checked against
what the code posted.

Every ```python block of the section "Worked examples" runs, in order, in one namespace
that holds the names the section says it assumes (its "name | what" table). The transfer
tables between a block and the next one must list exactly the transfers that block
posted, in order: the number (transfers are numbered in the order the examples post
them), debit and credit account, amount, code, and the number of the transfer reversed.
Accounts are named as ``str(account)`` names them, with C for the customer's code. The
accounts table gives every account's kind and floor; the balances table every account's
debits, credits and balance, as the transfers and ``ledger.services.balance`` have them;
and ``verify()`` is clean.

A traceback from a block points at its line in docs/ledger.md.
"""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db.models import Sum

from prepaid.ledger import services as ledger
from prepaid.ledger.models import Account, Transfer
from prepaid.ledger.verify import verify
from prepaid.staff.models import Business, SpendOrder
from tests.factories import (
    make_actor,
    make_business,
    make_customer,
    make_product,
    make_staff,
    make_store,
    method,
)

pytestmark = pytest.mark.django_db
GUIDE = Path(__file__).resolve().parents[1] / "docs" / "ledger.md"
SECTION = re.compile(r"^## Worked examples\n(?P<body>.*?)(?=^## )", re.S | re.M)
TRANSFER_COLUMNS = ["transfer", "debit", "credit", "amount", "code"]
ACCOUNT_COLUMNS = ["account", "kind", "floor"]
BALANCE_COLUMNS = ["account", "debits", "credits", "balance"]


@dataclass
class Block:
    line: int  # of its first line of code in the guide
    code: str
    tables: list[list[list[str]]] = field(default_factory=list)  # those after it


@dataclass
class Section:
    names: list[list[str]]
    accounts: list[list[str]]
    balances: list[list[str]]
    blocks: list[Block]


def read_section() -> Section:
    """The blocks of "Worked examples", each with the tables that follow it, and the
    section's tables of names, accounts and balances (header row first)."""
    text = GUIDE.read_text()
    found = SECTION.search(text)
    assert found, "docs/ledger.md lost its section 'Worked examples'"
    first_line = text.count("\n", 0, found.start("body")) + 1
    lines = found["body"].split("\n")
    blocks: list[Block] = []
    tables: list[list[list[str]]] = []
    at = 0
    while at < len(lines):
        line = lines[at]
        if line.strip() == "```python":
            end = lines.index("```", at + 1)
            code = "\n".join(lines[at + 1 : end])
            blocks.append(Block(first_line + at + 1, code))
            at = end + 1
            continue
        if line.startswith("|"):
            rows = []
            while at < len(lines) and lines[at].startswith("|"):
                cells = [cell.strip().strip("`") for cell in lines[at].strip("|").split("|")]
                if not set("".join(cells)) <= set("-: "):  # the |---| line
                    rows.append(cells)
                at += 1
            tables.append(rows)
            if blocks:
                blocks[-1].tables.append(rows)
            else:
                assert rows[0][:5] != TRANSFER_COLUMNS, "transfers listed before any code"
            continue
        at += 1

    def one(header: list[str]) -> list[list[str]]:
        matching = [table for table in tables if table[0][: len(header)] == header]
        assert len(matching) == 1, f"the section should have one table headed {header}"
        return matching[0]

    section = Section(
        names=one(["name", "what"]),
        accounts=one(ACCOUNT_COLUMNS),
        balances=one(BALANCE_COLUMNS),
        blocks=blocks,
    )
    assert len(blocks) >= 7, "the worked examples lost their code"
    return section


def number(text: str) -> int | None:
    """An amount as the tables write it: "−2000" (a minus sign), "—" for none."""
    text = text.replace("−", "-").strip()
    if not text or text.startswith("—"):
        return None
    return int(text)


def run(block: Block, namespace: dict[str, object]) -> None:
    """Run the block; a failure is told as a traceback through the guide's own lines."""
    padded = "\n" * (block.line - 1) + block.code
    try:
        exec(compile(padded, str(GUIDE), "exec"), namespace)  # noqa: S102
    except Exception as error:
        told = "".join(traceback.format_exception(error))
    else:
        return
    pytest.fail(f"a block of docs/ledger.md failed:\n{told}", pytrace=False)


@pytest.fixture
def shop(db) -> dict[str, object]:
    """What the worked examples assume: a USD shop that spends paid money first, store S,
    a manager at S, customer C (no credit limit), two waters and cash."""
    make_business(currency="USD")
    Business.objects.filter(pk=1).update(spend_order=SpendOrder.PAID_FIRST)
    store = make_store("S")
    return {
        "S": store,
        "actor": make_actor(store, make_staff("Mona", role="manager", store=store)),
        "C": make_customer("Maria Santos"),
        "cash": method("cash"),
        "alkaline": make_product("Alkaline water", price="0.40"),
        "purified": make_product("Purified water", price="0.25"),
    }


def test_the_worked_examples_run_and_their_tables_are_what_the_code_posted(shop):
    section = read_section()
    assumed = {row[0].strip("`") for row in section.names[1:]}
    assert assumed == set(shop), "the names the examples assume are the ones provided"

    customer = shop["C"]

    def label(account: Account) -> str:
        return str(account).replace(customer.code, "C")

    namespace = dict(shop)
    posted: list[int] = []  # transfer ids in the order the examples posted them
    for block in section.blocks:
        before = max(posted, default=0)
        run(block, namespace)
        new = list(
            Transfer.objects.filter(pk__gt=before)
            .select_related("debit_account__customer", "debit_account__store")
            .select_related("debit_account__payment_method", "credit_account__customer")
            .select_related("credit_account__store", "credit_account__payment_method")
            .order_by("pk")
        )
        posted += [transfer.pk for transfer in new]
        actual = [
            [
                posted.index(transfer.pk) + 1,
                label(transfer.debit_account),
                label(transfer.credit_account),
                transfer.amount,
                transfer.code,
                posted.index(transfer.reverses_id) + 1 if transfer.reverses_id else None,
            ]
            for transfer in new
        ]
        written = []
        for table in block.tables:
            header, *rows = table
            if header[: len(TRANSFER_COLUMNS)] != TRANSFER_COLUMNS:
                continue
            for row in rows:
                cells = dict(zip(header, row, strict=True))
                written.append(
                    [
                        number(cells["transfer"]),
                        cells["debit"],
                        cells["credit"],
                        number(cells["amount"]),
                        cells["code"],
                        number(cells.get("reverses", "")),
                    ]
                )
        assert written == actual, f"docs/ledger.md line {block.line}: the tables after it"

    accounts = {label(account): account for account in Account.objects.all()}
    header, *rows = section.accounts
    assert sorted(row[0] for row in rows) == sorted(accounts), "the accounts table"
    for account_label, kind, floor in rows:
        account = accounts[account_label]
        assert (kind, number(floor)) == (account.kind, account.floor), account_label

    header, *rows = section.balances
    assert sorted(row[0] for row in rows) == sorted(accounts), "the balances table"
    for account_label, debits, credits, balance, *_meaning in rows:
        account = accounts[account_label]
        sums = [
            Transfer.objects.filter(**{side: account}).aggregate(total=Sum("amount"))["total"] or 0
            for side in ("debit_account", "credit_account")
        ]
        assert [number(debits), number(credits)] == sums, account_label
        assert number(balance) == ledger.balance(account), account_label
        if account.is_cached:
            assert [account.debits_posted, account.credits_posted] == sums, account_label
    assert verify() == []
