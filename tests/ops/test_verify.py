from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from prepaid.ledger import immutability
from prepaid.ledger.models import Transfer
from prepaid.ledger.verify import verify
from prepaid.lib import immutable
from prepaid.sales import services as sales
from prepaid.sales.models import SaleLine
from tests.factories import make_customer, make_product

pytestmark = pytest.mark.django_db


def test_verify_reports_a_sound_ledger(actor):
    make_customer(balance="10.00", actor=actor)
    out = StringIO()
    call_command("verify", stdout=out)
    assert out.getvalue().startswith("Ledger OK")


def test_verify_exits_1_and_names_the_account_whose_totals_were_tampered_with(actor):
    customer = make_customer(balance="10.00", actor=actor)
    wallet, _ = sales.wallets(customer)
    with connection.cursor() as cursor:  # allowed by the floor, but not by the transfers
        cursor.execute(
            "UPDATE ledger_account SET credits_posted = credits_posted + 500 WHERE id = %s",
            [wallet.pk],
        )
    err = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("verify", stderr=err)
    assert exit_.value.code == 1
    assert f"account {wallet.pk}: cached debits/credits (0, 1500), transfers sum to (0, 1000)" in (
        err.getvalue()
    )


def tampered(sql: str, params: list[object]) -> None:
    """Raw SQL past the immutability triggers, as someone with the database file could."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for statement in immutability.drop_sql(vendor):
            cursor.execute(statement)
        cursor.execute(sql, params)
        for statement in immutability.create_sql(vendor):
            cursor.execute(statement)


def test_a_transfer_whose_balance_after_does_not_run_true_is_reported(actor):
    customer = make_customer(balance="10.00", actor=actor)
    water = make_product()
    sales.sell(customer, [sales.Line(water, "4")], key="s", actor=actor)
    sale = Transfer.objects.get(code="sale")
    assert (sale.debit_balance_after, sale.credit_balance_after) == (900, None)
    assert verify() == []

    tampered("UPDATE ledger_transfer SET debit_balance_after = 950 WHERE id = %s", [sale.pk])

    found = [str(violation) for violation in verify()]
    assert found == [f"[running] transfer {sale.pk}: account {sale.debit_account_id} was left"
                     " at 900, the transfer says 950"]  # fmt: skip


def test_sale_lines_that_disagree_with_the_money_moved_are_reported(actor):
    customer = make_customer(balance="10.00", bonus="2.00", actor=actor)
    water = make_product()
    sold = sales.sell(customer, [sales.Line(water, "4")], key="s", actor=actor)
    line = SaleLine.objects.get()
    assert (line.amount_minor, line.from_bonus_minor) == (100, 17)  # 100 × 2/12, half-up
    assert verify() == []

    # The database refuses the change (sale lines are records)…
    with pytest.raises(DatabaseError), transaction.atomic():
        SaleLine.objects.filter(pk=line.pk).update(from_bonus_minor=0)
    # … so it takes someone who drops the triggers first; verify still finds it.
    with connection.cursor() as cursor:
        for statement in immutable.drop_sql(connection.vendor, ("sales_saleline",)):
            cursor.execute(statement)
    SaleLine.objects.filter(pk=line.pk).update(from_bonus_minor=0)

    assert [str(v) for v in verify()] == [
        f"[lines] sale {sold.batch.pk}: lines say 100 (0 from bonus), its transfers moved 100"
        " (17 from bonus)"
    ]
