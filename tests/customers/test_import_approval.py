"""Opening balances are money with no cash behind it: an import with opening balances on
a day after the shop's first (the day of its first transaction) waits for a second
person's approval; on the first day, or before any transaction, it is done at once."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from prepaid.customers.models import Customer
from prepaid.ledger.services import Actor
from prepaid.operations.models import Approval
from prepaid.staff.models import AuditEvent
from tests.conftest import assert_ledger_sound
from tests.customers.test_import import sheet_with_balances, upload, wallet_balance
from tests.factories import make_customer, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"


@pytest.fixture
def philippines(business):
    business.currency, business.region, business.time_zone = "PHP", "PH", "Asia/Manila"
    business.save()
    return business


@pytest.fixture
def trading_since_yesterday(philippines, store_a, owner):
    """The shop's first transaction was made yesterday: today is a later day."""
    yesterday = timezone.now() - timezone.timedelta(days=1)
    return make_customer("Ana Reyes", balance="10.00", actor=Actor(store_a, owner, at=yesterday))


def imported(client: Client, tmp_path) -> object:
    preview_url = upload(client, sheet_with_balances(tmp_path))["Location"]
    preview = client.get(preview_url)
    data = {f"column-{c['index']}": c["field"] for c in preview.context["columns"]}
    data["digest"] = preview.context["plan"].digest
    return client.post(preview_url + "commit/", data, follow=True)


def logged_in(person) -> Client:
    client = Client()
    client.force_login(person.user)
    return client


def test_a_managers_import_after_the_first_day_waits_and_runs_once_approved(
    tmp_path, trading_since_yesterday, manager, owner, store_a
):
    done = imported(logged_in(manager), tmp_path)
    assert "Not imported yet: its opening balances (₱1,750.50 in all)" in done.content.decode()
    assert Customer.objects.count() == 1  # only the shop's own first customer
    request = Approval.objects.get()
    assert (request.kind, request.status, request.amount_minor) == ("opening", "pending", 175050)
    assert request.reason == "customers.xlsx"
    asked = AuditEvent.objects.get(action="approval.pending")
    assert "sheet" not in asked.after["request"]  # the rows are not copied to the trail
    assert "Maria" not in json.dumps(request.fields)  # and kept sealed while they wait

    page = logged_in(owner).get("/approvals/").content.decode()
    assert "Opening balances after the first day" in page
    action = f"/approvals/{request.pk}/approve/"
    form_key = re.search(r'name="key" value="([^"]+)"', page[page.index(action) :])[1]
    logged_in(owner).post(action, {"key": form_key})
    assert Customer.objects.count() == 4
    maria = Customer.objects.get(name="Maria Santos")
    assert wallet_balance(maria) == 125050
    assert maria.batches.get().staff == manager  # booked as the maker's
    request.refresh_from_db()
    assert request.status == "approved" and request.fields["sheet"] == ""
    assert_ledger_sound()


def test_a_rejected_import_registers_no_one(tmp_path, trading_since_yesterday, manager, store_a):
    imported(logged_in(manager), tmp_path)
    request = Approval.objects.get()
    checker = make_staff("Max", role="manager", store=store_a, password="manager-pass-2")
    page = logged_in(checker).get("/approvals/").content.decode()
    action = f"/approvals/{request.pk}/reject/"
    form_key = re.search(r'name="key" value="([^"]+)"', page[page.index(action) :])[1]
    logged_in(checker).post(action, {"key": form_key, "reason": "Which sheet is this?"})
    assert Customer.objects.count() == 1
    assert Approval.objects.get().status == "rejected"
    assert_ledger_sound()


def test_on_the_first_day_the_import_is_done_at_once(tmp_path, philippines, manager):
    done = imported(logged_in(manager), tmp_path)
    assert "Imported: 3 new customers" in done.content.decode()
    assert Customer.objects.count() == 3
    assert not Approval.objects.exists()


def test_the_owners_import_after_the_first_day_is_done_and_kept(
    tmp_path, trading_since_yesterday, owner
):
    imported(logged_in(owner), tmp_path)
    assert Customer.objects.count() == 4
    assert Approval.objects.get().status == "owner_made"
