from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "prepaid.lib"
    label = "lib"
    default_auto_field = "django.db.models.BigAutoField"
