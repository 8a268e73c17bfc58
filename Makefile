# Two commands for a fresh machine (Python 3.11+ and make):
#   make run    create .venv, install, migrate SQLite, load demo data, serve on :5000
#   make test   install the dev extras and run every check and test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-dev translations lint clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "grants needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# .mo files are built from the committed .po files, never committed themselves.
translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d translations

run: export GRANTS_ENV = development
run: export GRANTS_BASE_URL ?= http://$(HOST):$(PORT)
run: install translations
	GRANTS_ENV=development $(FLASK) db upgrade
	GRANTS_ENV=development $(FLASK) grants demo
	GRANTS_ENV=development $(FLASK) grants send-mail
	@echo "grants is running on http://$(HOST):$(PORT)/ (Ctrl+C to stop)"
	GRANTS_ENV=development $(FLASK) run --host $(HOST) --port $(PORT)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install-dev translations lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .mypy_cache
