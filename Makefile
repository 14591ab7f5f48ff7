# Plant Community Portal. `make run` serves the demo; `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PORT ?= 8000
VPY := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed-dev

# A Python >= 3.12: first on PATH, then through pyenv, else stop with a clear message.
PYTHON ?= $(shell for c in python3.13 python3.12 python3 python; do \
	  p=$$(command -v $$c 2>/dev/null) || continue; \
	  $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null && { echo $$p; exit 0; }; \
	done; \
	if command -v pyenv >/dev/null 2>&1; then root=$$(pyenv root); \
	  for v in $$(ls -1r $$root/versions 2>/dev/null); do p=$$root/versions/$$v/bin/python3; \
	    [ -x $$p ] && $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null && { echo $$p; exit 0; }; \
	  done; fi)

.PHONY: help runtime venv lint run test test-unit test-e2e check-services chromium clean bench bench-large wrk mutation

help:
	@echo "make run    create .venv, install, migrate, seed the demo, serve on http://127.0.0.1:8000"
	@echo "make test   the whole suite (PostgreSQL + Redis, e2e in Debian's Chromium)"
	@echo "make lint   ruff (check + format --check) and djLint, as CI runs them before the tests"
	@echo "make bench  issue 13's targets: panels (cache hit and miss), pages and load against the signed-in floor and a"
	@echo "            naive baseline, small scale (PostgreSQL + Redis + wrk, about 10 min); make bench-large for 100,000"
	@echo "            gardeners and 1,000,000 posts (seeded once, about 8 min); BENCH_ARGS=--quick for a fast look; see benchmarks/RESULTS.md"
	@echo "make mutation MODULE=apps/forum/services.py   mutation testing of one module (mutmut + the Lua mutants of scripts/mutation_lua.toml; not part of CI)"

# The runtime (requirements.txt) is all `make run` needs; tests, lint and benchmarks add
# requirements-dev.txt on top.
$(RUNTIME_STAMP): requirements.txt
	@if [ -z "$(PYTHON)" ]; then echo "No Python >= 3.12 found on PATH or under pyenv. Install one (e.g. 'pyenv install 3.13') and retry, or run 'make PYTHON=/path/to/python3.13 ...'." >&2; exit 1; fi
	@if [ -x $(VPY) ] && ! $(VPY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)'; then rm -rf $(VENV); fi
	@[ -x $(VPY) ] || { echo "Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(VPY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(RUNTIME_STAMP)

$(STAMP): $(RUNTIME_STAMP) requirements-dev.txt
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

runtime: $(RUNTIME_STAMP)

venv: $(STAMP)

run: runtime
	$(VPY) manage.py migrate --noinput
	$(VPY) manage.py seed_demo --if-empty
	@echo ""
	@echo "  Plant Community Portal: http://127.0.0.1:$(PORT)/"
	@echo "  Demo sign-in: gardener / demo-gardener-pass-2026   (moderator: moderator / demo-moderator-pass-2026)"
	@echo ""
	@# A task worker beside the server (data exports, machine identification), stopped with it.
	@# Links in emails (sent by the worker) point at the port served here, unless SITE_URL is set.
	export SITE_URL="$${SITE_URL:-http://127.0.0.1:$(PORT)}"; \
	$(VPY) manage.py db_worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(VPY) manage.py runserver 127.0.0.1:$(PORT)

check-services: venv
	@$(VPY) scripts/check_services.py

chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  echo "Installing Debian's chromium (needed by the e2e tests)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi
	@/usr/bin/chromium --version

# Lint (settings in pyproject.toml): ruff's checks and formatting for Python, djLint's linter and
# a line-length check for templates. .ci/run runs it before the tests.
lint: venv
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .
	$(VPY) -m djlint templates --lint
	$(VPY) scripts/template_line_length.py

test: venv check-services chromium
	$(VPY) -m pytest $(PYTEST_ARGS)

test-unit: venv check-services
	$(VPY) -m pytest tests $(PYTEST_ARGS)

test-e2e: venv check-services chromium
	$(VPY) -m pytest e2e $(PYTEST_ARGS)

# Benchmarks (benchmarks/run.py, the harness in benchmarks/harness/): BENCH_DATABASE_URL holds the
# small scale, <name>_large the large one; Redis db 14. BENCH_ARGS passes options, e.g.
# BENCH_ARGS="--quick" (one short run of everything, not a result) or "--no-load --runs 1".
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal_bench
BENCH_ARGS ?=

wrk:
	@if ! command -v wrk >/dev/null 2>&1; then \
	  echo "Installing Debian's wrk (the load generator of make bench)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; \
	fi

bench: venv wrk
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(VPY) benchmarks/run.py $(BENCH_ARGS)

bench-large: venv wrk
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(VPY) benchmarks/run.py --scale=large $(BENCH_ARGS)

# Mutation testing (scripts/mutation.py; not part of CI): mutmut, pinned, is installed into the venv
# on first use. MUTATION_TESTS defaults to tests/<app>; MUTATION_CHILDREN workers (at most one per
# Redis db in MUTATION_REDIS_DBS), each with its own test database; MUTANTS="name ..." re-runs
# those mutants of the last full run (mutmut's names or the Lua mutants' names of
# scripts/mutation_lua.toml); MUTATION_ARGS passes more options (e.g. --fail-under 90, --lua-only).
MUTMUT_VERSION := 3.8.1
MODULE ?=
MUTATION_TESTS ?=
MUTATION_CHILDREN ?= 2
MUTATION_REDIS_DBS ?= 13,14,15
MUTANTS ?=
MUTATION_ARGS ?=

mutation: venv check-services
	@if [ -z "$(MODULE)" ]; then echo "Usage: make mutation MODULE=apps/forum/services.py [MUTATION_TESTS=tests/forum] [MUTATION_CHILDREN=2]" >&2; exit 2; fi
	@$(VPY) -c 'import importlib.metadata as m, sys; sys.exit(m.version("mutmut") != "$(MUTMUT_VERSION)")' 2>/dev/null \
	  || $(VPY) -m pip install --quiet --disable-pip-version-check "mutmut==$(MUTMUT_VERSION)"
	$(VPY) scripts/mutation.py $(MODULE) --max-children $(MUTATION_CHILDREN) --redis-dbs $(MUTATION_REDIS_DBS) \
	  $(if $(MUTATION_TESTS),--tests $(MUTATION_TESTS)) $(if $(MUTANTS),--mutants $(MUTANTS)) $(MUTATION_ARGS)

clean:
	rm -rf $(VENV) media staticfiles db.sqlite3 test-output .pytest_cache .mutation
