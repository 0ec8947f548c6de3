from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "prepaid.operations"
    label = "operations"
    default_auto_field = "django.db.models.BigAutoField"
