"""Back office screens: first-run set-up and the owner's overview."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from prepaid.backoffice.forms import SettingsForm, SetupForm
from prepaid.backoffice.locks import login_locks
from prepaid.backoffice.permissions import StaffRequest, requires
from prepaid.customers import pins
from prepaid.customers.models import Customer
from prepaid.ledger.models import Transfer
from prepaid.operations.approvals import of_day
from prepaid.operations.models import Approval
from prepaid.reports import days, queries
from prepaid.sales.setup import Setup, SetupError, problems, set_up
from prepaid.staff import audit, counters, logins, setup_code
from prepaid.staff import business as business_settings
from prepaid.staff.models import Business, Staff, Store
from prepaid.web.people import allowed, staff_of


def setup(request: HttpRequest) -> HttpResponse:
    """The first run. Whoever reaches the machine first must not become its owner: the
    form asks for the one-time code ``prepaid serve`` printed (``staff.setup_code``),
    checked before anything else, wrong ones throttled per address."""
    if Business.objects.exists():
        return redirect("home")
    setup_code.code()  # made now if no ``prepaid serve`` made it: the file is there
    form = SetupForm(request.POST or None, initial={"currency": "USD", "time_zone": "UTC"})
    if request.method == "POST" and form.is_valid() and _right_code(request, form):
        fields = {name: value for name, value in form.cleaned_data.items() if name != "setup_code"}
        data = Setup(**fields)
        for field, message in problems(data).items():
            form.add_error(field, message)
        if form.is_valid():
            try:
                owner = set_up(data)
            except SetupError as error:
                form.add_error(None, str(error))
            else:
                login(request, owner.user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, _("Welcome! Your shop is ready."))
                return redirect("home")
    return render(request, "backoffice/setup.html", {"form": form})


def _right_code(request: HttpRequest, form: SetupForm) -> bool:
    """Whether the form carries the set-up code; else the form says why (audited)."""
    address = audit.address_of(request)
    refusal = logins.refused(None, address, kind=logins.Kind.SETUP)
    if refusal is None and not setup_code.matches(form.cleaned_data["setup_code"]):
        logins.failed(None, address, kind=logins.Kind.SETUP)
        audit.record("setup.code_failed", f"setup:{address}", by=None, after={"address": address})
        refusal = _("That is not the set-up code. Look for it where prepaid serve was started.")
    if refusal is not None:
        form.add_error("setup_code", refusal)
        return False
    return True


def home(request: HttpRequest) -> HttpResponse:
    """The overview for those who read reports; a cashier's back office starts at the
    customers, the part of it their role may use."""
    staff = staff_of(request)
    if not allowed(staff, "reports.read") and allowed(staff, "customers.read"):
        return redirect("customers")
    return overview(request)


@requires("reports.read")
def overview(request: HttpRequest) -> HttpResponse:
    transfers = Prefetch(
        "transfers", queryset=Transfer.objects.select_related("debit_account", "credit_account")
    )
    batches = list(queries.recent_batches().prefetch_related(transfers))
    rows = [(batch, sum(queries.customer_change(batch))) for batch in batches]
    # The owner is told at once who is locked out of the counters (wrong PINs) and of
    # the back office (failed logins).
    owner = allowed(staff_of(request), "staff.write")
    context = {
        "liability": queries.liability(),
        "customer_count": Customer.objects.count(),
        "stores": Store.objects.all(),
        "rows": rows,
        "lockouts": counters.locked_out() if owner else [],
        "login_locks": login_locks() if owner else [],
        "kiosk_locks": pins.locked_out()
        if allowed(staff_of(request), "customers.kiosk_pin")
        else [],
        **_exceptions(staff_of(request)),
    }
    return render(request, "backoffice/home.html", context)


def _exceptions(staff: Staff | None) -> dict[str, int | None]:
    """Today's exceptions, and the requests waiting for approval (any day's), for those
    who read them: the Overview links to both."""
    if not allowed(staff, "approvals.read"):
        return {"exceptions": None, "waiting": 0}
    return {
        "exceptions": of_day(*days.bounds(days.today())).count(),
        "waiting": Approval.objects.filter(status=Approval.Status.PENDING).count(),
    }


@requires("settings")
def settings_page(request: StaffRequest) -> HttpResponse:
    form = SettingsForm(request.POST or None, instance=Business.get())
    if request.method == "POST" and form.is_valid():
        values = {name: getattr(form.instance, name) for name in business_settings.SETTINGS}
        business_settings.change_settings(values, by=request.staff)
        messages.success(request, _("Settings saved."))
        return redirect("settings")
    return render(request, "backoffice/settings.html", {"form": form})
