from tests.api.conftest import api, water  # noqa: F401  (the API callers, one per role)
