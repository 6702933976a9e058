# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo docs-serve test lint typecheck unit coverage-gate audit test-programs unit-postgres unit-mariadb docs settings-reference bench bench-scopes timing clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e ".[postgres,mysql,redis,argon2,crypto,mfa,offline-docs]" --group dev
	touch $(STAMP)

## Run the demo app on http://127.0.0.1:8000 (SQLite file demo.db); `make demo PORT=8080`
## for another port.
PORT ?= 8000
demo: $(STAMP)
	cd examples/demo && ../../$(BIN)/uvicorn main:app --host 127.0.0.1 --port $(PORT)

## Lint, type-check, run the whole test suite (SQLite, then PostgreSQL and MariaDB),
## build the docs and audit the installed dependencies.
test: lint typecheck unit unit-postgres unit-mariadb docs audit

lint: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks tools docs_src
	$(BIN)/ruff format --check src tests examples benchmarks tools docs_src

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

## The SQLite pass runs under coverage; branch coverage of the token, password,
## session, accounts and HTTP modules must stay at 90% or more.
COVERAGE_GATED := */fastapi_userkit/_access_tokens.py,*/fastapi_userkit/_action_tokens.py,$\
*/fastapi_userkit/_keys.py,*/fastapi_userkit/_asymmetric.py,*/fastapi_userkit/passwords.py,$\
*/fastapi_userkit/policy.py,*/fastapi_userkit/contrib/argon2.py,$\
*/fastapi_userkit/login_sessions.py,*/fastapi_userkit/db/login_sessions.py,$\
*/fastapi_userkit/contrib/redis.py,*/fastapi_userkit/_accounts/*,$\
*/fastapi_userkit/_http/*,*/fastapi_userkit/routers/*

unit: $(STAMP) test-programs
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	$(MAKE) --no-print-directory coverage-gate

coverage-gate: $(STAMP)
	$(BIN)/coverage report --skip-covered --fail-under=90 --include='$(COVERAGE_GATED)'

## pip-audit of the installed set: fails on a known vulnerability, skips (saying
## why) only when the advisory data cannot be reached.
audit: $(STAMP)
	$(BIN)/python tools/audit_dependencies.py

## Programs the tests start themselves (their own redis-server, Sentinel and Cluster;
## a headless Chromium for tests/browser): installed with apt-get where missing and
## possible; elsewhere those tests skip, or fail in CI.
test-programs:
	@command -v redis-server >/dev/null 2>&1 || { \
	  command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	  apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; } || \
	  echo "redis-server not installed: the tests that start their own Redis will skip"
	@{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || { \
	  command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq chromium chromium-driver >/dev/null; } || \
	  echo "chromium and chromium-driver not installed: the browser tests will skip"

## The suite again on the local PostgreSQL and MariaDB (tests that do not depend on
## the database run once, in the SQLite pass).
POSTGRES_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
MARIADB_URL ?= mysql+asyncmy://root@127.0.0.1:3306/test

unit-postgres: $(STAMP)
	USERKIT_TEST_DATABASE_URL=$(POSTGRES_URL) $(BIN)/python -m pytest -q -m "not single_pass" $(PYTEST_ARGS)

unit-mariadb: $(STAMP)
	USERKIT_TEST_DATABASE_URL=$(MARIADB_URL) $(BIN)/python -m pytest -q -m "not single_pass" $(PYTEST_ARGS)

## Build the documentation site into site/ (open site/index.html in a browser).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet -d site

## Serve the documentation on http://127.0.0.1:8001, rebuilt on every change;
## `make docs-serve DOCS_PORT=...` for another port.
DOCS_PORT ?= 8001
docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --strict -a 127.0.0.1:$(DOCS_PORT)

## Rewrite the settings reference page from the settings' docstrings.
settings-reference: $(STAMP)
	$(BIN)/python tools/settings_reference.py

## The benchmark of docs/explanation/performance.md (about 8 minutes; loopback only).
bench: $(STAMP)
	$(BIN)/python benchmarks/harness.py --write-docs $(BENCH_ARGS)

## The scope check against no scope check, SQLite and PostgreSQL (about 2 minutes).
bench-scopes: $(STAMP)
	cd benchmarks && ../$(BIN)/python scopes.py $(BENCH_ARGS)

## Median login and reset-request times for unknown, wrong-password and inactive accounts.
timing: $(STAMP)
	$(BIN)/python benchmarks/timing.py

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache
