"""Webhooks (owner, manager): the endpoints and their state, a new one (its secret shown
once), pause or activate, delete, a test event, and the delivery log with "send again".

Each view: permission → form → one service call (``prepaid.webhooks.services``, which
audits) → message or page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from prepaid.backoffice.permissions import StaffRequest, requires
from prepaid.operations.outbox import EVENT_TYPES
from prepaid.staff.refusals import Refusal
from prepaid.webhooks import services
from prepaid.webhooks.models import Attempt, Delivery, Endpoint

DELIVERIES_PER_PAGE = 25


def _event_choices() -> list[tuple[str, str]]:
    return [(name, f"{name} — {meaning}") for name, meaning in EVENT_TYPES.items()]


class EndpointForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("URL"),
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://", "autocomplete": "off"}),
        help_text=gettext_lazy("A public https:// address of your system that accepts POSTs."),
    )
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=_event_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one event.")},
    )


@requires("webhooks")
def webhook_list(request: StaffRequest) -> HttpResponse:
    endpoints = Endpoint.objects.all()
    disabled = [endpoint for endpoint in endpoints if endpoint.state == Endpoint.State.DISABLED]
    # The page says it itself: not the notice at the top of every page as well.
    context = {"endpoints": endpoints, "disabled": disabled, "webhooks_disabled": []}
    return render(request, "backoffice/webhooks.html", context)


@requires("webhooks")
def webhook_new(request: StaffRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            endpoint, secret = services.create_endpoint(
                data["url"], data["events"], by=request.staff
            )
        except Refusal as refusal:
            form.add_error(refusal.field if refusal.field in form.fields else None, str(refusal))
        else:
            context = {"endpoint": endpoint, "secret": secret}
            return render(request, "backoffice/webhook_created.html", context)
    context = {"form": form, "title": _("New webhook endpoint"), "back": "webhooks"}
    return render(request, "backoffice/shop_form.html", context)


@requires("webhooks")
def webhook_detail(request: StaffRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
    last = Prefetch("tries", queryset=Attempt.objects.order_by("-id"), to_attr="latest")
    deliveries = endpoint.deliveries.select_related("event").prefetch_related(last).order_by("-id")
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    for delivery in page:
        delivery.last = delivery.latest[0] if delivery.latest else None  # type: ignore[attr-defined]
    context: dict[str, Any] = {"endpoint": endpoint, "page": page, "webhooks_disabled": []}
    return render(request, "backoffice/webhook.html", context)


@require_POST
@requires("webhooks")
def webhook_state(request: StaffRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
    active = request.POST.get("active") == "1"
    services.set_active(endpoint, active, by=request.staff)
    if active:
        messages.success(request, _("The endpoint is active: events are sent to it."))
    else:
        messages.success(request, _("The endpoint is paused: no events are sent to it."))
    return redirect("webhook", endpoint.pk)


@require_POST
@requires("webhooks")
def webhook_delete(request: StaffRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
    services.delete_endpoint(endpoint, by=request.staff)
    messages.success(request, _("The endpoint %(url)s is deleted.") % {"url": endpoint.url})
    return redirect("webhooks")


@require_POST
@requires("webhooks")
def webhook_ping(request: StaffRequest, endpoint_id: int) -> HttpResponse:
    endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
    try:
        services.ping(endpoint, by=request.staff)
    except Refusal as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("A test event is on its way; its delivery is listed below."))
    return redirect("webhook", endpoint.pk)


@require_POST
@requires("webhooks")
def delivery_again(request: StaffRequest, delivery_id: int) -> HttpResponse:
    delivery = get_object_or_404(Delivery, pk=delivery_id)
    try:
        services.send_again(delivery, by=request.staff)
    except Refusal as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("The event will be sent again in a moment."))
    return redirect("webhook", delivery.endpoint_id)
