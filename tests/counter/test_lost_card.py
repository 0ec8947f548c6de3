"""After "Lost card: replace", the old card's printed code must not quietly spend the
balance (issue #12): for a while, the panel opens for whoever shows a card in use, or
tells the last four digits of the customer's phone; the cashier vouches when there is no
phone. Every check is in the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from prepaid.customers import services as customers
from prepaid.customers.models import Card
from prepaid.staff.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def replaced(maria, owner):
    customers.update(maria, customers.Profile(phone="+12125550123"), by=owner)
    return customers.issue_card(maria, replace=True, by=owner)


def test_the_old_code_asks_for_the_phones_last_digits(till, maria, replaced, water):
    typed = till.get("/counter/", {"q": maria.code})
    assert typed["Location"] == f"/counter/c/{maria.code}/"
    panel = till.get(f"/counter/c/{maria.code}/")
    assert panel.status_code == 302 and panel["Location"] == f"/counter/c/{maria.code}/check/"
    page = till.get(panel["Location"]).content.decode()
    assert "last 4 digits" in page and "reported lost" in page
    sale = {"key": "s1", "product": water.pk, "quantity": "1"}
    sold = till.post(f"/counter/c/{maria.code}/sell/", sale)
    assert sold["Location"] == f"/counter/c/{maria.code}/check/"  # the forms ask too

    wrong = till.post(f"/counter/c/{maria.code}/check/", {"digits": "9999"})
    assert "not the last four digits" in wrong.content.decode()
    assert till.get(f"/counter/c/{maria.code}/").status_code == 302

    right = till.post(f"/counter/c/{maria.code}/check/", {"digits": "0123"})
    assert right["Location"] == f"/counter/c/{maria.code}/"
    assert till.get(f"/counter/c/{maria.code}/").status_code == 200
    checks = AuditEvent.objects.filter(action__startswith="customer.holder").order_by("id")
    actions = list(checks.values_list("action", "after"))
    assert actions == [
        ("customer.holder_check_failed", {"how": "phone"}),
        ("customer.holder_checked", {"how": "phone"}),
    ]


def test_the_new_card_scanned_opens_the_panel_at_once(till, maria, replaced):
    scanned = till.get("/counter/", {"q": replaced.url})
    assert scanned["Location"] == f"/counter/c/{maria.code}/"
    assert till.get(scanned["Location"]).status_code == 200


def test_the_old_card_scanned_finds_nobody(till, maria, replaced):
    old = Card.objects.filter(customer=maria, revoked_at__isnull=False).get()
    assert till.get("/counter/", {"q": old.url}).status_code == 200  # no match: search page
    assert "Location" not in till.get("/counter/", {"q": old.url})


def test_without_a_phone_the_cashier_vouches(till, maria, owner):
    customers.issue_card(maria, replace=True, by=owner)
    page = till.get(f"/counter/c/{maria.code}/check/").content.decode()
    assert "I have checked who this is" in page
    vouched = till.post(f"/counter/c/{maria.code}/check/", {"vouch": "1"})
    assert vouched["Location"] == f"/counter/c/{maria.code}/"
    event = AuditEvent.objects.get(action="customer.holder_checked")
    assert event.after == {"how": "vouched"} and event.staff.name == "Carlos"


def test_a_month_after_the_replacement_the_code_is_enough(till, maria, replaced):
    Card.objects.filter(customer=maria, revoked_at__isnull=False).update(
        revoked_at=timezone.now() - timedelta(days=31)
    )
    assert till.get(f"/counter/c/{maria.code}/").status_code == 200


def test_a_customer_never_replaced_opens_at_once(till, maria):
    assert till.get(f"/counter/c/{maria.code}/").status_code == 200
    assert till.get(f"/counter/c/{maria.code}/check/")["Location"] == f"/counter/c/{maria.code}/"
