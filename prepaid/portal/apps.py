from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    """The customer's own pages, opened by scanning the QR on their card."""

    name = "prepaid.portal"
    label = "portal"
