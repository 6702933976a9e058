# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e ".[postgres,mysql,redis,argon2,crypto]" --group dev
	touch $(STAMP)

## Run the demo app on http://127.0.0.1:8000 (SQLite file demo.db).
demo: $(STAMP)
	cd examples/demo && ../../$(BIN)/uvicorn main:app --host 127.0.0.1 --port 8000

## Lint, type-check and run the whole test suite.
test: lint typecheck unit docs

lint: $(STAMP)
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/ruff format --check src tests examples benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

unit: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet -d site

bench: $(STAMP)
	$(BIN)/python benchmarks/current_user.py

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache
