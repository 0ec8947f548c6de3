"""The counter: identify (scan or search), the customer panel, sell, top up, the
receipt, undo; and the PIN screen and enrolment around them.

Every view is thin: it runs an operation (``prepaid.operations``) and shows its outcome.
A money form carries the key made when it was rendered; the envelope turns a second post
of the same key into the first one's outcome (its receipt, or its refusal), so nothing
is charged twice.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from prepaid.catalog import tiers
from prepaid.catalog.models import Product, TopUpPlan
from prepaid.closing.running import running
from prepaid.closing.spans import Place
from prepaid.counter import access
from prepaid.counter.access import CounterRequest, at_counter
from prepaid.counter.forms import (
    EnrollForm,
    LinkCardForm,
    ManagerRefundForm,
    NewCustomerForm,
    PackageForm,
    PinForm,
    SellForm,
    TopUpForm,
    UndoForm,
    new_key,
)
from prepaid.customers import lookup, pins
from prepaid.customers import services as customers
from prepaid.customers.cards import qr_svg
from prepaid.customers.models import Customer
from prepaid.ledger.models import Batch, Transfer
from prepaid.ledger.services import Actor
from prepaid.lib.codes import normalize_code
from prepaid.lib.money import from_minor
from prepaid.lib.phones import mask_phone
from prepaid.operations.customers import CloseAccount, Contact, IssueCard, RegisterCustomer
from prepaid.operations.envelope import Operation, Result, run
from prepaid.operations.money import MoveSale, RedeemPoints, Refund, Reversal, Sale, TopUp
from prepaid.operations.programs import BuyPackage, Redeem
from prepaid.programs import services as programs
from prepaid.programs.models import Package
from prepaid.reports.customers import history, last_sale, with_balances
from prepaid.reports.queries import customer_change
from prepaid.sales import points
from prepaid.sales import services as sales
from prepaid.staff import audit, counters
from prepaid.staff.models import Business, Device, Staff
from prepaid.staff.refusals import Refusal
from prepaid.staff.roles import may
from prepaid.web import kiosk_pins
from prepaid.web.people import allowed, staff_of

RESULTS = 8


def _customer(code: str) -> Customer:
    canonical = normalize_code(code)
    if canonical is None:
        raise Http404
    return get_object_or_404(Customer, code=canonical)


# -- a lost card's holder -----------------------------------------------------------------
# After "Lost card: replace", the old card no longer scans, but its printed code (and the
# customer's name) still find the customer. For REPLACED_CHECK after a card was revoked,
# the panel opens only for whoever shows a card in use, or tells the last four digits of
# the customer's phone (the cashier vouches instead when there is no phone). The code
# stays the customer's: integrations and the ledger's exports know them by it.
REPLACED_CHECK = timedelta(days=30)
CHECKED = "counter_checked"  # session: the codes whose holder was checked here


def replaced_since(customer: Customer) -> datetime | None:
    """When a card of the customer was last revoked, if within ``REPLACED_CHECK``."""
    since = timezone.now() - REPLACED_CHECK
    revoked = customer.cards.filter(revoked_at__gte=since).order_by("-revoked_at")
    return revoked.values_list("revoked_at", flat=True).first()


def _mark_checked(request: HttpRequest, customer: Customer) -> None:
    checked = [code for code in request.session.get(CHECKED, []) if code != customer.code]
    request.session[CHECKED] = [*checked[-49:], customer.code]


def holder_checked(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The customer panel and its forms, for a customer whose card was replaced lately,
    only once their holder was checked at this counter (``check``)."""

    @wraps(view)
    def checked_view(request: CounterRequest, code: str, *args: Any, **kwargs: Any) -> HttpResponse:
        person = _customer(code)
        if person.code not in request.session.get(CHECKED, []) and replaced_since(person):
            return redirect("counter_check", code=person.code)
        return view(request, code, *args, **kwargs)

    return checked_view


@at_counter
def check(request: CounterRequest, code: str) -> HttpResponse:
    """Ask for the last four digits of the phone of a customer whose card was replaced
    lately (or, without a phone, for the cashier's word); audited either way."""
    person = _customer(code)
    since = replaced_since(person)
    if since is None or person.code in request.session.get(CHECKED, []):
        return redirect("counter_customer", code=person.code)
    wrong = False
    if request.method == "POST":
        digits = "".join(ch for ch in request.POST.get("digits", "") if ch.isdigit())
        if person.phone:
            passed = hmac.compare_digest(digits.encode(), person.phone[-4:].encode())
        else:
            passed = request.POST.get("vouch") == "1"
        how = "phone" if person.phone else "vouched"
        action = "customer.holder_checked" if passed else "customer.holder_check_failed"
        audit.record(action, f"customer:{person.code}", by=request.cashier, after={"how": how})
        if passed:
            _mark_checked(request, person)
            return redirect("counter_customer", code=person.code)
        wrong = True
    context = {"customer": person, "since": since, "wrong": wrong, "has_phone": bool(person.phone)}
    return render(request, "counter/check.html", context, status=200)


# -- identify ---------------------------------------------------------------------------


def _rows(found: list[Customer]) -> list[Customer]:
    """The found customers with their balances, in the ranked order."""
    annotated = with_balances(Customer.objects.filter(pk__in=[c.pk for c in found]))
    by_id = {customer.pk: customer for customer in annotated}
    rows = [by_id[c.pk] for c in found if c.pk in by_id]
    for row in rows:
        row.masked = mask_phone(row.phone) if row.phone else ""  # type: ignore[attr-defined]
    return rows


@at_counter
def home(request: CounterRequest) -> HttpResponse:
    """The identify screen. Enter in the box (a scanner ends with Enter) lands here with
    ``q``: a card or code opens its customer at once, and so does a single match."""
    query = request.GET.get("q", "").strip()
    results: list[Customer] = []
    if query and (holder := lookup.by_live_card(query)) is not None:
        _mark_checked(request, holder)  # a card in use was scanned: its holder is known
        return redirect("counter_customer", code=holder.code)
    if query and (blank := lookup.blank(query)) is not None:
        return render(
            request, "counter/blank.html", {"query": "", "blank": blank, "scanned": query}
        )
    if query:
        results = lookup.search(query, limit=RESULTS)  # a card or code comes back alone
        if len(results) == 1:
            return redirect("counter_customer", code=results[0].code)
    context = {"query": query, "results": _rows(results), "searched": bool(query)}
    return render(request, "counter/home.html", context)


@at_counter
def find(request: CounterRequest) -> HttpResponse:
    """Ranked results as the cashier types (htmx)."""
    query = request.GET.get("q", "").strip()
    results = _rows(lookup.search(query, limit=RESULTS)) if query else []
    context = {"query": query, "results": results, "searched": bool(query)}
    return render(request, "counter/results.html", context)


# -- a new customer -----------------------------------------------------------------------


@at_counter
def new_customer(request: CounterRequest) -> HttpResponse:
    """Register a walk-in customer from the search box ("New customer: …"): one short
    form, then their panel with their new card's QR code on screen. A phone number or
    e-mail address that is someone else's offers that customer instead."""
    existing: Customer | None = None
    if request.method != "POST":
        form = NewCustomerForm.from_search(request.GET.get("q", ""), request.GET.get("card", ""))
    else:
        form = NewCustomerForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            contact = Contact(
                name=data["name"],
                phone=data["phone"],
                email=data["email"],
                notes=data["notes"],
                marketing_sms=data["marketing_sms"],
                marketing_email=data["marketing_email"],
            )
            try:
                done = _run(request, RegisterCustomer(contact, card=data["card"]), data["key"])
            except Refusal as refusal:
                if refusal.code == "duplicate_customer":
                    existing = Customer.objects.filter(code=refusal.params["existing"]).first()
                field = refusal.field if refusal.field in form.fields else None
                field = None if field == "card" else field  # hidden: said above the form
                form.add_error(field, refusal.message())
            else:
                code = done.data["code"]
                _mark_checked(request, Customer(code=code))  # the holder is standing here
                return redirect(f"{reverse('counter_customer', args=[code])}?new=1")
    card = form["card"].value() or ""
    context = {"form": form, "existing": existing, "blank": lookup.blank(card) if card else None}
    return render(request, "counter/new_customer.html", context)


@require_POST
@at_counter
@holder_checked
def link_card(request: CounterRequest, code: str) -> HttpResponse:
    """A pre-printed card scanned into the panel becomes the customer's card; the cards
    they had stop (one card per customer: the one they carry)."""
    person = _customer(code)
    form = LinkCardForm(request.POST)
    if form.is_valid():
        operation = IssueCard(person.code, replace=True, token=form.cleaned_data["card"])
        try:
            _run(request, operation, form.cleaned_data["key"])
        except Refusal as refusal:
            if refusal.code != "idempotency_key_reused":
                return _panel(request, person, refusal=refusal.message())
        messages.success(request, _("The printed card is now their card."))
    return redirect("counter_customer", code=person.code)


@at_counter
def print_card(request: CounterRequest, code: str) -> HttpResponse:
    """The customer's card in use, in credit-card size, to print at the till."""
    person = _customer(code)
    card = next(iter(customers.active_cards(person)), None)
    cards = [(person, qr_svg(card, scale=3))] if card is not None else []
    return render(request, "backoffice/print_card.html", {"cards": cards})


# -- the customer panel -------------------------------------------------------------------


def _panel(
    request: CounterRequest,
    customer: Customer,
    *,
    sell_form: SellForm | None = None,
    top_up_form: TopUpForm | None = None,
    package_form: PackageForm | None = None,
    refusal: str = "",
    show_top_up: bool = False,
    show_package: bool = False,
    new_card: str | None = None,
    refund_form: ManagerRefundForm | None = None,
) -> HttpResponse:
    balances = sales.balances(customer)
    cards = programs.holdings(customer)
    passes = programs.passes(customer)
    member = tiers.held(customer.pk)
    left = programs.uses_left(cards)
    products = list(Product.objects.filter(active=True))
    for product in products:
        product.uses_left = left.get(product.pk, 0)  # type: ignore[attr-defined]
        covered = any(h.time_pass.product_id in (None, product.pk) for h in passes)
        today = programs.pass_left(passes, product) if covered else 0
        extra = product  # what the template reads beside the product's own fields
        extra.by_pass, extra.pass_left = covered, today  # type: ignore[attr-defined]
        extra.redeemable = None if today is None else today + left.get(product.pk, 0)  # type: ignore[attr-defined]
        bp = member.rate(product.pk) if member else 0
        extra.tier_bp = bp  # type: ignore[attr-defined]
        extra.tier_price = product.unit_price * (10000 - bp) / 10000  # type: ignore[attr-defined]
    packages = Package.objects.filter(active=True).select_related("product")
    context = {
        "cards": cards,
        "passes": passes,
        "member": member,
        "points_held": (held_points := points.balance(customer)),
        "points_worth": held_points * Business.get().point_value_minor,
        "points_key": new_key(),
        "packages": packages,
        "package_form": package_form or PackageForm(initial={"key": new_key()}),
        "show_package": show_package,
        "customer": customer,
        "balances": balances,
        "history": history(customer, limit=5),
        "has_notes": bool(customer.notes) or customer.timeline.exists(),
        "products": products,
        "plans": TopUpPlan.objects.filter(active=True),
        "presets": (1, 3, 5),
        "last_sale": last_sale(customer),
        "repeat_key": new_key(),  # its own: it is another sale than the main form's
        "sell_form": sell_form or SellForm(initial={"key": new_key(), "quantity": 1}),
        "top_up_form": top_up_form or TopUpForm(initial={"key": new_key()}),
        "refusal": refusal,
        "new_card": new_card,
        "link_form": LinkCardForm(initial={"key": new_key()}),
        "refund_form": refund_form
        or ManagerRefundForm(
            initial={
                "key": new_key(),
                "amount": from_minor(max(balances.paid, 0), Business.get().currency),
            },
            managers=_managers(request),
        ),
        "show_refund": refund_form is not None,
        "show_top_up": show_top_up,
        "currency": Business.get().currency,
        "kiosk_pin": pins.held(customer),
        "kiosk_pin_url": reverse("counter_kiosk_pin", args=[customer.code]),
    }
    return render(request, "counter/customer.html", context)


@at_counter
@holder_checked
def customer(request: CounterRequest, code: str) -> HttpResponse:
    person = _customer(code)
    new_card = None
    if request.GET.get("new") == "1":  # just registered: the card to photograph or print
        card = next(iter(customers.active_cards(person)), None)
        new_card = qr_svg(card, scale=4) if card is not None else None
    return _panel(request, person, show_top_up=request.GET.get("top_up") == "1", new_card=new_card)


def _scope(request: CounterRequest) -> str:
    """Whose keys a counter's forms carry: this counter's."""
    return f"counter:{request.device.pk}"


def _run(request: CounterRequest, operation: Operation, form_key: str) -> Result:
    return run(operation, actor=access.actor(request), scope=_scope(request), key=form_key)


def _refused(
    request: CounterRequest, person: Customer, form: forms.Form, refusal: Refusal, *, panel: str
) -> HttpResponse:
    """The panel again with the refusal (the same words as the API's and the back
    office's), nothing charged; ``panel``: the form's part of it (``sell``, ``top_up``,
    ``package``). The form keeps what was typed under a fresh key: the refused key keeps
    its refusal, and a corrected form is a new operation."""
    if refusal.code == "idempotency_key_reused" and refusal.original is not None:
        return _original(refusal.original)
    data = request.POST.copy()
    data["key"] = new_key()
    form.data = data
    if refusal.field in form.fields and not form.errors.get(refusal.field):
        form.add_error(refusal.field, refusal.message())
        message = ""
    else:
        message = refusal.message()
    shortfall = refusal.code == "insufficient_funds"
    return _panel(
        request,
        person,
        refusal=message,
        show_top_up=panel == "top_up" or shortfall,
        show_package=panel == "package",
        **{f"{panel}_form": form},  # type: ignore[arg-type]
    )


def _original(stored: Any) -> HttpResponse:
    """The same form was posted again with other values: show what it did the first
    time instead of doing anything now."""
    if stored.batch_id is not None:
        return redirect("counter_receipt", batch_id=stored.batch_id)
    raise Http404


@require_POST
@at_counter
@holder_checked
def sell(request: CounterRequest, code: str) -> HttpResponse:
    person = _customer(code)
    form = SellForm(request.POST)
    if not form.is_valid():
        return _panel(request, person, sell_form=form)
    data = form.cleaned_data
    operation: Operation
    if data["use_card"]:
        count = int(data["quantity"])
        operation = Redeem(customer=person.code, product=str(data["product"].pk), quantity=count)
    else:
        line = (str(data["product"].pk), str(data["quantity"]))
        operation = Sale(customer=person.code, lines=(line,), coupon=data["coupon"])
    try:
        sold = _run(request, operation, data["key"])
    except Refusal as refusal:
        return _refused(request, person, form, refusal, panel="sell")
    return redirect("counter_receipt", batch_id=sold.batch_id)


@require_POST
@at_counter
@holder_checked
def top_up(request: CounterRequest, code: str) -> HttpResponse:
    person = _customer(code)
    form = TopUpForm(request.POST)
    if not form.is_valid():
        return _panel(request, person, top_up_form=form, show_top_up=True)
    data = form.cleaned_data
    plan = data["plan"]
    operation = TopUp(
        customer=person.code,
        amount_minor=plan.amount_minor if plan and data["amount"] is None else data["amount"],
        method=data["method"].code,
        plan=plan.pk if plan else None,
        reference=data["reference"],
    )
    try:
        done = _run(request, operation, data["key"])
    except Refusal as refusal:
        return _refused(request, person, form, refusal, panel="top_up")
    return redirect("counter_receipt", batch_id=done.batch_id)


def _managers(request: CounterRequest) -> list[Staff]:
    """Who may approve a refund at this counter: its store's staff with a PIN whose role
    may refund (owners and managers), the cashier at the till excepted."""
    return [
        person
        for person in counters.staff_at(request.device)
        if may(person.role, "refund") and person.pk != request.cashier.pk
    ]


@require_POST
@at_counter
@holder_checked
def refund(request: CounterRequest, code: str) -> HttpResponse:
    """A refund (cash out), and closing the account after it if asked, with a manager at
    the cashier's side: the manager's PIN on the same screen is their approval. The
    refund is the manager's (the ledger and the audit trail say so), asked by the
    cashier (``refund.approved_at_counter``); a wrong PIN counts towards the manager's
    lockout like any other. Above the shop's threshold a manager's refund still waits
    for the owner or another manager (four eyes)."""
    person = _customer(code)
    form = ManagerRefundForm(request.POST, managers=_managers(request))
    if not form.is_valid():
        return _panel(request, person, refund_form=form)
    data = form.cleaned_data
    manager = data["manager"]
    approved = counters.unlock(
        request.device, manager, data["pin"], action="counter.manager_approved"
    )
    if not approved.unlocked:
        form.add_error("pin", approved.message)
        return _panel(request, person, refund_form=form)
    actor = Actor(store=request.device.store, staff=manager, device=request.device)
    operation = Refund(
        customer=person.code,
        amount_minor=data["amount"],
        method=data["method"].code,
        reason=data["reason"],
    )
    try:
        done = run(operation, actor=actor, scope=_scope(request), key=data["key"])
    except Refusal as refusal:
        form.add_error(None, refusal.message())
        return _panel(request, person, refund_form=form)
    if not done.replayed:
        after = {"asked_by": request.cashier.name, "status": done.status, "batch": done.batch_id}
        audit.record(
            "refund.approved_at_counter",
            f"customer:{person.code}",
            by=manager,
            store=request.device.store,
            after=after,
        )
    if done.status == 202:
        messages.warning(request, _("The refund waits for the owner or another manager."))
        return redirect("counter_customer", code=person.code)
    if data["close"]:
        try:
            run(
                CloseAccount(person.code),
                actor=actor,
                scope=_scope(request),
                key=data["key"] + ":close",
            )
        except Refusal as refusal:
            messages.error(request, refusal.message())
        else:
            messages.success(request, _("The account is closed."))
    return redirect("counter_receipt", batch_id=done.batch_id)


@require_POST
@at_counter
@holder_checked
def package(request: CounterRequest, code: str) -> HttpResponse:
    """Sell a punch card: the package, paid by a payment method."""
    person = _customer(code)
    form = PackageForm(request.POST)
    if not form.is_valid():
        return _panel(request, person, package_form=form, show_package=True)
    data = form.cleaned_data
    operation = BuyPackage(
        customer=person.code,
        package=data["package"].pk,
        method=data["method"].code,
        reference=data["reference"],
    )
    try:
        done = _run(request, operation, data["key"])
    except Refusal as refusal:
        return _refused(request, person, form, refusal, panel="package")
    return redirect("counter_receipt", batch_id=done.batch_id)


@require_POST
@at_counter
@holder_checked
def use_points(request: CounterRequest, code: str) -> HttpResponse:
    """The customer's points (all they hold, as the button offers) become bonus money."""
    person = _customer(code)
    try:
        count = int(request.POST.get("points", ""))
    except ValueError:
        count = 0
    operation = RedeemPoints(customer=person.code, points=count)
    try:
        done = _run(request, operation, request.POST.get("key", "") or new_key())
    except Refusal as refusal:
        if refusal.code == "idempotency_key_reused" and refusal.original is not None:
            return _original(refusal.original)
        return _panel(request, person, refusal=refusal.message())
    return redirect("counter_receipt", batch_id=done.batch_id)


@require_POST
@at_counter
@holder_checked
def kiosk_pin(request: CounterRequest, code: str) -> HttpResponse:
    """Set, remove or unlock the customer's PIN for the shop's kiosk (docs/kiosk.md):
    the customer is at the counter and types it, or asks for the lock to end."""
    if not allowed(request.cashier, "customers.kiosk_pin"):
        raise PermissionDenied
    person = _customer(code)
    done, message = kiosk_pins.change(request, person, by=request.cashier, how="counter")
    (messages.success if done else messages.error)(request, message)
    return redirect(f"{reverse('counter_customer', args=[person.code])}#kiosk-pin")


# -- the receipt and undo -------------------------------------------------------------------


@at_counter
def receipt(request: CounterRequest, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(
        Batch.objects.select_related("customer", "store", "staff", "reverses").prefetch_related(
            "transfers__debit_account", "transfers__credit_account", "sale_lines__product"
        ),
        pk=batch_id,
        store=request.device.store,
    )
    paid, bonus = customer_change(batch)
    punch, passes = programs.receipt_lines(batch), programs.pass_lines(batch)
    title = batch.get_code_display()
    pass_only = bool(passes) and not punch
    if batch.code == Batch.Code.PACKAGE:
        title = _("Pass sold") if pass_only else _("Punch card sold")
    elif batch.code == Batch.Code.REDEMPTION:
        title = _("Pass used") if pass_only else _("Punch card used")
    context = {
        "title": title,
        "batch": batch,
        "customer": batch.customer,
        "paid_change": paid,
        "bonus_change": bonus,
        "balances": sales.balances(batch.customer) if batch.customer else None,
        "undoable": sales.may_undo(batch, access.actor(request)),
        "undo_form": UndoForm(initial={"key": new_key()}),
        "move_key": new_key(),
        "reversed": Batch.objects.filter(reverses=batch).first(),
        "punch": punch,
        "passes": passes,
        "paid_in": programs.paid_for(batch),
        "coupon_use": batch.coupon_uses.select_related("coupon").first()
        if batch.code == Batch.Code.SALE
        else None,
        "tier_discount": sum(line.tier_discount_minor for line in batch.sale_lines.all()),
        "points_moved": sum(
            t.amount for t in batch.transfers.all() if t.code == Transfer.Code.POINTS
        ),
        "gift_coupons": list(batch.gift_coupons.all()),
    }
    return render(request, "counter/receipt.html", context)


@require_POST
@at_counter
def undo(request: CounterRequest, batch_id: int) -> HttpResponse:
    """Undo a cashier's own sale or top-up within the undo window: a ``Reversal``, the
    operation a manager's correction and the API's reversal run too."""
    batch = get_object_or_404(Batch, pk=batch_id, store=request.device.store)
    form = UndoForm(request.POST)
    if not form.is_valid():
        messages.error(request, Refusal("reason_required").message())
        return redirect("counter_receipt", batch_id=batch.pk)
    operation = Reversal(transaction=batch.pk, reason=form.cleaned_data["reason"])
    try:
        reversal = _run(request, operation, form.cleaned_data["key"])
    except Refusal as refusal:
        if refusal.code == "idempotency_key_reused" and refusal.original is not None:
            return _original(refusal.original)
        messages.error(request, refusal.message())
        return redirect("counter_receipt", batch_id=batch.pk)
    if reversal.status == 202:  # above the shop's threshold: a manager approves it
        messages.warning(request, WAITS_FOR_APPROVAL)
        return redirect("counter_receipt", batch_id=batch.pk)
    return redirect("counter_receipt", batch_id=reversal.batch_id)


@require_POST
@at_counter
def move(request: CounterRequest, batch_id: int) -> HttpResponse:
    """The sale was charged to the wrong customer: reverse it and sell the same to the
    right one (found by their card or code), in one step, within the undo window."""
    batch = get_object_or_404(Batch, pk=batch_id, store=request.device.store)
    key = request.POST.get("key", "").strip()[:64]
    target = lookup.resolve(request.POST.get("customer", ""))
    if not key or target is None:
        messages.error(request, _("Scan the right customer's card or type their code."))
        return redirect("counter_receipt", batch_id=batch.pk)
    operation = MoveSale(batch.pk, target.code, request.POST.get("reason", ""))
    try:
        moved = _run(request, operation, key)
    except Refusal as refusal:
        if refusal.code == "idempotency_key_reused" and refusal.original is not None:
            return _original(refusal.original)
        messages.error(request, refusal.message())
        return redirect("counter_receipt", batch_id=batch.pk)
    messages.success(request, _("The sale is now %(name)s's.") % {"name": target.name})
    return redirect("counter_receipt", batch_id=moved.batch_id)


WAITS_FOR_APPROVAL = gettext_lazy(
    "Not undone yet: an undo this large needs a manager's approval. Your request is on"
    " the Approvals page of the back office; ask a manager to approve it there."
)


# -- PIN, lock, enrolment ---------------------------------------------------------------------


@at_counter
def shift(request: CounterRequest) -> HttpResponse:
    """The X-report of this counter: its figures since its last close (or since the day
    began), by payment method. Closes nothing; any cashier may read their counter's."""
    if not allowed(request.cashier, "shift.read"):
        raise PermissionDenied
    found = running(Place(request.device.store, request.device))
    context = {
        "span": found.span,
        "statement": found.statement,
        "channels": found.channels,
        "corrections": found.corrections,
    }
    return render(request, "counter/shift.html", context)


def unlock(request: HttpRequest) -> HttpResponse:
    """Tap your name, type your PIN."""
    device = access.device_of(request)
    if device is None:
        return redirect("counter_enroll")
    people = [s for s in counters.staff_at(device) if s.role in access.COUNTER_ROLES]
    chosen, refusal = None, ""
    form = PinForm(request.POST or None)
    if request.method == "POST":
        chosen = next((s for s in people if str(s.pk) == request.POST.get("staff")), None)
        if chosen is not None and form.is_valid():
            attempt = counters.unlock(device, chosen, form.cleaned_data["pin"])
            if attempt.unlocked:
                access.open_for(request, device, chosen)
                return redirect("counter")
            refusal = attempt.message
        elif chosen is not None:
            refusal = _("Type your PIN.")
    elif request.GET.get("staff"):
        chosen = next((s for s in people if str(s.pk) == request.GET["staff"]), None)
    context = {"device": device, "people": people, "chosen": chosen, "refusal": refusal}
    return render(request, "counter/unlock.html", context)


@require_POST
def lock(request: HttpRequest) -> HttpResponse:
    """Lock the counter; a back-office login in this browser (the owner who enrolled it,
    a manager who looked something up) ends with it, so the next person at the till
    finds neither open."""
    if request.user.is_authenticated:
        logout(request)  # the whole session, the counter's state with it (audited)
    else:
        access.close(request)
    return redirect("counter_unlock")


def enroll(request: HttpRequest) -> HttpResponse:
    """An owner makes this browser a counter, or the customer kiosk, of one of the
    stores (``?kind=kiosk``: the kiosk's sign-in link chooses the kiosk)."""
    staff = staff_of(request)
    device = counters.device_for(request.COOKIES.get(counters.COOKIE), kind=None)
    if not allowed(staff, "settings"):
        return render(request, "counter/not_enrolled.html", {"device": device}, status=200)
    form = EnrollForm(request.POST) if request.method == "POST" else None
    if form is not None and form.is_valid():
        assert staff is not None
        kind = Device.Kind(form.cleaned_data["kind"])
        device, secret = counters.enroll(
            form.cleaned_data["store"], form.cleaned_data["name"], by=staff, kind=kind
        )
        # The owner's back-office login must not stay on the till for the cashiers, nor
        # on the kiosk for the customers.
        logout(request)
        response = redirect("counter_unlock" if kind == Device.Kind.COUNTER else "kiosk")
        access.remember_device(response, request, secret)
        messages.success(request, _("This browser is now %(name)s.") % {"name": device.name})
        return response
    form = form or EnrollForm.for_kind(request.GET.get("kind", ""))
    return render(request, "counter/enroll.html", {"form": form, "device": device})
