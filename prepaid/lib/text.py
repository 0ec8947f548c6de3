"""Text as search sees it: case and accents folded, so "jose" finds "José"."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower-case, accents removed, spaces collapsed. CJK characters pass unchanged."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(unicodedata.normalize("NFC", stripped).split())


def has_visible(text: str) -> bool:
    """Whether ``text`` shows anything: a character that is not a space, a control or a
    format character (zero-width spaces and joiners, direction marks)."""
    return any(unicodedata.category(ch)[0] not in "CZ" for ch in text)


def is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\u3040" <= ch <= "\u30ff"


def name_keys(folded: str) -> set[str]:
    """Short keys for queries of one or two characters, which trigram indexes cannot serve.

    Each word is a key (queried by prefix: "jo" → "jose"); each run of CJK characters
    contributes all its two-character pieces ("欧阳娜娜" → 欧阳, 阳娜, 娜娜) and each
    character alone, so a two-character Chinese name, any two characters of a longer
    one, or any single character ("英" of "王英") is a key lookup.
    """
    keys: set[str] = set()
    for word in folded.split():
        keys.add(word[:20])
        run = "".join(ch if is_cjk(ch) else " " for ch in word).split()
        for piece in run:
            keys.update(piece[i : i + 2] for i in range(max(len(piece) - 1, 1)))
            keys.update(piece)
    return keys
