"""The database itself refuses what the ledger must never do, even by raw SQL."""

from __future__ import annotations

import pytest

from prepaid.ledger import services as ledger
from prepaid.ledger.models import Account, Batch, Transfer
from prepaid.sales import services as sales
from tests.conftest import refused
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def posted(actor):
    customer = make_customer(balance="10.00", actor=actor)
    return Transfer.objects.get(batch__customer=customer)


def test_a_transfer_cannot_be_updated(posted):
    assert refused("UPDATE ledger_transfer SET amount = 1 WHERE id = %s", [posted.pk])
    assert Transfer.objects.get(pk=posted.pk).amount == 1000


def test_a_transfer_cannot_be_deleted(posted):
    assert refused("DELETE FROM ledger_transfer WHERE id = %s", [posted.pk])
    assert Transfer.objects.filter(pk=posted.pk).exists()


def test_a_batch_cannot_be_updated_or_deleted(posted):
    assert refused("UPDATE ledger_batch SET key = 'x' WHERE id = %s", [posted.batch_id])
    assert refused("DELETE FROM ledger_batch WHERE id = %s", [posted.batch_id])
    assert Batch.objects.filter(pk=posted.batch_id).exists()


def test_a_direct_update_cannot_overdraw_a_customer_account(posted):
    wallet = posted.credit_account
    assert refused(
        "UPDATE ledger_account SET debits_posted = credits_posted + 1 WHERE id = %s", [wallet.pk]
    )
    assert ledger.balance(wallet) == 1000


def test_a_house_account_cannot_be_given_cached_totals(posted):
    assert refused(
        "UPDATE ledger_account SET credits_posted = 5 WHERE id = %s", [posted.debit_account_id]
    )


@pytest.mark.parametrize("amount", [0, -1])
def test_a_transfer_of_zero_or_less_is_refused(posted, amount):
    sql = (
        "INSERT INTO ledger_transfer (batch_id, debit_account_id, credit_account_id, amount,"
        " code, store_id, staff_id, created_at) SELECT batch_id, debit_account_id,"
        " credit_account_id, %s, code, store_id, staff_id, created_at FROM ledger_transfer"
        " WHERE id = %s"
    )
    assert refused(sql, [amount, posted.pk])
    assert not refused(sql, [1, posted.pk])  # the same statement with 1 is accepted: a control


def test_a_duplicate_batch_key_is_refused(posted):
    sql = (
        "INSERT INTO ledger_batch (key, fingerprint, code, store_id, staff_id, transfer_count,"
        " note, created_at) SELECT key, fingerprint, code, store_id, staff_id, transfer_count,"
        " note, created_at FROM ledger_batch WHERE id = %s"
    )
    assert refused(sql, [posted.batch_id])
    assert Batch.objects.count() == 1


def test_a_second_reversal_of_the_same_batch_is_refused_by_the_database(posted, actor):
    ledger.reverse(posted.batch, "undo", actor=actor)
    sql = (
        "INSERT INTO ledger_batch (key, fingerprint, code, store_id, staff_id, transfer_count,"
        " note, created_at, reverses_id) SELECT 'undo-again', fingerprint, code, store_id,"
        " staff_id, transfer_count, note, created_at, reverses_id FROM ledger_batch"
        " WHERE key = 'undo'"
    )
    assert refused(sql, [])


def test_cached_totals_stay_consistent_with_balances(posted):
    wallet, _ = sales.wallets(posted.batch.customer)
    assert Account.objects.get(pk=wallet.pk).cached_balance == 1000
