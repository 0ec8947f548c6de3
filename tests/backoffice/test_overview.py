from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from prepaid.customers import pins
from prepaid.customers.models import KioskPin
from prepaid.ledger import services as ledger
from prepaid.sales import services as sales
from prepaid.web.middleware import DatabaseBusyMiddleware
from tests.factories import key, make_customer, method

pytestmark = pytest.mark.django_db


def test_the_overview_shows_what_is_owed_and_the_latest_transactions(client, owner, actor):
    customer = make_customer("王芳", balance="100.00", bonus="20.00", actor=actor)
    sales.cash_out(customer, 1000, method=method(), key=key(), actor=actor, reason="moving away")
    client.force_login(owner.user)

    page = client.get("/").content.decode()

    assert "$110.00" in page  # 90 paid + 20 bonus
    assert "$90.00" in page
    assert "王芳" in page
    assert customer.code in page
    assert "Refund" in page and "Top-up" in page


def test_the_overview_speaks_the_readers_language(client, owner, actor):
    make_customer(balance="1234.50", actor=actor)
    client.force_login(owner.user)

    page = client.get("/", headers={"accept-language": "nl"}).content.decode()

    assert '<html lang="nl">' in page
    assert "$\xa01.234,50" in page  # Dutch separators, the shop's own symbol


def test_times_are_shown_in_the_shops_time_zone(client, owner, actor, business):
    business.time_zone = "Asia/Manila"
    business.save()
    at = datetime(2026, 1, 1, 0, 30, tzinfo=UTC)
    make_customer(balance="5.00", actor=ledger.Actor(actor.store, actor.staff, at=at))
    client.force_login(owner.user)

    page = client.get("/").content.decode()

    assert "Jan 1, 2026, 8:30\u202fAM" in page  # 00:30 UTC is 08:30 in Manila


def test_a_busy_database_is_a_polite_503_not_a_500(client, owner):
    client.force_login(owner.user)
    locked = OperationalError("database is locked")
    with mock.patch("prepaid.reports.queries.liability", side_effect=locked):
        response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert "nothing was saved" in response.content.decode()


def test_a_lost_database_connection_is_a_503_page_that_needs_no_database(
    client, owner, django_assert_num_queries
):
    client.force_login(owner.user)
    gone = InterfaceError("connection already closed")
    with mock.patch("prepaid.reports.queries.liability", side_effect=gone):
        response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert "did not answer" in response.content.decode()

    # The page itself asks the database nothing: it must show while the database is down.
    middleware = DatabaseBusyMiddleware(lambda request: HttpResponse())
    with django_assert_num_queries(0):
        page = middleware.process_exception(RequestFactory().get("/"), gone)
    assert page is not None and page.status_code == 503


def test_other_errors_are_not_mistaken_for_a_busy_database(owner):
    middleware = DatabaseBusyMiddleware(lambda request: HttpResponse())
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("bug")) is None


def test_a_cashiers_back_office_starts_at_the_customers(client, cashier_a):
    client.force_login(cashier_a.user)
    assert client.get("/").url == "/customers/"  # the overview is not for their role
    response = client.get("/settings/")
    assert response.status_code == 403
    assert "Your role does not give access" in response.content.decode()


def test_the_owner_sets_the_spend_order_and_it_is_audited(client, owner):
    client.force_login(owner.user)
    response = client.post(
        "/settings/",
        {
            "name": "Agua Pura",
            "spend_order": "bonus_first",
            "time_zone": "UTC",
            "counter_idle_minutes": 5,
        },
        follow=True,
    )
    assert "Settings saved." in response.content.decode()
    from prepaid.staff.models import AuditEvent, Business

    assert Business.current().spend_order == "bonus_first"
    assert AuditEvent.objects.get(action="business.settings").after["spend_order"] == "bonus_first"


@pytest.mark.parametrize("persona", ["manager", "accountant", "cashier_a"])
def test_only_the_owner_changes_settings(client, request, persona):
    client.force_login(request.getfixturevalue(persona).user)
    assert client.get("/settings/").status_code == 403


def _connection_refused(execute, sql, params, many, context):
    raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")


def test_a_database_that_does_not_answer_at_all_is_the_503_page_not_a_500(owner):
    # Every query fails, as when PostgreSQL is down: the first is BusinessMiddleware's,
    # outside any view, where process_exception never looks.
    browser = Client(raise_request_exception=False)
    browser.force_login(owner.user)
    with connection.execute_wrapper(_connection_refused):
        response = browser.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert "did not answer" in response.content.decode()


def test_the_settings_page_explains_each_setting(client, owner):
    client.force_login(owner.user)
    page = client.get("/settings/").content.decode()
    for help_text in ("Empty: no minimum", "Empty: no maximum", "Which balance a sale uses first"):
        assert help_text in page


def test_the_overview_names_customers_locked_out_of_the_kiosk(client, owner, accountant):
    maria = make_customer("Maria Santos")
    pins.set_pin(maria, "5830", by=None, how="test")
    client.force_login(owner.user)
    assert "Locked out of the kiosk" not in client.get("/").content.decode()

    KioskPin.objects.filter(customer=maria).update(failures=5, locked_at=timezone.now())
    page = client.get("/").content.decode()
    assert "Locked out of the kiosk after five wrong PINs" in page
    assert f'href="/customers/{maria.code}/#kiosk-pin"' in page

    client.force_login(accountant.user)  # reads reports, never touches a PIN
    assert "Locked out of the kiosk" not in client.get("/").content.decode()
    pins.unlock(maria, by=owner)
    client.force_login(owner.user)
    assert "Locked out of the kiosk" not in client.get("/").content.decode()
