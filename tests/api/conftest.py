"""An API client per role: ``api.cashier.post(path, body, key=...)``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from prepaid.staff.models import ApiToken, Role
from prepaid.staff.tokens import create_token
from tests.factories import make_business, make_product, make_store

BASE = "/api/v1"


@dataclass
class Caller:
    token: ApiToken | None
    key: str
    client: Client

    def _headers(self, key: str | None, language: str | None) -> dict[str, str]:
        headers = {}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        if key is not None:
            headers["Idempotency-Key"] = key
        if language:
            headers["Accept-Language"] = language
        return headers

    def get(self, path: str, language: str | None = None, **params: Any):
        return self.client.get(BASE + path, params, headers=self._headers(None, language))

    def post(self, path: str, body: Any = None, *, key: str | None = None, language=None):
        return self.client.post(
            BASE + path,
            json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=self._headers(key, language),
        )

    def patch(self, path: str, body: Any, language: str | None = None):
        return self.client.patch(
            BASE + path,
            json.dumps(body),
            content_type="application/json",
            headers=self._headers(None, language),
        )


class Callers:
    def __init__(self) -> None:
        self.store = make_store("Main Street")
        self._made: dict[str, Caller] = {}

    def as_role(self, role: str, name: str | None = None) -> Caller:
        name = name or role
        if name not in self._made:
            token, key = create_token(name, Role(role), store=self.store)
            self._made[name] = Caller(token, key, Client())
        return self._made[name]

    @property
    def owner(self) -> Caller:
        return self.as_role("owner")

    @property
    def manager(self) -> Caller:
        return self.as_role("manager")

    @property
    def cashier(self) -> Caller:
        return self.as_role("cashier")

    @property
    def accountant(self) -> Caller:
        return self.as_role("accountant")

    @property
    def anonymous(self) -> Caller:
        return Caller(None, "", Client())


@pytest.fixture
def api(db) -> Callers:
    make_business(currency="PHP", region="PH")
    return Callers()


@pytest.fixture
def water(api):
    return make_product("Purified water", price="0.25")


def register(api: Callers, name: str = "Maria Santos", **fields: Any) -> dict[str, Any]:
    response = api.cashier.post("/customers", {"name": name, **fields})
    assert response.status_code == 201, response.content
    return response.json()
