from __future__ import annotations

from django.apps import AppConfig


class Config(AppConfig):
    name = "prepaid.messaging"
    label = "messaging"  # not "messages": django.contrib.messages has that label
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Messages take their share of every event the outbox dispatches; an erasure
        # clears them and an access request lists them.
        from prepaid.messaging import log, worker
        from prepaid.operations import outbox, privacy

        outbox.register(worker.CONSUMER)
        if log.scrub not in privacy.SCRUBBERS:
            privacy.SCRUBBERS.append(log.scrub)
        privacy.EXPORTERS["messages"] = log.export
