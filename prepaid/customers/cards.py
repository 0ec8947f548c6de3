"""QR codes for cards (segno: pure Python, SVG that prints sharp at any size)."""

from __future__ import annotations

import segno

from prepaid.customers.models import Card


def qr_svg(card: Card, *, scale: int = 4) -> str:
    """An inline <svg> of the card's URL; quiet zone kept, as scanners need it."""
    code = segno.make(card.url, error="m", micro=False)
    return str(code.svg_inline(scale=scale, dark="#000", light="#fff", border=2))
