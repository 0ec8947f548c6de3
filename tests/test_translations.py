"""Every message is translated into Chinese and Dutch, none left fuzzy, and the compiled
catalogues are up to date with their sources."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[1] / "prepaid" / "locale"
ENTRY = re.compile(r'^msgid (".*?")\n(?:msgid_plural .*\n)?((?:msgstr.*\n?(?:".*"\n?)*)+)', re.M)


def entries(language: str) -> list[tuple[str, str, str]]:
    text = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    found = []
    for block in text.split("\n\n")[1:]:  # the first block is the header
        match = ENTRY.search(block + "\n")
        if match:
            found.append((block, match[1], match[2]))
    return found


@pytest.mark.parametrize("language", ["zh_Hans", "nl"])
def test_every_message_is_translated(language):
    found = entries(language)
    untranslated = [msgid for _, msgid, msgstr in found if re.fullmatch(r'msgstr ""\s*', msgstr)]
    fuzzy = [msgid for block, msgid, _ in found if "#, fuzzy" in block]
    assert untranslated == [] and fuzzy == []
    assert len(found) > 300


@pytest.mark.parametrize("language", ["zh_Hans", "nl"])
def test_the_compiled_catalogue_holds_every_message(language):
    with (LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    for block, msgid, msgstr in entries(language):
        if not msgstr.startswith("msgstr "):
            continue  # plural forms
        text = ast.literal_eval(msgid)
        translated = "".join(ast.literal_eval(part) for part in re.findall(r'".*"', msgstr))
        context = re.search(r'^msgctxt (".*")$', block, re.M)
        if context is not None:
            found = catalogue.pgettext(ast.literal_eval(context[1]), text)
        else:
            found = catalogue.gettext(text)
        if text:
            assert found == translated, (language, text)


def untranslated_in(language: str, pages: list[str], *, sources: tuple[str, ...]) -> list[str]:
    """English messages (from templates and code under ``sources``) that show verbatim
    on ``pages`` (their visible text) although ``language`` translates them."""
    folder = language.replace("zh-hans", "zh_Hans")
    english = set()
    for block, msgid, msgstr in entries(folder):
        if not msgstr.startswith("msgstr ") or not any(source in block for source in sources):
            continue
        text = ast.literal_eval(msgid)
        translated = "".join(ast.literal_eval(part) for part in re.findall(r'".*"', msgstr))
        if len(text) > 4 and "%" not in text and translated != text:
            english.add(text)
    assert len(english) > 20, "the catalogue lost these pages' messages"
    # Whole words only: the Dutch "Filteren" holds the English "Filter" and is fine.
    return sorted(
        text
        for text in english
        if any(re.search(rf"(?<!\w){re.escape(text)}(?!\w)", page) for page in pages)
    )


def test_no_message_hides_in_an_f_string():
    """xgettext does not look inside f-strings: ``f"{_('Paid in')}: …"`` is never
    extracted, so it ships in English (the PDF statement's totals did). A message is
    a whole phrase with named placeholders instead."""
    source = Path(__file__).resolve().parents[1] / "prepaid"
    hidden = []
    for path in source.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.JoinedStr):
                continue
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Name)
                    and inner.func.id in {"_", "gettext", "gettext_lazy", "ngettext", "pgettext"}
                ):
                    hidden.append(f"{path.relative_to(source)}:{inner.lineno}")
    assert hidden == []
