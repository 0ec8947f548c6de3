"""Request and response bodies of /api/v1, every field described with an example.

Money travels as decimal strings in the currency's major unit ("12.50"); unit prices
may carry 4 decimals ("0.3490"), quantities 3 ("2.5"). Below the schemas everything is
integer minor units.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import field_validator

AMOUNT = r"^[0-9]{1,18}(\.[0-9]{1,3})?$"  # the currency decides the decimals; the ceiling, the size
QUANTITY = r"^[0-9]{1,9}(\.[0-9]{1,3})?$"
OPTIONAL_AMOUNT = r"^([0-9]{1,18}(\.[0-9]{1,3})?)?$"  # "" stands for "the shop's"
Language = Literal["", "en", "zh-hans", "nl"]  # settings.LANGUAGES; "": the shop's
# A customer's message preferences, as POST /customers and PATCH take them (docs/messages.md).
MessageLanguage = Annotated[
    Language | None,
    Field(description="The language of the messages sent to them; empty: the shop's"),
]
EmailReceipts = Annotated[
    bool | None,
    Field(description="Receipts and balance notices by e-mail (on unless turned off)"),
]
LowBalance = Annotated[
    str | None,
    Field(
        description="A low-balance notice goes when a sale takes the balance below this;"
        ' "" the shop\'s level, "0" none for this customer',
        examples=["50.00"],
        pattern=OPTIONAL_AMOUNT,
    ),
]
PRICE = r"^[0-9]{1,10}(\.[0-9]{1,4})?$"
COLOUR = r"^(#[0-9a-fA-F]{6})?$"


class Input(Schema):
    """A request body or query: text must be text a database can store."""

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        if isinstance(value, str) and not _storable_text(value):
            raise ValueError("text must not contain NUL characters or lone surrogates")
        return value


def _storable_text(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class ErrorDetail(Schema):
    code: str = Field(description="Machine-readable code", examples=["insufficient_funds"])
    message: str = Field(description="Human text, in the request's language")
    fields: dict[str, str] = Field(description="Message per field at fault", examples=[{}])


class ErrorOut(Schema):
    error: ErrorDetail


class Health(Schema):
    status: str = Field(examples=["ok"])
    database: str = Field(examples=["ok"])


# -- customers ------------------------------------------------------------------------


class CustomerIn(Input):
    name: str = Field(description="Full name", examples=["Maria Santos"], max_length=120)
    phone: str | None = Field(
        None, description="Any common format; stored in E.164", examples=["0917 123 4567"]
    )
    email: str | None = Field(None, examples=["maria@example.com"], max_length=254)
    address: str | None = Field(None, examples=["12 Rizal St"], max_length=255)
    notes: str | None = Field(None, examples=["Prefers 5-gallon jugs"])
    marketing_sms: bool | None = Field(None, description="Consent to SMS marketing")
    marketing_email: bool | None = Field(None, description="Consent to email marketing")
    credit_limit: str | None = Field(
        None,
        description="How far the balance may go below zero",
        examples=["0.00"],
        pattern=AMOUNT,
    )
    card: str = Field(
        "",
        max_length=300,
        description="A pre-printed card (its token, or its URL as scanned) to give them as"
        " their card instead of a new one",
    )
    language: MessageLanguage = None
    email_receipts: EmailReceipts = None
    low_balance: LowBalance = None


class CustomerPatch(Input):
    name: str | None = Field(None, examples=["Maria Santos-Reyes"], max_length=120)
    phone: str | None = Field(None, description="Empty string removes it", examples=[""])
    email: str | None = Field(None, examples=["maria@example.com"], max_length=254)
    address: str | None = Field(None, examples=["14 Rizal St"], max_length=255)
    notes: str | None = Field(None, examples=["Delivers on Fridays"])
    marketing_sms: bool | None = None
    marketing_email: bool | None = None
    credit_limit: str | None = Field(None, examples=["20.00"], pattern=AMOUNT)
    language: MessageLanguage = None
    email_receipts: EmailReceipts = None
    low_balance: LowBalance = None


class PunchCardOut(Schema):
    id: int
    name: str = Field(examples=["10 refills"])
    product: int = Field(description="The product its uses are for")
    product_name: str = Field(examples=["Purified water 5 gal"])
    uses: int = Field(description="Uses it held when bought, free ones included")
    also: list[int] = Field(
        default_factory=list, description="Other products its uses are good for"
    )
    remaining: int = Field(description="Uses left")
    expires_at: datetime | None = Field(description="When it ends (null: no end)")


class PointsIn(Input):
    points: int = Field(ge=1, le=10**12, description="How many points to redeem", examples=[100])


class TierOut(Schema):
    name: str = Field(examples=["Gold"])
    since: datetime
    discount_percent: str = Field(
        description="Off what the customer buys (a product may have its own)", examples=["5"]
    )


class PassOut(Schema):
    id: int
    name: str = Field(examples=["Unlimited refills, 30 days"])
    product: int | None = Field(description="The product it covers (null: every product)")
    product_name: str | None = Field(examples=["Purified water 5 gal"])
    valid_from: datetime
    valid_until: datetime = Field(description="When it ends")
    uses_today: int = Field(description="Uses made today (the shop's day), reversals left out")
    uses_this_week: int = Field(description="Uses made this week, from Monday")
    max_per_day: int | None = Field(description="At most this many a day (null: no cap)")
    max_per_week: int | None = Field(description="At most this many a week (null: no cap)")
    left_today: int | None = Field(description="Uses it still allows today (null: no cap)")


class CustomerOut(Schema):
    code: str = Field(
        description="The customer's code, as printed on the card", examples=["K7MQ-4XZP"]
    )
    name: str = Field(examples=["Maria Santos"])
    phone: str = Field(description="E.164, or empty", examples=["+639171234567"])
    phone_masked: str = Field(description="For telling customers apart", examples=["•••• 4567"])
    email: str = Field(examples=["maria@example.com"])
    address: str = Field(examples=["12 Rizal St"])
    notes: str = Field(examples=[""])
    marketing_sms: bool
    marketing_email: bool
    status: str = Field(examples=["active"])
    balance: str = Field(description="Paid balance", examples=["86.25"])
    bonus_balance: str = Field(description="Bonus balance", examples=["8.63"])
    available: str = Field(
        description="What can be spent now: paid + bonus + credit", examples=["94.88"]
    )
    credit_limit: str = Field(examples=["0.00"])
    language: str = Field("", description="Of their messages; empty: the shop's", examples=[""])
    email_receipts: bool = Field(True, description="Receipts and balance notices by e-mail")
    low_balance: str | None = Field(
        None, description="Their low-balance level (null: the shop's)", examples=[None]
    )
    currency: str = Field(description="ISO 4217", examples=["PHP"])
    tier: TierOut | None = Field(None, description="The customer's member tier, if any")
    points: str = Field("0", description="Points held (a whole number, as text)", examples=["120"])
    punch_cards: list[PunchCardOut] = Field(
        default_factory=list,
        description="Punch cards with uses left and not ended, in the order they are used",
    )
    passes: list[PassOut] = Field(
        default_factory=list, description="Passes in force, soonest-ending first"
    )
    created_at: datetime
    credit_limit_request: dict[str, Any] | None = Field(
        None,
        description="A registration's or change's answer: a credit-limit raise that waits"
        " for approval (the request, as `GET /approvals/{id}` answers it); `credit_limit`"
        " is the limit in force until then",
    )


class CustomerPage(Schema):
    results: list[CustomerOut]
    next: str | None = Field(description="Cursor of the next page, or null")


class ErasureIn(Input):
    reason: str = Field(
        min_length=1, max_length=255, examples=["The customer asked to be forgotten"]
    )


class ErasureOut(Schema):
    code: str = Field(examples=["K7M2-Q9XA"])
    erased: bool
    erased_at: datetime


class CardIn(Input):
    replace: bool = Field(False, description="Revoke the customer's current cards first")
    token: str = Field(
        "",
        max_length=300,
        description="A pre-printed card's token (or its URL, as scanned) to link instead of"
        " issuing a new card: the customer's card then carries that token",
    )


class CardOut(Schema):
    token: str = Field(description="The card's secret; its QR encodes `url`")
    url: str = Field(examples=["https://shop.example/c/3q2-…"])
    qr_svg_url: str = Field(description="The QR code as an SVG image")


# -- money --------------------------------------------------------------------------


class PackageIn(Input):
    kind: Literal["count", "time"] = Field(
        "count", description="`count`: a punch card; `time`: a pass for `valid_days`"
    )
    name: str = Field(examples=["10 refills"], min_length=1, max_length=80)
    product: int | None = Field(
        None, description="The product's id (a pass without one covers every product)"
    )
    count: int = Field(
        0, ge=0, le=10_000, description="Uses paid for (a punch card)", examples=[10]
    )
    price: str = Field(description="Price, major unit", examples=["250.00"], pattern=AMOUNT)
    valid_days: int | None = Field(
        None, ge=1, le=3650, description="Days from the purchase (null: no end; a pass needs them)"
    )
    bonus_count: int = Field(0, ge=0, le=10_000, description="Free uses on top: buy 10 get 1")
    also: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        default_factory=list,
        max_length=100,
        description="A punch card's other products (their ids)",
    )
    max_per_day: int | None = Field(None, ge=1, le=10_000, description="A pass's cap per day")
    max_per_week: int | None = Field(None, ge=1, le=10_000, description="A pass's cap per week")


class PackageOut(Schema):
    id: int
    kind: str = Field(description="`count` (punch card) or `time` (pass)")
    name: str
    product: int | None
    count: int
    bonus_count: int
    price: str
    currency: str
    valid_days: int | None
    max_per_day: int | None
    max_per_week: int | None
    also: list[int] = Field(default_factory=list, description="Other products it is good for")
    active: bool


class BuyPackageIn(Input):
    package: int = Field(description="The package's id (GET /packages)")
    method: str = Field(description="A payment method's code", examples=["cash"])
    reference: str = Field("", max_length=100)


class RedemptionIn(Input):
    product: int | str = Field(description="The product's id or SKU")
    quantity: int = Field(1, ge=1, le=10_000, description="Uses to redeem")


class TopUpIn(Input):
    amount: str = Field(description="Amount paid, major unit", examples=["100.00"], pattern=AMOUNT)
    method: str = Field(
        description="A payment method's code (GET /payment-methods)", examples=["cash"]
    )
    reference: str = Field(
        "", description="Slip or transaction number", examples=["GC-88213"], max_length=100
    )
    plan: int | None = Field(None, description="A top-up plan's id; its amount must match")


class LineIn(Input):
    product: int | str = Field(
        description="The product's id, as a number (as `POST /products` answers it) or as"
        " text, or its SKU",
        examples=[1, "ALK-G"],
    )
    quantity: str = Field(description="Up to 3 decimals", examples=["5"], pattern=QUANTITY)


class SaleIn(Input):
    lines: list[LineIn] = Field(min_length=1, max_length=100)
    note: str = Field("", max_length=255, examples=["Delivery"])
    coupon: str = Field(
        "",
        max_length=40,
        description="A coupon's code, as printed or scanned: what it takes off is not charged",
        examples=[""],
    )


class CardRefundIn(Input):
    method: str = Field(description="The payment method the money goes out by", examples=["cash"])
    reason: str = Field(min_length=1, max_length=255, examples=["Moving away"])


class RefundIn(Input):
    amount: str = Field(description="Paid money handed back", examples=["20.00"], pattern=AMOUNT)
    method: str = Field(examples=["cash"])
    reason: str = Field(min_length=1, max_length=255, examples=["Moving away"])
    reference: str = Field("", max_length=100)


class ReversalIn(Input):
    reason: str = Field(min_length=1, max_length=255, examples=["Wrong water type"])


class MoveIn(Input):
    customer: str = Field(description="The right customer's code", examples=["K7MQ-4XZP"])
    reason: str = Field(min_length=1, max_length=255, examples=["Charged to her neighbour"])


class LineOut(Schema):
    product: int
    name: str = Field(examples=["Alkaline water"])
    unit: str = Field(examples=["gallon"])
    quantity: str = Field(examples=["5.000"])
    unit_price: str = Field(examples=["0.3490"])
    amount: str = Field(description="What the line was charged", examples=["1.75"])
    discount: str = Field(
        "0.00",
        description="What was taken off the line before it was charged (a coupon's share"
        " and the customer's tier's); its price was amount + discount",
        examples=["0.00"],
    )
    tier_discount: str = Field(
        "0.00", description="The part of the discount the customer's tier took", examples=["0.00"]
    )


class TransactionOut(Schema):
    id: int
    kind: str = Field(description="top_up, sale, refund, reversal, opening…", examples=["sale"])
    customer: str | None = Field(description="Customer code", examples=["K7MQ-4XZP"])
    total: str = Field(
        description="What it was worth: a sale's price, a reversal's whole amount, the paid"
        " amount of a top-up or refund (bonus moves are in bonus_amount)",
        examples=["1.75"],
    )
    amount: str = Field(description="Change of the paid balance (signed)", examples=["-1.59"])
    bonus_amount: str = Field(
        description="Change of the bonus balance (signed)", examples=["-0.16"]
    )
    balance_after: str | None = Field(description="Paid balance right after it", examples=["84.66"])
    bonus_balance_after: str | None = Field(examples=["8.47"])
    balance: str | None = Field(None, description="Paid balance now (POST answers only)")
    bonus_balance: str | None = Field(None, description="Bonus balance now (POST answers only)")
    currency: str = Field(examples=["PHP"])
    reference: str = Field(examples=[""])
    note: str = Field(description="Note, or the reason of a refund or reversal", examples=[""])
    store: str = Field(examples=["Main Street"])
    staff: str | None = Field(description="Staff member, or null when done by a token")
    token: str | None = Field(description="API token's name, or null")
    created_at: datetime
    discount: str = Field(
        "0.00", description="What a coupon took off the sale (the sum of its lines')"
    )
    coupon: str | None = Field(None, description="The code of the coupon the sale took")
    points_earned: int | None = Field(
        None, description="A fresh sale's answer: the points it earned (on its paid part)"
    )
    lines: list[LineOut] = Field(default_factory=list)
    reverses: int | None = Field(None, description="The transaction this one reverses")
    reversed_by: int | None = Field(None, description="The transaction that reversed this one")


class TransactionPage(Schema):
    results: list[TransactionOut]
    next: str | None


# -- catalog ------------------------------------------------------------------------


class ProductIn(Input):
    name: str = Field(examples=["Alkaline water"], max_length=120)
    sku: str = Field("", examples=["ALK-G"], max_length=40)
    unit: str = Field(examples=["gallon"], max_length=20)
    unit_price: str = Field(description="Up to 4 decimals", examples=["0.3490"], pattern=PRICE)
    active: bool = True
    position: int = Field(0, ge=0, le=32767, description="Order of the counter's buttons")
    colour: str = Field("", description="Button colour", examples=["#1e88e5"], pattern=COLOUR)


class ProductPatch(Input):
    name: str | None = Field(None, max_length=120)
    sku: str | None = Field(None, max_length=40)
    unit: str | None = Field(None, max_length=20)
    unit_price: str | None = Field(None, examples=["0.3590"], pattern=PRICE)
    active: bool | None = None
    position: int | None = Field(None, ge=0, le=32767)
    colour: str | None = Field(None, pattern=COLOUR)


class ProductOut(Schema):
    id: int
    name: str
    sku: str
    unit: str
    unit_price: str = Field(examples=["0.3490"])
    currency: str
    active: bool
    position: int
    colour: str


class PaymentMethodOut(Schema):
    code: str = Field(examples=["gcash"])
    name: str = Field(examples=["GCash"])
    requires_reference: bool
    active: bool


class PlanOut(Schema):
    id: int
    name: str = Field(examples=["100 → +10"])
    amount: str = Field(examples=["100.00"])
    bonus: str = Field(examples=["10.00"])
    gift_points: int = Field(0, description="Points given with the top-up")
    gift_coupon: str = Field(
        "0.00", description="A coupon of this much off, given to the customer with it"
    )
    currency: str


class PointsOut(TransactionOut):
    points: int = Field(description="The points redeemed")
    points_balance: int = Field(description="The points the customer holds now")


class PackageSaleOut(TransactionOut):
    punch_card: PunchCardOut | None = Field(description="The card bought (null for a pass)")
    pass_: PassOut | None = Field(None, alias="pass", description="The pass bought, if one")


class UsedCardOut(Schema):
    id: int
    used: int
    remaining: int


class UsedPassOut(Schema):
    id: int
    name: str
    used: int
    uses_today: int = Field(description="Uses made under it today, these included")


class RedemptionOut(TransactionOut):
    punch_card: PunchCardOut | None = Field(
        description="The card used (the first, when several; null when passes covered it)"
    )
    cards: list[UsedCardOut] = Field(description="Each card used: how many uses, how many left")
    passes: list[UsedPassOut] = Field(description="Each pass used (passes are used first)")
    remaining: int = Field(description="Uses of the product left on all the customer's cards")


# -- coupons ------------------------------------------------------------------------


class CouponIn(Input):
    kind: str = Field(description="amount, percent or product", examples=["amount"])
    value: int | str = Field(
        description='amount: money off, major unit ("5.00"); percent: a whole percent,'
        " 1–100; product: units given free (usually 1)",
        examples=["5.00"],
    )
    product: int | None = Field(
        None,
        description="product: the product given free; amount or percent: the only"
        " product it comes off (null: the whole sale)",
    )
    valid_until: date | None = Field(
        None, description="The last day it is taken (the shop's calendar); null: no end"
    )
    count: int = Field(1, ge=1, le=1000, description="How many codes to issue")
    valid_from: date | None = Field(None, description="The first day it is taken")
    min_spend: str = Field(
        "0", description="The sale, before any discount, must cost at least this", pattern=AMOUNT
    )
    uses: int | None = Field(
        1, ge=1, description="How many sales may take each code (null: no limit)"
    )
    per_customer: int | None = Field(
        None, ge=1, description="How many sales of one customer may take it (null: no limit)"
    )
    customer: str | None = Field(None, description="Only this customer (code) may take it")
    series: str = Field(
        "", max_length=80, description="A name for the codes issued together", examples=["Flyer"]
    )


class CouponsIssued(Schema):
    codes: list[str] = Field(examples=[["W4NT-3DQX"]])
    series: str


class CouponOut(Schema):
    code: str = Field(examples=["W4NT-3DQX"])
    kind: str = Field(examples=["amount"])
    value: str | int = Field(description="Money off (amount), percent, or units free")
    product: int | None
    min_spend: str
    valid_from: date | None
    valid_until: date | None
    uses: int | None = Field(description="Sales each code may be taken on (null: no limit)")
    per_customer: int | None
    used: int | None = Field(description="Sales that took it and were not reversed")
    customer: str | None
    series: str
    withdrawn: bool
    currency: str
    created_at: datetime


class CouponPage(Schema):
    results: list[CouponOut]
    next: str | None
