"""The business, its stores, the people who work there and the API tokens acting for it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from prepaid.lib import rows


class SpendOrder(models.TextChoices):
    """Which balance a sale spends first (DESIGN §5); shown on the receipt."""

    PROPORTIONAL = "proportional", _("In proportion to paid and bonus balance")
    PAID_FIRST = "paid_first", _("Paid balance first, then bonus")
    BONUS_FIRST = "bonus_first", _("Bonus first, then paid balance")


# The business of the request being served: a one-item list, filled by ``for_request``
# (or later in the request by ``remember``); None outside a request.
_REQUEST_BUSINESS: ContextVar[list[Business | None] | None] = ContextVar(
    "request_business", default=None
)


class ExpiryRules(models.TextChoices):
    """What the law where the shop trades lets it do with money customers paid in: a
    setting the owner chooses (docs/programs.md lists what we know), not legal advice.
    Bonus may expire under either (it was given, not paid)."""

    PAID_NEVER = "paid_never", _("Paid money never expires")
    PAID_MAY_EXPIRE = "paid_may_expire", _("Paid money may expire (where the law allows it)")


class TierBasis(models.TextChoices):
    DEPOSIT = "deposit", _("Money paid in (top-ups)")
    SPEND = "spend", _("Money spent (sales)")


class TierWindow(models.TextChoices):
    LIFETIME = "lifetime", _("Since the customer joined")
    YEAR = "year", _("The last twelve months")


class Business(models.Model):
    """The one business this installation serves (a singleton, row id 1).

    Set once by the first-run form or ``prepaid init``. The currency is fixed from then
    on: every amount in the ledger is in its minor unit.
    """

    name = models.CharField(_("business name"), max_length=120)
    currency = models.CharField(_("currency"), max_length=3)
    region = models.CharField(_("country"), max_length=2, help_text=_("Default phone region"))
    time_zone = models.CharField(_("time zone"), max_length=64)
    spend_order = models.CharField(
        _("spend order"), max_length=20, choices=SpendOrder.choices, default=SpendOrder.PROPORTIONAL
    )
    top_up_minimum_minor = models.BigIntegerField(
        _("smallest top-up"), null=True, blank=True, help_text=_("Empty: no minimum")
    )
    top_up_maximum_minor = models.BigIntegerField(
        _("largest top-up"), null=True, blank=True, help_text=_("Empty: no maximum")
    )
    counter_idle_minutes = models.PositiveSmallIntegerField(
        _("lock the counter after"),
        default=5,
        help_text=_("Minutes without activity before the counter asks for a PIN again"),
    )
    first_top_up_bonus_minor = models.BigIntegerField(
        _("first top-up bonus"), default=0, help_text=_("Added to a customer's first top-up")
    )
    bonus_expiry_days = models.PositiveIntegerField(
        _("bonus expires after (days)"),
        null=True,
        blank=True,
        help_text=_("Bonus not spent this many days after it was given expires. Empty: never"),
    )
    expiry_rules = models.CharField(
        _("rules for paid money"),
        max_length=20,
        choices=ExpiryRules.choices,
        default=ExpiryRules.PAID_NEVER,
    )
    paid_expiry_days = models.PositiveIntegerField(
        _("paid money expires after (days)"),
        null=True,
        blank=True,
        help_text=_(
            "Only with rules that let paid money expire: paid money not spent this many days"
            " after it was paid in expires. Empty: never"
        ),
    )
    points_every_minor = models.BigIntegerField(
        _("paid money per point"),
        null=True,
        blank=True,
        help_text=_("A point for every this much paid money spent. Empty: no points"),
    )
    point_value_minor = models.BigIntegerField(
        _("a point is worth"),
        default=0,
        help_text=_("What a point gives as bonus when redeemed; 0: points are not redeemed"),
    )
    points_expiry_days = models.PositiveIntegerField(
        _("points expire after (days)"),
        null=True,
        blank=True,
        help_text=_("Points not used this many days after they were earned expire. Empty: never"),
    )
    punch_card_refunds = models.BooleanField(
        _("refund unused punch card uses"),
        default=False,
        help_text=_(
            "A manager may pay back the uses left on a punch card, at what the card's price"
            " gives them"
        ),
    )
    tier_basis = models.CharField(
        _("tiers count"), max_length=10, choices=TierBasis.choices, default=TierBasis.DEPOSIT
    )
    tier_window = models.CharField(
        _("tiers count over"),
        max_length=10,
        choices=TierWindow.choices,
        default=TierWindow.LIFETIME,
    )
    # Maker-checker (docs/security.md, "Four eyes"): what a second person approves.
    approval_above_minor = models.BigIntegerField(
        _("approve refunds and reversals above"),
        null=True,
        blank=True,
        default=10000,
        help_text=_(
            "A refund or reversal of more than this waits for the owner or another manager"
            " to approve it. Empty: none waits"
        ),
    )
    approval_bonus_percent = models.PositiveSmallIntegerField(
        _("approve bonuses above (%)"),
        null=True,
        blank=True,
        default=20,
        help_text=_(
            "A top-up plan or bonus rule that gives more than this share of the amount paid"
            " is in force only once the owner or another manager approves it. Empty: none"
            " waits"
        ),
    )
    privacy_notice = models.TextField(
        _("privacy notice"),
        blank=True,
        help_text=_(
            "Shown on every customer's own page. Empty: the standard notice (what is kept,"
            " why, and how to ask for a copy or erasure), in the customer's language"
        ),
    )
    approval_credit_raises = models.BooleanField(
        _("approve credit-limit raises"),
        default=True,
        help_text=_(
            "A higher credit limit set by a manager waits for the owner or another manager"
            " to approve it"
        ),
    )
    # Messages to customers (docs/messages.md).
    language = models.CharField(
        _("language of messages"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("What e-mails and SMS are written in for customers who chose none"),
    )
    low_balance_minor = models.BigIntegerField(
        _("low-balance notice below"),
        null=True,
        blank=True,
        help_text=_(
            "A customer whose balance falls below this after a sale is told so. Empty: no notices"
        ),
    )
    reminder_days = models.PositiveSmallIntegerField(
        _("expiry reminders (days ahead)"),
        null=True,
        blank=True,
        default=7,
        help_text=_(
            "Customers who agreed to marketing are reminded this many days before their"
            " bonus expires or their pass ends. Empty: no reminders"
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("business")
        verbose_name_plural = _("businesses")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls) -> Business | None:
        """The business, read once per request (see ``for_request``), else each time."""
        holder = _REQUEST_BUSINESS.get()
        if holder is not None and holder[0] is not None:
            return holder[0]
        return cls.read()

    @classmethod
    def get(cls) -> Business:
        """The business, for code that cannot run before the set-up: a ``Refusal``
        (``not_set_up``, 503) otherwise. The one way every layer fetches the shop."""
        business = cls.current()
        if business is None:
            from prepaid.staff.refusals import Refusal  # refusals reads this module

            raise Refusal("not_set_up")
        return business

    @classmethod
    def remember(cls, business: Business) -> None:
        """Let ``current`` answer with ``business`` for the rest of the request that
        ``for_request`` wraps (the API reads it with the token, in one query). Outside
        a request, nothing is remembered."""
        holder = _REQUEST_BUSINESS.get()
        if holder is not None:
            holder[0] = business

    @classmethod
    def read(cls) -> Business | None:
        """The business from the database, or None before the first-run set-up."""
        return rows.one(cls, "id = %s", [1])

    @classmethod
    @contextmanager
    def for_request(cls, business: Business | None) -> Iterator[None]:
        """Let ``current`` answer with ``business`` (read once by the caller) until the
        block ends: a request asks for the currency, the spend order and the region
        several times, and they do not change in the middle of it."""
        token = _REQUEST_BUSINESS.set([business])
        try:
            yield
        finally:
            _REQUEST_BUSINESS.reset(token)


class Store(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["name"]
        verbose_name = _("store")
        verbose_name_plural = _("stores")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    CASHIER = "cashier", _("Cashier")
    ACCOUNTANT = "accountant", _("Accountant")


class Staff(models.Model):
    """A person who works for the business. Owners and managers also have a login."""

    Role = Role

    name = models.CharField(_("name"), max_length=120)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    stores = models.ManyToManyField(Store, blank=True, verbose_name=_("stores"))
    pin_hash = models.CharField(max_length=128, blank=True, help_text="Hashed counter PIN")
    active = models.BooleanField(_("active"), default=True)
    # Two-step sign-in (``prepaid.staff.two_step``): the TOTP secret in base32, empty
    # when it is off; and the time step of the last code accepted, so a code is used
    # once (a replay within its window is refused).
    totp_secret = models.CharField(max_length=200, blank=True)  # sealed: staff.two_step
    totp_last_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar = ["name"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return self.name


class Device(models.Model):
    """A browser the owner enrolled as the counter of a store, or as its customer kiosk.

    The browser keeps a long random secret in a cookie; only its digest is stored here.
    On an enrolled counter, cashiers unlock with their PIN alone. A kiosk is a screen
    for customers (docs/kiosk.md): they scan their card and type their own PIN to read
    their balance; no cashier unlocks it, and it is never a counter.
    """

    class Kind(models.TextChoices):
        COUNTER = "counter", _("Counter")
        KIOSK = "kiosk", _("Customer kiosk")

    name = models.CharField(_("name"), max_length=60)
    store = models.ForeignKey(Store, on_delete=models.PROTECT, verbose_name=_("store"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.COUNTER)
    digest = models.CharField(max_length=64, unique=True)
    enrolled_by = models.ForeignKey(
        Staff, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["store", "name"]
        verbose_name = _("counter")
        verbose_name_plural = _("counters")

    def __str__(self) -> str:
        return f"{self.name} ({self.store})"


class PinLockout(models.Model):
    """Wrong PINs of one staff member, on any of the shop's counters: five in a row lock
    them out of every counter, for 15 minutes the first time, an hour the second, and
    until an owner unlocks them the third (``level``: the lockouts since their last
    right PIN). ``device``: the counter of the last wrong PIN."""

    UNTIL_OWNER = 3  # the level from which only an owner lets them try again

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    device = models.ForeignKey(
        Device, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    failures = models.PositiveSmallIntegerField(default=0)
    level = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["staff"], name="pin_lockout_per_staff")
        ]

    def __str__(self) -> str:
        return f"{self.staff}: {self.failures}"

    def locked(self, now: datetime) -> bool:
        return self.level >= self.UNTIL_OWNER or bool(self.locked_until and self.locked_until > now)


class LoginThrottle(models.Model):
    """Failed attempts at a door of the back office, counted per ``kind`` and ``value``:
    a user name (lower case) at the login, the address it came from, the address
    trying codes at the set-up page, or a card whose page is asked to report it lost
    (``prepaid.staff.logins`` holds the numbers), or a kiosk where unknown cards are
    scanned and wrong customer PINs typed.

    ``wait_until``: no attempt is looked at before then (a back-off, or a lock);
    ``locked_until``: the same time when it is a lock, the one the owner is shown and
    may lift. Kept in the database, so every server process counts together."""

    class Kind(models.TextChoices):
        NAME = "name", _("user name")
        ADDRESS = "address", _("address")
        SETUP = "setup", _("set-up code from address")
        CARD = "card", _("lost-card report on the customer's page")
        KIOSK = "kiosk", _("unknown cards and wrong PINs at a customer kiosk")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=150)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True, db_index=True)
    wait_until = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["kind", "value"], name="login_throttle_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}: {self.failures}"


class ApiToken(models.Model):
    """A bearer token for the REST API, stored as a digest; the key is shown once.

    A token acts with its role's permissions and, when ``store`` is set, for that store.
    """

    Role = Role

    name = models.CharField(_("name"), max_length=120)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise a key")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEvent(models.Model):
    """Who did what, when and where, for every change that is not a transfer.

    Transfers are their own audit trail; everything else that matters (customer edits,
    consent, cards, imports, exports, reversals' reasons, logins) is written here.
    Append-only: the database refuses UPDATE and DELETE (``prepaid.lib.immutable``),
    and each event's ``digest`` chains it to the one before (``prepaid.staff.audit``),
    so ``prepaid verify`` finds an event changed, removed or slipped in behind the
    triggers' back.
    """

    staff = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT)
    api_token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.PROTECT)
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.PROTECT)
    action = models.CharField(max_length=60)
    subject = models.CharField(max_length=120, blank=True, help_text="e.g. customer:K7MQ-4XZP")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)  # in its digest
    digest = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes: ClassVar = [models.Index(fields=["subject", "-id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.subject}"
