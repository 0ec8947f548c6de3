from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    """What every page shares, whatever its interface: the request-wide guards
    (middleware), the shop in every template (context), who is signed in and what they
    may do, the money and date filters, the error pages and the language switch."""

    name = "prepaid.web"
    label = "web"
