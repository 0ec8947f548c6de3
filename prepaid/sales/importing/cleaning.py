"""Cleaning a row's cells into ``Values``: phone numbers that lost their leading zero,
"1.234,50" and "₱1,234.50", Excel date serials, trailing spaces. A cell that cannot be
used raises ``InvalidCell``, whose message is the row's error."""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from openpyxl.utils.datetime import from_excel

from prepaid.customers.models import Customer
from prepaid.customers.services import birthday_possible, email_possible
from prepaid.lib.codes import normalize_code
from prepaid.lib.money import (
    AmountTooLarge,
    MoneyError,
    exponent,
    format_money,
    to_minor,
    too_large,
)
from prepaid.lib.phones import PhoneError, normalize_phone
from prepaid.lib.text import has_visible
from prepaid.sales.importing.mapping import Field
from prepaid.sales.importing.problems import ImportProblem
from prepaid.sales.importing.reading import text_of
from prepaid.staff.models import Business

# Regions that write dates month first (05/17/1990); the others write the day first.
MONTH_FIRST = frozenset({"US", "PH", "CA", "FM", "MH", "PW", "GU", "AS", "MP", "PR", "VI"})


class InvalidCell(ValueError):
    """A cell that cannot be used; the message is the row's error."""


@dataclass(frozen=True)
class Rules:
    """How the shop writes money and phone numbers."""

    currency: str
    region: str

    @classmethod
    def of_business(cls) -> Rules:
        business = Business.current()
        if business is None:
            raise ImportProblem(_("Set up the business before importing customers."))
        return cls(business.currency, business.region)

    def money(self, amount_minor: int) -> str:
        return format_money(amount_minor, self.currency, get_language() or "en", region=self.region)


@dataclass
class Values:
    """A row's cells, cleaned; empty means "not in the sheet"."""

    code: str = ""
    name: str = ""
    phone: str = ""  # E.164
    email: str = ""
    address: str = ""
    notes: str = ""
    birthday: dt.date | None = None
    tags: list[str] = field(default_factory=list)
    opening_minor: int = 0


def _amount_text(text: str, places: int) -> Decimal:
    """ "₱1,234.50", "€ 1.234,50", "12,50", "(5.00)", "1 234,5 EUR" → Decimal."""
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Sc")
    text = re.sub(r"^\s*([A-Za-z]{3}|元|块)|([A-Za-z]{3}|元|块)\s*$", "", text).strip()
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()").replace("'", "")
    text = "".join(ch for ch in text if not ch.isspace())
    if not re.fullmatch(r"[-+]?\d[\d.,]*", text):
        raise InvalidOperation(text)
    sign, digits = ("-", text[1:]) if text[0] in "+-" else ("", text)
    value = Decimal(sign + _point(digits, places))
    return -value if negative else value


def _grouped(whole: str, mark: str, first: str = r"\d{1,3}") -> bool:
    """Whether ``whole`` is digits in thousands groups: "1.234.567", "12,345"."""
    head, *groups = whole.split(mark)
    return bool(re.fullmatch(first, head)) and all(re.fullmatch(r"\d{3}", g) for g in groups)


def _point(digits: str, places: int) -> str:
    """The number with "." as its only mark: the last of "," and "." is the decimal mark
    when both appear; one mark followed by groups of three is a thousands separator
    ("1.234", "1,234,567"), unless the currency has three decimals."""
    if "," in digits and "." in digits:
        mark = "," if digits.rfind(",") > digits.rfind(".") else "."
        thousands = "." if mark == "," else ","
        whole, _mark, fraction = digits.rpartition(mark)
        if not _grouped(whole, thousands) or not fraction.isdigit():
            raise InvalidOperation(digits)
        return f"{whole.replace(thousands, '')}.{fraction}"
    for mark in ",.":
        if mark in digits:
            head, *groups = digits.split(mark)
            # "0.500" is half a unit, never five hundred: a group never starts a number.
            if _grouped(digits, mark, first=r"[1-9]\d{0,2}") and (len(groups) > 1 or places < 3):
                return head + "".join(groups)
            if len(groups) > 1 or not groups[0]:
                raise InvalidOperation(digits)
            return f"{head}.{groups[0]}"
    return digits


_places = functools.cache(exponent)  # Babel rebuilds its list of currencies on every call

PLAIN_AMOUNT = re.compile(r"-?\d+(?:\.\d{1,2})?")  # no doubt about the marks: "1234.5"


def parse_amount(cell: object, currency: str) -> int:
    """Minor units of a balance cell, whatever the sheet wrote; ``InvalidCell`` if unreadable."""
    shown = text_of(cell)
    places = _places(currency)
    try:
        if isinstance(cell, bool):
            raise InvalidOperation(shown)
        if isinstance(cell, int | Decimal):
            value = Decimal(cell)
        elif isinstance(cell, float):
            value = Decimal(repr(cell))
            rounded = value.quantize(Decimal(1).scaleb(-places))
            if abs(value - rounded) < Decimal("1e-6"):  # 12.350000000000001 from a formula
                value = rounded
        elif PLAIN_AMOUNT.fullmatch(shown):
            value = Decimal(shown)
        else:
            value = _amount_text(shown, places)
        return to_minor(value, currency)
    except (InvalidOperation, IndexError):
        raise InvalidCell(_("“%(value)s” is not an amount.") % {"value": shown}) from None
    except AmountTooLarge:
        raise InvalidCell(too_large(currency)) from None
    except MoneyError:
        message = _("“%(value)s” has more decimals than %(currency)s has.")
        raise InvalidCell(message % {"value": shown, "currency": currency}) from None


YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T][\d:.]+)?")
DMY = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})(?:[ T][\d:.]+)?")
WORDY = ("%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y")


def _date_text(text: str, region: str) -> dt.date:
    if re.fullmatch(r"\d{5}", text):
        return _serial(int(text))
    if match := YMD.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
        return dt.date(year, month, day)
    if match := DMY.fullmatch(text):
        first, second, year = (int(part) for part in match.groups())
        month_first = region in MONTH_FIRST
        if first > 12 or second > 12:
            month_first = second > 12
        month, day = (first, second) if month_first else (second, first)
        return dt.date(year, month, day)
    for pattern in WORDY:
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def _serial(number: float) -> dt.date:
    """The date of an Excel serial number (days since 1899-12-30)."""
    if not 1 <= number < 2958466:
        raise ValueError(number)
    day: dt.datetime = from_excel(number)
    return day.date()


def parse_date(cell: object, region: str) -> dt.date:
    """A birthday from a date cell, an Excel serial, or text in the usual forms."""
    shown = text_of(cell)
    try:
        if isinstance(cell, dt.datetime):
            day = cell.date()
        elif isinstance(cell, dt.date):
            day = cell
        elif isinstance(cell, int | float) and not isinstance(cell, bool):
            day = _serial(cell)
        else:
            day = _date_text(shown, region)
    except (ValueError, OverflowError):
        raise InvalidCell(_("“%(value)s” is not a date.") % {"value": shown}) from None
    if not birthday_possible(day):
        raise InvalidCell(_("“%(value)s” is not a possible birthday.") % {"value": shown})
    return day


def _longest(name: str) -> int:
    return Customer.LONGEST[name]


def _clean_text(values: Values, name: str, text: str) -> None:
    if len(text) > _longest(name):
        message = _("The %(field)s is longer than %(count)s characters.")
        raise InvalidCell(message % {"field": Field(name).label.lower(), "count": _longest(name)})
    setattr(values, name, text)


def _code(values: Values, cell: object, rules: Rules) -> None:
    text = text_of(cell)
    if (code := normalize_code(text)) is None:
        message = _(
            "“%(value)s” is not a customer code (like K7MQ-4XZP); leave the code column "
            "out to give new codes."
        )
        raise InvalidCell(message % {"value": text})
    values.code = code


def _name(values: Values, cell: object, rules: Rules) -> None:
    name = " ".join(text_of(cell).split())
    _clean_text(values, "name", name if has_visible(name) else "")


def _phone(values: Values, cell: object, rules: Rules) -> None:
    text = text_of(cell)
    try:
        values.phone = normalize_phone(text, rules.region)
    except PhoneError:
        message = _("“%(phone)s” is not a phone number we can dial.")
        raise InvalidCell(message % {"phone": text}) from None


def _email(values: Values, cell: object, rules: Rules) -> None:
    text = text_of(cell)
    email = text.lower()
    if not email_possible(email):
        raise InvalidCell(_("“%(value)s” is not an email address.") % {"value": text})
    _clean_text(values, "email", email)


def _address(values: Values, cell: object, rules: Rules) -> None:
    _clean_text(values, "address", text_of(cell))


def _notes(values: Values, cell: object, rules: Rules) -> None:
    values.notes = text_of(cell)


def _birthday(values: Values, cell: object, rules: Rules) -> None:
    values.birthday = parse_date(cell, rules.region)


def _tags(values: Values, cell: object, rules: Rules) -> None:
    names = (" ".join(tag.split())[:40] for tag in re.split(r"[,;、，；]", text_of(cell)))
    values.tags = list(dict.fromkeys(tag for tag in names if tag))


def _balance(values: Values, cell: object, rules: Rules) -> None:
    values.opening_minor = parse_amount(cell, rules.currency)
    if values.opening_minor < 0:
        message = _("A balance cannot be negative (%(value)s).")
        raise InvalidCell(message % {"value": text_of(cell)})


CLEANERS: dict[Field, Callable[[Values, object, Rules], None]] = {
    Field.CODE: _code,
    Field.NAME: _name,
    Field.PHONE: _phone,
    Field.EMAIL: _email,
    Field.ADDRESS: _address,
    Field.NOTES: _notes,
    Field.BIRTHDAY: _birthday,
    Field.TAGS: _tags,
    Field.BALANCE: _balance,
}
