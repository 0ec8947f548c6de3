"""What a message says: rendered once, when its row is written, in the customer's
language (``language_of``), with the shop's name; an e-mail has a plain-text and an
HTML part, from ``templates/messaging/<kind>.txt`` and ``.html``, and an SMS a text
from ``<kind>_sms.txt``."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from prepaid.customers.models import Customer
from prepaid.lib.dates import format_day, format_when
from prepaid.lib.money import format_money, to_minor
from prepaid.staff.models import Business


@dataclass(frozen=True)
class Written:
    subject: str
    text: str
    html: str


def language_of(customer: Customer, business: Business) -> str:
    """The customer's language, else the shop's, else the installation's."""
    known = {code for code, _name in settings.LANGUAGES}
    for language in (customer.language, business.language, settings.LANGUAGE_CODE):
        if language in known:
            return language
    return settings.LANGUAGE_CODE


class Amounts:
    """Money of the message as the reader writes it, in the shop's currency."""

    def __init__(self, business: Business, language: str) -> None:
        self.business, self.language = business, language

    def minor(self, amount_minor: int) -> str:
        currency, region = self.business.currency, self.business.region
        return format_money(amount_minor, currency, self.language, region=region)

    def text(self, amount: str | Decimal | None) -> str:
        if amount is None:
            return ""
        return self.minor(abs(to_minor(Decimal(str(amount)), self.business.currency)))


def _local(moment: datetime | str, business: Business) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return timezone.localtime(moment, zoneinfo.ZoneInfo(business.time_zone))


def _when(moment: datetime | str, business: Business, language: str) -> str:
    """As the counter's receipt and the statements write a moment (``lib.dates``)."""
    return format_when(_local(moment, business), language, region=business.region)


def _day(moment: datetime | str, business: Business, language: str) -> str:
    return format_day(_local(moment, business), language, region=business.region)


def _render(kind: str, context: dict[str, Any]) -> tuple[str, str]:
    text = render_to_string(f"messaging/{kind}.txt", context).strip() + "\n"
    html = render_to_string(f"messaging/{kind}.html", context)
    return text, html


def receipt(data: dict[str, Any], business: Business, language: str, unsubscribe: str) -> Written:
    """A receipt for a top-up, a sale, a cash-out or a punch card or pass bought, from
    its event's data (the API's answer: the counter's receipt shows the same fields)."""
    with translation.override(language):
        amounts = Amounts(business, language)
        kind = data.get("kind", "")
        titles = {
            "top_up": gettext("Top-up"),
            "sale": gettext("Sale"),
            "refund": gettext("Money paid back"),
            "package": gettext("Punch card") if data.get("punch_card") else gettext("Pass"),
        }
        lines = [
            {
                "name": line["name"],
                "quantity": f"{Decimal(str(line['quantity'])).normalize():f}",
                "amount": amounts.text(line["amount"]),
                "discount": amounts.text(line["discount"])
                if Decimal(str(line.get("discount") or 0))
                else "",
            }
            for line in data.get("lines") or []
        ]
        if kind == "package":
            lines = [_program_line(data, amounts, business)]
        balance = Decimal(str(data.get("balance") or 0))
        bonus = Decimal(str(data.get("bonus_balance") or 0))
        context = {
            "shop": business.name,
            "title": titles.get(kind, kind),
            "kind": kind,
            "when": _when(data["created_at"], business, language),
            "store": data.get("store", ""),
            "number": data.get("id"),
            "lines": lines,
            "total": amounts.text(data.get("total")),
            "paid": amounts.text(data.get("amount"))
            if Decimal(str(data.get("amount") or 0))
            else "",
            "bonus": amounts.text(data.get("bonus_amount"))
            if Decimal(str(data.get("bonus_amount") or 0))
            else "",
            "discount": amounts.text(data.get("discount"))
            if Decimal(str(data.get("discount") or 0))
            else "",
            "balance": amounts.text(balance) if balance >= 0 else "-" + amounts.text(balance),
            "bonus_balance": amounts.text(bonus) if bonus else "",
            "unsubscribe": unsubscribe,
        }
        subject = gettext("Your receipt from %(shop)s") % {"shop": business.name}
        text, html = _render("receipt", context)
    return Written(subject, text, html)


def _program_line(data: dict[str, Any], amounts: Amounts, business: Business) -> dict[str, str]:
    """The punch card or pass bought, as the receipt's one line: its name, its uses and
    until when it is good ("10 refills (11 uses, until Mar 3, 2027)")."""
    card, time_pass = data.get("punch_card"), data.get("pass")
    program = card or time_pass or {}
    until = program.get("expires_at") if card else program.get("valid_until")
    details = []
    if card:
        uses = int(card["uses"])
        details.append(ngettext("%(count)s use", "%(count)s uses", uses) % {"count": uses})
    if until:
        day = _day(until, business, amounts.language)
        details.append(gettext("until %(day)s") % {"day": day})
    name = str(program.get("name", ""))
    return {
        "name": name + (" (" + ", ".join(details) + ")" if details else ""),
        "quantity": "1",
        "amount": amounts.text(data.get("total")),
        "discount": "",
    }


def low_balance(
    balance_minor: int, business: Business, language: str, unsubscribe: str, *, sms: bool
) -> Written:
    with translation.override(language):
        context = {
            "shop": business.name,
            "balance": Amounts(business, language).minor(balance_minor),
            "unsubscribe": unsubscribe,
        }
        subject = gettext("Your balance at %(shop)s is low") % {"shop": business.name}
        if sms:
            text = render_to_string("messaging/low_balance_sms.txt", context).strip()
            return Written(subject, text, "")
        text, html = _render("low_balance", context)
    return Written(subject, text, html)


def bonus_reminder(
    amount_minor: int,
    by: datetime,
    business: Business,
    language: str,
    unsubscribe: str,
    *,
    sms: bool,
) -> Written:
    with translation.override(language):
        context = {
            "shop": business.name,
            "what": "bonus",
            "amount": Amounts(business, language).minor(amount_minor),
            "day": _day(by, business, language),
            "unsubscribe": unsubscribe,
        }
        subject = gettext("Your bonus at %(shop)s expires soon") % {"shop": business.name}
        return _reminder(context, subject, sms=sms)


def pass_reminder(
    name: str, ends: datetime, business: Business, language: str, unsubscribe: str, *, sms: bool
) -> Written:
    with translation.override(language):
        context = {
            "shop": business.name,
            "what": "pass",
            "name": name,
            "day": _day(ends, business, language),
            "unsubscribe": unsubscribe,
        }
        subject = gettext("Your pass at %(shop)s ends soon") % {"shop": business.name}
        return _reminder(context, subject, sms=sms)


def _reminder(context: dict[str, Any], subject: str, *, sms: bool) -> Written:
    if sms:
        text = render_to_string("messaging/expiry_reminder_sms.txt", context).strip()
        return Written(subject, text, "")
    text, html = _render("expiry_reminder", context)
    return Written(subject, text, html)
