"""The figures of a place over a span as the X-report, the close form and the counter's
X-report show them: the statement, what each payment method should have brought in, and
the corrections of days already closed."""

from __future__ import annotations

from dataclasses import dataclass

from prepaid.closing.figures import CASH, Channel, Correction, channels, corrections, figures
from prepaid.closing.spans import Place, Span, open_span
from prepaid.ledger.models import PaymentMethod
from prepaid.reports.statements import Statement


@dataclass(frozen=True)
class Running:
    place: Place
    span: Span
    statement: Statement
    channels: list[Channel]  # cash first, always; then every method that moved money
    corrections: list[Correction]


def running(place: Place, covered: Span | None = None) -> Running:
    """``place``'s figures over ``covered`` (by default its open span: since its last
    close, or since the day began)."""
    covered = covered or open_span(place)
    found = figures(place, covered)
    cash = list(PaymentMethod.objects.filter(code=CASH))
    return Running(
        place,
        covered,
        found,
        channels(found, also=cash),
        corrections(covered.starts_at, covered.ends_at, place.scope),
    )
