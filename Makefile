# Meshwork. `make localnet` runs a whole local network; `make test` runs every test.
# Both set up what a fresh machine lacks: the venv, Postgres, Redis, a Docker engine, job images.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv services images browser localnet test fuzz bench lint typecheck fmt clean-localnet

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

services:
	@bash deploy/setup/ensure-services.sh

images: services
	@bash deploy/images/build-job-python.sh
	@bash deploy/images/build-bench.sh

# Debian's headless Chromium for the admin's browser tests (tests/browser/).
browser:
	@bash deploy/setup/ensure-browser.sh

localnet: venv services images
	$(PY) deploy/localnet/run.py

test: venv services images browser
	$(PY) -m pytest -q $(PYTEST_ARGS)

# The long fuzzing pass (docs/fuzzing.md); `make test` runs the same tests with a short budget.
FUZZ_EXAMPLES ?= 100000
SCHEMA_EXAMPLES ?= 200
fuzz: venv services
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) SCHEMA_EXAMPLES=$(SCHEMA_EXAMPLES) $(PY) -m pytest -q -m fuzz -o timeout=0 tests/fuzz $(PYTEST_ARGS)

bench: venv services images
	$(PY) bench/organic_overhead.py
	$(PY) bench/throughput.py
	$(PY) bench/executor_overhead.py
	$(PY) bench/dht_scale.py
	$(PY) bench/verify_cost.py
	$(PY) bench/cycle.py
	$(PY) bench/receipts.py
	$(PY) bench/ws_limits.py

# Lint is everything static: style, format, types (product code, tests, benchmarks) and the
# import contracts in pyproject.toml (layers, forbidden imports, role independence, no cycles).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports

typecheck: venv
	$(VENV)/bin/mypy .

fmt: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean-localnet:
	$(PY) deploy/localnet/run.py --clean
