"""PDF documents (fpdf2): A4 portrait, a font that writes the reader's language, page
numbers at the foot.

The font: ``PREPAID_PDF_FONT`` when it names a TrueType/OpenType file or collection,
else the first CJK font found on the system (Debian's fonts-noto-cjk), else DejaVu Sans
(fonts-dejavu-core: Latin, Greek, Cyrillic, no Chinese), else the PDF core font
Helvetica (Latin-1 only: any other character prints as "?"). What the chosen font lacks
(Noto CJK has no peso sign) is drawn in DejaVu Sans when it is there. docs/configuration.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from fpdf import FPDF
from fpdf.enums import XPos, YPos

log = logging.getLogger(__name__)

# (path, face in a collection): Noto Sans CJK's collection holds JP, KR, SC, TC, HK in
# that order; every face has every glyph, SC draws them as Simplified Chinese does.
CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # Debian, Ubuntu
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),  # Arch, Alpine
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 2),  # Fedora
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0),  # no Chinese
    ("/usr/share/fonts/TTF/DejaVuSans.ttf", 0),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", 0),
)
FONT_FILES = (".ttf", ".otf", ".ttc", ".otc")


@dataclass(frozen=True)
class Font:
    path: str  # "" for the core font
    face: int = 0
    bold: str = ""  # the bold cut beside it, if any

    @property
    def core(self) -> bool:
        return not self.path


@cache
def font() -> Font:
    """The font documents are written in, found once per process."""
    named = str(getattr(settings, "PREPAID_PDF_FONT", "") or "")
    candidates = list(CANDIDATES)
    if named:
        if Path(named).is_file() and named.lower().endswith(FONT_FILES):
            candidates.insert(0, (named, 0))
        else:
            log.warning("PREPAID_PDF_FONT %s is not a font file; using another", named)
    for path, face in candidates:
        if Path(path).is_file():
            bold = path.replace("-Regular.", "-Bold.").replace("DejaVuSans.", "DejaVuSans-Bold.")
            return Font(path, face, bold if bold != path and Path(bold).is_file() else "")
    return Font("")


@cache
def fallback() -> str:
    """DejaVu Sans, when the font is another one: the glyphs a CJK font lacks (the peso
    sign ₱, the naira, the hryvnia…) are drawn in it rather than left out."""
    chosen = font().path
    for path, _face in CANDIDATES:
        if "DejaVu" in path and Path(path).is_file():
            return "" if path == chosen else path
    return ""


class Document(FPDF):
    """An A4 portrait document in :func:`font`, with "Page 1 of 2" at each foot."""

    FAMILY = "text"

    def __init__(self, *, title: str, page_label: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.page_label = page_label  # "Page {page} of {pages}", translated
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(title)
        self.set_creator("prepaid")
        chosen = font()
        self.family = "helvetica" if chosen.core else self.FAMILY
        self.has_bold = chosen.core or bool(chosen.bold)
        if not chosen.core:
            self.add_font(self.FAMILY, "", chosen.path, collection_font_number=chosen.face)
            if chosen.bold:
                self.add_font(self.FAMILY, "B", chosen.bold, collection_font_number=chosen.face)
            if other := fallback():
                self.add_font("fallback", "", other)
                self.set_fallback_fonts(["fallback"], exact_match=False)
        self.set_font(self.family, size=10)

    def use(self, size: float, *, bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold and self.has_bold else "", size)

    def text_for(self, text: str) -> str:
        """What the font can write: the core font knows Latin-1 only; CLDR's times
        hold a narrow no-break space ("9:00\u202fAM") that CJK fonts lack."""
        text = text.replace("\u202f", "\u00a0")
        if font().core:
            return text.encode("latin-1", "replace").decode("latin-1")
        return text

    def line_of(self, text: str, *, size: float = 10, bold: bool = False, h: float = 6) -> None:
        self.use(size, bold=bold)
        self.multi_cell(0, h, self.text_for(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def footer(self) -> None:
        self.set_y(-12)
        self.use(8)
        self.set_text_color(110)
        label = self.page_label.format(page=self.page_no(), pages="{nb}")
        self.cell(0, 6, self.text_for(label), align="C")
        self.set_text_color(0)
