"""Phone numbers: stored in E.164, shown in the shop's national format.

Real sheets lose leading zeros (a number stored as a number) and carry spaces, dashes and
dots; ``phonenumbers`` with the shop's region puts them right: "0612345678" and
"612345678" both become "+31612345678" in the Netherlands.
"""

from __future__ import annotations

import phonenumbers


class PhoneError(ValueError):
    """Text that is not a possible phone number in the given region."""


def normalize_phone(text: str | int, region: str) -> str:
    """E.164 for whatever the person or the sheet wrote; ``PhoneError`` if impossible."""
    raw = str(text).strip()
    if raw.endswith(".0"):  # a number that went through a spreadsheet's float
        raw = raw[:-2]
    if not raw:
        raise PhoneError("empty")
    candidates = [raw]
    if raw.isdigit() and not raw.startswith("0"):
        candidates.append("0" + raw)  # the leading zero a spreadsheet dropped
    for candidate in candidates:
        try:
            parsed = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    raise PhoneError(raw)


def display_phone(e164: str, region: str) -> str:
    """National format for the shop's own numbers, international for the others."""
    if not e164:
        return ""
    parsed = phonenumbers.parse(e164, None)
    if phonenumbers.region_code_for_number(parsed) == region:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def mask_phone(e164: str) -> str:
    """Enough to tell two customers apart, not enough to call them: "•••• 4567"."""
    return f"•••• {e164[-4:]}" if e164 else ""


def searchable_digits(e164: str, region: str) -> str:
    """The digit strings a person may type: international and national, space-separated,
    so "4567", "0917 123" and "63917" all find +639171234567."""
    if not e164:
        return ""
    parsed = phonenumbers.parse(e164, None)
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return f"{e164.lstrip('+')} {''.join(ch for ch in national if ch.isdigit())}"
