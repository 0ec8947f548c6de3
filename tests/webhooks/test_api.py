"""/api/v1/webhooks: register (the secret answered once), list (no secrets), delete, the
delivery log; unknown event types and wrong roles refused."""

from __future__ import annotations

import pytest

from prepaid.staff.models import AuditEvent
from prepaid.webhooks import services
from prepaid.webhooks.models import Endpoint
from tests.webhooks.conftest import work

pytestmark = pytest.mark.usefixtures("local")
BODY = {"url": "http://127.0.0.1:9/hooks", "events": ["sale.created", "top_up.created"]}


def test_an_owner_registers_an_endpoint_and_sees_its_secret_once(api):
    made = api.owner.post("/webhooks", BODY)
    assert made.status_code == 201, made.content
    answer = made.json()
    assert answer["url"] == BODY["url"]
    assert answer["events"] == ["sale.created", "top_up.created"]
    assert answer["secret"].startswith("whsec_") and len(answer["secret"]) > 40
    assert (answer["active"], answer["state"], answer["failing_since"]) == (True, "active", None)
    assert Endpoint.objects.get().secret == answer["secret"]  # kept, to sign with

    listed = api.manager.get("/webhooks")
    assert listed.status_code == 200
    assert listed.json() == [{key: value for key, value in answer.items() if key != "secret"}]
    assert answer["secret"] not in listed.content.decode()

    audit = AuditEvent.objects.get(action="webhook.created")
    assert (audit.api_token.role, audit.subject) == ("owner", f"webhook:{answer['id']}")
    assert answer["secret"] not in str(audit.after)


def test_an_unknown_event_type_is_a_clear_422(api):
    answer = api.owner.post("/webhooks", {**BODY, "events": ["sale.created", "sale.deleted"]})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "webhook_unknown_event"
    assert "sale.deleted" in error["message"] and "top_up.created" in error["message"]
    assert error["fields"] == {"events": error["message"]}
    none = api.owner.post("/webhooks", {**BODY, "events": []})
    assert none.json()["error"]["code"] == "webhook_no_events"
    translated = api.owner.post("/webhooks", {**BODY, "events": ["x"]}, language="zh-hans")
    assert translated.status_code == 422
    assert not Endpoint.objects.exists()


def test_a_bad_url_is_a_422(api):
    answer = api.owner.post("/webhooks", {**BODY, "url": "ftp://example.com/"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "webhook_url_not_valid")
    long = api.owner.post("/webhooks", {**BODY, "url": "https://example.com/" + "a" * 2000})
    assert long.status_code == 422


def test_delete_removes_the_endpoint_and_its_log(api):
    made = api.owner.post("/webhooks", BODY).json()
    gone = api.manager.client.delete(
        f"/api/v1/webhooks/{made['id']}", headers={"Authorization": f"Bearer {api.manager.key}"}
    )
    assert gone.status_code == 204
    assert not Endpoint.objects.exists()
    assert AuditEvent.objects.get(action="webhook.deleted").before["url"] == BODY["url"]
    again = api.manager.client.delete(
        f"/api/v1/webhooks/{made['id']}", headers={"Authorization": f"Bearer {api.manager.key}"}
    )
    assert again.status_code == 404


def test_the_delivery_log_pages_newest_first(api, receiver):
    endpoint, receiver.secret = services.create_endpoint(receiver.url, ["sale.created"], by=None)
    for _ in range(3):
        services.ping(endpoint, by=None)
    work()
    first = api.owner.get(f"/webhooks/{endpoint.pk}/deliveries", limit=2).json()
    assert [d["state"] for d in first["results"]] == ["delivered", "delivered"]
    assert first["results"][0]["status_code"] == 200
    assert first["results"][0]["response"] == "received."
    assert first["results"][0]["type"] == "ping"
    assert first["results"][0]["event"].startswith("evt_")
    rest = api.owner.get(f"/webhooks/{endpoint.pk}/deliveries", limit=2, cursor=first["next"])
    assert len(rest.json()["results"]) == 1 and rest.json()["next"] is None
    assert api.owner.get("/webhooks/999/deliveries").status_code == 404
    assert api.owner.get("/webhooks/abc/deliveries").status_code == 404


@pytest.mark.parametrize("role", ["cashier", "accountant"])
def test_cashiers_and_accountants_may_not_touch_webhooks(api, role):
    caller = api.as_role(role)
    endpoint = api.owner.post("/webhooks", BODY).json()
    headers = {"Authorization": f"Bearer {caller.key}"}
    answers = [
        caller.post("/webhooks", BODY),
        caller.get("/webhooks"),
        caller.get(f"/webhooks/{endpoint['id']}/deliveries"),
        caller.client.delete(f"/api/v1/webhooks/{endpoint['id']}", headers=headers),
    ]
    assert [a.status_code for a in answers] == [403] * 4
    assert {a.json()["error"]["code"] for a in answers} == {"permission_denied"}
    assert Endpoint.objects.count() == 1
