"""A card's token never reaches the log, though Django logs the addresses it could not
answer (a stopped card's page is one)."""

from __future__ import annotations

import io
import logging

import pytest

from prepaid.lib.logs import HideSecrets, hide_secrets
from tests.factories import make_business, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def console():
    """The stream of the handler the settings give the root logger."""
    (handler,) = [
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(item, HideSecrets) for item in handler.filters)
    ]
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    before = handler.setStream(stream)
    yield stream
    handler.setStream(before)


def test_a_stopped_cards_address_is_logged_without_its_token(client, console):
    make_business()
    card = make_customer("Maria Santos").cards.get()
    token = card.token
    card.revoked_at = card.created_at
    card.save()

    assert client.get(f"/c/{token}").status_code == 404
    assert client.get(f"/c/{token}/statement-2026-01.csv").status_code == 404

    logged = console.getvalue()
    assert "Not Found: /c/…" in logged and "/c/…/statement" in logged
    assert token not in logged


def test_only_the_secret_segment_is_hidden():
    assert hide_secrets("Not Found: /c/AbC-12_x/lost") == "Not Found: /c/…/lost"
    assert hide_secrets('"GET /c/AbC?page=2 HTTP/1.1"') == '"GET /c/…?page=2 HTTP/1.1"'
    assert hide_secrets("Not Found: /counter/c/K7MQ-4XZP/") == "Not Found: /counter/c/…/"
    assert hide_secrets("Not Found: /customers/K7MQ") == "Not Found: /customers/K7MQ"
