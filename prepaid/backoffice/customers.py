"""Back-office customer screens: list and search, profile, register and edit, notes,
cards (issue, replace, print) and closing an account."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from prepaid.backoffice.forms import AmountForm, CustomerForm, NoteForm
from prepaid.backoffice.permissions import StaffRequest, perform, requires
from prepaid.catalog import tiers
from prepaid.customers import lookup, pins
from prepaid.customers import services as customers
from prepaid.customers.cards import qr_svg
from prepaid.customers.models import Customer, Note, Tag
from prepaid.ledger.models import Batch, PaymentMethod
from prepaid.lib.money import from_minor
from prepaid.lib.numbers import whole_number
from prepaid.lib.phones import display_phone
from prepaid.messaging import log as message_log
from prepaid.operations import privacy
from prepaid.operations.customers import (
    CloseAccount,
    Contact,
    IssueCard,
    RegisterCustomer,
    UpdateCustomer,
)
from prepaid.operations.envelope import Operation, Result
from prepaid.operations.money import Refund, Reversal
from prepaid.operations.privacy import EraseCustomer
from prepaid.operations.programs import RefundPunchCard
from prepaid.programs import services as programs
from prepaid.programs.models import PunchCard
from prepaid.reports import customers as customer_report
from prepaid.sales import points
from prepaid.sales import services as sales
from prepaid.staff import audit
from prepaid.staff.models import Business
from prepaid.staff.refusals import Refusal
from prepaid.web import kiosk_pins
from prepaid.web.people import allowed
from prepaid.web.templatetags.money import money

PAGE_SIZE = 50
MAX_DORMANT_DAYS = 3660  # ten years: as the API's dormant report


def _customer(code: str) -> Customer:
    customer = Customer.objects.filter(code=code).first()
    if customer is None:
        raise Http404
    return customer


def _filters(request: StaffRequest) -> dict[str, Any]:
    dormant = request.GET.get("dormant", "")
    return {
        "tag": request.GET.get("tag", ""),
        "has_balance": request.GET.get("has_balance") == "1",
        "dormant_days": whole_number(dormant, maximum=MAX_DORMANT_DAYS),
        "status": request.GET.get("status", ""),
    }


if TYPE_CHECKING:  # a lazily translated text (django-stubs, for the type checker only)
    from django_stubs_ext import StrPromise


@requires("customers.read")
def customer_list(request: StaffRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    filters = _filters(request)
    rows = customer_report.filtered(Customer.objects.all(), **filters)
    page: list[Customer] | Page[Customer]
    if query:
        ranked = [customer.pk for customer in lookup.search(query, limit=PAGE_SIZE)]
        found = {c.pk: c for c in customer_report.with_balances(rows.filter(pk__in=ranked))}
        page = [found[pk] for pk in ranked if pk in found]
        paginator = None
    else:
        paginator = Paginator(customer_report.with_balances(rows).order_by("name", "id"), PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
    context = {
        "query": query,
        "filters": filters,
        "page": page,
        "paginator": paginator,
        "tags": Tag.objects.all(),
        "region": Business.get().region,
        "template": "backoffice/customer_rows.html",
    }
    template = "backoffice/customer_rows.html" if request.htmx else "backoffice/customers.html"
    return render(request, template, context)


@requires("customers.read")
def customer_detail(request: StaffRequest, code: str) -> HttpResponse:
    customer = _customer(code)
    balances = sales.balances(customer)
    context = {
        "customer": customer,
        "balances": balances,
        "punch_cards": programs.holdings(customer),
        "passes": programs.passes(customer),
        "member": tiers.held(customer.pk),
        "points_held": points.balance(customer),
        "phone": display_phone(customer.phone, Business.get().region),
        "cards": [(card, qr_svg(card, scale=3)) for card in customers.active_cards(customer)],
        "history": customer_report.history(customer),
        "timeline": customer.timeline.select_related("author")[:50],
        "note_form": NoteForm(),
        "can_correct": allowed(request.staff, "reverse.any"),
        "can_refund_cards": Business.get().punch_card_refunds and allowed(request.staff, "refund"),
        "methods": PaymentMethod.objects.filter(active=True),
        "reversal_key": uuid.uuid4().hex,
        "can_refund": allowed(request.staff, "refund"),
        # What a refund form offers: all of the paid balance, as typed (never localised).
        "refund_amount": str(from_minor(max(balances.paid, 0), Business.get().currency)),
        "refund_key": uuid.uuid4().hex,
        "can_export": allowed(request.staff, "customers.export"),
        "can_erase": allowed(request.staff, "customers.erase"),
        "can_kiosk_pin": allowed(request.staff, "customers.kiosk_pin")
        and customer.status == Customer.Status.ACTIVE,
        "kiosk_pin": pins.held(customer),
        "kiosk_pin_url": reverse("customer_kiosk_pin", args=[customer.code]),
        "messages_sent": message_log.of(customer),
    }
    return render(request, "backoffice/customer.html", context)


CREDIT_WAITS = gettext_lazy(
    "The credit limit of %(limit)s waits for the owner or another manager to approve it"
    " on the Approvals page; until then the customer keeps the limit they had."
)
WAITS_FOR_APPROVAL = gettext_lazy(
    "Not reversed yet: a reversal this large waits for the owner or another manager to"
    " approve it on the Approvals page."
)


@requires("customers.export")
def customer_data(request: StaffRequest, code: str) -> HttpResponse:
    """Everything kept about the customer, as a JSON download (an access request)."""
    customer = _customer(code)
    audit.record("customer.exported", f"customer:{customer.code}", by=request.staff)
    text = json.dumps(privacy.export(customer), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(text, content_type="application/json; charset=utf-8")
    name = f"customer-{customer.code}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_POST
@requires("customers.erase")
def customer_erase(request: StaffRequest, code: str) -> HttpResponse:
    """Erase the customer's personal data, on their request: a reason, and a tick to
    say it cannot be undone."""
    customer = _customer(code)
    if request.POST.get("understood") != "1":
        messages.error(request, _("Tick the box to confirm that erasing cannot be undone."))
        return redirect("customer", code=customer.code)
    try:
        perform(request, EraseCustomer(customer.code, request.POST.get("reason", "")))
    except Refusal as refusal:
        messages.error(request, refusal.message())
    else:
        messages.success(request, _("The customer's personal data is erased."))
    return redirect("customer", code=customer.code)


@require_POST
@requires("reverse.any")
def customer_reverse(request: StaffRequest, code: str, batch_id: int) -> HttpResponse:
    """A manager's correction: reverse one of the customer's transactions, with a reason.

    The form's key (made when the page was drawn) makes a double submit harmless.
    """
    customer = _customer(code)
    batch = get_object_or_404(Batch, pk=batch_id, customer=customer)
    form_key = request.POST.get("key", "").strip()[:64]
    if not form_key:
        messages.error(request, _("Reload the page and try again."))
        return redirect("customer", code=customer.code)
    operation = Reversal(transaction=batch.pk, reason=request.POST.get("reason", ""))
    if _perform_form(request, operation, form_key, waits=WAITS_FOR_APPROVAL):
        messages.success(request, _("Transaction reversed."))
    return redirect("customer", code=customer.code)


def _perform_form(
    request: StaffRequest, operation: Operation, form_key: str, *, waits: str | StrPromise
) -> Result | None:
    """Run a form's money operation under its key and say how it went: done (the
    caller says what), sent before, refused, or waiting for a second person."""
    try:
        result = perform(request, operation, form_key)
    except Refusal as refusal:
        if refusal.code == "idempotency_key_reused":
            messages.info(request, _("This form was sent before; nothing more was done."))
        else:
            messages.error(request, refusal.message())
        return None
    if result.status == 202:
        messages.warning(request, waits)
        return None
    return result


REFUND_WAITS = gettext_lazy(
    "Not refunded yet: a refund this large waits for the owner or another manager to"
    " approve it on the Approvals page."
)


@require_POST
@requires("refund")
def customer_refund(request: StaffRequest, code: str) -> HttpResponse:
    """Pay back paid balance (a cash-out), by a payment method, with a reason: an owner
    or a manager, with the customer at the desk. Above the shop's threshold a manager's
    refund waits for a second person (four eyes); when it empties the paid balance, the
    bonus goes with it (``sales.cash_out``)."""
    customer = _customer(code)
    form_key = request.POST.get("key", "").strip()[:64]
    if not form_key:
        messages.error(request, _("Reload the page and try again."))
        return redirect("customer", code=customer.code)
    typed = AmountForm(request.POST)
    if not typed.is_valid():
        messages.error(request, str(typed.errors["amount"][0]))
        return redirect("customer", code=customer.code)
    amount = typed.cleaned_data["amount"]
    operation = Refund(
        customer=customer.code,
        amount_minor=amount,
        method=request.POST.get("method", ""),
        reason=request.POST.get("reason", ""),
        reference=request.POST.get("reference", "").strip()[:100],
    )
    if _perform_form(request, operation, form_key, waits=REFUND_WAITS):
        shown = money(amount, Business.get())
        messages.success(request, _("Refunded %(amount)s.") % {"amount": shown})
    return redirect("customer", code=customer.code)


@require_POST
@requires("refund")
def customer_card_refund(request: StaffRequest, code: str, card_id: int) -> HttpResponse:
    """A manager pays back the uses left on one of the customer's punch cards."""
    customer = _customer(code)
    card = get_object_or_404(PunchCard, pk=card_id, customer=customer)
    form_key = request.POST.get("key", "").strip()[:64]
    if not form_key:
        messages.error(request, _("Reload the page and try again."))
        return redirect("customer", code=customer.code)
    operation = RefundPunchCard(
        card=card.pk,
        method=request.POST.get("method", ""),
        reason=request.POST.get("reason", ""),
    )
    try:
        perform(request, operation, form_key)
    except Refusal as refusal:
        if refusal.code == "idempotency_key_reused":
            messages.info(request, _("This form was sent before; nothing more was done."))
        else:
            messages.error(request, refusal.message())
    else:
        messages.success(request, _("The uses left were refunded."))
    return redirect("customer", code=customer.code)


def _contact(form: CustomerForm) -> Contact:
    data = form.cleaned_data
    return Contact(
        name=data["name"],
        phone=data["phone"],
        email=data["email"],
        address=data["address"],
        birthday=data["birthday"],
        notes=data["notes"],
        marketing_sms=data["marketing_sms"],
        marketing_email=data["marketing_email"],
        home_store=data["home_store"].pk if data["home_store"] else None,
        tags=tuple(form.tag_list()),
        language=data["language"],
        email_receipts=data["email_receipts"],
        low_balance_minor=_low_balance(form),
    )


def _low_balance(form: CustomerForm) -> int:
    """The customer's low-balance level in minor units; -1 (the shop's) when empty."""
    amount: int | None = form.cleaned_data["low_balance"]
    return -1 if amount is None else amount


def _save(request: StaffRequest, form: CustomerForm, customer: Customer | None) -> str | None:
    """Register or update from a valid form: the customer's code, or None with the
    refusal on the form (nothing saved)."""
    limit = form.cleaned_data["credit_limit"] or 0
    operation: Operation
    if customer is None:
        operation = RegisterCustomer(_contact(form), credit_limit_minor=limit)
    else:
        operation = UpdateCustomer(customer.code, _contact(form), credit_limit_minor=limit)
    try:
        data = perform(request, operation).data
    except Refusal as refusal:
        form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message())
        return None
    if data.get("credit_limit_request"):
        waiting = data["credit_limit_request"]["request"]["credit_limit_minor"]
        messages.warning(request, CREDIT_WAITS % {"limit": money(waiting, Business.get())})
    code: str = data["code"]
    return code


@requires("customers.write")
def customer_new(request: StaffRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (code := _save(request, form, None)):
        name = form.cleaned_data["name"]
        messages.success(request, _("%(name)s is registered.") % {"name": " ".join(name.split())})
        return redirect("customer", code=code)
    return render(request, "backoffice/customer_form.html", {"form": form, "customer": None})


@requires("customers.write")
def customer_edit(request: StaffRequest, code: str) -> HttpResponse:
    customer = _customer(code)
    initial = {
        "name": customer.name,
        "phone": display_phone(customer.phone, Business.get().region),
        "email": customer.email,
        "address": customer.address,
        "birthday": customer.birthday,
        "tags": ", ".join(customer.tags.values_list("name", flat=True)),
        "notes": customer.notes,
        "marketing_sms": customer.marketing_sms,
        "marketing_email": customer.marketing_email,
        "credit_limit": from_minor(customer.credit_limit_minor, Business.get().currency),
        "home_store": customer.home_store,
        "language": customer.language,
        "email_receipts": "1" if customer.email_receipts else "0",
        "low_balance": (
            from_minor(customer.low_balance_minor, Business.get().currency)
            if customer.low_balance_minor is not None
            else None
        ),
    }
    form = CustomerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and _save(request, form, customer):
        messages.success(request, _("Changes saved."))
        return redirect("customer", code=customer.code)
    return render(request, "backoffice/customer_form.html", {"form": form, "customer": customer})


@require_POST
@requires("customers.write")
def customer_note(request: StaffRequest, code: str) -> HttpResponse:
    customer = _customer(code)
    form = NoteForm(request.POST)
    if form.is_valid():
        customers.add_note(
            customer,
            form.cleaned_data["text"],
            kind=Note.Kind(form.cleaned_data["kind"]),
            by=request.staff,
        )
        messages.success(request, _("Note added."))
    else:
        messages.error(request, _("Write something in the note."))
    return redirect("customer", code=customer.code)


@require_POST
@requires("cards.issue")
def customer_card(request: StaffRequest, code: str) -> HttpResponse:
    customer = _customer(code)
    replace = request.POST.get("replace") == "1"
    try:
        perform(request, IssueCard(customer.code, replace=replace))
    except Refusal as refusal:
        messages.error(request, refusal.message())
    else:
        if replace:
            messages.success(request, _("New card issued; the old cards no longer work."))
        else:
            messages.success(request, _("New card issued."))
    return redirect("customer", code=customer.code)


@require_POST
@requires("customers.kiosk_pin")
def customer_kiosk_pin(request: StaffRequest, code: str) -> HttpResponse:
    """Set, remove or unlock the customer's kiosk PIN (docs/kiosk.md)."""
    customer = _customer(code)
    done, message = kiosk_pins.change(request, customer, by=request.staff, how="backoffice")
    (messages.success if done else messages.error)(request, message)
    return redirect(f"{reverse('customer', args=[customer.code])}#kiosk-pin")


@require_POST
@requires("customers.close")
def customer_close(request: StaffRequest, code: str) -> HttpResponse:
    customer = _customer(code)
    try:
        perform(request, CloseAccount(customer.code))
    except Refusal as refusal:
        messages.error(request, refusal.message())
    else:
        messages.success(request, _("The account is closed."))
    return redirect("customer", code=customer.code)


@requires("cards.issue")
def print_cards(request: StaffRequest) -> HttpResponse:
    """One card (``?code=X``) in credit-card size, or with ``layout=sheet`` an A4 sheet of
    up to ten (``?code=…`` repeated), of the customers' cards in use.

    Asked by POST (the customer list's "Print cards"), it first issues a card to each
    chosen customer who has none in use, then shows the page by GET: a GET never writes.
    """
    source = request.POST if request.method == "POST" else request.GET
    codes = source.getlist("code")[:10]
    chosen = list(Customer.objects.filter(code__in=codes, status=Customer.Status.ACTIVE))
    chosen.sort(key=lambda customer: codes.index(customer.code))
    if request.method == "POST":
        for customer in chosen:
            if not customers.active_cards(customer):
                perform(request, IssueCard(customer.code))
        query = urlencode(
            [("code", c.code) for c in chosen] + [("layout", source.get("layout", ""))]
        )
        return redirect(f"{reverse('print_cards')}?{query}")
    cards = []
    for customer in chosen:
        card = next(iter(customers.active_cards(customer)), None)
        if card is not None:
            cards.append((customer, qr_svg(card, scale=3)))
    sheet = request.GET.get("layout") == "sheet"
    template = "backoffice/print_sheet.html" if sheet else "backoffice/print_card.html"
    return render(request, template, {"cards": cards})
