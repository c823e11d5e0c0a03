# airnub-prefect-starter: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The kernel name has one home: settings.ini.
KERNEL := $(shell sed -n 's/^kernel_name *= *//p' settings.ini)
INSTALLED := $(VENV)/.installed
KERNEL_SPEC := $(VENV)/share/jupyter/kernels/$(KERNEL)/kernel.json

# Prefect's embedded API: no telemetry on a closed network, patience on a busy machine.
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 90
export PREFECT_LOGGING_EXTRA_LOGGERS ?= papermill

.PHONY: help setup run test test-notebooks test-nbval test-pytest bench lab export clean distclean lint

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-15s %s\n", $$1, $$2}'

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(KERNEL_SPEC): $(INSTALLED) settings.ini
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))"

setup: $(INSTALLED) $(KERNEL_SPEC) export ## create .venv, install the package editable, register the kernel, export

export: $(INSTALLED) ## nbdev-export: notebooks in nbs/ -> the airnub_prefect_starter package
	$(BIN)/nbdev-export

run: setup ## run the demo pipeline end to end on Prefect's embedded API
	$(BIN)/airnub run demo

test: setup lint test-notebooks test-nbval test-pytest ## the whole suite: lint, notebook tests, nbval, pytest

test-notebooks: setup ## the notebooks' inline tests (nbdev-test)
	$(BIN)/nbdev-test --n-workers 2

test-nbval: setup ## every package notebook, executed in the project kernel (nbval)
	rm -rf .nbval && $(BIN)/python scripts/fresh_notebooks.py nbs .nbval --skip reports
	$(BIN)/pytest --nbval-lax --nbval-kernel-name $(KERNEL) -p no:cacheprovider -o testpaths= .nbval

test-pytest: setup ## flows, CLI, export and integration tests
	$(BIN)/pytest

bench: setup ## benchmarks: pipeline vs raw functions, cached rerun, papermill task overhead, sweep speedup
	$(BIN)/python scripts/benchmark.py

lab: setup ## JupyterLab with the project kernel
	$(BIN)/jupyter lab --notebook-dir=nbs $(if $(filter 0,$(shell id -u)),--allow-root,)

lint: setup ## ruff over flows, scripts and tests
	$(BIN)/ruff check flows scripts tests

clean: ## remove outputs (data, models, reports) and caches; keeps .venv
	rm -rf data models reports .nbval .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean ## clean, and remove .venv
	rm -rf $(VENV)
