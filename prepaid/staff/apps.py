from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "prepaid.staff"
    label = "staff"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth import signals

        from prepaid.staff import audit

        signals.user_logged_in.connect(audit.logged_in, dispatch_uid="prepaid-login")
        signals.user_logged_out.connect(audit.logged_out, dispatch_uid="prepaid-logout")
        signals.user_login_failed.connect(audit.login_failed, dispatch_uid="prepaid-failed")

        from prepaid.lib import sealing
        from prepaid.staff import two_step

        if two_step.reseal not in sealing.RESEALERS:  # a key rotation moves the secrets
            sealing.RESEALERS.append(two_step.reseal)
