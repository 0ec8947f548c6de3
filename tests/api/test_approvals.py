"""Four eyes by API: a refund or reversal above the shop's threshold waits for the owner
or a manager other than the one who asked; approved, it runs once, as the maker's."""

from __future__ import annotations

import pytest

from prepaid.ledger.models import Batch
from prepaid.operations.models import Approval
from prepaid.staff.models import AuditEvent, Business
from tests.api.conftest import register
from tests.conftest import assert_ledger_sound

pytestmark = pytest.mark.django_db

REFUND = {"amount": "150.00", "method": "cash", "reason": "Moving away"}


def funded(api, amount: str = "500.00") -> str:
    code = register(api)["code"]
    response = api.owner.post(
        f"/customers/{code}/top-ups", {"amount": amount, "method": "cash"}, key=f"fund-{code}"
    )
    assert response.status_code == 201
    return code


def balance(api, code: str) -> str:
    return api.owner.get(f"/customers/{code}").json()["balance"]


def test_a_refund_above_the_threshold_waits_and_a_retry_answers_the_same(api):
    code = funded(api)
    asked = api.manager.post(f"/customers/{code}/refunds", REFUND, key="r-1")
    assert asked.status_code == 202
    request = asked.json()
    assert request["status"] == "pending"
    assert request["kind"] == "refund"
    assert request["amount"] == "150.00"
    assert request["customer"] == code
    assert request["reason"] == "Moving away"
    assert request["token"] == "manager"
    assert balance(api, code) == "500.00"
    again = api.manager.post(f"/customers/{code}/refunds", REFUND, key="r-1")
    assert again.status_code == 202
    assert again.content == asked.content
    assert again["Idempotent-Replayed"] == "true"
    assert Approval.objects.count() == 1
    assert AuditEvent.objects.filter(action="approval.pending").count() == 1


def test_the_maker_cannot_approve_their_own_request(api):
    code = funded(api)
    request = api.manager.post(f"/customers/{code}/refunds", REFUND, key="r").json()
    own = api.manager.post(f"/approvals/{request['id']}/approve", {}, key="a")
    assert own.status_code == 403
    assert own.json()["error"]["code"] == "approval_own_request"
    rejected = api.manager.post(f"/approvals/{request['id']}/reject", {"reason": "x"}, key="b")
    assert rejected.status_code == 403
    assert balance(api, code) == "500.00"
    assert Approval.objects.get().status == Approval.Status.PENDING


def test_another_manager_approves_and_it_runs_once_as_the_makers(api):
    code = funded(api)
    request = api.manager.post(f"/customers/{code}/refunds", REFUND, key="r").json()
    checker = api.as_role("manager", "Second manager")
    approved = checker.post(f"/approvals/{request['id']}/approve", {"note": "ok"}, key="a")
    assert approved.status_code == 200, approved.json()
    answer = approved.json()
    assert answer["status"] == "approved"
    assert answer["decided_by"] == "Second manager"
    assert answer["result"]["kind"] == "refund"
    assert answer["result"]["token"] == "manager"  # booked as the maker's
    assert balance(api, code) == "350.00"
    batch = Batch.objects.get(pk=answer["transaction"])
    assert batch.api_token == api.manager.token
    assert batch.approval.decided_by_token == checker.token
    # the same key again: the same answer; another key, or the owner: already decided
    replay = checker.post(f"/approvals/{request['id']}/approve", {"note": "ok"}, key="a")
    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    twice = api.owner.post(f"/approvals/{request['id']}/approve", {}, key="again")
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "approval_not_pending"
    assert twice.json()["error"]["status"] == "approved"
    assert balance(api, code) == "350.00"
    assert Batch.objects.filter(code=Batch.Code.REFUND).count() == 1
    # the maker's own key still answers what it answered: the request, as asked
    maker = api.manager.post(f"/customers/{code}/refunds", REFUND, key="r")
    assert maker.status_code == 202
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"approval.pending", "approval.approved"} <= actions
    assert_ledger_sound()


def test_a_rejected_request_changes_nothing(api):
    code = funded(api)
    request = api.manager.post(f"/customers/{code}/refunds", REFUND, key="r").json()
    no_reason = api.owner.post(f"/approvals/{request['id']}/reject", {"reason": " "}, key="x")
    assert no_reason.status_code == 422
    rejected = api.owner.post(f"/approvals/{request['id']}/reject", {"reason": "No slip"}, key="n")
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_note"] == "No slip"
    late = api.owner.post(f"/approvals/{request['id']}/approve", {}, key="late")
    assert late.status_code == 409
    assert balance(api, code) == "500.00"
    assert not Batch.objects.filter(code=Batch.Code.REFUND).exists()
    assert AuditEvent.objects.filter(action="approval.rejected").exists()
    assert_ledger_sound()


def test_below_the_threshold_nothing_waits_and_the_threshold_is_a_setting(api):
    code = funded(api)
    small = {**REFUND, "amount": "100.00"}  # the default threshold: above 100.00
    assert api.manager.post(f"/customers/{code}/refunds", small, key="s").status_code == 201
    Business.objects.filter(pk=1).update(approval_above_minor=None)
    assert api.manager.post(f"/customers/{code}/refunds", REFUND, key="b").status_code == 201
    assert balance(api, code) == "250.00"
    assert not Approval.objects.exists()


def test_the_owners_own_refund_runs_and_is_kept_as_an_exception(api):
    code = funded(api)
    done = api.owner.post(f"/customers/{code}/refunds", REFUND, key="o")
    assert done.status_code == 201
    assert balance(api, code) == "350.00"
    kept = api.owner.get("/approvals", status="owner_made").json()["results"]
    assert [(item["kind"], item["transaction"]) for item in kept] == [("refund", done.json()["id"])]


def test_a_cashiers_undo_of_a_large_top_up_waits_for_a_manager(api):
    code = register(api)["code"]
    top_up = api.cashier.post(
        f"/customers/{code}/top-ups", {"amount": "300.00", "method": "cash"}, key="t"
    ).json()
    asked = api.cashier.post(
        f"/transactions/{top_up['id']}/reversal", {"reason": "Wrong customer"}, key="u"
    )
    assert asked.status_code == 202
    assert asked.json()["amount"] == "300.00"
    assert balance(api, code) == "300.00"
    approved = api.manager.post(f"/approvals/{asked.json()['id']}/approve", {}, key="a")
    assert approved.status_code == 200
    assert approved.json()["result"]["kind"] == "reversal"
    assert approved.json()["result"]["token"] == "cashier"
    assert balance(api, code) == "0.00"
    assert_ledger_sound()


def test_a_request_that_cannot_be_done_any_more_is_refused_and_keeps_waiting(api):
    code = funded(api, "200.00")
    request = api.manager.post(f"/customers/{code}/refunds", REFUND, key="r").json()
    api.owner.post(f"/customers/{code}/refunds", {**REFUND, "amount": "100.00"}, key="o")
    refused = api.owner.post(f"/approvals/{request['id']}/approve", {}, key="a")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "insufficient_funds"
    assert api.owner.get(f"/approvals/{request['id']}").json()["status"] == "pending"
    assert api.owner.post(
        f"/approvals/{request['id']}/reject", {"reason": "Spent"}, key="rj"
    ).json()["status"] == "rejected"  # fmt: skip


def test_only_the_maker_withdraws(api):
    code = funded(api)
    request = api.manager.post(f"/customers/{code}/refunds", REFUND, key="r").json()
    other = api.as_role("manager", "Second manager")
    refused = other.post(f"/approvals/{request['id']}/withdraw", {}, key="w")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "approval_not_yours"
    withdrawn = api.manager.post(f"/approvals/{request['id']}/withdraw", {}, key="w")
    assert withdrawn.json()["status"] == "withdrawn"
    assert balance(api, code) == "500.00"


def test_who_reads_and_who_decides(api):
    code = funded(api)
    request = api.manager.post(f"/customers/{code}/refunds", REFUND, key="r").json()
    listed = api.accountant.get("/approvals", status="pending").json()["results"]
    assert [item["id"] for item in listed] == [request["id"]]
    assert api.cashier.get("/approvals").status_code == 403
    denied = api.accountant.post(f"/approvals/{request['id']}/approve", {}, key="a")
    assert denied.status_code == 403
    assert api.owner.get("/approvals", status="nonsense").status_code == 422
    assert api.owner.get("/approvals/999999").status_code == 404


# -- credit-limit raises ------------------------------------------------------------------


def test_a_managers_credit_limit_raise_waits_and_is_set_when_approved(api):
    code = register(api)["code"]
    changed = api.manager.patch(f"/customers/{code}", {"credit_limit": "50.00", "notes": "VIP"})
    assert changed.status_code == 200
    answer = changed.json()
    assert answer["notes"] == "VIP"  # the rest of the change is made
    assert answer["credit_limit"] == "0.00"
    request = answer["credit_limit_request"]
    assert (request["kind"], request["status"], request["amount"]) == (
        "credit_limit",
        "pending",
        "50.00",
    )
    own = api.manager.post(f"/approvals/{request['id']}/approve", {}, key="a")
    assert own.status_code == 403
    approved = api.owner.post(f"/approvals/{request['id']}/approve", {}, key="a")
    assert approved.status_code == 200
    assert approved.json()["result"]["credit_limit"] == "50.00"
    assert api.owner.get(f"/customers/{code}").json()["credit_limit"] == "50.00"
    assert_ledger_sound()


def test_a_lower_limit_never_waits_and_a_raise_at_registration_does(api):
    registered = api.manager.post("/customers", {"name": "Juan Cruz", "credit_limit": "30.00"})
    assert registered.status_code == 201
    body = registered.json()
    assert body["credit_limit"] == "0.00"
    assert body["credit_limit_request"]["status"] == "pending"
    api.owner.post(f"/approvals/{body['credit_limit_request']['id']}/approve", {}, key="a")
    lowered = api.manager.patch(f"/customers/{body['code']}", {"credit_limit": "10.00"}).json()
    assert (lowered["credit_limit"], lowered["credit_limit_request"]) == ("10.00", None)


def test_the_owners_raise_is_set_and_kept_and_the_setting_turns_it_off(api):
    code = register(api)["code"]
    by_owner = api.owner.patch(f"/customers/{code}", {"credit_limit": "40.00"}).json()
    assert (by_owner["credit_limit"], by_owner["credit_limit_request"]) == ("40.00", None)
    assert Approval.objects.get().status == Approval.Status.OWNER_MADE
    Business.objects.filter(pk=1).update(approval_credit_raises=False)
    by_manager = api.manager.patch(f"/customers/{code}", {"credit_limit": "80.00"}).json()
    assert by_manager["credit_limit"] == "80.00"
    assert Approval.objects.count() == 1
