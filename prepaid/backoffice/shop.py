"""The shop's set-up pages: products and prices, payment methods, top-up plans and bonus
rules, staff and PINs, stores, counters, API tokens, and the activity log.

Each view: permission → form → one service call → message. The services keep the audit
trail (who, when, before and after).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from prepaid.backoffice.locks import login_locks
from prepaid.backoffice.permissions import StaffRequest, perform, requires
from prepaid.backoffice.shop_forms import (
    BonusRuleForm,
    PackageForm,
    PassForm,
    PaymentMethodForm,
    PlanForm,
    ProductForm,
    StaffForm,
    StoreForm,
    TierForm,
    TokenForm,
)
from prepaid.catalog import services as catalog
from prepaid.catalog import tiers
from prepaid.catalog.models import BonusRule, Product, Tier, TopUpPlan
from prepaid.customers import services as customers
from prepaid.customers.models import Customer
from prepaid.ledger.models import PaymentMethod
from prepaid.lib.money import from_minor
from prepaid.operations.catalog import SaveBonusRule, SavePlan
from prepaid.operations.envelope import Operation
from prepaid.programs import services as programs
from prepaid.programs.models import Package
from prepaid.staff import counters, people, tokens
from prepaid.staff.models import ApiToken, AuditEvent, Business, Device, PinLockout, Role, Staff
from prepaid.staff.models import Store as StoreModel
from prepaid.staff.refusals import Refusal

FORM = "backoffice/shop_form.html"


def _major(amount_minor: int) -> Decimal:
    return from_minor(amount_minor, Business.get().currency)


def _refused(form: Any, error: Exception) -> None:
    form.add_error(
        getattr(error, "field", None) if getattr(error, "field", None) in form.fields else None,
        str(error),
    )


def _saved(request: StaffRequest, form: Any, operation: Operation, done: str) -> bool:
    """Save a plan or rule: done, or kept for approval (a bonus above the shop's share:
    said so), or refused on the form."""
    try:
        result = perform(request, operation)
    except Refusal as refusal:
        form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message())
        return False
    if result.status == 202:
        percent = Business.get().approval_bonus_percent
        messages.warning(request, BONUS_WAITS % {"percent": percent})
    else:
        messages.success(request, done)
    return True


BONUS_WAITS = gettext_lazy(
    "Saved for approval: it gives more than %(percent)s%% of what is paid, so it is in force"
    " once the owner or another manager approves it on the Approvals page."
)


def _form_page(
    request: StaffRequest, form: Any, title: str, back: str, **extra: Any
) -> HttpResponse:
    return render(request, FORM, {"form": form, "title": title, "back": back, **extra})


# -- products ---------------------------------------------------------------------------


@requires("catalog.write")
def products(request: StaffRequest) -> HttpResponse:
    context = {
        "products": Product.objects.prefetch_related("prices"),
        "methods": PaymentMethod.objects.all(),
        "plans": TopUpPlan.objects.all(),
        "rules": BonusRule.objects.all(),
        "packages": Package.objects.filter(kind=Package.Kind.COUNT).select_related("product"),
        "passes": Package.objects.filter(kind=Package.Kind.TIME).select_related("product"),
        "tiers": Tier.objects.annotate(member_count=Count("members")),
    }
    return render(request, "backoffice/products.html", context)


@requires("catalog.write")
def product(request: StaffRequest, product_id: int | None = None) -> HttpResponse:
    item = get_object_or_404(Product, pk=product_id) if product_id else None
    initial = {}
    if item is not None:
        initial = {name: getattr(item, name) for name in ProductForm.base_fields}
        initial["unit_price"] = item.unit_price.normalize()
    form = ProductForm(request.POST or None, initial=initial or {"colour": "#0b6bcb"})
    if request.method == "POST" and form.is_valid():
        change = catalog.ProductChange(**form.cleaned_data)
        try:
            if item is None:
                catalog.create_product(change, by=request.staff)
            else:
                catalog.update_product(item, change, by=request.staff)
        except catalog.CatalogError as error:
            _refused(form, error)
        else:
            messages.success(request, _("Product saved."))
            return redirect("products")
    title = item.name if item else _("New product")
    history = item.prices.select_related("staff") if item else []
    return _form_page(request, form, title, "products", history=history)


# -- payment methods, plans, rules ----------------------------------------------------------


@requires("catalog.write")
def payment_method(request: StaffRequest, method_id: int | None = None) -> HttpResponse:
    method = get_object_or_404(PaymentMethod, pk=method_id) if method_id else None
    initial = (
        {name: getattr(method, name) for name in PaymentMethodForm.base_fields} if method else {}
    )
    form = PaymentMethodForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            catalog.save_payment_method(method, by=request.staff, **form.cleaned_data)
        except catalog.CatalogError as error:
            _refused(form, error)
        else:
            messages.success(request, _("Payment method saved."))
            return redirect("products")
    return _form_page(
        request, form, method.label if method else _("New payment method"), "products"
    )


@requires("catalog.write")
def plan(request: StaffRequest, plan_id: int | None = None) -> HttpResponse:
    item = get_object_or_404(TopUpPlan, pk=plan_id) if plan_id else None
    initial = {}
    if item is not None:
        initial = {
            "name": item.name,
            "amount": _major(item.amount_minor),
            "bonus": _major(item.bonus_minor),
            "gift_points": item.gift_points,
            "gift_coupon": _major(item.gift_coupon_minor),
            "gift_coupon_days": item.gift_coupon_days,
            "position": item.position,
            "active": item.active,
        }
    form = PlanForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        operation = SavePlan(
            plan=item.pk if item else None,
            name=data["name"],
            amount_minor=data["amount"],
            bonus_minor=data["bonus"],
            gift_points=data["gift_points"] or 0,
            gift_coupon_minor=data["gift_coupon"] or 0,
            gift_coupon_days=data["gift_coupon_days"] or 30,
            active=data["active"],
            position=data["position"] or 0,
        )
        if _saved(request, form, operation, _("Top-up plan saved.")):
            return redirect("products")
    return _form_page(request, form, item.name if item else _("New top-up plan"), "products")


@requires("catalog.write")
def package(request: StaffRequest, package_id: int | None = None) -> HttpResponse:
    """A punch card package: what it holds, what it costs, how long it lasts."""
    item = (
        get_object_or_404(Package, pk=package_id, kind=Package.Kind.COUNT) if package_id else None
    )
    initial: dict[str, Any] = {}
    if item is not None:
        initial = {
            "name": item.name,
            "product": item.product_id,
            "also": [x.pk for x in item.also.all()],
            "count": item.count,
            "bonus_count": item.bonus_count,
            "price": _major(item.price_minor),
            "valid_days": item.valid_days,
            "active": item.active,
        }
    form = PackageForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            programs.save_package(
                item,
                name=data["name"],
                product=data["product"],
                also=list(data["also"]),
                count=data["count"],
                bonus_count=data["bonus_count"],
                price_minor=data["price"],
                valid_days=data["valid_days"],
                active=data["active"],
                by=request.staff,
            )
        except Refusal as refusal:
            _refused(form, refusal)
        else:
            messages.success(request, _("Punch card saved."))
            return redirect("products")
    return _form_page(request, form, item.name if item else _("New punch card"), "products")


@requires("catalog.write")
def time_pass(request: StaffRequest, package_id: int | None = None) -> HttpResponse:
    """A pass: what it covers, for how long, at most how often, what it costs."""
    item = get_object_or_404(Package, pk=package_id, kind=Package.Kind.TIME) if package_id else None
    initial: dict[str, Any] = {}
    if item is not None:
        initial = {
            "name": item.name,
            "product": item.product_id,
            "price": _major(item.price_minor),
            "valid_days": item.valid_days,
            "max_per_day": item.max_per_day,
            "max_per_week": item.max_per_week,
            "active": item.active,
        }
    form = PassForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            programs.save_package(
                item,
                kind=Package.Kind.TIME,
                name=data["name"],
                product=data["product"],
                price_minor=data["price"],
                valid_days=data["valid_days"],
                max_per_day=data["max_per_day"],
                max_per_week=data["max_per_week"],
                active=data["active"],
                by=request.staff,
            )
        except Refusal as refusal:
            _refused(form, refusal)
        else:
            messages.success(request, _("Pass saved."))
            return redirect("products")
    return _form_page(request, form, item.name if item else _("New pass"), "products")


@requires("catalog.write")
def tier(request: StaffRequest, tier_id: int | None = None) -> HttpResponse:
    """A member tier: its threshold, its discounts, its bonus multiplier."""
    item = get_object_or_404(Tier, pk=tier_id) if tier_id else None
    products = list(Product.objects.filter(active=True))
    initial: dict[str, Any] = {}
    if item is not None:
        initial = {
            "name": item.name,
            "threshold": _major(item.threshold_minor),
            "discount": Decimal(item.discount_bp) / 100,
            "bonus_multiplier": item.bonus_multiplier,
            "points_multiplier": item.points_multiplier,
            "gift_coupon": _major(item.gift_coupon_minor),
            "gift_coupon_days": item.gift_coupon_days,
        }
        for price in item.prices.all():
            initial[f"product_{price.product_id}"] = Decimal(price.discount_bp) / 100
    form = TierForm(request.POST or None, initial=initial, products=products)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            tiers.save_tier(
                item,
                name=data["name"],
                threshold_minor=data["threshold"],
                discount_bp=int(data["discount"] * 100),
                bonus_multiplier=data["bonus_multiplier"],
                points_multiplier=(
                    Decimal(1) if data["points_multiplier"] is None else data["points_multiplier"]
                ),
                product_bp=form.product_rates(),
                gift_coupon_minor=data["gift_coupon"] or 0,
                gift_coupon_days=data["gift_coupon_days"] or 30,
                by=request.staff,
            )
        except Refusal as refusal:
            _refused(form, refusal)
        else:
            messages.success(request, _("Tier saved."))
            return redirect("products")
    return _form_page(request, form, item.name if item else _("New tier"), "products")


@requires("catalog.write")
def bonus_rule(request: StaffRequest, rule_id: int | None = None) -> HttpResponse:
    rule = get_object_or_404(BonusRule, pk=rule_id) if rule_id else None
    initial = {}
    if rule is not None:
        initial = {
            "every": _major(rule.every_minor),
            "bonus": _major(rule.bonus_minor),
            "active": rule.active,
        }
    form = BonusRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        operation = SaveBonusRule(
            rule=rule.pk if rule else None,
            every_minor=form.cleaned_data["every"],
            bonus_minor=form.cleaned_data["bonus"],
            active=form.cleaned_data["active"],
        )
        if _saved(request, form, operation, _("Bonus rule saved.")):
            return redirect("products")
    return _form_page(request, form, _("Bonus rule"), "products")


# -- staff, stores, counters, tokens --------------------------------------------------------


@requires("staff.write")
def staff_list(request: StaffRequest) -> HttpResponse:
    context = {
        "people": Staff.objects.select_related("user").prefetch_related("stores"),
        "stores": StoreModel.objects.all(),
        "devices": Device.objects.select_related("store").filter(revoked_at__isnull=True),
        "lockouts": counters.locked_out(),
        "login_locks": login_locks(),
        "tokens": ApiToken.objects.select_related("store").order_by("revoked_at", "name"),
    }
    return render(request, "backoffice/staff.html", context)


@requires("staff.write")
def staff_member(request: StaffRequest, staff_id: int | None = None) -> HttpResponse:
    person = get_object_or_404(Staff, pk=staff_id) if staff_id else None
    initial: dict[str, Any] = {
        "stores": list(StoreModel.objects.filter(active=True)),
        "role": Role.CASHIER,  # most new people work at the counter
    }
    if person is not None:
        initial = {
            "name": person.name,
            "role": person.role,
            "active": person.active,
            "stores": list(person.stores.all()),
            "username": person.user.get_username() if person.user else "",
        }
    form = StaffForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and _save_staff(request, form, person):
        messages.success(request, _("Staff member saved."))
        return redirect("staff")
    return _form_page(request, form, person.name if person else _("New staff member"), "staff")


def _save_staff(request: StaffRequest, form: StaffForm, person: Staff | None) -> bool:
    """The person, their PIN and their login in one transaction: a refused PIN or
    password leaves nothing half-saved (a second try would have made a twin)."""
    data = form.cleaned_data
    try:
        with transaction.atomic():
            _save_person(request, data, person)
    except people.PeopleError as error:
        _refused(form, error)
        return False
    return True


def _save_person(request: StaffRequest, data: dict[str, Any], person: Staff | None) -> None:
    person = people.save_staff(
        person,
        name=data["name"],
        role=Role(data["role"]),
        stores=data["stores"],
        active=data["active"],
        by=request.staff,
    )
    if data["pin"]:
        people.set_pin(person, data["pin"], by=request.staff)
    if data["password"] or (data["username"] and not person.user_id):
        people.set_login(person, data["username"], data["password"], by=request.staff)


@require_POST
@requires("staff.write")
def lift_lockout(request: StaffRequest, lockout_id: int) -> HttpResponse:
    lockout = get_object_or_404(PinLockout, pk=lockout_id)
    counters.lift_lockout(lockout.staff, by=request.staff)
    messages.success(request, _("%(name)s may try their PIN again.") % {"name": lockout.staff.name})
    return redirect("staff")


@requires("staff.write")
def store(request: StaffRequest, store_id: int | None = None) -> HttpResponse:
    item = get_object_or_404(StoreModel, pk=store_id) if store_id else None
    initial = {"name": item.name, "address": item.address, "active": item.active} if item else {}
    form = StoreForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            people.save_store(item, by=request.staff, **form.cleaned_data)
        except people.PeopleError as error:
            _refused(form, error)
        else:
            messages.success(request, _("Store saved."))
            return redirect("staff")
    return _form_page(request, form, item.name if item else _("New store"), "staff")


@require_POST
@requires("staff.write")
def revoke_counter(request: StaffRequest, device_id: int) -> HttpResponse:
    device = get_object_or_404(Device, pk=device_id, revoked_at__isnull=True)
    counters.revoke(device, by=request.staff)
    messages.success(request, _("%(name)s is no longer a counter.") % {"name": device.name})
    return redirect("staff")


@requires("staff.write")
def new_token(request: StaffRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token, key = tokens.create_token(
            form.cleaned_data["name"],
            Role(form.cleaned_data["role"]),
            store=form.cleaned_data["store"],
            by=request.staff,
        )
        return render(request, "backoffice/token_created.html", {"token": token, "key": key})
    return _form_page(request, form, _("New API token"), "staff")


@require_POST
@requires("staff.write")
def revoke_token(request: StaffRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, revoked_at__isnull=True)
    tokens.revoke(token, by=request.staff)
    messages.success(request, _("The token %(name)s is revoked.") % {"name": token.name})
    return redirect("staff")


# -- activity -------------------------------------------------------------------------------


def _reveal(events: Iterable[AuditEvent]) -> None:
    """Open the sealed personal values of the customers' events (their own keys; an
    erased customer's show as erased)."""
    codes = {e.subject.partition(":")[2] for e in events if e.subject.startswith("customer:")}
    people = {c.code: c for c in Customer.objects.filter(code__in=codes)}
    for event in events:
        kind, _, code = event.subject.partition(":")
        person = people.get(code) if kind == "customer" else None
        event.before = customers.revealed(person, event.before)
        event.after = customers.revealed(person, event.after)


@requires("activity")
def activity(request: StaffRequest) -> HttpResponse:
    events = AuditEvent.objects.select_related("staff", "api_token", "store").order_by("-id")
    action = request.GET.get("action", "").strip()
    if action:
        events = events.filter(action__startswith=action)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    _reveal(page.object_list)
    actions = sorted(
        {a.split(".")[0] for a in AuditEvent.objects.values_list("action", flat=True).distinct()}
    )
    return render(
        request, "backoffice/activity.html", {"page": page, "action": action, "actions": actions}
    )
