"""``prepaid report``: a day's statement for cron jobs, printed or written."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from prepaid.sales import services as sales
from tests.factories import make_customer

pytestmark = pytest.mark.django_db


def test_the_daily_report_prints_a_day_and_writes_a_workbook(actor, tmp_path):
    from decimal import Decimal

    import openpyxl

    from tests.factories import make_product

    customer = make_customer(balance="20.00", actor=actor)
    sales.sell(customer, [sales.Line(make_product(price="0.25"), Decimal(8))], key="s", actor=actor)
    out = StringIO()
    call_command("report", "daily", "--date", timezone.localdate().isoformat(), stdout=out)
    assert "Cash: 1 × → $20.00" in out.getvalue() and "Net change: $18.00" in out.getvalue()
    target = tmp_path / "day.xlsx"
    call_command(
        "report", "daily", "--date", timezone.localdate().isoformat(), "--xlsx", str(target),
        stdout=StringIO(),
    )  # fmt: skip
    assert openpyxl.load_workbook(target)["Sales"]["E2"].value == 2


def test_the_report_command_refuses_what_it_cannot_read(business):
    with pytest.raises(CommandError, match="not a date"):
        call_command("report", "daily", "--date", "yesterday")
    with pytest.raises(CommandError, match="no store"):
        call_command("report", "daily", "--store", "Nowhere")
