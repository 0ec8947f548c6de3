"""E-mail settings from the environment under Django's names: the console without
EMAIL_HOST, SMTP with it; a deploy check for a sender address left at its default."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from prepaid import checks

SHOW = (
    "import json; from django.conf import settings as s;"
    "print(json.dumps([s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_USE_TLS,"
    " s.EMAIL_HOST_USER, s.DEFAULT_FROM_EMAIL]))"
)


def settings_with(tmp_path, **env: str) -> list:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    environment.pop("DEFAULT_FROM_EMAIL", None)
    environment.update(env, DJANGO_SETTINGS_MODULE="prepaid.settings")
    environment["PREPAID_DATA_DIR"] = str(tmp_path)
    code = f"import django; django.setup(); {SHOW}"
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def test_without_email_host_mail_goes_to_the_console(tmp_path):
    backend, host, *_ = settings_with(tmp_path)
    assert (backend, host) == ("django.core.mail.backends.console.EmailBackend", "")


def test_a_shop_may_choose_to_send_and_print_nothing(tmp_path):
    dummy = "django.core.mail.backends.dummy.EmailBackend"
    backend, *_ = settings_with(tmp_path, EMAIL_BACKEND=dummy)
    assert backend == dummy


def test_the_smtp_settings_come_from_the_environment(tmp_path):
    assert settings_with(
        tmp_path,
        EMAIL_HOST="smtp.example.com",
        EMAIL_PORT="2525",
        EMAIL_HOST_USER="shop",
        DEFAULT_FROM_EMAIL="shop@example.com",
    ) == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.com",
        2525,
        True,
        "shop",
        "shop@example.com",
    ]


def test_a_sender_left_at_localhost_is_a_deploy_warning(settings):
    settings.EMAIL_HOST, settings.DEFAULT_FROM_EMAIL = "smtp.example.com", "prepaid@localhost"
    assert "prepaid.W005" in {w.id for w in checks.self_hosting(None)}
    settings.DEFAULT_FROM_EMAIL = "shop@example.com"
    assert "prepaid.W005" not in {w.id for w in checks.self_hosting(None)}
    settings.EMAIL_HOST, settings.DEFAULT_FROM_EMAIL = "", "prepaid@localhost"
    assert "prepaid.W005" not in {w.id for w in checks.self_hosting(None)}
