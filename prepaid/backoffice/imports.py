"""Back-office screens to import customers from a spreadsheet, and to export them.

Upload → preview (the columns with their detected fields, changeable, and every row with
what will happen to it or what is wrong) → import → the customer list. Owners and
managers only.

Between the screens the uploaded sheet waits, already read, as JSON in
``DATA_DIR/imports/`` under a random name that only the uploading session knows (the
folder 0700, the file 0600, its content sealed under the shop's key: customers' names and
phones); it is deleted once imported, and any left behind is deleted a day later.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from prepaid.backoffice.permissions import requires
from prepaid.ledger.services import Actor
from prepaid.lib import sealing
from prepaid.lib.files import private_folder, write_private
from prepaid.operations import imports
from prepaid.operations.envelope import run
from prepaid.operations.models import Approval
from prepaid.reports import exports
from prepaid.sales import importing
from prepaid.staff.models import Business, Staff, Store
from prepaid.staff.refusals import Refusal

KEEP_SECONDS = 24 * 3600
PAGE_SIZE = 100
SESSION_KEY = "customer_imports"


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Customer sheet"),
        help_text=gettext_lazy("An Excel workbook (.xlsx) or a CSV file with a header row."),
    )
    store = forms.ModelChoiceField(
        label=gettext_lazy("Store of the opening balances"),
        queryset=Store.objects.none(),
        empty_label=None,
        required=False,
    )

    def __init__(self, *args: Any, staff: Staff, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stores = staff.stores.filter(active=True)
        if not stores.exists():
            stores = Store.objects.filter(active=True)
        field = self.fields["store"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = stores.order_by("name")
        field.initial = field.queryset.first()


# -- the uploaded sheet, kept between screens --------------------------------------------


def _folder() -> Path:
    return private_folder(Path(settings.DATA_DIR) / "imports")


def _save(sheet: importing.Sheet) -> str:
    for old in _folder().glob("*.json"):
        if old.stat().st_mtime < time.time() - KEEP_SECONDS:
            old.unlink(missing_ok=True)
    token = secrets.token_hex(16)
    # Sealed under the shop's key (lib.sealing): the sheet's names and phones are not
    # left readable in the data folder, even for the day a forgotten one waits.
    write_private(_folder() / f"{token}.json", sealing.seal_record(sheet.to_json()))
    return token


def _load(request: HttpRequest, token: str) -> tuple[importing.Sheet, dict[str, Any]]:
    """The sheet this session uploaded under ``token``; 404 for anything else."""
    entry = request.session.get(SESSION_KEY, {}).get(token)
    path = _folder() / f"{token}.json"
    if entry is None or not token.isalnum() or not path.exists():
        raise Http404
    try:
        text = sealing.open_record(path.read_text(encoding="utf-8"))
    except (sealing.Unreadable, sealing.KeyMissing):
        raise Http404 from None
    return importing.Sheet.from_json(text), entry


def _forget(request: HttpRequest, token: str) -> None:
    (_folder() / f"{token}.json").unlink(missing_ok=True)
    uploads = request.session.get(SESSION_KEY, {})
    uploads.pop(token, None)
    request.session[SESSION_KEY] = uploads


# -- screens --------------------------------------------------------------------------------


def _read_upload(form: UploadForm) -> importing.Sheet | None:
    upload = form.cleaned_data["file"]
    business = Business.current()
    try:
        return importing.read(upload, upload.name, region=business.region if business else "")
    except importing.ImportProblem as error:
        form.add_error("file", str(error))
        return None


@requires("customers.import")
def upload(request: HttpRequest) -> HttpResponse:
    staff: Staff = request.staff  # type: ignore[attr-defined]
    form = UploadForm(request.POST or None, request.FILES or None, staff=staff)
    if request.method == "POST" and form.is_valid() and (sheet := _read_upload(form)):
        token = _save(sheet)
        uploads = request.session.get(SESSION_KEY, {})
        store = form.cleaned_data["store"] or form.fields["store"].initial
        uploads[token] = {"store": store.pk if store else None}
        request.session[SESSION_KEY] = uploads
        return redirect("customer_import_preview", token=token)
    return render(request, "backoffice/import_upload.html", {"form": form})


def _mapping(sheet: importing.Sheet, data: Any) -> tuple[importing.Mapping, str]:
    """The mapping the person chose (``column-<n>`` fields), else the detected one."""
    if not any(key.startswith("column-") for key in data):
        return importing.detect(sheet.headers), ""
    choices = [data.get(f"column-{index}", "") for index in range(len(sheet.headers))]
    try:
        return importing.mapping_of(choices), ""
    except importing.ImportProblem as error:
        return {}, str(error)


def _columns(sheet: importing.Sheet, mapping: importing.Mapping) -> list[dict[str, Any]]:
    chosen = {index: field for field, index in mapping.items()}
    return [
        {
            "index": index,
            "letter": importing.column_letter(index),
            "header": header,
            "samples": sheet.samples(index),
            "field": chosen.get(index, ""),
        }
        for index, header in enumerate(sheet.headers)
    ]


def _preview_context(
    request: HttpRequest, sheet: importing.Sheet, mapping: importing.Mapping, problem: str
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "sheet": sheet,
        "columns": _columns(sheet, mapping),
        "fields": importing.Field.choices,
        "problem": problem,
        "plan": None,
    }
    if problem:
        return context
    try:
        planned = importing.plan(sheet, mapping)
    except importing.ImportProblem as error:
        context["problem"] = str(error)
        return context
    only_errors = request.GET.get("errors") == "1"
    rows = planned.error_rows if only_errors else planned.rows
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = [field for field in importing.Field if field in mapping]
    context.update(
        plan=planned,
        counts={action: planned.count(action) for action in importing.Action},
        only_errors=only_errors,
        page=page,
        shown=shown,
        lines=[
            (row, [planned.shown(row, field) for field in shown], planned.details(row))
            for row in page
        ],
        opening_total=planned.rules.money(planned.opening_minor),
        mapping_query=urlencode(
            {f"column-{column['index']}": column["field"] for column in context["columns"]}
        ),
    )
    return context


@requires("customers.import")
def preview(request: HttpRequest, token: str) -> HttpResponse:
    sheet, _entry = _load(request, token)
    mapping, problem = _mapping(sheet, request.GET)
    context = _preview_context(request, sheet, mapping, problem)
    context["token"] = token
    return render(request, "backoffice/import_preview.html", context)


@require_POST
@requires("customers.import")
def commit(request: HttpRequest, token: str) -> HttpResponse:
    sheet, entry = _load(request, token)
    mapping, problem = _mapping(sheet, request.POST)
    store = Store.objects.filter(pk=entry["store"]).first() or Store.objects.first()
    if problem or store is None:
        messages.error(request, problem or _("Set up a store first."))
        return redirect("customer_import_preview", token=token)
    staff: Staff = request.staff  # type: ignore[attr-defined]
    operation = imports.ImportSheet(
        sheet=sheet.to_json(),
        mapping=tuple((str(field), column) for field, column in mapping.items()),
        expected=request.POST.get("digest", ""),
    )
    actor = Actor(store=store, staff=staff)
    try:
        done = run(operation, actor=actor, scope=f"backoffice:{staff.pk}")
    except Refusal as refusal:
        messages.error(request, refusal.message())
        chosen = {
            key: request.POST.get(key, "") for key in request.POST if key.startswith("column-")
        }
        preview_url = reverse("customer_import_preview", kwargs={"token": token})
        return redirect(f"{preview_url}?{urlencode(chosen)}")
    _forget(request, token)  # imported, or kept with the request for approval
    if done.status == 202:
        waiting = Approval.objects.get(pk=done.data["id"])
        money = importing.Rules.of_business().money(waiting.amount_minor)
        messages.warning(request, OPENINGS_WAIT % {"money": money})
        return redirect("approvals")
    messages.success(request, _summary(importing.Result(**done.data)))
    return redirect("customers")


OPENINGS_WAIT = gettext_lazy(
    "Not imported yet: its opening balances (%(money)s in all) come after the shop's first"
    " day, so the import waits for the owner or another manager to approve it on the"
    " Approvals page."
)


def _summary(result: importing.Result) -> str:
    money = importing.Rules.of_business().money(result.opening_minor)
    return _(
        "Imported: %(created)s new customers, %(updated)s updated, %(skipped)s unchanged; "
        "%(openings)s opening balances, %(money)s in all."
    ) % {
        "created": result.created,
        "updated": result.updated,
        "skipped": result.skipped,
        "openings": result.openings,
        "money": money,
    }


@requires("customers.export")
def export(request: HttpRequest, file_format: str) -> HttpResponse:
    try:
        made = exports.export_customers(file_format, by=request.staff)  # type: ignore[attr-defined]
    except exports.ExportError as error:
        messages.error(request, str(error))
        return redirect("customers")
    response = HttpResponse(made.content, content_type=made.content_type)
    response["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    return response
