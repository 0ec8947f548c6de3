"""The API keeps no tables of its own: the stored answers of idempotent requests are the
operation envelope's outcomes (``prepaid.operations.models.Outcome``)."""
