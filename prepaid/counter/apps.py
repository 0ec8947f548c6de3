from __future__ import annotations

from django.apps import AppConfig


class CounterConfig(AppConfig):
    name = "prepaid.counter"
    label = "counter"
    verbose_name = "Counter"
