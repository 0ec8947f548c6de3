"""Day closes (Z-reports), read (API.md, "Reports": ``GET /day-closes``). Closing a day
and approving it are done in the back office, by people; the API lists what was closed,
with the close's number, totals, counted cash, differences and digest."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from prepaid.api.common import cursor_id, page_limit
from prepaid.api.errors import invalid, not_found
from prepaid.api.permissions import endpoint, require
from prepaid.api.schemas import ErrorOut, Input
from prepaid.closing.models import DayClose
from prepaid.closing.operations import present
from prepaid.lib.numbers import whole_number

router = Router(tags=["reports"])
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class SumsOut(Schema):
    count: int
    amount: str
    bonus: str | None = Field(None, description="Top-ups: the bonus given with them")
    from_bonus: str | None = Field(None, description="Sales: the part paid by bonus")
    forfeited: str | None = Field(None, description="Refunds: the bonus forfeited")


class TotalsOut(Schema):
    top_ups: SumsOut
    packages: SumsOut | None = Field(
        None, description="Punch cards sold (absent from closes made before they existed)"
    )
    sales: SumsOut
    refunds: SumsOut
    reversals: SumsOut


class ChannelOut(Schema):
    method: str = Field(description="The payment method's code", examples=["cash"])
    name: str = Field(examples=["Cash"])
    expected: str = Field(
        description="What it should have brought in (cash: with the opening float)",
        examples=["1250.00"],
    )
    actual: str = Field(description="Counted (cash) or settled (the others)")
    difference: str = Field(description="actual − expected", examples=["-20.00"])
    matched: str | None = Field(description="What matched settlement file lines say, if any")
    explanation: str


class CountedOut(Schema):
    value: str = Field(description="A note or coin", examples=["100.00"])
    count: int


class DayCloseOut(Schema):
    id: int
    number: int = Field(description="Z number: 1, 2, 3… per store, without gaps")
    store: int
    store_name: str
    counter: int | None = Field(description="The counter whose shift this is; null: the store")
    counter_name: str | None
    day: date = Field(description="The shop's calendar day closed")
    starts_at: datetime = Field(description="The span the close covers, from…")
    ends_at: datetime = Field(description="…to (excluded)")
    state: str = Field(description="`submitted`, `approved` or `returned`")
    currency: str
    totals: TotalsOut
    opening_float: str
    expected_cash: str | None
    counted_cash: str | None
    cash_difference: str | None
    denominations: list[CountedOut]
    channels: list[ChannelOut]
    difference: str = Field(description="All the channels' differences together")
    digest: str = Field(description="SHA-256 of the span's transactions (docs/reports.md)")
    transactions: int = Field(description="How many transactions the digest covers")
    revision: int = Field(description="How many times it was counted (sent back: +1)")
    closed_by: str
    closed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str


class DayClosePage(Schema):
    results: list[DayCloseOut]
    next: str | None = Field(description="Cursor of the next (older) page, or null")


class DayCloseParams(Input):
    store: int | None = Field(None, description="A store's id; without it, every store")
    state: str | None = Field(None, description="`submitted`, `approved` or `returned`")
    limit: int | None = None
    cursor: str | None = None


def _closes() -> Any:
    return DayClose.objects.select_related("store", "device", "closed_by", "decided_by")


@router.get(
    "/day-closes",
    response={200: DayClosePage, **ERRORS},
    **endpoint(
        "reports.read",
        "Closed days, newest first",
        description="Each store's day or counter's shift that was closed, with its Z"
        " number, totals, counted cash, each payment method's expected and actual amount,"
        " the differences with their explanations, and the digest of its transactions.",
    ),
)
def list_closes(request: HttpRequest, params: Query[DayCloseParams]) -> dict[str, Any]:
    require(request, "reports.read")
    limit, before = page_limit(params.limit), cursor_id(params.cursor)
    found = _closes().order_by("-id")
    if params.store is not None:
        found = found.filter(store_id=params.store)
    if params.state is not None:
        if params.state not in DayClose.State.values:
            raise invalid(_("The state is submitted, approved or returned."), "state")
        found = found.filter(state=params.state)
    if before is not None:
        found = found.filter(id__lt=before)
    page = list(found[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return {
        "results": [present(close) for close in page],
        "next": str(page[-1].pk) if more else None,
    }


@router.get(
    "/day-closes/{close_id}",
    response={200: DayCloseOut, **ERRORS},
    **endpoint("reports.read", "One closed day"),
)
def get_close(request: HttpRequest, close_id: str) -> dict[str, Any]:
    require(request, "reports.read")
    found = None
    if (number := whole_number(close_id)) is not None:
        found = _closes().filter(pk=number).first()
    if found is None:
        raise not_found(_("day close"))
    return present(found)
