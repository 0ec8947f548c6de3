"""Signing in to the back office: the password (throttled per user name and address,
``staff.logins``), then for those who turned it on the code of their authenticator app
(``staff.two_step``); turning two-step sign-in on and off; the owner lifting a login
lock or turning someone's second step off."""

from __future__ import annotations

import time
from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from prepaid.backoffice.permissions import StaffRequest, requires
from prepaid.staff import audit, logins, two_step
from prepaid.staff.models import Business, LoginThrottle, Staff

PENDING = "two_step_pending"  # the session's note of a right password awaiting its code
PENDING_SECONDS = 300
NEW_SECRET = "two_step_new_secret"  # noqa: S105  # the session's key of a secret shown as a QR code, not yet confirmed
BACKEND = "django.contrib.auth.backends.ModelBackend"


class LoginForm(AuthenticationForm):
    """Django's login form, with the throttle in front of the password: an attempt that
    must wait is refused before the password is looked at, with the same words whether
    the user exists or not."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": gettext_lazy("The user name or password is not right. Please try again."),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            address = audit.address_of(self.request)
            if refusal := logins.refused(username, address):
                raise ValidationError(refusal, code="throttled")
            self.user_cache = authenticate(self.request, username=username, password=password)
            if self.user_cache is None:  # audited by Django's signal (``audit.login_failed``)
                logins.failed(username, address)
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class Login(LoginView):
    """The password step. With two-step sign-in on, a right password is noted in the
    session and the code is asked for: nobody is signed in yet."""

    form_class = LoginForm
    template_name = "backoffice/login.html"

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        staff = Staff.objects.filter(user=user).first()
        if two_step.is_on(staff):
            self.request.session[PENDING] = {
                "user": user.pk,
                "at": time.time(),
                "next": self.get_success_url(),
            }
            return redirect("login_code")
        logins.succeeded(user.get_username())
        return super().form_valid(form)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from the app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
        help_text=gettext_lazy("The 6 digits your authenticator app shows for this shop."),
    )


def _pending_staff(request: HttpRequest) -> Staff | None:
    pending = request.session.get(PENDING)
    if not pending or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    return Staff.objects.select_related("user").filter(user_id=pending["user"], active=True).first()


def login_code(request: HttpRequest) -> HttpResponse:
    """The second step: the code. Wrong codes count like wrong passwords, for the user
    name and the address; a right one signs in and starts the name's count again."""
    staff = _pending_staff(request)
    if staff is None or not two_step.is_on(staff) or staff.user is None:
        messages.info(request, _("Please log in again."))
        return redirect("login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = staff.user.get_username()
        address = audit.address_of(request)
        refusal = logins.refused(username, address, step="code")
        if refusal is None:
            outcome = two_step.check(staff, form.cleaned_data["code"])
            if outcome is two_step.Check.RIGHT:
                next_url = request.session.pop(PENDING)["next"]
                login(request, staff.user, backend=BACKEND)
                logins.succeeded(username)
                safe = url_has_allowed_host_and_scheme(next_url, {request.get_host()})
                return redirect(next_url if safe else reverse("home"))
            logins.failed(username, address, step="code")
            after = {"username": username, "address": address, "step": "code"}
            if outcome is two_step.Check.USED:
                after["reason"] = "used"
            audit.record("login.failed", f"login:{username}", by=None, after=after)
            refusal = (
                _("This code was used already. Wait for the next one.")
                if outcome is two_step.Check.USED
                else _("That code is not right. Please try again.")
            )
        form.add_error("code", refusal)
    return render(request, "backoffice/login_code.html", {"form": form})


# -- turning it on and off ---------------------------------------------------------------


@requires("two_step")
def two_step_page(request: StaffRequest) -> HttpResponse:
    """One's own two-step sign-in: start (a new secret, shown as a QR code and as text),
    confirm with a code from the app, or turn it off with a code."""
    staff = request.staff
    form = CodeForm(request.POST or None)
    action = request.POST.get("action", "")
    if request.method == "POST" and action == "start" and not two_step.is_on(staff):
        request.session[NEW_SECRET] = two_step.new_secret()
        return redirect("two_step")
    secret = request.session.get(NEW_SECRET) if not two_step.is_on(staff) else None
    if request.method == "POST" and action in ("confirm", "off") and form.is_valid():
        code = form.cleaned_data["code"]
        if action == "confirm" and secret and two_step.turn_on(staff, secret, code):
            request.session.pop(NEW_SECRET, None)
            messages.success(request, _("Two-step sign-in is on."))
            return redirect("two_step")
        off = action == "off" and two_step.is_on(staff)
        if off and two_step.check(staff, code) is two_step.Check.RIGHT:
            two_step.turn_off(staff, by=staff)
            messages.success(request, _("Two-step sign-in is off."))
            return redirect("two_step")
        form.add_error("code", _("That code is not right. Please try again."))
    context: dict[str, Any] = {"form": form, "on": two_step.is_on(staff), "secret": None}
    if secret:
        business = Business.get().name
        account = request.user.get_username()
        qr = segno.make(two_step.uri(secret, account, business), error="m", micro=False)
        context.update(secret=two_step.grouped(secret), qr=qr.svg_inline(scale=4, border=2))
    return render(request, "backoffice/two_step.html", context)


@require_POST
@requires("staff.write")
def staff_two_step_off(request: StaffRequest, staff_id: int) -> HttpResponse:
    """The owner turns someone's two-step sign-in off (a lost phone); audited."""
    person = get_object_or_404(Staff, pk=staff_id)
    if two_step.is_on(person):
        two_step.turn_off(person, by=request.staff)
    messages.success(request, _("Two-step sign-in is off for %(name)s.") % {"name": person.name})
    return redirect("staff")


@require_POST
@requires("staff.write")
def lift_login_lock(request: StaffRequest, lock_id: int) -> HttpResponse:
    throttle = get_object_or_404(LoginThrottle, pk=lock_id)
    logins.lift_lock(throttle, by=request.staff)
    messages.success(request, _("%(name)s may try to log in again.") % {"name": throttle.value})
    return redirect("staff")
