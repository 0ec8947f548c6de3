"""Which column holds which field: recognised by its header in English, Chinese or
Dutch ("Mobile", "手机号码（必填）", "Telefoon"), or chosen by the person."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from prepaid.lib.text import fold
from prepaid.sales.importing.problems import ImportProblem

if TYPE_CHECKING:  # reading finds the header row by these headers: it imports this module
    from prepaid.sales.importing.reading import Sheet


class Field(models.TextChoices):
    CODE = "code", gettext_lazy("Code")
    NAME = "name", gettext_lazy("Name")
    PHONE = "phone", gettext_lazy("Phone")
    EMAIL = "email", gettext_lazy("Email")
    BALANCE = "balance", gettext_lazy("Opening balance")
    NOTES = "notes", gettext_lazy("Notes")
    ADDRESS = "address", gettext_lazy("Address")
    BIRTHDAY = "birthday", gettext_lazy("Birthday")
    TAGS = "tags", gettext_lazy("Tags")


Mapping = dict[Field, int]  # field → column index (0 = column A)

# Known headers, written as ``header_key`` leaves them: folded, letters and digits only.
HEADERS: dict[Field, tuple[str, ...]] = {
    Field.CODE: ("code", "customercode", "klantcode", "编号", "客户编号", "会员编号", "会员号"),
    Field.NAME: (
        *("name", "fullname", "customer", "customername", "naam", "klant", "klantnaam"),
        *("姓名", "名字", "客户", "客户姓名", "客户名称", "会员", "会员姓名", "顾客"),
    ),
    Field.PHONE: (
        *("phone", "phonenumber", "mobile", "mobilenumber", "mobilephone", "cellphone"),
        *("cell", "tel", "telephone", "contactnumber", "telefoon", "telefoonnummer"),
        *("mobiel", "mobielnummer", "gsm", "电话", "手机", "手机号", "手机号码", "电话号码"),
        *("联系电话", "联系方式"),
    ),
    Field.EMAIL: ("email", "emailaddress", "mail", "emailadres", "邮箱", "电子邮件", "电子邮箱"),
    Field.BALANCE: (
        *("balance", "openingbalance", "currentbalance", "amount", "saldo", "tegoed"),
        *("beginsaldo", "余额", "金额", "储值", "储值余额", "卡内余额"),
    ),
    Field.NOTES: (
        *("notes", "note", "remarks", "remark", "comments", "comment", "opmerkingen"),
        *("opmerking", "notities", "notitie", "备注", "说明"),
    ),
    Field.ADDRESS: ("address", "adres", "地址", "住址"),
    Field.BIRTHDAY: (
        *("birthday", "birthdate", "dateofbirth", "dob", "geboortedatum", "verjaardag"),
        *("生日", "出生日期"),
    ),
    Field.TAGS: ("tags", "tag", "labels", "label", "group", "groep", "标签", "分组"),
}
KNOWN_HEADERS = {alias: name for name, aliases in HEADERS.items() for alias in aliases}


def header_key(header: str) -> str:
    """ "Phone (mobile)", "E-mail ", "手机号码（必填）" → "phone", "email", "手机号码"."""
    without_notes = re.sub(r"[(（\[【].*?[)）\]】]", "", header)
    return "".join(ch for ch in fold(without_notes) if ch.isalnum())


def header_field(header: str) -> Field | None:
    return KNOWN_HEADERS.get(header_key(header))


def detect(headers: Sequence[str]) -> Mapping:
    """Fields recognised by their headers; the first column wins when two say the same."""
    mapping: Mapping = {}
    for column, header in enumerate(headers):
        found = header_field(header)
        if found is not None and found not in mapping:
            mapping[found] = column
    return mapping


def mapping_of(choices: Sequence[str]) -> Mapping:
    """The mapping from one choice per column ("" leaves the column out)."""
    mapping: Mapping = {}
    for column, choice in enumerate(choices):
        if not choice:
            continue
        if choice not in Field.values:
            raise ImportProblem(_("Unknown field %(name)s.") % {"name": choice})
        chosen = Field(choice)
        if chosen in mapping:
            raise ImportProblem(
                _("%(field)s is chosen for two columns; choose it once.") % {"field": chosen.label}
            )
        mapping[chosen] = column
    return mapping


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def find_column(sheet: Sheet, reference: str) -> int:
    """A column by its letter ("B"), its number ("2") or its header ("Telefoon")."""
    wanted = reference.strip()
    for index, header in enumerate(sheet.headers):
        if wanted.upper() == column_letter(index) or wanted == str(index + 1):
            return index
        if header and header_key(header) == header_key(wanted):
            return index
    raise ImportProblem(_("The sheet has no column %(name)s.") % {"name": reference})
