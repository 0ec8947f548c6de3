"""Back-office customer screens: list and search, profile, register and edit, notes,
cards (issue, replace, print) and closing an account."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from prepaid.backoffice.forms import CustomerForm, NoteForm
from prepaid.backoffice.permissions import StaffRequest, allowed, requires
from prepaid.customers import lookup
from prepaid.customers import services as customers
from prepaid.customers.cards import qr_svg
from prepaid.customers.models import Customer, Note, Tag
from prepaid.ledger.errors import AlreadyReversed, IdempotencyConflict, InsufficientFunds
from prepaid.ledger.models import Batch
from prepaid.ledger.services import Actor
from prepaid.lib.money import from_minor, to_minor
from prepaid.lib.phones import display_phone
from prepaid.reports import customers as customer_report
from prepaid.sales import services as sales
from prepaid.staff.models import Business

PAGE_SIZE = 50


def _business() -> Business:
    business = Business.current()
    assert business is not None  # BusinessMiddleware sends an empty install to set-up
    return business


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
        "dormant_days": int(dormant) if dormant.isdigit() else None,
        "status": request.GET.get("status", ""),
    }


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
        "region": _business().region,
        "template": "backoffice/customer_rows.html",
    }
    template = "backoffice/customer_rows.html" if request.htmx else "backoffice/customers.html"
    return render(request, template, context)


@requires("customers.read")
def customer_detail(request: StaffRequest, code: str) -> HttpResponse:
    customer = _customer(code)
    context = {
        "customer": customer,
        "balances": sales.balances(customer),
        "phone": display_phone(customer.phone, _business().region),
        "cards": [(card, qr_svg(card, scale=3)) for card in customers.active_cards(customer)],
        "history": customer_report.history(customer),
        "timeline": customer.timeline.select_related("author")[:50],
        "note_form": NoteForm(),
        "can_correct": allowed(request.staff, "transactions.reverse"),
        "reversal_key": uuid.uuid4().hex,
    }
    return render(request, "backoffice/customer.html", context)


@require_POST
@requires("transactions.reverse")
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
    key = f"backoffice:{form_key}"
    actor = Actor(store=batch.store, staff=request.staff)
    try:
        sales.reverse(batch, key=key, actor=actor, reason=request.POST.get("reason", ""))
    except IdempotencyConflict:
        messages.info(request, _("This form was sent before; nothing more was done."))
    except sales.SaleError as error:
        messages.error(request, str(error))
    except AlreadyReversed:
        messages.error(request, _("This transaction has already been reversed."))
    except InsufficientFunds:
        messages.error(request, _("Reversing this would take a balance below its limit."))
    else:
        messages.success(request, _("Transaction reversed."))
    return redirect("customer", code=customer.code)


def _profile(form: CustomerForm) -> customers.Profile:
    data = form.cleaned_data
    return customers.Profile(
        name=data["name"],
        phone=data["phone"],
        email=data["email"],
        address=data["address"],
        birthday=data["birthday"],
        notes=data["notes"],
        marketing_sms=data["marketing_sms"],
        marketing_email=data["marketing_email"],
        home_store=data["home_store"],
        tags=form.tag_list(),
    )


def _save(request: StaffRequest, form: CustomerForm, customer: Customer | None) -> Customer | None:
    """Register or update from a valid form; a refusal becomes a form error, nothing saved."""
    currency = _business().currency
    try:
        limit = to_minor(form.cleaned_data["credit_limit"] or Decimal(0), currency)
    except ValueError:
        form.add_error("credit_limit", _("Too many decimals for this currency."))
        return None
    try:
        with transaction.atomic():
            staff = request.staff
            if customer is None:
                customer = customers.register(_profile(form), by=staff)
            else:
                customer = customers.update(customer, _profile(form), by=staff)
            if limit != customer.credit_limit_minor:
                sales.set_credit_limit(customer, limit, by=staff)
    except customers.CustomerError as error:
        form.add_error(error.field if error.field in form.fields else None, str(error))
        return None
    return customer


@requires("customers.write")
def customer_new(request: StaffRequest) -> HttpResponse:
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and (customer := _save(request, form, None)):
        messages.success(request, _("%(name)s is registered.") % {"name": customer.name})
        return redirect("customer", code=customer.code)
    return render(request, "backoffice/customer_form.html", {"form": form, "customer": None})


@requires("customers.write")
def customer_edit(request: StaffRequest, code: str) -> HttpResponse:
    customer = _customer(code)
    initial = {
        "name": customer.name,
        "phone": display_phone(customer.phone, _business().region),
        "email": customer.email,
        "address": customer.address,
        "birthday": customer.birthday,
        "tags": ", ".join(customer.tags.values_list("name", flat=True)),
        "notes": customer.notes,
        "marketing_sms": customer.marketing_sms,
        "marketing_email": customer.marketing_email,
        "credit_limit": from_minor(customer.credit_limit_minor, _business().currency),
        "home_store": customer.home_store,
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
@requires("customers.write")
def customer_card(request: StaffRequest, code: str) -> HttpResponse:
    customer = _customer(code)
    replace = request.POST.get("replace") == "1"
    try:
        customers.issue_card(customer, replace=replace, by=request.staff)
    except customers.CustomerError as error:
        messages.error(request, str(error))
    else:
        if replace:
            messages.success(request, _("New card issued; the old cards no longer work."))
        else:
            messages.success(request, _("New card issued."))
    return redirect("customer", code=customer.code)


@require_POST
@requires("customers.write")
def customer_close(request: StaffRequest, code: str) -> HttpResponse:
    customer = _customer(code)
    try:
        sales.close_account(customer, by=request.staff)
    except customers.CustomerError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The account is closed."))
    return redirect("customer", code=customer.code)


@requires("cards.print")
def print_cards(request: StaffRequest) -> HttpResponse:
    """One card (``?code=X``) in credit-card size, or with ``layout=sheet`` an A4 sheet of
    up to ten (``?code=…`` repeated). A customer without a live card gets one issued."""
    codes = request.GET.getlist("code")[:10]
    chosen = list(Customer.objects.filter(code__in=codes, status=Customer.Status.ACTIVE))
    chosen.sort(key=lambda customer: codes.index(customer.code))
    cards = []
    for customer in chosen:
        card = next(iter(customers.active_cards(customer)), None) or customers.issue_card(
            customer,
            by=request.staff,
        )
        cards.append((customer, qr_svg(card, scale=3)))
    sheet = request.GET.get("layout") == "sheet"
    template = "backoffice/print_sheet.html" if sheet else "backoffice/print_card.html"
    return render(request, template, {"cards": cards})
