"""Card stock (issue #13): sheets of pre-printed cards generated in the back office,
linked to customers later; the API links one the same way."""

from __future__ import annotations

import re

import pytest

from prepaid.customers.models import BlankCard, Card, CardBatch, Customer
from prepaid.lib import sealing
from prepaid.staff.models import AuditEvent
from tests.api.conftest import api  # noqa: F401  (the API callers, one per role)
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def _key(page) -> str:
    return re.search(r'name="key" value="([^"]+)"', page.content.decode())[1]


def _generate(client, count: int) -> CardBatch:
    page = client.get("/cards/stock/")
    done = client.post("/cards/stock/", {"key": _key(page), "count": count})
    batch = CardBatch.objects.latest("id")
    assert done.status_code == 302 and done["Location"] == f"/cards/stock/{batch.pk}/"
    return batch


def test_the_owner_generates_a_batch_and_prints_its_sheet(client, owner):
    client.force_login(owner.user)
    assert 'href="/cards/stock/"' in client.get("/customers/").content.decode()
    page = client.get("/cards/stock/")
    data = {"key": _key(page), "count": 12}

    done = client.post("/cards/stock/", data)
    again = client.post("/cards/stock/", data)  # a double tap: one batch

    batch = CardBatch.objects.get()
    assert done["Location"] == f"/cards/stock/{batch.pk}/" and again.status_code == 302
    blanks = list(BlankCard.objects.filter(batch=batch))
    assert batch.size == 12 and len(blanks) == 12 and batch.created_by == owner
    assert len({blank.token_digest for blank in blanks}) == 12
    for blank in blanks:  # the token is kept sealed under the shop's key, found by digest
        assert blank.sealed_token.startswith(sealing.RECORD)
        assert sealing.digest(blank.token) == blank.token_digest
        assert blank.hint == blank.token[:6] and blank.used_at is None
    assert AuditEvent.objects.get(action="cards.generated").staff == owner

    sheet = client.get(done["Location"]).content.decode()
    assert sheet.count('class="card-print blank"') == 12 and sheet.count("<svg") == 12
    assert "Agua Pura" in sheet and blanks[0].hint in sheet
    listing = client.get("/cards/stock/").content.decode()
    assert f"#{batch.pk}" in listing and f'href="/cards/stock/{batch.pk}/"' in listing


def test_a_batch_holds_one_to_five_hundred_cards(client, owner):
    client.force_login(owner.user)
    for count in (0, 501):
        page = client.get("/cards/stock/")
        answer = client.post("/cards/stock/", {"key": _key(page), "count": count})
        assert answer.status_code == 200 and 'class="error"' in answer.content.decode()
    assert not CardBatch.objects.exists()


def test_a_linked_card_leaves_the_sheet(client, owner):
    client.force_login(owner.user)
    batch = _generate(client, 3)
    blank = BlankCard.objects.filter(batch=batch).first()
    token = blank.token
    from prepaid.customers import services as customers

    maria = make_customer("Maria Santos")
    customers.link_blank(maria, token, replace=True, by=owner)

    sheet = client.get(f"/cards/stock/{batch.pk}/").content.decode()
    assert sheet.count('class="card-print blank"') == 2 and token not in sheet
    blank.refresh_from_db()
    assert blank.used_at is not None and blank.sealed_token == ""  # the card keeps it now
    assert blank.card.customer == maria and blank.card.token == token


def test_cashiers_and_accountants_may_not_generate(client, cashier_a, accountant):
    for person in (cashier_a, accountant):
        client.force_login(person.user)
        assert client.get("/cards/stock/").status_code == 403
        assert client.post("/cards/stock/", {"key": "k", "count": 3}).status_code == 403
    assert not CardBatch.objects.exists()


def _blank_token(owner_client) -> str:
    batch = _generate(owner_client, 2)
    return BlankCard.objects.filter(batch=batch).first().token


def test_the_api_links_a_pre_printed_card(api, client, owner):  # noqa: F811
    client.force_login(owner.user)
    token = _blank_token(client)
    maria = make_customer("Maria Santos")
    old = maria.cards.get()
    url = f"/customers/{maria.code}/cards"

    done = api.cashier.post(url, {"token": f"https://shop.example/c/{token}"}, key="link-1")
    again = api.cashier.post(url, {"token": f"https://shop.example/c/{token}"}, key="link-1")

    assert done.status_code == 201 and again.json() == done.json()
    assert done.json()["token"] == token and done.json()["url"].endswith(f"/c/{token}")
    assert Card.objects.filter(customer=maria, revoked_at__isnull=True).count() == 2  # kept
    assert Card.objects.get(token_digest=sealing.digest(token)).customer == maria
    old.refresh_from_db()
    assert old.revoked_at is None

    used = api.cashier.post(url, {"token": token}, key="link-2")
    assert used.status_code == 409 and used.json()["error"]["code"] == "blank_card_used"
    stranger = api.cashier.post(url, {"token": "x" * 24}, key="link-3")
    assert stranger.status_code == 422 and stranger.json()["error"]["code"] == "not_a_blank_card"
    customer_card = api.cashier.post(url, {"token": old.token}, key="link-4")
    # a customer's card is not stock
    assert customer_card.json()["error"]["code"] == "not_a_blank_card"


def test_a_key_rotation_moves_the_unlinked_cards(settings, tmp_path, owner):
    from prepaid.customers import keys
    from prepaid.customers import services as customers

    settings.DATA_KEYS_FILE = tmp_path / "data_keys"
    batch = customers.generate_blanks(2, by=owner)
    before = {blank.pk: blank.token for blank in BlankCard.objects.filter(batch=batch)}
    old = sealing.ring().current.id
    ring = sealing.ring()
    sealing.write_ring(sealing.Ring((sealing.Key.new(), *ring.keys), ring.source))

    keys.rotate()

    assert sealing.ring().current.id != old and len(sealing.ring().keys) == 1
    for blank in BlankCard.objects.filter(batch=batch):
        assert sealing.record_key_id(blank.sealed_token) == sealing.ring().current.id
        assert blank.token == before[blank.pk]


def test_the_sheet_as_a_pdf_ten_cards_a_page(client, owner):
    import io

    import pypdf

    client.force_login(owner.user)
    batch = _generate(client, 12)
    answer = client.get(f"/cards/stock/{batch.pk}.pdf")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert answer["Content-Disposition"] == f'attachment; filename="cards-batch-{batch.pk}.pdf"'
    reader = pypdf.PdfReader(io.BytesIO(answer.content))
    text = "".join(page.extract_text() for page in reader.pages).replace("\x00", "")
    text = "".join(text.split())
    assert len(reader.pages) == 2 and text.count("Scanforyourbalance") == 12
    for blank in BlankCard.objects.filter(batch=batch):
        assert blank.hint in text
    assert client.get("/cards/stock/999999.pdf").status_code == 404


def test_the_api_registers_a_customer_with_a_pre_printed_card(api, client, owner):  # noqa: F811
    client.force_login(owner.user)
    token = _blank_token(client)

    made = api.cashier.post(
        "/customers", {"name": "Rosa Diaz", "card": f"https://shop.example/c/{token}"}
    )

    assert made.status_code == 201, made.content
    rosa = Customer.objects.get(code=made.json()["code"])
    assert [card.token for card in rosa.cards.filter(revoked_at__isnull=True)] == [token]
    assert BlankCard.objects.get(token_digest=sealing.digest(token)).used_at is not None
    found = api.cashier.get("/lookup", scan=f"https://shop.example/c/{token}")
    assert found.json()["code"] == rosa.code

    again = api.cashier.post("/customers", {"name": "Rosa Again", "card": token})
    assert again.status_code == 409 and again.json()["error"]["code"] == "blank_card_used"
    assert not Customer.objects.filter(name="Rosa Again").exists()  # nothing half-made
