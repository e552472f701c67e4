# Meshwork. `make localnet` runs a whole local network; `make test` runs every test.
# Both set up what a fresh machine lacks: the venv, Postgres, Redis, a Docker engine, job images.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# ROLE=miner|validator for `make node`.
ROLE ?=

.PHONY: venv services tools images app-image compose compose-down browser localnet node test fuzz bench lint typecheck fmt clean-localnet

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $(STAMP)

# The project itself, editable, for its console scripts (`meshwork`): reinstalled whenever the venv's
# editable finder does not point at this checkout (a fresh venv, a moved or second checkout).
venv: $(STAMP)
	@grep -qsF "'$(CURDIR)/client'" $(VENV)/lib/python3.11/site-packages/__editable___meshwork_*_finder.py \
		|| $(PY) -m pip install -q --no-deps -e .

services:
	@bash deploy/setup/ensure-services.sh

# shellcheck and docker-compose, for the installers (deploy/install/); make lint and test need them.
tools:
	@bash deploy/setup/ensure-tools.sh
test lint: tools

images: services app-image
	@bash deploy/images/build-job-python.sh
	@bash deploy/images/build-bench.sh
	@bash deploy/images/build-rental.sh

# meshwork/base (debootstrap) and meshwork/app (wheels built here), for docker-compose.yml.
app-image: venv services
	@bash deploy/setup/ensure-compose.sh
	@bash deploy/images/build-app.sh

# The whole network in containers (docs/compose.md); compose-down removes it with its volumes.
compose: venv services images
	@bash deploy/compose/up.sh

compose-down:
	docker-compose down --volumes --remove-orphans

# Debian's headless Chromium for the admin's browser tests (tests/browser/).
browser:
	@bash deploy/setup/ensure-browser.sh

localnet: venv services images
	$(PY) deploy/localnet/run.py

# One more node for the running `make localnet` (same LOCALNET_DIR), in the foreground.
node: venv
	$(PY) deploy/localnet/node.py --role "$(ROLE)"

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
	shellcheck deploy/install_validator.sh deploy/install_miner.sh deploy/install/*.sh deploy/setup/ensure-tools.sh
	bash deploy/install/generate.sh --check

typecheck: venv
	$(VENV)/bin/mypy .

fmt: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean-localnet:
	$(PY) deploy/localnet/run.py --clean
