"""A year of a chain of water stations, as ledger rows: what the reports benchmark loads.

Pure Python, no Django: ``generate`` walks the shop's days in order and yields chunks of
rows (batches, transfers, sale lines) with ids given in the order they happened, as the
services would have written them:

* customers visit at a pace of their own (a few every week, most now and then), mostly
  at their home store, between 07:00 and 21:00 in the shop's time zone; more on
  weekends, a little more as the year goes on; some join during the year, a quarter stop
  coming (their money stays: dormant balances, breakage);
* a visit is a sale of one to three lines (refills by the gallon, water by the litre,
  containers), preceded by a top-up when the balances do not cover it (and now and then
  when they do): 100 to 2,000 by one of the payment methods, 500 and more with a bonus;
* the sale is split between paid and bonus money in proportion (the default spend
  order), each line carrying its share of the bonus part, as ``sales.services`` does;
* about 1% of sales are undone a minute later and 0.4% of top-ups are taken back at once
  and made again (reversals mirroring each transfer), and 0.2% of visits are a refund of
  the paid balance (the bonus forfeited with it when it empties the wallet).

Every customer account's balance is followed transfer by transfer: floors hold (no
credit), each transfer carries the balance it left on its customer accounts, and
``totals`` gives the accounts' cached debits and credits at the end.
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

TIME_ZONE = "Asia/Manila"
CURRENCY = "PHP"
TODAY = date(2026, 11, 30)  # the last day of the ledger: "today", running until NOW
NOW = datetime(2026, 11, 30, 20, 0, tzinfo=ZoneInfo(TIME_ZONE))
OPENS, CLOSES = 7, 21  # shop hours, local
LAST_VISIT = timedelta(minutes=10)  # before NOW, today
VERSION = 2  # of the generator: part of the cached database's name

# code, name, weight (share of top-ups)
METHODS = (
    ("cash", "Cash", 45),
    ("gcash", "GCash", 22),
    ("card", "Card", 12),
    ("maya", "Maya", 10),
    ("mobile", "Mobile payment", 6),
    ("bank", "Bank transfer", 5),
)
# name, unit, unit price in centavos, quantity in thousandths (choices), weight
PRODUCTS = (
    ("Purified refill", "gallon", 2500, (1000, 1000, 2000, 3000, 4000), 40),
    ("Alkaline refill", "gallon", 4000, (1000, 1000, 2000, 3000), 18),
    ("Mineral refill", "gallon", 3500, (1000, 2000, 3000), 12),
    ("Purified water", "litre", 800, (1500, 2500, 4000, 6000), 10),
    ("Ice tube", "kg", 3000, (1000, 2000, 5000), 6),
    ("Slim container", "piece", 25000, (1000,), 2),
    ("Round container", "piece", 28000, (1000,), 1),
    ("Delivery", "trip", 1500, (1000,), 8),
    ("Cap and seal", "piece", 500, (1000, 2000, 5000), 3),
)
# amount in centavos, bonus, weight
PLANS = (
    (10_000, 0, 22),
    (20_000, 0, 30),
    (50_000, 2_500, 28),
    (100_000, 8_000, 15),
    (200_000, 25_000, 5),
)
TOP_UP_ANYWAY = 0.04  # a top-up although the balances cover the sale
TOP_UP_MISTAKE = 0.004  # a top-up taken back at once and made again
SALE_UNDONE = 0.01
REFUND = 0.002
HOME_STORE = 0.9
STORE_WEIGHTS = (35, 25, 20, 12, 8)
WEEKDAY = (0.9, 0.9, 0.95, 1.0, 1.1, 1.3, 1.2)  # Monday … Sunday

BATCH_COLUMNS = (
    "id",
    "key",
    "fingerprint",
    "code",
    "store_id",
    "staff_id",
    "api_token_id",
    "device_id",
    "customer_id",
    "reverses_id",
    "transfer_count",
    "note",
    "reference",
    "created_at",
)
TRANSFER_COLUMNS = (
    "id",
    "batch_id",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "code",
    "reverses_id",
    "store_id",
    "staff_id",
    "api_token_id",
    "created_at",
    "debit_balance_after",
    "credit_balance_after",
)
LINE_COLUMNS = (
    "id",
    "batch_id",
    "product_id",
    "quantity",
    "unit_price",
    "amount_minor",
    "from_bonus_minor",
)
FINGERPRINT = "0" * 64


@dataclass(frozen=True)
class Shape:
    """What to generate: about ``transfers`` transfers among ``customers`` customers."""

    transfers: int
    customers: int
    days: int = 365
    seed: int = 42

    @property
    def first_day(self) -> date:
        return TODAY - timedelta(days=self.days - 1)

    @property
    def name(self) -> str:
        """Names the cached database: everything that decides its rows."""
        return f"{self.transfers}t_{self.customers}c_{self.days}d_s{self.seed}_v{VERSION}"


@dataclass(frozen=True)
class Shop:
    """The ids of what the set-up made: per store (in order) its staff, counters, one
    payment account per method (in ``METHODS`` order), revenue and promotion accounts;
    products in ``PRODUCTS`` order. Customer ``c`` (0-based) has id ``c + 1``, wallet
    ``first_account + 2c`` and bonus account ``first_account + 2c + 1``."""

    store_ids: list[int]
    staff_ids: list[list[int]]
    device_ids: list[list[int]]
    payment_accounts: list[list[int]]
    revenue_accounts: list[int]
    promotion_accounts: list[int]
    product_ids: list[int]
    first_account: int


@dataclass
class Chunk:
    batches: list[tuple] = field(default_factory=list)
    transfers: list[tuple] = field(default_factory=list)
    lines: list[tuple] = field(default_factory=list)


class Ledger:
    """The ledger being written: ids, customer balances, rows not yet handed over."""

    def __init__(self, shape: Shape, shop: Shop, stamp: Callable[[datetime], str] = str) -> None:
        self.shop = shop
        self.first = shop.first_account
        accounts = 2 * shape.customers
        self.debits = array("q", bytes(8 * accounts))
        self.credits = array("q", bytes(8 * accounts))
        self.batch_id = self.transfer_id = self.line_id = 0
        self.chunk = Chunk()
        self.stamp = stamp

    def balance(self, account: int) -> int:
        index = account - self.first
        return self.credits[index] - self.debits[index]

    def batch(
        self,
        code: str,
        who: tuple[int, int, int],
        customer: int,
        at: str,
        count: int,
        *,
        reverses: int | None = None,
        note: str = "",
    ) -> int:
        self.batch_id += 1
        store, device, staff = who
        self.chunk.batches.append(
            (
                self.batch_id,
                f"bench-{self.batch_id}",
                FINGERPRINT,
                code,
                store,
                staff,
                None,
                device,
                customer,
                reverses,
                count,
                note,
                "",
                at,
            )
        )
        return self.batch_id

    def move(
        self,
        batch: int,
        debit: int,
        credit: int,
        amount: int,
        code: str,
        who: tuple[int, int, int],
        at: str,
        reverses: int | None = None,
    ) -> tuple[int, int, int, int]:
        """One transfer; the balances it leaves on its customer accounts are recorded,
        and the floor (zero) checked."""
        self.transfer_id += 1
        debit_after = credit_after = None
        if debit >= self.first:
            self.debits[debit - self.first] += amount
            debit_after = self.balance(debit)
            assert debit_after >= 0, f"account {debit} overdrawn"
        if credit >= self.first:
            self.credits[credit - self.first] += amount
            credit_after = self.balance(credit)
        store, _device, staff = who
        self.chunk.transfers.append(
            (
                self.transfer_id,
                batch,
                debit,
                credit,
                amount,
                code,
                reverses,
                store,
                staff,
                None,
                at,
                debit_after,
                credit_after,
            )
        )
        return (self.transfer_id, debit, credit, amount)

    def reverse(
        self,
        original: int,
        moved: list[tuple[int, int, int, int]],
        who: tuple[int, int, int],
        customer: int,
        at: str,
        note: str,
    ) -> None:
        batch = self.batch("reversal", who, customer, at, len(moved), reverses=original, note=note)
        for transfer, debit, credit, amount in moved:
            self.move(batch, credit, debit, amount, "reversal", who, at, reverses=transfer)

    def take(self) -> Chunk:
        chunk, self.chunk = self.chunk, Chunk()
        return chunk


@dataclass
class Crowd:
    """The customers' habits: when they join and leave (days), their home store, and
    cumulative weights of how often they come."""

    joins: array
    leaves: array
    homes: array
    cumulative: list[float]


def crowd(shape: Shape, rng: random.Random) -> Crowd:
    joins, leaves, homes = array("H"), array("H"), array("B")
    cumulative: list[float] = []
    total = 0.0
    stores = range(len(STORE_WEIGHTS))
    for _ in range(shape.customers):
        join = 0 if rng.random() < 0.4 else rng.randrange(shape.days)
        leave = rng.randrange(join, shape.days) + 1 if rng.random() < 0.25 else shape.days
        joins.append(join)
        leaves.append(leave)
        homes.append(rng.choices(stores, STORE_WEIGHTS)[0])
        # Visits per active day: lognormal, so a few come every other day and many
        # a few times a year. Scaled later to the transfers wanted.
        total += rng.lognormvariate(0, 1.1)
        cumulative.append(total)
    return Crowd(joins, leaves, homes, cumulative)


def _pick(people: Crowd, day: int, rng: random.Random) -> int:
    """A customer active on ``day``, the frequent ones more often."""
    total = people.cumulative[-1]
    while True:
        customer = bisect(people.cumulative, rng.random() * total)
        if people.joins[customer] <= day < people.leaves[customer]:
            return customer


def _busy(shape: Shape, day: int) -> float:
    """How busy a day is, relative: weekday, and a little growth over the year."""
    weekday = (shape.first_day + timedelta(days=day)).weekday()
    hours = (NOW.hour - OPENS) / (CLOSES - OPENS) if day == shape.days - 1 else 1.0
    return WEEKDAY[weekday] * (0.85 + 0.3 * day / shape.days) * hours


def generate(shape: Shape, ledger: Ledger, *, chunk: int = 200_000) -> Iterator[Chunk]:
    """The ledger's rows, in chunks of about ``chunk`` transfers; afterwards
    ``ledger.debits``/``credits`` hold the customer accounts' totals."""
    rng = random.Random(shape.seed)
    people = crowd(shape, rng)
    zone = ZoneInfo(TIME_ZONE)
    busy = [_busy(shape, day) for day in range(shape.days)]
    visits = 0
    for day in range(shape.days):
        when = shape.first_day + timedelta(days=day)
        opens = datetime(when.year, when.month, when.day, OPENS, tzinfo=zone)
        # Today's last visit leaves time for what follows it (a top-up taken back, a
        # sale undone up to 5 minutes later) before NOW: nothing is dated after it.
        closes = NOW - LAST_VISIT if when == TODAY else opens.replace(hour=CLOSES)
        # Spread what is left over the days left, by how busy each is; per visit as
        # many transfers as so far (1.6 to start with).
        per_visit = ledger.transfer_id / visits if visits else 1.6
        left = max(shape.transfers - ledger.transfer_id, 0)
        planned = round(left / per_visit * busy[day] / sum(busy[day:]))
        span = int((closes - opens).total_seconds() * 1e6)
        start = opens.astimezone(UTC).replace(tzinfo=None)
        for offset in sorted(rng.randrange(span) for _ in range(planned)):
            at = start + timedelta(microseconds=offset)
            visit(ledger, _pick(people, day, rng), at, people, rng)
        visits += planned
        if len(ledger.chunk.transfers) >= chunk or day == shape.days - 1:
            yield ledger.take()


def _who(shop: Shop, store: int, rng: random.Random) -> tuple[int, int, int]:
    return (
        shop.store_ids[store],
        rng.choice(shop.device_ids[store]),
        rng.choice(shop.staff_ids[store]),
    )


def _basket(rng: random.Random) -> list[tuple[int, int, int, int]]:
    """Lines: (product index, quantity in thousandths, unit price, amount in centavos)."""
    lines = []
    count = rng.choices((1, 2, 3), (70, 22, 8))[0]
    for index in rng.choices(range(len(PRODUCTS)), [p[4] for p in PRODUCTS], k=count):
        _name, _unit, price, quantities, _weight = PRODUCTS[index]
        quantity = rng.choice(quantities)
        lines.append((index, quantity, price, line_amount(price, quantity)))
    return lines


def line_amount(price: int, quantity: int) -> int:
    """Centavos for a quantity (thousandths) at a unit price (centavos), half up (as
    ``lib.money.price_line``)."""
    return (price * quantity + 500) // 1000


def quantity_text(quantity: int) -> str:
    return f"{quantity // 1000}.{quantity % 1000:03d}"


def price_text(price: int) -> str:
    return f"{price // 100}.{price % 100:02d}00"


def visit(ledger: Ledger, customer: int, at: datetime, people: Crowd, rng: random.Random) -> None:
    """A customer at the counter: a refund, or a sale (topped up first if need be),
    perhaps undone."""
    shop = ledger.shop
    store = people.homes[customer]
    if rng.random() > HOME_STORE:
        store = rng.randrange(len(STORE_WEIGHTS))
    who = _who(shop, store, rng)
    wallet = shop.first_account + 2 * customer
    bonus = wallet + 1
    customer_id = customer + 1
    if rng.random() < REFUND and ledger.balance(wallet) > 0:
        refund(ledger, customer, who, store, ledger.stamp(at))
        return
    basket = _basket(rng)
    total = sum(line[3] for line in basket)
    held = ledger.balance(wallet) + ledger.balance(bonus)
    if held < total or rng.random() < TOP_UP_ANYWAY:
        amount, extra = rng.choices([p[:2] for p in PLANS], [p[2] for p in PLANS])[0]
        while held + amount < total:
            amount += 10_000
        method = rng.choices(range(len(METHODS)), [m[2] for m in METHODS])[0]
        legs = [(shop.payment_accounts[store][method], wallet, amount, "top_up")]
        if extra:
            legs.append((shop.promotion_accounts[store], bonus, extra, "bonus"))
        moved, batch = _post(ledger, "top_up", legs, who, customer_id, at)
        at += timedelta(seconds=20)
        if rng.random() < TOP_UP_MISTAKE:
            ledger.reverse(batch, moved, who, customer_id, ledger.stamp(at), "Wrong amount")
            at += timedelta(seconds=20)
            moved, batch = _post(ledger, "top_up", legs, who, customer_id, at)
            at += timedelta(seconds=20)
    sold, batch = sale(ledger, basket, wallet, who, store, customer_id, at)
    if rng.random() < SALE_UNDONE:
        at += timedelta(seconds=rng.randrange(20, 240))
        ledger.reverse(batch, sold, who, customer_id, ledger.stamp(at), "Wrong product")


def _post(
    ledger: Ledger,
    code: str,
    legs: list[tuple[int, int, int, str]],
    who: tuple[int, int, int],
    customer_id: int,
    at: datetime,
    note: str = "",
) -> tuple[list[tuple[int, int, int, int]], int]:
    stamp = ledger.stamp(at)
    batch = ledger.batch(code, who, customer_id, stamp, len(legs), note=note)
    moved = [ledger.move(batch, d, c, amount, kind, who, stamp) for d, c, amount, kind in legs]
    return moved, batch


def split(total: int, paid: int, bonus: int) -> int:
    """The bonus part of a sale, in proportion to the balances, half up (as
    ``sales.services.split_payment`` with the proportional spend order)."""
    paid, bonus = max(paid, 0), max(bonus, 0)
    if paid + bonus <= total:
        return bonus
    return (2 * total * bonus + paid + bonus) // (2 * (paid + bonus))


def share(part: int, amounts: list[int]) -> list[int]:
    """``part`` shared over ``amounts`` in proportion, largest remainders first (as
    ``sales.services.share``)."""
    total = sum(amounts)
    shares = [part * amount // total for amount in amounts]
    remainders = [part * amount % total for amount in amounts]
    order = sorted(range(len(amounts)), key=lambda i: (-remainders[i], i))
    for index in order[: part - sum(shares)]:
        shares[index] += 1
    return shares


def sale(
    ledger: Ledger,
    basket: list[tuple[int, int, int, int]],
    wallet: int,
    who: tuple[int, int, int],
    store: int,
    customer_id: int,
    at: datetime,
) -> tuple[list[tuple[int, int, int, int]], int]:
    shop = ledger.shop
    total = sum(line[3] for line in basket)
    from_bonus = split(total, ledger.balance(wallet), ledger.balance(wallet + 1))
    revenue = shop.revenue_accounts[store]
    legs = [
        (account, revenue, amount, "sale")
        for account, amount in ((wallet, total - from_bonus), (wallet + 1, from_bonus))
        if amount
    ]
    moved, batch = _post(ledger, "sale", legs, who, customer_id, at)
    parts = share(from_bonus, [line[3] for line in basket])
    for (product, quantity, price, amount), part in zip(basket, parts, strict=True):
        ledger.line_id += 1
        ledger.chunk.lines.append(
            (
                ledger.line_id,
                batch,
                shop.product_ids[product],
                quantity_text(quantity),
                price_text(price),
                amount,
                part,
            )
        )
    return moved, batch


def refund(ledger: Ledger, customer: int, who: tuple[int, int, int], store: int, at: str) -> None:
    """The paid balance given back in cash (the bonus forfeited with it)."""
    shop = ledger.shop
    wallet = shop.first_account + 2 * customer
    paid, bonus = ledger.balance(wallet), ledger.balance(wallet + 1)
    legs = [(wallet, shop.payment_accounts[store][0], paid, "refund")]
    if bonus > 0:
        legs.append((wallet + 1, shop.promotion_accounts[store], bonus, "forfeit"))
    stamp_batch = ledger.batch("refund", who, customer + 1, at, len(legs), note="Moving away")
    for debit, credit, amount, code in legs:
        ledger.move(stamp_batch, debit, credit, amount, code, who, at)
