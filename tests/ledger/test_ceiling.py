"""One ceiling for every amount, balance, credit limit, plan and bonus (#12): beyond it a
clear, translated error and nothing written; never an overflow. Before it, an imported
balance of 92,233,720,368,547,758.07 was accepted and, on SQLite, a later top-up turned
the account's stored total into a float that ``verify`` and the overview crashed on."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.db import IntegrityError, connection, transaction

from prepaid.catalog import services as catalog
from prepaid.catalog.models import BonusRule, TopUpPlan
from prepaid.catalog.services import CatalogError
from prepaid.ledger import services as ledger
from prepaid.ledger.errors import AmountTooLarge as LedgerAmountTooLarge
from prepaid.ledger.errors import BalanceTooLarge
from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.lib.money import MAX_MINOR, MAX_TOTAL, AmountTooLarge, to_minor
from prepaid.sales import importing
from prepaid.sales import services as sales
from tests.api.conftest import register
from tests.conftest import assert_ledger_sound
from tests.customers.sheets import xlsx
from tests.factories import make_actor, make_customer, method

pytestmark = pytest.mark.django_db

HUGE = "92233720368547758.07"  # 2**63 − 1 minor units: the review's imported balance


def test_the_ceiling_is_the_most_any_amount_may_be():
    assert to_minor("9999999999999.99", "USD") == MAX_MINOR
    assert to_minor("-9999999999999.99", "USD") == -MAX_MINOR
    for beyond in ("10000000000000.00", HUGE, "1e30", "-1e16"):
        with pytest.raises(AmountTooLarge):
            to_minor(beyond, "USD")
    assert to_minor("999999999999999", "JPY") == MAX_MINOR  # in minor units, whatever the currency


def test_an_api_top_up_beyond_the_ceiling_is_refused_in_the_readers_language(api):
    code = register(api)["code"]
    body = {"amount": "10000000000000.00", "method": "cash"}
    refused = api.cashier.post(f"/customers/{code}/top-ups", body, key="k1")
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"]["amount"].endswith("9,999,999,999,999.99.")
    dutch = api.cashier.post(f"/customers/{code}/top-ups", body, key="k2", language="nl")
    assert "te groot" in dutch.json()["error"]["fields"]["amount"]
    assert not Batch.objects.exists()


def test_a_top_up_that_would_take_a_balance_beyond_the_ceiling_changes_nothing(api):
    code = register(api)["code"]
    most = api.cashier.post(
        f"/customers/{code}/top-ups", {"amount": "9999999999999.99", "method": "cash"}, key="a"
    )
    assert most.status_code == 201, most.content
    batches, transfers = Batch.objects.count(), Transfer.objects.count()
    refused = api.cashier.post(
        f"/customers/{code}/top-ups", {"amount": "0.01", "method": "cash"}, key="b"
    )
    assert refused.status_code == 409, refused.content
    error = refused.json()["error"]
    assert (error["code"], error["most"]) == ("balance_too_large", "9999999999999.99")
    assert (Batch.objects.count(), Transfer.objects.count()) == (batches, transfers)
    # The same key answers the same refusal: it is kept as the key's outcome.
    again = api.cashier.post(
        f"/customers/{code}/top-ups", {"amount": "0.01", "method": "cash"}, key="b"
    )
    assert again.json()["error"]["code"] == "balance_too_large"
    # Spending still works from a full account, and the totals stay whole numbers.
    spent = api.manager.post(
        f"/customers/{code}/refunds", {"amount": "1.00", "method": "cash", "reason": "x"}, key="c"
    )
    assert spent.status_code == 201, spent.content
    assert api.cashier.get(f"/customers/{code}").json()["balance"] == "9999999999998.99"
    with connection.cursor() as cursor:
        cursor.execute("SELECT credits_posted, debits_posted FROM ledger_account")
        assert all(isinstance(value, int) for row in cursor.fetchall() for value in row)
    assert_ledger_sound()


def test_the_ledger_refuses_a_transfer_beyond_the_ceiling(store_a):
    actor = make_actor(store_a)
    customer = make_customer()
    wallet = sales.accounts(customer).wallet
    paid_in = ledger.house_account(
        Account.Kind.PAYMENT, store=store_a, unit=wallet.unit, method=method()
    )
    leg = ledger.Leg(paid_in, wallet, MAX_MINOR + 1, Transfer.Code.TOP_UP)
    with pytest.raises(LedgerAmountTooLarge):
        ledger.post("too-much", [leg], code=Batch.Code.TOP_UP, actor=actor, customer=customer)
    most = replace(leg, amount=MAX_MINOR)
    ledger.post("most", [most], code=Batch.Code.TOP_UP, actor=actor, customer=customer)
    with pytest.raises(BalanceTooLarge):
        ledger.post(
            "one-more",
            [ledger.Leg(paid_in, wallet, 1, Transfer.Code.TOP_UP)],
            code=Batch.Code.TOP_UP,
            actor=actor,
            customer=customer,
        )
    assert Batch.objects.filter(key__in=["too-much", "one-more"]).count() == 0
    assert_ledger_sound()


def test_the_database_bounds_every_accounts_totals(store_a):
    wallet = sales.accounts(make_customer()).wallet
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=wallet.pk).update(
            credits_posted=MAX_TOTAL + 1, debits_posted=MAX_TOTAL + 1
        )


def test_an_imported_balance_beyond_the_ceiling_is_a_row_error(tmp_path, business):
    path = xlsx(tmp_path / "huge.xlsx", [["Name", "Balance"], ["Rich Uncle", HUGE]])
    sheet = importing.read_path(path, region="US")
    planned = importing.plan(sheet, importing.detect(sheet.headers))
    errors = " ".join(error for row in planned.error_rows for error in row.errors)
    assert "That amount is too large: the most is $9,999,999,999,999.99." in errors
    assert planned.opening_minor == 0
    with pytest.raises(importing.RowErrors):
        importing.commit(sheet, importing.detect(sheet.headers), actor=make_actor())
    assert not Batch.objects.exists()


def test_plans_rules_and_credit_limits_beyond_the_ceiling_are_refused(api, owner):
    code = register(api)["code"]
    credit = api.manager.patch(f"/customers/{code}", {"credit_limit": "10000000000000.00"})
    assert credit.status_code == 422
    assert "too large" in credit.json()["error"]["fields"]["credit_limit"]
    with pytest.raises(CatalogError, match="too large"):
        catalog.save_plan(None, name="x", amount_minor=100, bonus_minor=MAX_MINOR + 1, by=owner)
    with pytest.raises(CatalogError, match="too large"):
        catalog.save_rule(None, every_minor=1, bonus_minor=MAX_MINOR + 1, by=owner)
    assert not TopUpPlan.objects.exists() and not BonusRule.objects.exists()


def test_a_bonus_rule_that_would_give_beyond_the_ceiling_refuses_the_top_up(api, owner):
    catalog.save_rule(None, every_minor=1, bonus_minor=MAX_MINOR, by=owner)  # 0.01 → +9.9T
    code = register(api)["code"]
    refused = api.cashier.post(
        f"/customers/{code}/top-ups", {"amount": "0.02", "method": "cash"}, key="r"
    )
    assert refused.status_code == 422, refused.content
    assert refused.json()["error"]["code"] == "amount_too_large"
    assert not Batch.objects.exists()
