"""What the shop refuses, and how each refusal reads: one type, one table.

An operation that is refused raises ``Refusal(code, field=…, **params)`` and changes
nothing. ``code`` is a stable machine code (``insufficient_funds``, ``already_reversed``…);
``REFUSALS`` maps each code to its HTTP status, its message (translated when it is read,
in the reader's language) and whether an idempotent operation keeps it as its outcome.
The API, the counter and the back office all read a refusal through ``message``: the
same refusal reads the same in every interface and every language.

``params`` are plain JSON values, so a refusal can be stored with its idempotency key
and replayed later (``as_json`` / ``from_json``). Parameters named in ``Kind.money`` are
amounts in minor units; ``message`` writes them as money ("₱0.25"), and the API also
gives them as decimal strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from prepaid.lib.money import format_money
from prepaid.staff.models import Business


@dataclass(frozen=True)
class Kind:
    """How a refusal code reads and answers.

    ``stored``: an idempotent operation keeps the refusal as its outcome, so a retry with
    the same key gets it again (a business refusal: not enough money). Refusals of the
    request itself (a missing reason, an unknown product) are not kept: the caller may
    correct the request and send it again under the same key.
    ``by_field``: another wording for a refusal about that field.
    ``by_reason``: another wording per value of the refusal's ``reason`` parameter (why
    a coupon is not valid), which also travels as a machine-readable code.
    """

    status: int
    message: str | Promise
    stored: bool = False
    money: tuple[str, ...] = ()
    by_field: Mapping[str, str | Promise] | None = None
    by_reason: Mapping[str, str | Promise] | None = None


REFUSALS: dict[str, Kind] = {
    # -- money: the state of the accounts says no (kept as the outcome of the key) ----
    "insufficient_funds": Kind(
        409,
        _("The balance does not cover this: %(shortfall)s short. Nothing was charged."),
        stored=True,
        money=("shortfall", "available"),
    ),
    "already_reversed": Kind(409, _("This transaction has already been reversed."), stored=True),
    "not_reversible": Kind(
        409,
        _("A reversal cannot be reversed; record a new sale or top-up."),
        stored=True,
    ),
    "top_up_spent": Kind(
        409,
        _("Part of this top-up has been spent; it can no longer be reversed."),
        stored=True,
    ),
    "reversal_below_floor": Kind(
        409, _("Reversing this would take a balance below its limit."), stored=True
    ),
    "balance_too_large": Kind(
        409,
        _("This would take the balance beyond %(most)s, the most an account holds."),
        stored=True,
        money=("most",),
    ),
    "account_closed": Kind(409, _("This account is closed."), stored=True),
    "not_a_blank_card": Kind(
        422, _("This is not one of the shop's pre-printed cards: scan the card's QR code.")
    ),
    "blank_card_used": Kind(
        409, _("This pre-printed card is already linked to a customer."), stored=True
    ),
    "card_count": Kind(422, _("Generate between 1 and %(most)s cards at a time.")),
    "undo_not_allowed": Kind(
        403,
        _(
            "Only your own sales and top-ups of the last %(minutes)s minutes can be undone"
            " here. Ask a manager."
        ),
        stored=True,
    ),
    "balance_not_zero": Kind(
        409,
        _("Refund the balance before closing the account."),
        by_reason={"erase": _("Settle the balance to zero before erasing the customer's data.")},
    ),
    "customer_erased": Kind(409, _("This customer's personal data has been erased.")),
    "same_customer": Kind(422, _("The sale is already this customer's.")),
    "sale_has_coupon": Kind(
        409, _("A sale with a coupon cannot be moved: reverse it and sell it again.")
    ),
    "credit_limit_below_balance": Kind(
        409, _("The balance is already below that limit; top up first.")
    ),
    # -- coupons: the coupon's own state and rules say no (prepaid.coupons) -------------
    "coupon_not_valid": Kind(
        409,
        _("Coupon %(coupon)s cannot be used for this sale."),
        stored=True,
        money=("minimum",),
        by_reason={
            "unknown": _("There is no coupon %(coupon)s; check the code."),
            "withdrawn": _("Coupon %(coupon)s was withdrawn."),
            "used": _("Coupon %(coupon)s has already been used."),
            "expired": _("Coupon %(coupon)s was valid until %(day)s."),
            "not_yet": _("Coupon %(coupon)s is valid from %(day)s."),
            "other_customer": _("Coupon %(coupon)s was issued to another customer."),
            "customer_limit": _(
                "This customer has used coupon %(coupon)s as many times as it allows."
            ),
            "product": _("Coupon %(coupon)s is for %(product)s, which is not in this sale."),
            "min_spend": _("Coupon %(coupon)s needs a sale of at least %(minimum)s."),
            "whole_sale": _(
                "Coupon %(coupon)s would take off the whole sale; a sale must cost something."
            ),
            "nothing": _("Coupon %(coupon)s takes nothing off this sale."),
        },
    ),
    # -- the request: corrected and sent again, under the same key if need be ----------
    "amount_not_positive": Kind(422, _("Enter an amount of more than zero.")),
    "amount_too_large": Kind(422, _("That amount is too large.")),
    "top_up_below_minimum": Kind(422, _("The smallest top-up is %(minimum)s."), money=("minimum",)),
    "top_up_above_maximum": Kind(422, _("The largest top-up is %(maximum)s."), money=("maximum",)),
    "method_not_in_use": Kind(422, _("This payment method is not in use.")),
    "reference_required": Kind(422, _("%(method)s needs a reference, such as the slip number.")),
    "plan_not_offered": Kind(422, _("This top-up plan is not offered any more.")),
    "plan_amount_differs": Kind(422, _("The plan %(plan)s costs %(amount)s."), money=("amount",)),
    "unknown_payment_method": Kind(422, _("Unknown payment method; see GET /payment-methods.")),
    "unknown_plan": Kind(422, _("Unknown top-up plan.")),
    "unknown_product": Kind(422, _("Unknown product: %(product)s.")),
    "no_lines": Kind(422, _("Add at least one product.")),
    "quantity_not_valid": Kind(
        422, _("Enter a quantity of more than zero with at most three decimals.")
    ),
    "sale_costs_nothing": Kind(422, _("A sale must cost more than nothing.")),
    "sale_too_large": Kind(422, _("That sale is too large.")),
    "reason_required": Kind(422, _("Give a reason.")),
    "credit_limit_negative": Kind(422, _("The credit limit cannot be negative.")),
    "name_required": Kind(422, _("Enter the customer's name.")),
    "phone_not_valid": Kind(422, _("“%(phone)s” is not a phone number we can dial.")),
    "email_not_valid": Kind(422, _("“%(email)s” is not an email address.")),
    "birthday_not_valid": Kind(422, _("A birthday is a day from 1900 to today.")),
    "sms_consent_needs_phone": Kind(422, _("SMS consent needs a phone number.")),
    "email_consent_needs_email": Kind(422, _("Email consent needs an email address.")),
    "note_empty": Kind(422, _("Write something in the note.")),
    "duplicate_customer": Kind(
        409,
        _("This phone number or email address belongs to %(name)s (%(existing)s)."),
        by_field={
            "phone": _("This phone number belongs to %(name)s (%(existing)s)."),
            "email": _("This email address belongs to %(name)s (%(existing)s)."),
        },
    ),
    "validation_error": Kind(422, "%(detail)s"),  # set-up forms: the detail is translated
    # -- who asks, and the key they ask with ------------------------------------------
    "permission_denied": Kind(403, _("Your role may not do that.")),
    "idempotency_key_reused": Kind(
        422, _("This Idempotency-Key was used for a different request.")
    ),
    "idempotency_key_in_use": Kind(
        409,
        _("A request with this Idempotency-Key is still being processed; retry shortly."),
    ),
    "not_found": Kind(404, _("No %(what)s was found.")),
    "not_set_up": Kind(503, _("The business is not set up yet.")),
    "invalid_transfer": Kind(422, _("This operation cannot be posted: %(detail)s")),
    # -- webhooks: endpoints and their deliveries (prepaid.webhooks) ---------------------
    "webhook_url_not_valid": Kind(
        422,
        _(
            "Enter a full address that starts with https:// or http://, without a user name"
            " or password."
        ),
    ),
    "webhook_url_unresolved": Kind(422, _("%(name)s could not be found; check the address.")),
    "webhook_url_not_allowed": Kind(
        422,
        _(
            "%(name)s leads to %(detail)s, a local, private or reserved address: webhooks go"
            " to public addresses only, unless the host is listed in"
            " PREPAID_WEBHOOK_ALLOW_HOSTS."
        ),
    ),
    "webhook_no_events": Kind(422, _("Choose at least one event.")),
    "webhook_unknown_event": Kind(
        422, _("There is no event type “%(name)s”. The types are: %(detail)s.")
    ),
    "webhook_not_active": Kind(409, _("Activate this endpoint first.")),
    "webhook_delivery_pending": Kind(409, _("This delivery is still queued; it will be sent.")),
    # -- day close: closing a day, approving a close (prepaid.closing) ------------------
    "day_not_started": Kind(422, _("This day has not begun yet.")),
    "day_already_closed": Kind(409, _("This day of %(name)s is already closed.")),
    "difference_unexplained": Kind(
        422,
        _("%(method)s differs by %(difference)s: explain the difference."),
        money=("difference",),
    ),
    "close_not_returned": Kind(409, _("Only a close that was sent back can be counted again.")),
    "close_not_waiting": Kind(409, _("This close is not waiting for approval.")),
    "close_own_approval": Kind(
        403, _("Someone other than the person who closed the day approves it.")
    ),
    # -- four eyes: approval requests (prepaid.operations.approvals) ---------------------
    "approval_not_pending": Kind(
        409, _("This request is no longer waiting for approval; it was decided."), stored=True
    ),
    "approval_own_request": Kind(
        403, _("Someone other than the person who asked approves or rejects a request.")
    ),
    "approval_not_yours": Kind(403, _("Only the person who asked may withdraw a request.")),
    "package_not_offered": Kind(422, _("This punch card or pass is not offered any more.")),
    "nothing_to_redeem": Kind(
        409,
        _("No pass or punch card with uses left covers %(product)s."),
        stored=True,
    ),
    "count_not_valid": Kind(422, _("Enter a whole number of uses, at least 1.")),
    "punch_card_used": Kind(
        409,
        _("Uses of this punch card were redeemed: undo those first."),
        stored=True,
    ),
    "card_refund_not_allowed": Kind(
        409, _("This shop does not refund the uses left on punch cards.")
    ),
    "nothing_to_refund": Kind(
        409, _("This punch card has no uses left to refund, or it has ended."), stored=True
    ),
    "gift_used": Kind(
        409,
        _("The coupon this top-up gave has been used: it cannot be reversed."),
        stored=True,
    ),
    "points_not_redeemable": Kind(409, _("This shop does not redeem points.")),
    "points_not_valid": Kind(422, _("Enter a whole number of points, at least 1.")),
    "not_enough_points": Kind(
        409, _("The customer has %(points)s points, fewer than that."), stored=True
    ),
    "points_used": Kind(
        409,
        _("The points this sale earned have been redeemed: it cannot be reversed."),
        stored=True,
    ),
    "nothing_to_expire": Kind(409, _("Nothing on this account has expired.")),
    "pass_used": Kind(409, _("This pass has been used: undo its uses first."), stored=True),
    "close_other_store": Kind(
        403, _("You close the days of your own stores; %(name)s is not one of them.")
    ),
}


class Refusal(Exception):
    """An operation the shop refuses; nothing was changed. See the module docstring.

    ``replayed``: the refusal is the stored outcome of an idempotency key, given again.
    ``original``: for ``idempotency_key_reused``, what the key did the first time.
    """

    replayed = False
    original: Any = None

    def __init__(self, code: str, *, field: str | None = None, **params: Any) -> None:
        if code not in REFUSALS:
            raise KeyError(f"unknown refusal code {code!r}: add it to REFUSALS")
        self.code = code
        self.field = field
        self.params = params
        super().__init__(code)

    @property
    def kind(self) -> Kind:
        return REFUSALS[self.code]

    @property
    def status(self) -> int:
        return self.kind.status

    @property
    def stored(self) -> bool:
        return self.kind.stored

    def message(self) -> str:
        """The refusal in the active language, money written for the shop's region."""
        kind = self.kind
        template = (kind.by_field or {}).get(self.field or "", kind.message)
        template = (kind.by_reason or {}).get(str(self.params.get("reason", "")), template)
        values = dict(self.params)
        for name in kind.money:
            if isinstance(values.get(name), int):
                values[name] = _money(values[name])
        return str(template) % values if values else str(template)

    def __str__(self) -> str:
        return self.message()

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "field": self.field, "params": self.params}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Refusal:
        return cls(value["code"], field=value.get("field"), **dict(value.get("params") or {}))


def _money(amount_minor: int) -> str:
    business = Business.current()
    if business is None:
        return str(amount_minor)
    return format_money(
        amount_minor, business.currency, get_language() or "en", region=business.region
    )
