"""Day closes (Z-reports) and the reconciliation of payment providers' settlement files.

A close
    ``DayClose`` is the count of one drawer at the end of one of the shop's days: a
    store's day (``device`` empty) or one counter's shift (its day at that counter). It
    covers a span of time, ``starts_at`` to ``ends_at`` (excluded): the day, from its
    start — or from the moment the day before was closed, when that close was made
    before midnight — to its end, or to the moment it was closed when that came first.
    Postings are dated when they are made, so nothing can ever be posted into a closed
    span: what a close reports never changes, and ``digest`` (SHA-256 of the span's
    transactions, see ``digest.py``) lets ``prepaid verify`` prove it.

    A close is numbered per store, 1, 2, 3… without gaps (its Z number), when it is
    submitted. Its ``lines`` are what each payment method should have brought in and what
    was counted (cash) or settled (the others); a line whose difference is not zero
    carries an explanation. An owner or an accountant approves it or sends it back with a
    reason; a close sent back is corrected and submitted again under the same number.

A settlement
    ``Settlement`` is a provider's file (a card acquirer's, a mobile wallet's) for one
    payment method and a span of days, read with a column mapping. Its ``lines`` are
    matched to that method's top-ups and refunds (``matching.py``); what is left on
    either side may be resolved by hand with a note (``Resolution``). The total of the
    matched lines of a close's transactions is the "settled" amount the close proposes.

Amounts are ``int`` minor units, as everywhere below the forms. Nothing here writes the
ledger; these rows are written through the operations in ``operations.py`` and the
services in ``settlements.py``, each with its audit entry.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from prepaid.ledger.models import Batch, PaymentMethod
from prepaid.staff.models import Device, Staff, Store


class DayClose(models.Model):
    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        RETURNED = "returned", _("Sent back")

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    device = models.ForeignKey(
        Device,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The counter whose shift this is; empty for the whole store's day",
    )
    day = models.DateField()
    number = models.PositiveIntegerField(help_text="Z number: 1, 2, 3… per store, no gaps")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.SUBMITTED)
    currency = models.CharField(max_length=3)
    opening_float_minor = models.BigIntegerField(default=0)
    denominations = models.JSONField(
        default=dict, blank=True, help_text="Counted notes and coins: value in minor units → count"
    )
    totals = models.JSONField(default=dict, help_text="The span's totals when it was closed")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the span's transactions")
    transaction_count = models.PositiveIntegerField(default=0)
    revision = models.PositiveSmallIntegerField(default=1)
    closed_by = models.ForeignKey(
        Staff, on_delete=models.PROTECT, related_name="+", help_text="Who submitted it last"
    )
    closed_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("day close")
        verbose_name_plural = _("day closes")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["store", "number"], name="close_number_once"),
            models.UniqueConstraint(
                fields=["store", "day"],
                condition=Q(device__isnull=True),
                name="close_store_day_once",
            ),
            models.UniqueConstraint(
                fields=["device", "day"],
                condition=Q(device__isnull=False),
                name="close_counter_day_once",
            ),
            models.CheckConstraint(condition=Q(number__gt=0), name="close_number_positive"),
            models.CheckConstraint(
                condition=Q(ends_at__gte=models.F("starts_at")), name="close_span"
            ),
            models.CheckConstraint(
                condition=Q(opening_float_minor__gte=0), name="close_float_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["submitted", "approved", "returned"]), name="close_state"
            ),
        ]
        indexes: ClassVar = [models.Index(fields=["store", "-number"], name="close_store_number")]

    def __str__(self) -> str:
        return f"Z{self.number} {self.store_id} {self.day}"

    @property
    def difference_minor(self) -> int:
        """All the lines' differences together (counted or settled − expected)."""
        return sum(line.difference_minor for line in self.lines.all())


class CloseLine(models.Model):
    """One payment method in a close: what the ledger says it should have brought in,
    and what was counted (cash, with the opening float) or settled by the provider."""

    close = models.ForeignKey(DayClose, on_delete=models.CASCADE, related_name="lines")
    method = models.ForeignKey(PaymentMethod, on_delete=models.PROTECT, related_name="+")
    expected_minor = models.BigIntegerField()
    actual_minor = models.BigIntegerField(help_text="Counted (cash) or settled (the others)")
    matched_minor = models.BigIntegerField(
        null=True, blank=True, help_text="What matched settlement files said, when they did"
    )
    explanation = models.CharField(max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["position", "id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["close", "method"], name="close_line_once"),
        ]

    def __str__(self) -> str:
        return f"{self.method_id}: {self.expected_minor} / {self.actual_minor}"

    @property
    def difference_minor(self) -> int:
        return self.actual_minor - self.expected_minor


class Settlement(models.Model):
    """A payment provider's settlement file for one method and a span of the shop's
    days. ``sheet`` holds the file as read until its columns are chosen; then its lines
    are written, matched, and the sheet is let go."""

    class State(models.TextChoices):
        MAPPING = "mapping", _("Choose the columns")
        MATCHED = "matched", _("Matched")

    method = models.ForeignKey(PaymentMethod, on_delete=models.PROTECT, related_name="+")
    store = models.ForeignKey(
        Store,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Matched against this store's transactions; empty: every store's",
    )
    first_day = models.DateField()
    last_day = models.DateField()
    window_minutes = models.PositiveSmallIntegerField(default=15)
    file_name = models.CharField(max_length=255)
    state = models.CharField(max_length=10, choices=State.choices, default=State.MAPPING)
    sheet = models.JSONField(null=True, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    imported_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("settlement file")
        verbose_name_plural = _("settlement files")
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(last_day__gte=models.F("first_day")), name="settlement_span"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.method_id}, {self.first_day}–{self.last_day})"


class SettlementLine(models.Model):
    """One line of the provider's file: when, how much (negative: money given back), its
    reference; and the transaction of ours it was matched to, if any."""

    class Rule(models.TextChoices):
        REFERENCE = "reference", _("Same reference and amount")
        TIME = "time", _("Same amount, close in time")

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="lines")
    row = models.PositiveIntegerField(help_text="Row number in the file")
    occurred_at = models.DateTimeField()
    has_time = models.BooleanField(default=True, help_text="False: the file gave a date only")
    amount_minor = models.BigIntegerField()
    reference = models.CharField(max_length=100, blank=True)
    batch = models.OneToOneField(
        Batch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="settlement_line",
        help_text="Our transaction it matched: each transaction matches one line at most",
    )
    rule = models.CharField(max_length=10, choices=Rule.choices, blank=True)

    class Meta:
        ordering: ClassVar = ["occurred_at", "row"]

    def __str__(self) -> str:
        return f"row {self.row}: {self.amount_minor} {self.reference}"


class Resolution(models.Model):
    """An unmatched line — theirs (``line``) or ours (``batch``) — explained by a person."""

    settlement = models.ForeignKey(Settlement, on_delete=models.CASCADE, related_name="resolutions")
    line = models.OneToOneField(
        SettlementLine, null=True, blank=True, on_delete=models.CASCADE, related_name="resolution"
    )
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=500)
    resolved_by = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(line__isnull=True, batch__isnull=False)
                | Q(line__isnull=False, batch__isnull=True),
                name="resolution_one_side",
            ),
            models.UniqueConstraint(
                fields=["settlement", "batch"],
                condition=Q(batch__isnull=False),
                name="resolution_ours_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.settlement_id}: {self.note}"
