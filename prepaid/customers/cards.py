"""QR codes for cards (segno: pure Python, SVG that prints sharp at any size)."""

from __future__ import annotations

import segno

from prepaid.customers.models import Card
from prepaid.lib.pdf import Document


def qr_svg(card: Card, *, scale: int = 4) -> str:
    """An inline <svg> of the card's URL; quiet zone kept, as scanners need it."""
    return qr_svg_of(card.url, scale=scale)


def qr_svg_of(text: str, *, scale: int = 4) -> str:
    """An inline <svg> QR code of ``text`` (a card's URL, a pre-printed card's)."""
    code = segno.make(text, error="m", micro=False)
    return str(code.svg_inline(scale=scale, dark="#000", light="#fff", border=2))


# -- a sheet of pre-printed cards as a PDF ------------------------------------------------

CARD_W, CARD_H, GAP = 85.6, 54.0, 4.0  # ISO/IEC 7810 ID-1, as print.css
QR_SIDE = 30.0


def blank_sheet_pdf(
    urls: list[tuple[str, str]], *, shop: str, title: str, tagline: str, page_label: str
) -> bytes:
    """Pre-printed cards ten to an A4 page (2 × 5, cut along the dashed lines), each the
    shop's name, ``tagline``, its hint and its QR code drawn as vector squares: sharp at
    any printer's resolution. ``urls``: (hint, url) per card."""
    pdf = Document(title=title, page_label=page_label)
    pdf.set_auto_page_break(auto=False)
    left = (210 - 2 * CARD_W - GAP) / 2
    top = (297 - 5 * CARD_H) / 2 - 3
    for number, (hint, url) in enumerate(urls):
        if number % 10 == 0:
            pdf.add_page()
        column, row = number % 2, (number % 10) // 2
        x, y = left + column * (CARD_W + GAP), top + row * CARD_H
        pdf.set_draw_color(160)
        pdf.set_line_width(0.2)
        pdf.set_dash_pattern(dash=1, gap=1)
        pdf.rect(x, y, CARD_W, CARD_H, style="D", round_corners=True, corner_radius=3)
        pdf.set_dash_pattern()
        width = CARD_W - QR_SIDE - 12
        pdf.set_xy(x + 4, y + 12)
        pdf.use(8, bold=True)
        pdf.set_text_color(11, 107, 203)
        pdf.multi_cell(width, 4, pdf.text_for(shop.upper()), align="L")
        pdf.set_text_color(0)
        pdf.set_xy(x + 4, pdf.get_y() + 1.5)
        pdf.use(13, bold=True)
        pdf.multi_cell(width, 6, pdf.text_for(tagline), align="L")
        pdf.set_xy(x + 4, pdf.get_y() + 1.5)
        pdf.use(11)
        pdf.cell(width, 5, pdf.text_for(hint))
        _qr(pdf, url, x + CARD_W - 4 - QR_SIDE, y + (CARD_H - QR_SIDE) / 2)
    if not urls:
        pdf.add_page()
    return bytes(pdf.output())


def _qr(pdf: Document, url: str, x: float, y: float) -> None:
    matrix = segno.make(url, error="m", micro=False).matrix
    border = 2
    module = QR_SIDE / (len(matrix) + 2 * border)
    pdf.set_fill_color(0)
    for r, line in enumerate(matrix):
        c = 0
        while c < len(line):
            if line[c]:
                start = c
                while c < len(line) and line[c]:
                    c += 1
                pdf.rect(
                    x + (border + start) * module,
                    y + (border + r) * module,
                    (c - start) * module,
                    module,
                    style="F",
                )
            else:
                c += 1
