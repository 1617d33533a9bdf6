# The two commands that matter: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# sam build needs the Lambda runtime's Python on PATH (python3.13); pyenv provides it here.
export PYENV_VERSION ?= 3.11.7:3.12.1:3.13.0

.PHONY: run test lint typecheck unit integration e2e bench load studio-screenshots sam-validate sam-build clean install install-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-local: $(BIN)/python requirements-local.txt layers/core/requirements.txt functions/api/requirements.txt
	$(BIN)/pip install --quiet -r requirements-local.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-local requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The embedded model's data files (16 MB, checksummed), taken from the pinned wordllama wheel.
MODEL := layers/core/orchestrator/models/wordllama/l2_supercat_256.safetensors
$(MODEL): | $(BIN)/python
	PYTHONPATH=layers/core $(BIN)/python -m orchestrator.clients.embeddings.model_files

install: $(VENV)/.installed-local $(MODEL)
install-dev: $(VENV)/.installed-dev $(MODEL)

## Serve the API on http://127.0.0.1:$(PORT): the real ASL and handlers on moto, offline model by default.
run: install
	PYTHONPATH=layers/core $(BIN)/python -m orchestrator.local.server --port $(PORT)

## Lint, type-check and run every test (unit, integration with moto, end-to-end through the ASL).
test: install-dev lint typecheck
	$(BIN)/pytest -q

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

unit: install-dev
	$(BIN)/pytest -q tests/unit
integration: install-dev
	$(BIN)/pytest -q tests/integration
e2e: install-dev
	$(BIN)/pytest -q tests/e2e

## The evidence, as tables: the local runtime next to LangGraph and plain calls, hops from execution
## history, the cost model, cold starts and package sizes after `sam build`, latency, routing, retrieval.
bench: install-dev
	PYTHONPATH=layers/core $(BIN)/python bench/peer.py
	PYTHONPATH=layers/core $(BIN)/python bench/hops.py
	PYTHONPATH=layers/core $(BIN)/python bench/cost.py
	PYTHONPATH=layers/core $(BIN)/python bench/cold_start.py
	PYTHONPATH=layers/core $(BIN)/python bench/imports.py
	PYTHONPATH=layers/core $(BIN)/python bench/chat_latency.py
	PYTHONPATH=layers/core $(BIN)/python bench/streaming.py
	PYTHONPATH=layers/core $(BIN)/python bench/routing.py
	PYTHONPATH=layers/core $(BIN)/python bench/retrieval.py

## Load: USERS virtual users for DURATION s across every branch, then the exactly-once storage check.
USERS ?= 20
DURATION ?= 60
load: install-dev
	PYTHONPATH=layers/core $(BIN)/python bench/load.py --users $(USERS) --duration $(DURATION)

## Refresh the README's Studio screenshots (docs/studio/) from the browser tests.
studio-screenshots: install-dev
	STUDIO_README_SCREENSHOTS=1 $(BIN)/pytest -q tests/browser

# SAM CLI lives in its own venv: its pins must not steer the application's dependencies.
# No telemetry: these machines reach package registries only, and CI should not phone home.
export SAM_CLI_TELEMETRY := 0
SAM_VENV := .venv-sam
$(SAM_VENV)/bin/sam:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli==1.170.0

sam-validate: $(SAM_VENV)/bin/sam
	$(SAM_VENV)/bin/sam validate --lint --region us-east-1

sam-build: $(SAM_VENV)/bin/sam
	$(SAM_VENV)/bin/sam build

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
