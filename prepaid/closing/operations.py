"""Closing a day and deciding on a close, as operations: each runs in the envelope (one
transaction, the role table, an idempotency key when the form has one), writes its audit
entry and its outbox event, and answers the close as the API shows it (``present``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.translation import gettext as _

from prepaid.closing import denominations, settlements
from prepaid.closing.digest import digest
from prepaid.closing.figures import CASH, Channel, channels, figures, totals
from prepaid.closing.models import CloseLine, DayClose
from prepaid.closing.spans import Place, Span, place_of, span
from prepaid.ledger.models import PaymentMethod
from prepaid.lib.money import MAX_MINOR, from_minor
from prepaid.operations.envelope import Context, Done, Operation
from prepaid.reports import days
from prepaid.staff import audit
from prepaid.staff.models import Staff, Store
from prepaid.staff.refusals import Refusal

LONGEST_TEXT = 500


@dataclass(frozen=True)
class CloseDay(Operation):
    """Close ``place``'s ``day`` (``store:3`` or ``counter:7``): the opening float, the
    cash counted (a total, or notes and coins as ``(value, count)``), what each other
    payment method's provider settled (``(method code, amount)``), and why any of them
    differs from what was expected (``(method code, text)``). With ``close``: submit a
    close that was sent back again, same span and number, with new counts."""

    action: ClassVar[str] = "day.close"
    moves_money: ClassVar[bool] = False

    place: str
    day: date
    opening_float_minor: int = 0
    counted_minor: int | None = None
    denominations: tuple[tuple[int, int], ...] = ()
    settled: tuple[tuple[str, int], ...] = ()
    explanations: tuple[tuple[str, str], ...] = ()
    close: int | None = None

    def perform(self, context: Context) -> Done:
        staff = _staff(context)
        place = place_of(self.place)
        if place is None:
            raise Refusal("not_found", what=_("store or counter"))
        if not may_close(staff, place.store):
            raise Refusal("close_other_store", name=place.store.name)
        self._check_amounts()
        revised = self._revised(place) if self.close is not None else None
        covered = _span_of(revised) if revised is not None else self._new_span(place)
        found = figures(place, covered)
        lines = self._lines(place, covered, channels(found, also=self._named_methods()))
        checksum, count = digest(place, covered.starts_at, covered.ends_at)
        fields: dict[str, Any] = {
            "opening_float_minor": self.opening_float_minor,
            "denominations": {
                str(value): count for value, count in self._counts().items() if count
            },
            "totals": totals(found),
            "digest": checksum,
            "transaction_count": count,
            "closed_by": staff,
            "closed_at": timezone.now(),
        }
        if revised is None:
            close = DayClose.objects.create(
                store=place.store,
                device=place.device,
                day=covered.day,
                number=_next_number(place.store),
                starts_at=covered.starts_at,
                ends_at=covered.ends_at,
                currency=context.business.currency,
                **fields,
            )
        else:
            close = _resubmit(revised, fields)
        for line in lines:
            line.close = close
        CloseLine.objects.bulk_create(lines)
        data = present(close)
        action = "day.closed" if revised is None else "day.resubmitted"
        audit.record(
            action, f"day_close:{close.pk}", by=staff, store=place.store, after=_stored(data)
        )
        context.emit("day.closed", data, customer=None)
        return Done(data, status=201 if revised is None else 200)

    def _check_amounts(self) -> None:
        amounts = [self.opening_float_minor, self.counted_minor or 0]
        amounts += [count for _value, count in self.denominations]
        if any(amount < 0 for amount in amounts):
            raise Refusal("validation_error", detail=_("Counts and amounts cannot be negative."))
        # A note or coin is worth something: a value of 0 or below would count nothing,
        # or take money out of the drawer's count.
        if any(value <= 0 for value, _count in self.denominations):
            raise Refusal("validation_error", detail=_("A note or coin has a value above zero."))
        if any(count > denominations.MAX_COUNT for _value, count in self.denominations):
            detail = _("At most %(count)s pieces of one kind.") % {"count": denominations.MAX_COUNT}
            raise Refusal("validation_error", detail=detail)
        every = amounts + [abs(amount) for _code, amount in self.settled]
        every += [value for value, _count in self.denominations]
        every.append(denominations.total(self._counts()))  # the counts together, too
        if any(amount > MAX_MINOR for amount in every):
            raise Refusal("amount_too_large")
        if any(len(text) > LONGEST_TEXT for _code, text in self.explanations):
            detail = _("An explanation has at most %(count)s characters.") % {"count": LONGEST_TEXT}
            raise Refusal("validation_error", detail=detail)

    def _new_span(self, place: Place) -> Span:
        now = timezone.now()
        if self.day > days.today(now):
            raise Refusal("day_not_started", field="day")
        if place.closes().filter(day=self.day).exists():
            raise Refusal("day_already_closed", name=place.name)
        return span(place, self.day, now)

    def _revised(self, place: Place) -> DayClose:
        assert self.close is not None
        found = DayClose.objects.select_for_update().filter(pk=self.close).first()
        if found is None or Place.of(found) != place or found.day != self.day:
            raise Refusal("not_found", what=_("day close"))
        if found.state != DayClose.State.RETURNED:
            raise Refusal("close_not_returned")
        return found

    def _named_methods(self) -> list[PaymentMethod]:
        """Cash (always counted), and every method a settled amount was given for."""
        codes = {CASH} | {code for code, _amount in self.settled}
        named = list(PaymentMethod.objects.filter(code__in=codes))
        unknown = codes - {method.code for method in named} - {CASH}
        if unknown:  # an amount for no method would be dropped without a word
            raise Refusal("not_found", field="settled", what=_("payment method"))
        return named

    def _lines(self, place: Place, covered: Span, found: list[Channel]) -> list[CloseLine]:
        """A line per payment method: expected, counted or settled, the explanation; a
        difference without one is refused."""
        settled = dict(self.settled)
        explained = {code: text.strip() for code, text in self.explanations}
        lines = []
        for position, channel in enumerate(found):
            method = channel.method
            if channel.is_cash:
                expected = self.opening_float_minor + channel.net
                actual = self._counted()
                matched = None
            else:
                expected = channel.net
                matched = settlements.matched_total(method, place, covered)
                actual = settled.get(method.code, 0)
            line = CloseLine(
                method=method,
                expected_minor=expected,
                actual_minor=actual,
                matched_minor=matched,
                explanation=explained.get(method.code, ""),
                position=position,
            )
            if line.difference_minor and not line.explanation:
                raise Refusal(
                    "difference_unexplained",
                    field=f"explain_{method.code}",
                    method=method.label,
                    difference=line.difference_minor,
                )
            lines.append(line)
        return lines

    def _counts(self) -> dict[int, int]:
        """value → count; a value given twice counts twice (two rows of one form)."""
        counts: dict[int, int] = {}
        for value, count in self.denominations:
            counts[value] = counts.get(value, 0) + count
        return counts

    def _counted(self) -> int:
        if self.denominations:
            return denominations.total(self._counts())
        return self.counted_minor or 0


def may_close(staff: Staff, store: Store) -> bool:
    """Whether ``staff`` may close ``store``'s days (with ``day.close``): the owner any
    store's; a manager their own stores', or any when assigned to none (a shop whose
    managers work everywhere)."""
    if staff.role == Staff.Role.OWNER:
        return True
    assigned = staff.stores.all()
    return not assigned.exists() or assigned.filter(pk=store.pk).exists()


def _staff(context: Context) -> Staff:
    """Closes and approvals are made by people, in the back office."""
    if context.actor.staff is None:
        raise Refusal("permission_denied")
    return context.actor.staff


def _span_of(close: DayClose) -> Span:
    return Span(close.day, close.starts_at, close.ends_at)


def _next_number(store: Store) -> int:
    """The store's next Z number. The store's row is locked first (PostgreSQL; SQLite
    has one writer), so two closes at once take 7 and 8, never 7 twice; the unique
    constraint on (store, number) backs it."""
    Store.objects.select_for_update().filter(pk=store.pk).first()
    last = DayClose.objects.filter(store=store).order_by("-number").first()
    return 1 if last is None else last.number + 1


def _resubmit(close: DayClose, fields: dict[str, Any]) -> DayClose:
    """A close sent back, counted again: same span, same number; its lines replaced. Its
    digest stays the one taken when the day was first closed: a closed span never
    changes, so counting again must not bless a change ``verify`` would report."""
    close.lines.all().delete()
    for name, value in fields.items():
        if name not in ("digest", "transaction_count"):
            setattr(close, name, value)
    close.state = DayClose.State.SUBMITTED
    close.revision += 1
    close.decided_by, close.decided_at, close.decision_note = None, None, ""
    close.save()
    return close


@dataclass(frozen=True)
class DecideClose(Operation):
    """Approve a submitted close, or send it back with a reason. Never by the person who
    submitted it."""

    action: ClassVar[str] = "day.approve"
    moves_money: ClassVar[bool] = False

    close: int
    approve: bool
    note: str = ""

    def perform(self, context: Context) -> Done:
        staff = _staff(context)
        # Lock the close's row only: the counter is an outer join (a store's close has
        # none), and PostgreSQL cannot lock the nullable side of one.
        found = (
            DayClose.objects.select_for_update(of=("self",))
            .select_related("store", "device")
            .filter(pk=self.close)
            .first()
        )
        if found is None:
            raise Refusal("not_found", what=_("day close"))
        if found.state != DayClose.State.SUBMITTED:
            raise Refusal("close_not_waiting")
        if found.closed_by_id == staff.pk:
            raise Refusal("close_own_approval")
        note = self.note.strip()
        if not self.approve and not note:
            raise Refusal("reason_required", field="note")
        if len(note) > LONGEST_TEXT:
            detail = _("A note has at most %(count)s characters.") % {"count": LONGEST_TEXT}
            raise Refusal("validation_error", field="note", detail=detail)
        before = {"state": found.state}
        found.state = DayClose.State.APPROVED if self.approve else DayClose.State.RETURNED
        found.decided_by, found.decided_at, found.decision_note = staff, timezone.now(), note
        found.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        data = present(found)
        action = "day.approved" if self.approve else "day.returned"
        subject = f"day_close:{found.pk}"
        audit.record(
            action, subject, by=staff, store=found.store, before=before, after=_stored(data)
        )
        context.emit(action, data, customer=None)
        return Done(data, status=200)


# -- the close as JSON ------------------------------------------------------------------


def _stored(data: dict[str, Any]) -> dict[str, Any]:
    """``present``'s answer as the audit trail's JSON column keeps it: its days and
    moments as text (the column's encoder knows no dates), as the API writes them."""
    stored: dict[str, Any] = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    return stored


def present(close: DayClose) -> dict[str, Any]:
    """A close as ``GET /day-closes`` answers; also the data of its events. Money as
    decimal strings of the major unit."""
    currency = close.currency

    def money(amount_minor: int | None) -> str | None:
        return None if amount_minor is None else str(from_minor(amount_minor, currency))

    lines = list(close.lines.select_related("method").all())
    cash = next((line for line in lines if line.method.code == CASH), None)
    return {
        "id": close.pk,
        "number": close.number,
        "store": close.store_id,
        "store_name": close.store.name,
        "counter": close.device_id,
        "counter_name": close.device.name if close.device else None,
        "day": close.day,
        "starts_at": close.starts_at,
        "ends_at": close.ends_at,
        "state": close.state,
        "currency": currency,
        "totals": {
            part: {name: value if name == "count" else money(value) for name, value in sums.items()}
            for part, sums in close.totals.items()
        },
        "opening_float": money(close.opening_float_minor),
        "expected_cash": money(cash.expected_minor) if cash else None,
        "counted_cash": money(cash.actual_minor) if cash else None,
        "cash_difference": money(cash.difference_minor) if cash else None,
        "denominations": [
            {"value": money(int(value)), "count": count}
            for value, count in sorted(close.denominations.items(), key=lambda i: -int(i[0]))
        ],
        "channels": [
            {
                "method": line.method.code,
                "name": line.method.label,
                "expected": money(line.expected_minor),
                "actual": money(line.actual_minor),
                "difference": money(line.difference_minor),
                "matched": money(line.matched_minor),
                "explanation": line.explanation,
            }
            for line in lines
        ],
        "difference": money(sum(line.difference_minor for line in lines)),
        "digest": close.digest,
        "transactions": close.transaction_count,
        "revision": close.revision,
        "closed_by": close.closed_by.name,
        "closed_at": close.closed_at,
        "decided_by": close.decided_by.name if close.decided_by else None,
        "decided_at": close.decided_at,
        "decision_note": close.decision_note,
    }
