from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from prepaid.sales import services as sales
from tests.factories import make_customer

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
