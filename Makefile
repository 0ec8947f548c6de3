# Two commands matter: `make run` and `make test`. Everything else is a helper of those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/prepaid

.PHONY: run test lint typecheck test-sqlite test-postgres e2e bench messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/prepaid serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m django makemigrations --check --dry-run --settings=prepaid.settings

typecheck: $(STAMP)
	$(BIN)/mypy prepaid

test-sqlite: $(STAMP)
	DATABASE_URL= $(BIN)/pytest -q

test-postgres: $(STAMP)
	PREPAID_REQUIRE_POSTGRES=1 DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q

test: lint typecheck test-sqlite test-postgres

bench: $(STAMP)
	$(BIN)/python -m bench.ledger
	$(BIN)/python -m bench.lookup
	$(BIN)/python -m bench.import_customers
	$(BIN)/python -m bench.http_sales
	$(BIN)/python -m bench.reports

messages: $(STAMP)
	cd prepaid && ../$(BIN)/django-admin makemessages -l zh_Hans -l nl --no-obsolete --settings=prepaid.settings
	cd prepaid && ../$(BIN)/django-admin compilemessages --settings=prepaid.settings

clean:
	rm -rf $(VENV) var/test* .mypy_cache .ruff_cache
