"""Summaries of past days, so that a month or a year of statements and liability reads a
few hundred rows instead of millions of transfers.

A day that has ended never changes: its transfers are immutable and new ones are dated
now. The worker that runs beside the server (``prepaid serve``; the outbox's loop)
summarises each day once, shortly after it ends in the shop's time zone, and fills in
the days before it on its first run. Nothing in the posting path writes here: a sale
never waits on a shared summary row. Reports read the summaries of the days that have
them and add up the rest (today, and any day not summarised yet) from the ledger.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models


class Flow(models.Model):
    """What moved in a stretch of time, at one store, counter, staff member or token, of
    one kind: the rows a statement adds up.

    ``kind`` and ``key``: ``top_up``/method id (amount paid, bonus given), ``package``/
    method id (punch cards sold: amount paid), ``sale``/
    product id (lines, quantity, amount, the part paid by bonus), ``refund``/method id
    (amount, bonus forfeited), ``reversal``/"<code of the original>:<method or 0>"
    (paid and bonus given back or taken back), ``opening``/"", ``adjustment``/"",
    ``expiry``/"".
    """

    store_id = models.BigIntegerField()
    device_id = models.BigIntegerField(null=True)
    staff_id = models.BigIntegerField(null=True)
    api_token_id = models.BigIntegerField(null=True)
    kind = models.CharField(max_length=20)
    key = models.CharField(max_length=40, blank=True)
    count = models.BigIntegerField(default=0)
    amount = models.BigIntegerField(default=0)
    bonus = models.BigIntegerField(default=0)
    quantity = models.DecimalField(max_digits=18, decimal_places=3, default=0)

    class Meta:
        abstract = True


class FlowDay(Flow):
    """What moved on one finished day (see ``Flow``)."""

    day = models.DateField()

    class Meta:
        indexes: ClassVar = [models.Index(fields=["day", "store_id"], name="flowday_day_store")]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}:{self.key}"


class LiabilityDay(models.Model):
    """What the shop owed its customers at the end of one day (in its time zone): paid
    balances above zero, bonus, and credit (what customers owed the shop: the paid
    balances below zero, as a positive amount, never netted against the rest).

    Written with the day's ``FlowDay`` rows in one transaction: a day that has its
    ``LiabilityDay`` is summarised."""

    day = models.DateField(unique=True)
    paid = models.BigIntegerField()
    bonus = models.BigIntegerField()
    credit = models.BigIntegerField()
    holders = models.BigIntegerField(help_text="Customers with a paid or bonus balance")

    def __str__(self) -> str:
        return f"{self.day}: {self.paid} + {self.bonus}, credit {self.credit}"


class Interim(models.Model):
    """Today so far, up to ``until``: what was owed then, and (``InterimFlow``) what moved
    from the day's start until then.

    Today never ends while it is read, so it cannot be summarised for good; reading it
    all from the ledger costs a second at ten million transfers. The worker keeps this
    one row per day a few minutes behind the clock (``days.keep_interim``), so a
    statement of today adds up the interim and the few minutes after it. ``until`` is
    at least ``days.SETTLE`` before the moment it was written: every transfer dated
    before it had committed. The day's summary replaces it."""

    day = models.DateField(unique=True)
    until = models.DateTimeField()
    paid = models.BigIntegerField()
    bonus = models.BigIntegerField()
    credit = models.BigIntegerField()
    holders = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.day} until {self.until:%H:%M}"


class InterimFlow(Flow):
    """What moved on the interim's day until its ``until`` (see ``Flow``)."""

    interim = models.ForeignKey(Interim, on_delete=models.CASCADE, related_name="flows")

    def __str__(self) -> str:
        return f"{self.interim} {self.kind}:{self.key}"


class Outlook(models.Model):
    """How old the money customers hold is, how much of it is expected to be used and who
    holds it without coming back (``balances.aging``, ``burn_down``, ``dormant_all``) as
    they were at ``computed_at``.

    Both read every customer holding money: seconds at a million customers. The worker
    computes them once a day, shortly after the day ends, and on demand from the
    reports page; the pages and the API read the latest and say when it was computed.
    Each computation is kept: the rows are a history of the aging and the outlook."""

    computed_at = models.DateTimeField(db_index=True)
    aged = models.JSONField(help_text="Paid money per age bucket, youngest first")
    held = models.BigIntegerField()
    within_30 = models.BigIntegerField()
    within_60 = models.BigIntegerField()
    within_90 = models.BigIntegerField()
    breakage = models.BigIntegerField()
    customers = models.BigIntegerField()
    quiet_customers = models.BigIntegerField()
    dormant = models.JSONField(
        default=dict,
        help_text="By day count: customers quiet that long, their paid and bonus, the largest",
    )

    def __str__(self) -> str:
        return f"outlook at {self.computed_at:%Y-%m-%d %H:%M}"
