from __future__ import annotations

from django.http import HttpRequest

from prepaid.staff.models import Business


def business(request: HttpRequest) -> dict[str, object]:
    return {"business": Business.current()}
