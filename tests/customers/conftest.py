from tests.api.conftest import api  # noqa: F401  (the API callers, one per role)
