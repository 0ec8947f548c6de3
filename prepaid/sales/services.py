"""The shop's selling rules: top up, sell, refund (cash out), reverse; credit limits and
closing an account.

Each composes ``ledger.services.post``/``reverse`` with the shop's rules and refuses
with a ``Refusal`` (``prepaid.staff.refusals``). The interfaces never call these
directly: they run an operation (``prepaid.operations``), whose envelope calls them in
its one transaction, answers replays and writes the outcome and the events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from prepaid.catalog import services as catalog
from prepaid.catalog import tiers
from prepaid.catalog.models import CustomerTier, Product, Tier, TopUpPlan
from prepaid.customers import services as customers
from prepaid.customers.models import Customer
from prepaid.customers.services import Author
from prepaid.ledger import services as ledger
from prepaid.ledger.errors import AlreadyReversed, InsufficientFunds
from prepaid.ledger.models import Account, Batch, PaymentMethod, Transfer
from prepaid.lib import rows
from prepaid.lib.money import MAX_MINOR, price_line
from prepaid.lib.transactions import stepped
from prepaid.sales import points
from prepaid.sales.models import SaleLine
from prepaid.staff import audit
from prepaid.staff.models import Business, SpendOrder, Store, TierBasis
from prepaid.staff.refusals import Refusal

Actor = ledger.Actor
Receipt = ledger.Receipt
QUANTUM = Decimal("0.001")  # quantities have at most three decimals (SaleLine.quantity)
PRICE_QUANTUM = Decimal("0.0001")  # unit prices at most four
UNDO_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class Line:
    product: Product
    quantity: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "quantity", Decimal(str(self.quantity)))


@dataclass(frozen=True)
class Balances:
    paid: int
    bonus: int
    credit_limit: int

    @property
    def available(self) -> int:
        """What can be spent now: paid + bonus + credit."""
        return self.paid + self.bonus + self.credit_limit

    @property
    def credit_left(self) -> int:
        """The part of the credit limit not used yet."""
        return max(self.credit_limit + min(self.paid, 0), 0)


@dataclass(frozen=True)
class Sold(ledger.Receipt):
    """A sale's receipt with what the answer needs, so it need not be read back: the
    lines as recorded, and the balances right after (None for a replay)."""

    lines: tuple[SaleLine, ...] = ()
    after: Balances | None = None
    points: int = 0  # earned by the sale


@dataclass(frozen=True)
class Discount:
    """Money taken off a sale before it is charged: what comes off each line, in the
    order of the sale's lines (a coupon's, ``prepaid.coupons``; a tier's later, added
    line by line with ``plus``). No transfer moves it: the shop simply charges less,
    and each line keeps what was taken off it (``SaleLine.discount_minor``)."""

    per_line: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.per_line)

    def plus(self, other: Discount) -> Discount:
        """Two discounts on the same lines, together."""
        pairs = zip(self.per_line, other.per_line, strict=True)
        return Discount(tuple(mine + theirs for mine, theirs in pairs))


def discount_over(amount_minor: int, amounts: Sequence[int], eligible: Sequence[bool]) -> Discount:
    """``amount_minor`` taken off the ``eligible`` lines in proportion to their
    ``amounts`` (``share``: whole minor units that add up exactly, none above its line)."""
    weights = [amount if chosen else 0 for amount, chosen in zip(amounts, eligible, strict=True)]
    return Discount(tuple(share(min(amount_minor, sum(weights)), weights)))


@dataclass(frozen=True)
class Accounts:
    """A customer's wallet and bonus account as read before posting; for a sale, also
    their points account and the store's points account (None: not read, or missing)."""

    wallet: Account
    bonus: Account
    points: Account | None = None
    points_issued: Account | None = None

    def balances(self, moved: dict[int, int] | None = None) -> Balances:
        """The balances as read, or as ``moved`` (a posting's new balances) left them."""
        moved = moved or {}
        return Balances(
            paid=moved.get(self.wallet.pk, self.wallet.cached_balance),
            bonus=moved.get(self.bonus.pk, self.bonus.cached_balance),
            credit_limit=-(self.wallet.floor or 0),
        )


# -- reading --------------------------------------------------------------------------


def accounts(customer: Customer) -> Accounts:
    """The customer's accounts for a posting (opened when missing: a posting writes)."""
    wallet, bonus = ledger.customer_accounts(customer, unit=Business.get().currency)
    return Accounts(wallet, bonus)


def wallets(customer: Customer) -> tuple[Account, Account]:
    """The customer's (wallet, bonus) accounts, opened when missing."""
    mine = accounts(customer)
    return mine.wallet, mine.bonus


def balances(customer: Customer) -> Balances:
    """The customer's balances now; zero for accounts never opened (nothing written)."""
    wallet, bonus = ledger.read_accounts(customer, unit=Business.get().currency)
    return Balances(
        paid=wallet.cached_balance if wallet else 0,
        bonus=bonus.cached_balance if bonus else 0,
        credit_limit=customer.credit_limit_minor,
    )


# One round trip for what every sale reads first: the customer by code, its two
# accounts and the store's revenue account (``rows`` shapes, as the ORM would build them).
_CUSTOMER_WITH_ACCOUNTS = (
    "FROM customers_customer c"
    " LEFT JOIN ledger_account w ON w.customer_id = c.id AND w.kind = %s AND w.unit = %s"
    " LEFT JOIN ledger_account b ON b.customer_id = c.id AND b.kind = %s AND b.unit = %s"
    " LEFT JOIN ledger_account r ON r.kind = %s AND r.store_id = %s AND r.unit = %s"
    " AND r.customer_id IS NULL AND r.payment_method_id IS NULL"
    " LEFT JOIN catalog_customertier m ON m.customer_id = c.id"
    " LEFT JOIN catalog_tier t ON t.id = m.tier_id"
    " LEFT JOIN ledger_account p ON p.customer_id = c.id AND p.kind = 'points' AND p.unit = 'pt'"
    " LEFT JOIN ledger_account i ON i.kind = 'issued' AND i.store_id = %s AND i.unit = 'pt'"
    " AND i.customer_id IS NULL AND i.payment_method_id IS NULL"
    " WHERE c.code = %s"
)


@dataclass(frozen=True)
class ForSale:
    """What a sale reads in one query: the customer, their accounts (points too), the
    store's revenue account, and their tier (its row and the membership)."""

    customer: Customer
    accounts: Accounts
    revenue: Account
    member: CustomerTier | None
    tier: Tier | None


def customer_for_sale(code: str, *, store_id: int) -> ForSale:
    """The customer with this code (``not_found`` otherwise), its accounts, the store's
    revenue and points accounts and the customer's tier (if any), in one query; the
    wallet, bonus and revenue accounts are opened if missing (the points ones when a
    sale earns points)."""
    unit = Business.get().currency
    found = rows.joined(
        (Customer, "c", False),
        (Account, "w", True),
        (Account, "b", True),
        (Account, "r", True),
        (CustomerTier, "m", True),
        (Tier, "t", True),
        (Account, "p", True),
        (Account, "i", True),
        tail=_CUSTOMER_WITH_ACCOUNTS,
        params=[
            str(Account.Kind.WALLET),
            unit,
            str(Account.Kind.BONUS),
            unit,
            str(Account.Kind.REVENUE),
            store_id,
            unit,
            store_id,
            code,
        ],
    )
    if found is None:
        raise Refusal("not_found", what=str(Customer._meta.verbose_name))
    customer, wallet, bonus, revenue, member, tier, held_points, issued = found
    assert isinstance(customer, Customer)
    assert member is None or isinstance(member, CustomerTier)
    if wallet is None or bonus is None:
        wallet, bonus = ledger.customer_accounts(customer, unit=unit)
    if revenue is None:
        store = Store.objects.get(pk=store_id)
        revenue = ledger.house_account(Account.Kind.REVENUE, store=store, unit=unit)
    assert isinstance(wallet, Account) and isinstance(bonus, Account)
    assert isinstance(revenue, Account)
    assert tier is None or isinstance(tier, Tier)
    assert held_points is None or isinstance(held_points, Account)
    assert issued is None or isinstance(issued, Account)
    mine = Accounts(wallet, bonus, held_points, issued)
    return ForSale(customer, mine, revenue, member, tier)


# -- top-up -----------------------------------------------------------------------------


@stepped  # a refusal also rolls back the accounts opened on the way
def top_up(
    customer: Customer,
    amount_minor: int,
    *,
    method: PaymentMethod,
    key: str,
    actor: Actor,
    plan: TopUpPlan | None = None,
    reference: str = "",
    bonus_minor: int | None = None,
    note: str = "",
) -> Receipt:
    """Money paid by ``method`` goes into the wallet; the bonus it earns goes into the
    bonus account, paid for by the store's promotion account.

    1. The shop's rules: the method must be active (and given a reference when it asks
       for one); the amount within the minimum and maximum; a plan paid in full.
    2. The bonus: the plan's, else the best bonus rule's, times the customer's tier's
       bonus multiplier, plus the first-top-up bonus for a customer with no top-up yet
       (not counting reversed ones). ``bonus_minor`` overrides 1–2 for the import and
       the demo.
    3. One batch: TOP_UP from the method's house account, BONUS from promotion, and
       the plan's gift points (its gift coupon is issued by the operation).
    4. A shop that tiers by deposit moves the customer up as the top-up posts.
    """
    business = Business.get()
    unit = business.currency
    reference = reference.strip()
    check_open(customer)
    mine = accounts(customer)
    overridden = bonus_minor is not None
    if bonus_minor is None:
        _check_top_up(business, amount_minor, method=method, plan=plan, reference=reference)
        bonus_minor = catalog.bonus_for(amount_minor, plan=plan)
        member = tiers.held(customer.pk) if bonus_minor else None
        if member is not None and member.tier.bonus_multiplier != 1:
            bonus_minor = int(
                (bonus_minor * member.tier.bonus_multiplier).quantize(Decimal(1), ROUND_HALF_UP)
            )
        if business.first_top_up_bonus_minor:
            ledger.lock(mine.wallet)  # two first top-ups at once must not both get it
            if not _has_top_up(customer):
                bonus_minor += business.first_top_up_bonus_minor
    store = actor.store
    received = ledger.house_account(Account.Kind.PAYMENT, store=store, unit=unit, method=method)
    legs = [ledger.Leg(received, mine.wallet, amount_minor, Transfer.Code.TOP_UP)]
    if bonus_minor:
        promotion = ledger.house_account(Account.Kind.PROMOTION, store=store, unit=unit)
        legs.append(ledger.Leg(promotion, mine.bonus, bonus_minor, Transfer.Code.BONUS))
    if plan is not None and plan.gift_points:  # the plan's gift (a coupon: the operation's)
        legs.append(points.earning_leg(customer, plan.gift_points, store_id=store.pk))
    request = {
        "top_up": customer.pk,
        "amount": amount_minor,
        "method": method.code,
        "plan": plan.pk if plan else None,
        "reference": reference,
        "bonus": bonus_minor if overridden else None,
    }
    receipt = ledger.post(
        key,
        legs,
        code=Batch.Code.TOP_UP,
        actor=actor,
        customer=customer,
        note=note,
        reference=reference,
        request=request,
    )
    if not receipt.replayed and business.tier_basis == TierBasis.DEPOSIT:
        tiers.reach(customer, now=receipt.batch.created_at, by=actor.by)
    return receipt


def _check_top_up(
    business: Business,
    amount_minor: int,
    *,
    method: PaymentMethod,
    plan: TopUpPlan | None,
    reference: str,
) -> None:
    check_payment(method, reference)
    if plan is not None:
        if not plan.active:
            raise Refusal("plan_not_offered", field="plan")
        if amount_minor != plan.amount_minor:
            raise Refusal(
                "plan_amount_differs", field="amount", plan=plan.name, amount=plan.amount_minor
            )
    if amount_minor <= 0:
        raise Refusal("amount_not_positive", field="amount")
    smallest, largest = business.top_up_minimum_minor, business.top_up_maximum_minor
    if smallest is not None and amount_minor < smallest:
        raise Refusal("top_up_below_minimum", field="amount", minimum=smallest)
    if largest is not None and amount_minor > largest:
        raise Refusal("top_up_above_maximum", field="amount", maximum=largest)


def check_payment(method: PaymentMethod, reference: str) -> None:
    """Money paid in (a top-up, a punch card): the method in use, with the slip number
    it asks for."""
    if not method.active:
        raise Refusal("method_not_in_use", field="method")
    if method.requires_reference and not reference:
        raise Refusal("reference_required", field="reference", method=method.label)


def _check_unspent(top_up: Batch) -> None:
    """A top-up can be taken back only while all of it is still there: the credit limit
    may carry a sale, never the reversal of the money that paid for it."""
    for transfer in top_up.transfers.select_related("credit_account"):
        account = ledger.lock(transfer.credit_account)
        if account.is_cached and account.cached_balance < transfer.amount:
            raise Refusal("top_up_spent")


def check_open(customer: Customer) -> None:
    if customer.status == Customer.Status.CLOSED:
        raise Refusal("account_closed", field="customer")


def _has_top_up(customer: Customer) -> bool:
    return Batch.objects.filter(
        customer=customer, code=Batch.Code.TOP_UP, reversed_by__isnull=True
    ).exists()


# -- sale ---------------------------------------------------------------------------------


def split_payment(total: int, paid: int, bonus: int, order: SpendOrder) -> tuple[int, int]:
    """How much of ``total`` comes from the paid balance and how much from the bonus.

    ``order`` is the shop's setting. Proportional splits by the two balances and rounds
    the bonus share half-up, so the two parts always add up to the total, to the cent.
    Whatever the balances cannot cover is taken from the paid balance, into the
    customer's credit; the wallet's floor decides whether that is allowed.
    """
    paid, bonus = max(paid, 0), max(bonus, 0)
    if order == SpendOrder.BONUS_FIRST:
        from_bonus = min(total, bonus)
    elif order == SpendOrder.PAID_FIRST:
        from_bonus = min(total - min(total, paid), bonus)
    elif paid + bonus <= total:
        from_bonus = bonus
    else:
        share = Decimal(total) * bonus / (paid + bonus)
        from_bonus = int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return total - from_bonus, from_bonus


def price(lines: Sequence[Line], currency: str) -> list[tuple[Line, int]]:
    """Each line with its amount; the shop's rules on quantities and totals."""
    if not lines:
        raise Refusal("no_lines", field="lines")
    for line in lines:
        if line.quantity <= 0 or line.quantity != line.quantity.quantize(QUANTUM):
            raise Refusal("quantity_not_valid", field="quantity")
    priced = [
        (line, price_line(line.product.unit_price, line.quantity, currency)) for line in lines
    ]
    total = sum(amount for _, amount in priced)
    if total <= 0:
        raise Refusal("sale_costs_nothing", field="lines")
    if total > MAX_MINOR:
        raise Refusal("sale_too_large", field="lines")
    return priced


@stepped
def sell(
    customer: Customer,
    lines: Sequence[Line],
    *,
    key: str,
    actor: Actor,
    note: str = "",
    read: tuple[Accounts, Account] | None = None,
    pending: rows.Pending | None = None,
    discount: Discount | None = None,
    tier: tiers.Held | None = None,
) -> Sold:
    """Charge the customer's balance for the lines, priced now and snapshotted, less
    ``discount`` (what a coupon takes off each line) and then the customer's ``tier``
    discount on what is left of each line (its product's rate, else the tier's).

    The split between paid and bonus money follows the shop's spend order, on the
    balances as read; the posting's guarded updates re-check every floor, so a sale
    beyond the balance and credit is refused (``insufficient_funds``, with the
    customer's shortfall) with nothing posted.

    ``read``: the customer's accounts and the store's revenue account, read already
    (``customer_for_sale``). ``pending``: where the sale lines go to be written with
    the operation's outcome; without it they are written at once.
    """
    business = Business.get()
    unit = business.currency
    check_open(customer)
    priced = price(lines, unit)
    taken = _taken(priced, discount)
    by_tier = [0] * len(priced)
    if tier is not None:
        by_tier = [
            tiers.off(amount - off, tier.rate(line.product.pk))
            for (line, amount), off in zip(priced, taken, strict=True)
        ]
        taken = [off + extra for off, extra in zip(taken, by_tier, strict=True)]
    total = sum(amount for _, amount in priced) - sum(taken)
    if total <= 0:
        raise Refusal("sale_costs_nothing", field="lines")
    request: dict[str, object] = {
        "sale": customer.pk,
        "lines": [[line.product.pk, str(line.quantity)] for line in lines],
    }
    if discount is not None or tier is not None:
        request["discount"] = list(taken)
    mine, revenue = read or (
        accounts(customer),
        ledger.house_account(Account.Kind.REVENUE, store=actor.store, unit=unit),
    )
    before = mine.balances()
    order = SpendOrder(business.spend_order)
    from_paid, from_bonus = split_payment(total, before.paid, before.bonus, order)
    legs = [
        ledger.Leg(account, revenue, amount, Transfer.Code.SALE)
        for account, amount in ((mine.wallet, from_paid), (mine.bonus, from_bonus))
        if amount
    ]
    multiplier = tier.tier.points_multiplier if tier is not None else Decimal(1)
    earned = points.earned(from_paid, business, multiplier)
    if earned:
        legs.append(
            points.earning_leg(
                customer,
                earned,
                store_id=actor.store.pk,
                held=mine.points,
                issued=mine.points_issued,
            )
        )
    try:
        receipt = ledger.post(
            key,
            legs,
            code=Batch.Code.SALE,
            actor=actor,
            customer=customer,
            note=note,
            request=request,
        )
    except InsufficientFunds as refusal:
        # The account's shortfall, told as the customer's: what all their money and
        # credit together miss, on the balances as read (not read again: inside the
        # envelope this transaction may have moved the other account already).
        available = max(before.available, 0)
        requested = max(total, available + refusal.shortfall)
        raise InsufficientFunds(mine.wallet.pk, available=available, requested=requested) from None
    if receipt.replayed:
        return Sold(receipt.batch, replayed=True)
    recorded = _lines(receipt.batch, priced, taken, from_bonus, by_tier)
    if pending is not None:
        pending.add(*recorded)
    else:
        SaleLine.objects.bulk_create(recorded)
    if business.tier_basis == TierBasis.SPEND:
        tiers.reach(customer, now=receipt.batch.created_at, by=actor.by)
    return Sold(
        receipt.batch,
        replayed=False,
        balances=receipt.balances,
        legs=receipt.legs,
        lines=tuple(recorded),
        after=mine.balances(receipt.balances),
        points=earned,
    )


def _taken(priced: list[tuple[Line, int]], discount: Discount | None) -> list[int]:
    """What comes off each priced line: never below nothing, never above its price."""
    if discount is None:
        return [0] * len(priced)
    if len(discount.per_line) != len(priced):
        raise ValueError("a discount names what comes off each line of the sale")
    for (_, amount), off in zip(priced, discount.per_line, strict=True):
        if not 0 <= off <= amount:
            raise ValueError(f"a line of {amount} cannot have {off} taken off")
    return list(discount.per_line)


def _lines(
    batch: Batch,
    priced: list[tuple[Line, int]],
    taken: list[int],
    from_bonus: int,
    by_tier: list[int],
) -> list[SaleLine]:
    charged = [amount - off for (_, amount), off in zip(priced, taken, strict=True)]
    bonus_parts = share(from_bonus, charged)
    return [
        SaleLine(
            batch=batch,
            product=line.product,
            quantity=line.quantity.quantize(QUANTUM),
            unit_price=Decimal(line.product.unit_price).quantize(PRICE_QUANTUM),
            amount_minor=amount,
            from_bonus_minor=bonus_part,
            discount_minor=off,
            tier_discount_minor=tiered,
        )
        for (line, _), amount, off, bonus_part, tiered in zip(
            priced, charged, taken, bonus_parts, by_tier, strict=True
        )
    ]


def share(part: int, amounts: Sequence[int]) -> list[int]:
    """``part`` of the sum of ``amounts`` shared over them in proportion, in whole minor
    units that add up to ``part`` exactly (the largest remainders get the odd cents,
    the earlier line on a tie), none above its own amount."""
    total = sum(amounts)
    if not total:
        return [0] * len(amounts)
    exact = [Decimal(part) * amount / total for amount in amounts]
    shares = [int(value) for value in exact]
    left = part - sum(shares)
    by_remainder = sorted(range(len(amounts)), key=lambda i: (-(exact[i] - shares[i]), i))
    for index in by_remainder[:left]:
        shares[index] += 1
    return shares


# -- refund, reversal ---------------------------------------------------------------------


@stepped
def cash_out(
    customer: Customer,
    amount_minor: int,
    *,
    method: PaymentMethod,
    key: str,
    actor: Actor,
    reason: str,
    reference: str = "",
) -> Receipt:
    """Pay paid money back to the customer (a refund); when it empties the wallet, the
    bonus is forfeited to the promotion account in the same batch.

    Only paid money goes back: never bonus, never credit. The wallet row is locked before
    its balance is read, so no sale can slip in between the check and the posting.
    """
    reason = reason.strip()
    if not reason:
        raise Refusal("reason_required", field="reason")
    if amount_minor <= 0:
        raise Refusal("amount_not_positive", field="amount")
    unit = Business.get().currency
    mine = accounts(customer)
    paid = max(ledger.lock(mine.wallet).cached_balance, 0)
    if amount_minor > paid:
        raise InsufficientFunds(mine.wallet.pk, available=paid, requested=amount_minor)
    paid_out = ledger.house_account(
        Account.Kind.PAYMENT, store=actor.store, unit=unit, method=method
    )
    legs = [ledger.Leg(mine.wallet, paid_out, amount_minor, Transfer.Code.REFUND)]
    bonus_left = ledger.lock(mine.bonus).cached_balance  # no bonus sale before the forfeit
    if amount_minor >= paid and bonus_left > 0:
        promotion = ledger.house_account(Account.Kind.PROMOTION, store=actor.store, unit=unit)
        legs.append(ledger.Leg(mine.bonus, promotion, bonus_left, Transfer.Code.FORFEIT))
    request = {"refund": customer.pk, "amount": amount_minor, "method": method.code}
    return ledger.post(
        key,
        legs,
        code=Batch.Code.REFUND,
        actor=actor,
        customer=customer,
        note=reason,
        reference=reference.strip(),
        request=request,
    )


# What the programs (``prepaid.programs``, which sits above this module) do about a
# reversal, registered when the app is ready: checks that may refuse it before anything
# moves, and the rows beside the ledger that follow it in the same transaction.
BEFORE_REVERSAL: list[Callable[[Batch], None]] = []
AFTER_REVERSAL: list[Callable[[Batch], None]] = []

UNDOABLE = (Batch.Code.SALE, Batch.Code.TOP_UP, Batch.Code.PACKAGE, Batch.Code.REDEMPTION)


def own_and_recent(batch: Batch, actor: Actor, *, now: datetime | None = None) -> bool:
    """What a cashier (or a cashier's API token) may reverse: their own sale, top-up,
    punch card sold or punch card use, within ``UNDO_WINDOW``. Anything else is a
    manager's correction."""
    if batch.code not in UNDOABLE:
        return False
    own = (actor.staff is not None and batch.staff_id == actor.staff.pk) or (
        actor.api_token is not None and batch.api_token_id == actor.api_token.pk
    )
    return own and (now or timezone.now()) - batch.created_at <= UNDO_WINDOW


def may_undo(batch: Batch, actor: Actor, *, now: datetime | None = None) -> bool:
    """Whether the counter offers "Undo": own, recent, and not reversed yet."""
    if not own_and_recent(batch, actor, now=now):
        return False
    return not Batch.objects.filter(reverses=batch).exists()


@stepped
def reverse(batch: Batch, *, key: str, actor: Actor, reason: str) -> Receipt:
    """Undo a sale, top-up or refund once, with a reason, by a linked reversing batch,
    booked at the store of the original.

    A top-up whose money was spent since cannot be taken back (the bonus or paid
    balance would go below its floor): ``top_up_spent``, and nothing moves.
    """
    reason = reason.strip()
    if not reason:
        raise Refusal("reason_required", field="reason")
    if Batch.objects.filter(reverses=batch).exists():
        raise AlreadyReversed(batch.pk)  # before "spent": the reversal took it back
    for check in BEFORE_REVERSAL:  # the programs' own reasons first: the more telling
        check(batch)
    if batch.code == Batch.Code.TOP_UP:
        _check_unspent(batch)
    same_store = actor.device is not None and actor.device.store_id == batch.store_id
    at_original = replace(actor, store=batch.store, device=actor.device if same_store else None)
    try:
        receipt = ledger.reverse(batch, key, actor=at_original, note=reason)
    except InsufficientFunds:
        if batch.code == Batch.Code.TOP_UP:
            raise Refusal("top_up_spent") from None
        if batch.code == Batch.Code.SALE:  # only its points can fall short
            raise Refusal("points_used") from None
        if batch.code == Batch.Code.PACKAGE:
            raise Refusal("punch_card_used") from None
        raise Refusal("reversal_below_floor") from None
    if not receipt.replayed:
        for follow in AFTER_REVERSAL:
            follow(batch)
        audit.record(
            "transaction.reversed",
            f"transaction:{batch.pk}",
            by=actor.staff or actor.api_token,
            store=batch.store,
            after={"reversal": receipt.batch.pk, "reason": reason},
        )
    return receipt


# -- balance rules ------------------------------------------------------------------------


@stepped
def set_credit_limit(customer: Customer, limit_minor: int, *, by: Author) -> None:
    """Let the customer's paid balance go down to minus ``limit_minor``.

    Refused (``credit_limit_below_balance``) when the balance is already below the new
    limit: the customer must top up first.
    """
    if limit_minor < 0:
        raise Refusal("credit_limit_negative", field="credit_limit")
    if limit_minor > MAX_MINOR:
        raise Refusal("amount_too_large", field="credit_limit")
    mine = accounts(customer)
    if not ledger.set_floor(mine.wallet, -limit_minor):
        raise Refusal("credit_limit_below_balance", field="credit_limit")
    before = customer.credit_limit_minor
    Customer.objects.filter(pk=customer.pk).update(credit_limit_minor=limit_minor)
    customer.credit_limit_minor = limit_minor
    audit.record(
        "customer.credit_limit",
        f"customer:{customer.code}",
        by=by,
        before={"credit_limit_minor": before},
        after={"credit_limit_minor": limit_minor},
    )


@stepped
def erase(customer: Customer, reason: str, *, by: Author) -> None:
    """Erase a customer's personal data (``customers.services.erase_profile``), for an
    erasure request: only at a zero balance (money owed either way must be settled
    first), with a reason. The ledger, its amounts and the customer code stay."""
    if not reason.strip():
        raise Refusal("reason_required", field="reason")
    if customer.erased_at is not None:
        raise Refusal("customer_erased")
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    current = balances(locked)
    if current.paid or current.bonus:
        raise Refusal("balance_not_zero", reason="erase")
    customers.erase_profile(locked, by=by)
    audit.record(
        "customer.erased", f"customer:{locked.code}", by=by, after={"reason": reason.strip()}
    )
    customer.__dict__.update(locked.__dict__)


def close_account(customer: Customer, *, by: Author) -> None:
    """Close the account: only at zero, after any money has been refunded or forfeited.

    Cards are revoked with it, so a closed account is never found by a scan again.
    """
    current = balances(customer)
    if current.paid or current.bonus:
        raise Refusal("balance_not_zero")
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.CLOSED)
    customer.status = Customer.Status.CLOSED
    for card in customer.cards.filter(revoked_at__isnull=True):
        customers.revoke_card(card, by=by)
    audit.record("customer.closed", f"customer:{customer.code}", by=by)
