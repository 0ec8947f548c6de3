"""The customer's month as a PDF beside the CSV (issue #13): served as a download, read
back with pypdf, in the page's language, whatever font the machine has."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pypdf
import pytest
from django.test import override_settings

from prepaid.lib import pdf
from prepaid.sales import services as sales
from tests.factories import key, make_actor, make_customer, method

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
CJK = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@pytest.fixture(autouse=True)
def _font_found_afresh():
    pdf.font.cache_clear()
    pdf.fallback.cache_clear()
    yield
    pdf.font.cache_clear()
    pdf.fallback.cache_clear()


def _maria_in_november():
    actor = make_actor()
    person = make_customer("Maria Santos", actor=actor)
    for when, amount in (
        (datetime(2026, 10, 30, tzinfo=UTC), 5000),
        (datetime(2026, 11, 3, 9, 30, tzinfo=UTC), 2500),
    ):
        with mock.patch("django.utils.timezone.now", return_value=when):
            sales.top_up(person, amount, method=method(), bonus_minor=500, key=key(), actor=actor)
    return person


def _text(content: bytes) -> tuple[int, str]:
    """The pages and their text, without the spaces (and NULs: two-byte glyph codes) the
    extraction puts between glyphs."""
    reader = pypdf.PdfReader(io.BytesIO(content))
    text = "".join(page.extract_text() for page in reader.pages).replace("\x00", "")
    return len(reader.pages), "".join(text.split())


def test_the_months_statement_as_a_pdf_beside_the_csv(client, business):
    person = _maria_in_november()
    token = person.cards.get().token
    page = client.get(f"/c/{token}").content.decode()
    assert f'href="/c/{token}/statement-2026-11.pdf" download>PDF<' in page
    assert f'href="/c/{token}/statement-2026-11.csv" download>CSV<' in page

    answer = client.get(f"/c/{token}/statement-2026-11.pdf")

    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    assert answer["Content-Disposition"] == (
        f'attachment; filename="statement-{person.code}-2026-11.pdf"'
    )
    assert answer.content.startswith(b"%PDF-")
    pages, text = _text(answer.content)
    assert pages == 1
    for expected in (
        "AguaPura",
        "StatementNovember2026",
        f"MariaSantos·{person.code}",
        "Openingbalance:$50.00·Bonus:$5.00",
        "Top-up$25.00$5.00$75.00$10.00",
        "Paidin:$25.00",
        "Closingbalance:$75.00·Bonus:$10.00",
        "Page1of1",
    ):
        assert expected in text, expected
    assert "$55.00" not in text  # October's top-up is in the opening balance, not a row


def test_a_chinese_statement_writes_chinese(client, business):
    if not pdf.Path(CJK).is_file():
        pytest.skip("fonts-noto-cjk is not installed")
    person = _maria_in_november()
    client.cookies["django_language"] = "zh-hans"

    answer = client.get(f"/c/{person.cards.get().token}/statement-2026-11.pdf")

    _, text = _text(answer.content)
    assert "2026年11月" in text and "期初余额" in text and "充值" in text and "期末余额" in text
    assert "充值实收：" in text and "消费或退款：" in text and "获得赠送：" in text  # the totals


def test_a_sign_the_cjk_font_lacks_is_drawn_in_the_fallback(client, business):
    """Noto CJK has no peso sign: a peso shop's Chinese statement still shows ₱."""
    if not (pdf.Path(CJK).is_file() and pdf.Path(DEJAVU).is_file()):
        pytest.skip("fonts-noto-cjk or fonts-dejavu-core is not installed")
    business.currency, business.region = "PHP", "PH"
    business.save()
    person = _maria_in_november()
    client.cookies["django_language"] = "zh-hans"

    answer = client.get(f"/c/{person.cards.get().token}/statement-2026-11.pdf")

    _, text = _text(answer.content)
    assert "期初余额：₱50.00" in text and "₱25.00" in text


def test_without_a_cjk_font_latin_still_prints(client, business, settings):
    if not pdf.Path(DEJAVU).is_file():
        pytest.skip("fonts-dejavu-core is not installed")
    person = _maria_in_november()
    url = f"/c/{person.cards.get().token}/statement-2026-11.pdf"
    settings.PREPAID_PDF_FONT = DEJAVU
    with mock.patch.object(pdf, "CANDIDATES", ()):
        assert pdf.font().path == DEJAVU
        _, text = _text(client.get(url).content)
    assert "Closingbalance:$75.00·Bonus:$10.00" in text

    # No font file at all: the PDF core font, Chinese as question marks, never a 500.
    pdf.font.cache_clear()
    with override_settings(PREPAID_PDF_FONT=""), mock.patch.object(pdf, "CANDIDATES", ()):
        assert pdf.font().core
        client.cookies["django_language"] = "zh-hans"
        answer = client.get(url)
    assert answer.status_code == 200
    _, text = _text(answer.content)
    assert "AguaPura" in text and "$75.00" in text and "?" in text


def test_a_pdf_of_nonsense_or_of_a_stopped_card_is_not_found(client, business):
    person = make_customer("Maria Santos")
    token = person.cards.get().token
    assert client.get(f"/c/{token}/statement-2026-13.pdf").status_code == 404
    assert client.get(f"/c/{token}/statement-1999-01.pdf").status_code == 404
    assert client.get("/c/" + "x" * 24 + "/statement-2026-11.pdf").status_code == 404
    assert client.get(f"/c/{token}/statement-2026-11.pdf").status_code == 200  # empty month
    person.cards.update(revoked_at=datetime.now(UTC) - timedelta(seconds=1))
    assert client.get(f"/c/{token}/statement-2026-11.pdf").status_code == 404
