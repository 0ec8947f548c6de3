from __future__ import annotations

from django.http import HttpRequest

from prepaid.staff.models import Business


def business(request: HttpRequest) -> dict[str, object]:
    if hasattr(request, "business"):  # set by BusinessMiddleware: no second query
        return {"business": request.business}
    return {"business": Business.current()}
