"""The message log is the customer's data: in an access request's export, and cleared by
an erasure (recipients and bodies; a message still waiting never leaves)."""

from __future__ import annotations

import pytest

from prepaid.customers.models import Customer
from prepaid.messaging.models import Message
from prepaid.operations.envelope import run
from prepaid.operations.money import Refund
from prepaid.operations.outbox import dispatch
from prepaid.operations.privacy import EraseCustomer, export
from prepaid.staff.models import Staff
from tests.factories import key, make_actor, make_staff
from tests.messaging.conftest import customer, top_up, work

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_export_lists_the_messages_and_the_erasure_clears_them(smtp, shop, actor):
    maria = customer(email="maria.private@example.com")
    top_up(maria, "20.00", actor)
    work()
    owner = make_staff("Olga", Staff.Role.OWNER, store=actor.store)
    run(
        Refund(maria, 2000, "cash", reason="Moving away"),
        actor=make_actor(actor.store, owner),
        scope="test",
        key=key("refund"),
    )
    dispatch()  # the cash-out's receipt waits: the erasure comes first

    (sent, waiting) = export(Customer.objects.get(code=maria))["messages"]
    assert (sent["kind"], sent["status"], sent["to"]) == (
        "receipt",
        "sent",
        "maria.private@example.com",
    )
    assert sent["subject"] == "Your receipt from Agua Pura"
    assert waiting["status"] == "waiting"

    run(
        EraseCustomer(maria, reason="Asked"),
        actor=make_actor(actor.store, owner),
        scope="test",
        key=key("erase"),
    )
    work()
    assert len(smtp.mailbox.received) == 1  # the waiting receipt never left
    rows = list(Message.objects.order_by("id").values("sealed_recipient", "sealed_body", "status"))
    assert rows == [
        {"sealed_recipient": "", "sealed_body": "", "status": "sent"},
        {"sealed_recipient": "", "sealed_body": "", "status": "skipped"},
    ]
    assert Message.objects.filter(reason="erased").count() == 1
    assert [m["to"] for m in export(Customer.objects.get(code=maria))["messages"]] == ["", ""]
