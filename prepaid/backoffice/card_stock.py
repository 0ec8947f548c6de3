"""Card stock: sheets of pre-printed cards whose QR codes point at nobody yet (issue
#13). A cashier links one to a customer by scanning it at the counter; until then the
card's page says it is not in use. A batch's sheet prints again with its cards still
unused."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from prepaid.backoffice.permissions import StaffRequest, perform, requires
from prepaid.customers.cards import blank_sheet_pdf, qr_svg_of
from prepaid.customers.models import BlankCard, CardBatch
from prepaid.customers.services import BATCH_MOST
from prepaid.operations.customers import GenerateCards
from prepaid.staff.models import Business
from prepaid.staff.refusals import Refusal


class GenerateForm(forms.Form):
    count = forms.IntegerField(
        label=gettext_lazy("Cards to generate"), min_value=1, max_value=BATCH_MOST, initial=10
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)


@requires("cards.stock")
def card_stock(request: StaffRequest) -> HttpResponse:
    """The batches with how many cards are still unused, and the form for a new one."""
    form = GenerateForm(request.POST or None, initial={"key": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        try:
            done = perform(
                request, GenerateCards(form.cleaned_data["count"]), form.cleaned_data["key"]
            )
        except Refusal as refusal:
            if refusal.code == "idempotency_key_reused":
                messages.info(request, _("This form was sent before; nothing more was done."))
                return redirect("card_stock")
            form.add_error("count", refusal.message())
        else:
            messages.success(request, _("The cards are ready to print."))
            return redirect("card_stock_sheet", batch_id=done.data["batch"])
    batches = (
        CardBatch.objects.select_related("created_by")
        .annotate(unused=Count("cards", filter=Q(cards__used_at__isnull=True)))
        .order_by("-id")[:100]
    )
    return render(
        request,
        "backoffice/card_stock.html",
        {"form": form, "batches": batches, "most": BATCH_MOST},
    )


@requires("cards.stock")
def card_stock_sheet(request: StaffRequest, batch_id: int) -> HttpResponse:
    """A batch's cards not linked yet, ten to an A4 sheet, each with its QR code, the
    shop's name and its hint (to tell cards apart)."""
    batch = get_object_or_404(CardBatch, pk=batch_id)
    blanks = BlankCard.objects.filter(batch=batch, used_at__isnull=True).order_by("id")
    printed = [(blank, qr_svg_of(blank.url, scale=3)) for blank in blanks]
    return render(request, "backoffice/card_stock_sheet.html", {"batch": batch, "printed": printed})


@requires("cards.stock")
def card_stock_pdf(request: StaffRequest, batch_id: int) -> HttpResponse:
    """The same sheet as a PDF (for a print shop, or a printer the browser scales)."""
    batch = get_object_or_404(CardBatch, pk=batch_id)
    blanks = BlankCard.objects.filter(batch=batch, used_at__isnull=True).order_by("id")
    document = blank_sheet_pdf(
        [(blank.hint, blank.url) for blank in blanks],
        shop=Business.get().name,
        title=_("Pre-printed cards, batch #%(batch)s") % {"batch": batch.pk},
        tagline=_("Scan for your balance"),
        page_label=_("Page {page} of {pages}"),
    )
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="cards-batch-{batch.pk}.pdf"'
    return response
