"""Four eyes in the back office and at the counter: a manager's large reversal waits on
the Approvals page; another manager or the owner approves or rejects it there; the one
who asked sees no Approve button on their own request. The counter: tests/counter."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from prepaid.ledger.models import Batch
from prepaid.operations.models import Approval
from prepaid.sales import services as sales
from prepaid.staff.models import AuditEvent, Business
from tests.conftest import assert_ledger_sound
from tests.factories import make_actor, make_customer, make_staff

pytestmark = pytest.mark.django_db


def logged_in(person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def key_in(html: str, action: str) -> str:
    form = html[html.index(f'action="{action}"') :]
    return re.search(r'name="key" value="([^"]+)"', form)[1]


@pytest.fixture
def maria(store_a, owner):
    return make_customer("Maria Santos", balance="300.00", actor=make_actor(store_a, owner))


@pytest.fixture
def top_up(maria):
    return Batch.objects.get(customer=maria, code=Batch.Code.TOP_UP)


def ask_reversal(client: Client, maria, batch) -> object:
    page = client.get(f"/customers/{maria.code}/").content.decode()
    action = f"/customers/{maria.code}/reverse/{batch.pk}/"
    return client.post(action, {"key": key_in(page, action), "reason": "Wrong customer"})


def test_a_managers_large_reversal_waits_and_another_manager_approves_it(
    store_a, manager, maria, top_up
):
    mona = logged_in(manager)
    asked = ask_reversal(mona, maria, top_up)
    assert asked.status_code == 302
    shown = mona.get(asked["Location"]).content.decode()
    assert "Not reversed yet" in shown
    assert sales.balances(maria).paid == 30000
    request = Approval.objects.get()
    assert (request.status, request.kind, request.staff) == ("pending", "reversal", manager)

    own = mona.get("/approvals/").content.decode()
    assert "Wrong customer" in own
    assert f'action="/approvals/{request.pk}/approve/"' not in own
    assert f'action="/approvals/{request.pk}/withdraw/"' in own
    forced = mona.post(f"/approvals/{request.pk}/approve/", {"key": "k"}, follow=True)
    assert "Someone other than the person who asked" in forced.content.decode()
    assert sales.balances(maria).paid == 30000

    second = make_staff("Max", role="manager", store=store_a, password="manager-pass-2")
    max_ = logged_in(second)
    page = max_.get("/approvals/").content.decode()
    action = f"/approvals/{request.pk}/approve/"
    form_key = key_in(page, action)
    approved = max_.post(action, {"key": form_key}, follow=True)
    assert "Approved: it is done." in approved.content.decode()
    assert sales.balances(maria).paid == 0
    again = max_.post(action, {"key": form_key}, follow=True)  # a double submit
    assert sales.balances(maria).paid == 0
    assert again.status_code == 200
    reversal = Batch.objects.get(reverses=top_up)
    assert reversal.staff == manager  # booked as the maker's
    request.refresh_from_db()
    assert (request.status, request.decided_by, request.batch) == ("approved", second, reversal)
    assert AuditEvent.objects.filter(action="approval.approved", staff=second).exists()
    assert_ledger_sound()


def test_the_owner_rejects_with_a_reason_and_nothing_changes(owner, manager, maria, top_up):
    ask_reversal(logged_in(manager), maria, top_up)
    request = Approval.objects.get()
    olivia = logged_in(owner)
    page = olivia.get("/approvals/").content.decode()
    action = f"/approvals/{request.pk}/reject/"
    without = olivia.post(action, {"key": key_in(page, action), "reason": ""}, follow=True)
    assert "Give a reason." in without.content.decode()
    rejected = olivia.post(action, {"key": key_in(page, action) + "2", "reason": "No"}, follow=True)
    assert "Rejected: nothing was done." in rejected.content.decode()
    request.refresh_from_db()
    assert (request.status, request.decision_note) == ("rejected", "No")
    assert not Batch.objects.filter(reverses=top_up).exists()
    assert sales.balances(maria).paid == 30000
    assert_ledger_sound()


def test_the_owners_own_large_reversal_is_done_and_kept(owner, maria, top_up):
    olivia = logged_in(owner)
    done = ask_reversal(olivia, maria, top_up)
    assert "Transaction reversed." in olivia.get(done["Location"]).content.decode()
    assert sales.balances(maria).paid == 0
    kept = Approval.objects.get()
    assert (kept.status, kept.batch) == ("owner_made", Batch.objects.get(reverses=top_up))


def test_the_threshold_is_the_owners_setting(owner, manager, maria, top_up):
    olivia = logged_in(owner)
    form = olivia.get("/settings/").content.decode()
    assert 'name="approval_above" value="100.00"' in form
    business = Business.get()
    olivia.post(
        "/settings/",
        {
            "name": business.name,
            "spend_order": business.spend_order,
            "time_zone": business.time_zone,
            "counter_idle_minutes": 5,
            "approval_above": "500.00",
            "approval_credit_raises": "on",
        },
    )
    assert Business.objects.get().approval_above_minor == 50000
    ask_reversal(logged_in(manager), maria, top_up)
    assert sales.balances(maria).paid == 0  # 300.00 is below the new threshold
    assert not Approval.objects.exists()


@pytest.mark.parametrize("persona", ["cashier_a", "accountant"])
def test_who_sees_the_approvals_page(request, persona, manager, maria, top_up):
    ask_reversal(logged_in(manager), maria, top_up)
    person = request.getfixturevalue(persona)
    page = logged_in(person).get("/approvals/")
    if persona == "cashier_a":
        assert page.status_code == 403
    else:
        assert page.status_code == 200
        assert "Wrong customer" in page.content.decode()
        assert "/approve/" not in page.content.decode()


def test_a_managers_credit_raise_in_the_form_waits_and_says_so(owner, manager, maria):
    mona = logged_in(manager)
    saved = mona.post(
        f"/customers/{maria.code}/edit/",
        {"name": "Maria Santos", "credit_limit": "75.00"},
        follow=True,
    )
    shown = saved.content.decode()
    assert "The credit limit of $75.00 waits for the owner or another manager" in shown
    maria.refresh_from_db()
    assert maria.credit_limit_minor == 0
    request = Approval.objects.get()
    olivia = logged_in(owner)
    page = olivia.get("/approvals/").content.decode()
    assert "Credit-limit raise" in page
    action = f"/approvals/{request.pk}/approve/"
    olivia.post(action, {"key": key_in(page, action)})
    maria.refresh_from_db()
    assert maria.credit_limit_minor == 7500
    assert sales.balances(maria).credit_limit == 7500
    assert_ledger_sound()


def test_the_days_exceptions_list_the_gated_operations_and_the_owners_own(
    owner, manager, maria, top_up
):
    ask_reversal(logged_in(manager), maria, top_up)  # waits
    sold_out = make_customer("Ben Cruz", balance="250.00", actor=make_actor(staff=owner))
    olivia = logged_in(owner)
    ask_reversal(olivia, sold_out, Batch.objects.get(customer=sold_out))  # the owner's own
    overview = olivia.get("/").content.decode()
    assert "2 exceptions today" in overview
    assert "1 request waits for approval" in overview
    assert 'href="/reports/exceptions/"' in overview
    page = olivia.get("/reports/exceptions/").content.decode()
    assert "2 exceptions" in page and "1 waiting" in page and "1 done by the owner" in page
    assert "Waiting for approval" in page and "Done by the owner" in page
    assert "Ben Cruz" in page and "Maria Santos" in page
    other_day = olivia.get("/reports/exceptions/", {"day": "2020-01-01"}).content.decode()
    assert "No exceptions on this day." in other_day
    nonsense = olivia.get("/reports/exceptions/", {"day": "99999-01-01"})
    assert nonsense.status_code == 200


# -- plans and bonus rules above the share ----------------------------------------------


def test_a_managers_generous_plan_is_in_force_only_once_approved(owner, manager):
    from prepaid.catalog.models import TopUpPlan

    mona = logged_in(manager)
    saved = mona.post(
        "/shop/plans/new/",
        {
            "name": "1 → +1M",
            "amount": "1.00",
            "bonus": "1000000.00",
            "active": "on",
            "position": "0",
        },
        follow=True,
    )
    assert "Saved for approval: it gives more than 20% of what is paid" in saved.content.decode()
    assert not TopUpPlan.objects.exists()  # not on offer
    request = Approval.objects.get()
    assert (request.kind, request.status, request.reason) == ("bonus", "pending", "1 → +1M")
    olivia = logged_in(owner)
    page = olivia.get("/approvals/").content.decode()
    assert "Top-up plan 1 → +1M: $1.00 → +$1,000,000.00" in page
    action = f"/approvals/{request.pk}/reject/"
    olivia.post(action, {"key": key_in(page, action), "reason": "Surely not"})
    assert not TopUpPlan.objects.exists()

    modest = mona.post(
        "/shop/plans/new/",
        {
            "name": "100 → +20",
            "amount": "100.00",
            "bonus": "20.00",
            "active": "on",
            "position": "0",
        },
        follow=True,
    )
    assert "Top-up plan saved." in modest.content.decode()  # 20% is not above the share
    plan = TopUpPlan.objects.get()
    raised = mona.post(
        f"/shop/plans/{plan.pk}/",
        {
            "name": "100 → +50",
            "amount": "100.00",
            "bonus": "50.00",
            "active": "on",
            "position": "0",
        },
    )
    assert raised.status_code == 302
    plan.refresh_from_db()
    assert plan.bonus_minor == 2000  # the plan in force stays as it was
    second = make_staff("Max", role="manager", store=plan_store(), password="manager-pass-2")
    max_ = logged_in(second)
    page = max_.get("/approvals/").content.decode()
    waiting = Approval.objects.get(status="pending")
    action = f"/approvals/{waiting.pk}/approve/"
    max_.post(action, {"key": key_in(page, action)})
    plan.refresh_from_db()
    assert (plan.name, plan.bonus_minor) == ("100 → +50", 5000)


def plan_store():
    from prepaid.staff.models import Store

    return Store.objects.order_by("id").first()


def test_a_generous_bonus_rule_waits_and_the_owners_own_is_kept(owner, manager):
    from prepaid.catalog.models import BonusRule

    logged_in(manager).post("/shop/rules/new/", {"every": "10.00", "bonus": "5.00", "active": "on"})
    assert not BonusRule.objects.exists()
    assert Approval.objects.get().kind == "bonus"
    logged_in(owner).post("/shop/rules/new/", {"every": "10.00", "bonus": "5.00", "active": "on"})
    assert BonusRule.objects.get().bonus_minor == 500
    assert Approval.objects.filter(status="owner_made", kind="bonus").count() == 1
