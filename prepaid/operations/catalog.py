"""Top-up plans and bonus rules, saved as operations: a plan or rule that gives more
than the shop's share of the amount paid (20% by default) is a way to mint bonus money
("1.00 → +1,000,000"), so it is in force only once a second person approves it
(docs/security.md, "Four eyes"). Until then the request holds it, as it was saved; the
plan or rule in force, if any, stays as it was."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from django.utils.translation import gettext as _

from prepaid.catalog import services as catalog
from prepaid.catalog.models import BonusRule, TopUpPlan
from prepaid.operations.envelope import Context, Done, Gate, Operation
from prepaid.operations.models import Approval
from prepaid.staff.models import Business
from prepaid.staff.refusals import Refusal


def above_share(business: Business, given_minor: int, paid_minor: int) -> bool:
    """Whether ``given_minor`` for ``paid_minor`` paid is more than the shop's share."""
    percent = business.approval_bonus_percent
    return percent is not None and given_minor * 100 > percent * paid_minor


@dataclass(frozen=True)
class SavePlan(Operation):
    """A new top-up plan (``plan`` None) or a change of one."""

    action: ClassVar[str] = "catalog.write"
    moves_money: ClassVar[bool] = False

    plan: int | None
    name: str
    amount_minor: int
    bonus_minor: int
    active: bool = True
    position: int = 0
    gift_points: int = 0
    gift_coupon_minor: int = 0
    gift_coupon_days: int = 30

    def gate(self, context: Context) -> Gate | None:
        """What the plan gives (its bonus and its gift coupon) above the share, while it
        is on offer."""
        given = self.bonus_minor + self.gift_coupon_minor
        if not self.active or not above_share(context.business, given, self.amount_minor):
            return None
        return Gate(Approval.Kind.BONUS, given, reason=self.name)

    def perform(self, context: Context) -> Done:
        item = None
        if self.plan is not None:
            item = TopUpPlan.objects.filter(pk=self.plan).first()
            if item is None:
                raise Refusal("not_found", what=_("top-up plan"))
        saved = catalog.save_plan(
            item,
            name=self.name,
            amount_minor=self.amount_minor,
            bonus_minor=self.bonus_minor,
            active=self.active,
            position=self.position,
            gift_points=self.gift_points,
            gift_coupon_minor=self.gift_coupon_minor,
            gift_coupon_days=self.gift_coupon_days,
            by=context.actor.by,
        )
        data: dict[str, Any] = {"plan": saved.pk, "name": saved.name}
        return Done(data, status=200)


@dataclass(frozen=True)
class SaveBonusRule(Operation):
    """A new bonus rule (``rule`` None) or a change of one."""

    action: ClassVar[str] = "catalog.write"
    moves_money: ClassVar[bool] = False

    rule: int | None
    every_minor: int
    bonus_minor: int
    active: bool = True

    def gate(self, context: Context) -> Gate | None:
        if not self.active or not above_share(context.business, self.bonus_minor, self.every_minor):
            return None
        return Gate(Approval.Kind.BONUS, self.bonus_minor)

    def perform(self, context: Context) -> Done:
        item = None
        if self.rule is not None:
            item = BonusRule.objects.filter(pk=self.rule).first()
            if item is None:
                raise Refusal("not_found", what=_("bonus rule"))
        saved = catalog.save_rule(
            item,
            every_minor=self.every_minor,
            bonus_minor=self.bonus_minor,
            active=self.active,
            by=context.actor.by,
        )
        return Done({"rule": saved.pk}, status=200)
