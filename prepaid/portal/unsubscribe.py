"""The unsubscribe link of the customers' e-mails (``messaging.unsubscribe``).

GET shows what the link stops, with a button: mail scanners open every link, so a GET
changes nothing. POST stops it: the button, or a mail program's one-click unsubscribe
(RFC 8058: ``List-Unsubscribe=One-Click`` posted to the same address, with no page
and no cookie, hence no CSRF token; the signed token is what proves the link)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from prepaid.messaging import unsubscribe


@csrf_exempt
@never_cache
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    found = unsubscribe.read(token)
    if found is None:
        return render(request, "portal/unsubscribe.html", {"invalid": True}, status=404)
    person, what = found
    context: dict[str, object] = {"token": "", "link": token, "what": what}
    if request.method == "POST":
        unsubscribe.stop(person, what)
        context["done"] = True
    else:
        context["subscribed"] = unsubscribe.subscribed(person, what)
    response = render(request, "portal/unsubscribe.html", context)
    response["Referrer-Policy"] = "no-referrer"
    return response
