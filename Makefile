# airnub-prefect-starter: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOL := airnub
# The project's settings as the tool reads them (settings.ini, its defaults and rules, AIRNUB_* overrides), asked
# once per make: the module of `airnub settings show` (key=value lines), run as `python -m` (0.1 s; the console
# script imports every command first, 0.3 s), on $(PYTHON) with the tool's sources before `make setup`.
SETTINGS_COMMAND := $(if $(wildcard $(BIN)/python),$(BIN)/python,PYTHONPATH=$(TOOL)/src $(PYTHON)) \
  -m airnub.cli.settings_command
SETTINGS := $(shell $(SETTINGS_COMMAND) show)
$(if $(filter kernel_name=%,$(SETTINGS)),,$(error the project's settings could not be read: the line above says why))
# A value of the project's settings, e.g. $(call setting,kernel_name) (a value holding a space is cut at it).
setting = $(patsubst $(1)=%,%,$(filter $(1)=%,$(SETTINGS)))
# The kernel name has one home: settings.ini (AIRNUB_KERNEL_NAME overrides it).
KERNEL := $(call setting,kernel_name)
# The install is stamped by the content of pyproject.toml, not its mtime: nbdev-export rewrites the
# file with the same bytes on every run, and a stamp by date would reinstall (and need the network) each time.
# The tool, airnub, is a library of its own in airnub/ (its notebooks, package and tests): installed beside the project.
INSTALLED := $(VENV)/.installed-$(shell cat pyproject.toml $(TOOL)/pyproject.toml | sha256sum | cut -c1-16)
# Exported again when a notebook changed since the last export (`make export` always exports).
NOTEBOOKS := $(shell find nbs $(TOOL)/nbs -name '*.ipynb' -not -path '*/.*' -not -path '*/_*' 2>/dev/null)
# The tool's own tests run with the project's where the tool is developed (the template's repository, which has
# copier.yml); a project runs them with `make test-tool`.
TOOL_TESTS := $(if $(wildcard copier.yml),$(TOOL)/tests)
EXPORTED := $(VENV)/.exported
KERNEL_SPEC := $(VENV)/share/jupyter/kernels/$(KERNEL)/kernel.json

# Tests side by side: most of their time is waiting (kernels, servers, workers), so more workers than cores.
PYTEST_WORKERS ?= 4

# Prefect's embedded API: no telemetry on a closed network, patience on a busy machine.
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 90
export PREFECT_LOGGING_EXTRA_LOGGERS ?= papermill

# The docs site: mkdocs.yml says where its sources are staged (docs_dir) and where the site goes (site_dir).
mkdocs = $(shell sed -n 's/^$(1): *\([^ ]*\).*/\1/p' mkdocs.yml)
DOCS_SOURCES := $(call mkdocs,docs_dir)
DOCS_SITE := $(call mkdocs,site_dir)
DOCS_PORT ?= 8000
export NO_MKDOCS_2_WARNING ?= 1

# The team path: a Prefect server (make serve), Variables, deployments, a process worker.
# The work pool's name has one home: `work_pool` in settings.ini (AIRNUB_WORK_POOL overrides it).
export AIRNUB_WORK_POOL ?= $(call setting,work_pool)
export AIRNUB_PROJECT_ROOT ?= $(CURDIR)
# Where the project's server listens and keeps its database: [server] in settings.ini (one home for both
# `make serve` and `airnub server start`), project-local so Variables, deployments and runs survive a restart.
SERVER_HOST ?= $(call setting,server_host)
SERVER_PORT ?= $(call setting,server_port)
SERVER_HOME ?= $(call setting,server_home)
SERVER := AIRNUB_SERVER_HOST=$(SERVER_HOST) AIRNUB_SERVER_PORT=$(SERVER_PORT) AIRNUB_SERVER_HOME=$(SERVER_HOME)
# Clients talk to PREFECT_API_URL when it is set (a team server, with your PREFECT_API_AUTH_STRING), else to the
# project's own server (started on first use, on a port of its own when SERVER_PORT is taken) with its credential:
# `airnub server env` prints the two exports (the credential never appears on a command line).
API := exports="$$($(SERVER) $(BIN)/airnub server env)" && eval "$$exports" &&

.PHONY: help setup hooks run test test-fast test-notebooks test-nbval test-pytest test-tool bench bench-team bench-scale lab export clean distclean lint
.PHONY: docs docs-serve
.PHONY: serve server-db variables deploy worker blocks image

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-15s %s\n", $$1, $$2}'

$(INSTALLED):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e './$(TOOL)[testing]' -e '.[dev]'
	@# A project installed before the tool was a library of its own shipped the `airnub` command itself: replacing it
	@# removes that file after the tool wrote its own, so the tool is installed again when its command is missing.
	test -x $(BIN)/airnub || $(BIN)/python -m pip install --quiet --no-deps --force-reinstall -e './$(TOOL)'
	@# jsonschema imports rfc3987-syntax, an optional IRI format checker that jupyter-events' extra pulls in, and it
	@# builds ~35 Earley parsers at import: 1.1 s in every process that imports Prefect, nbformat's validator or
	@# JupyterLab (python-jsonschema/jsonschema#1428). No schema of this stack uses the iri formats it checks.
	$(BIN)/python -m pip uninstall --quiet --yes rfc3987-syntax
	rm -f $(VENV)/.installed*
	touch $@

# Mermaid draws the docs site's pipeline pictures. MkDocs Material loads it from a CDN unless the page has it: the
# release Material is written for (mermaid@11), from the npm registry at setup, served from the site itself, so the
# pictures render with no network when the site is read. airnub.docs.build copies it into the site.
MERMAID_VERSION := 11.17.2
MERMAID_JS := $(VENV)/share/mermaid-$(MERMAID_VERSION)/mermaid.min.js
$(MERMAID_JS): | $(INSTALLED)
	@command -v npm > /dev/null || { echo "setup: npm fetches mermaid.js for the docs site's pictures; install it" \
	  "(apt-get install -y npm)" >&2; exit 1; }
	@scratch=$$(mktemp -d) && trap 'rm -rf "$$scratch"' EXIT && \
	  (cd "$$scratch" && npm pack --silent mermaid@$(MERMAID_VERSION) > /dev/null) && \
	  tar -xzf "$$scratch/mermaid-$(MERMAID_VERSION).tgz" -C "$$scratch" package/dist/mermaid.min.js package/LICENSE && \
	  mkdir -p $(@D) && mv "$$scratch/package/LICENSE" $(@D)/LICENSE && mv "$$scratch/package/dist/mermaid.min.js" $@ && touch $@
	@echo "setup: $@ (npm: mermaid@$(MERMAID_VERSION))"

$(KERNEL_SPEC): $(INSTALLED) settings.ini
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))"

setup: $(INSTALLED) $(KERNEL_SPEC) $(EXPORTED) $(MERMAID_JS) hooks server-db ## create .venv, install the package editable, register the kernel, export, fetch mermaid.js for the docs, hook, migrate the server's database

# The pre-commit hook (.pre-commit-config.yaml) cleans the notebooks a commit stages. Git keeps hooks per repository,
# shared by its linked worktrees: it is installed from the repository's own top folder only, never from a copy.
hooks: $(INSTALLED) ## install the git pre-commit hook that cleans staged notebooks (skipped outside a git checkout)
	@if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" != "$(CURDIR)" ]; then \
	  echo "hooks: not the top of a git repository, no pre-commit hook installed (git init, then make hooks)"; \
	elif [ "$$(cd "$$(git rev-parse --git-dir)" && pwd)" != "$$(cd "$$(git rev-parse --git-common-dir)" && pwd)" ]; then \
	  echo "hooks: a linked worktree shares the hooks of its main checkout: run make hooks there"; \
	elif ! grep -qs "pre-commit" "$$(git rev-parse --git-path hooks/pre-commit)"; then $(BIN)/pre-commit install; fi

$(EXPORTED): $(INSTALLED) $(NOTEBOOKS)
	$(BIN)/nbdev-export && cd $(TOOL) && ../$(BIN)/nbdev-export
	touch $@

export: $(INSTALLED) ## nbdev-export: notebooks in nbs/ -> the airnub_prefect_starter package (and the tool's, in airnub/)
	$(BIN)/nbdev-export && cd $(TOOL) && ../$(BIN)/nbdev-export
	touch $(EXPORTED)

# The department `make run` runs; `make run DEPARTMENT=<id>` runs another (`.venv/bin/airnub run --help` lists them).
DEPARTMENT ?= demo
run: setup ## run a department's pipeline (DEPARTMENT) end to end on the project's Prefect server (started on first use)
	@test -n "$(DEPARTMENT)" || { echo 'make run: which department? make run DEPARTMENT=<id>' \
	  '(`.venv/bin/airnub run --help` lists them; `.venv/bin/airnub new department --name "Harbour Ops"` adds one)' >&2; exit 2; }
	$(BIN)/airnub run $(DEPARTMENT)

# `docs` executes every package notebook in the project kernel and fails on an error: the notebooks' inline tests
# (what nbdev-test runs in-process, the same notebooks, the same `eval: false` cells left out) and the check nbval
# made (no notebook compares outputs). The suite runs each notebook once, for the site; `make test-fast` runs
# nbdev-test instead (no kernel per notebook), `make test-nbval` still runs nbval.
test: setup lint docs test-pytest ## the whole suite: lint, the docs site (every notebook and its tests, executed), pytest

test-notebooks: setup ## the notebooks' inline tests (nbdev-test)
	$(BIN)/nbdev-test --n-workers 2
	$(if $(TOOL_TESTS),cd $(TOOL) && ../$(BIN)/nbdev-test --n-workers 2)

test-nbval: setup ## every package notebook, executed in the project kernel (nbval)
	rm -rf .nbval && $(BIN)/python -m airnub.notebook_files.fresh nbs .nbval --skip reports
	$(BIN)/pytest --nbval-lax --nbval-kernel-name $(KERNEL) -p no:cacheprovider -o testpaths= -n $(PYTEST_WORKERS) --dist loadscope .nbval

test-pytest: setup ## flows, CLI, export and integration tests (PYTEST_WORKERS processes side by side)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile tests $(TOOL_TESTS)

test-fast: setup lint test-notebooks ## the edit loop: lint, the notebooks' tests, and the tests that start no server
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -m fast tests $(TOOL_TESTS)

test-tool: setup ## the tool's own tests (airnub/tests), run in this project
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(TOOL)/tests

# The notebooks are executed for the site again only when one of them, the installed packages, the settings or the
# script changed since the last time, or a department's flows or configs (its pipeline page) (the stamp is in the
# docs_dir, which build_docs.py empties first).
DOCS_EXECUTED := $(DOCS_SOURCES)/.executed
DEPARTMENT_FILES := $(shell find flows configs -name '*.py' -o -name '*.yaml' 2>/dev/null)
$(DOCS_EXECUTED): $(INSTALLED) $(NOTEBOOKS) $(DEPARTMENT_FILES) settings.ini $(TOOL)/src/airnub/docs/build.py
	$(BIN)/python -m airnub.docs.build --mermaid $(MERMAID_JS) $(if $(TOOL_TESTS),--tool $(TOOL))
	touch $@

docs: setup $(DOCS_EXECUTED) ## the docs site in site/: the guides and every package notebook, executed; a broken example fails
	$(BIN)/mkdocs build --quiet
	@echo "docs: $(DOCS_SITE)/index.html (make docs-serve: http://127.0.0.1:$(DOCS_PORT))"

docs-serve: setup $(DOCS_EXECUTED) ## serve the docs site on http://127.0.0.1:8000 (DOCS_PORT); edits to docs/ show at once
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:$(DOCS_PORT)

bench: setup ## benchmarks: pipeline vs raw functions, cached rerun, papermill task overhead, sweep speedup
	$(BIN)/python scripts/benchmark.py

bench-team: setup ## many deployment runs on 2 workers that play other machines, one killed mid-run (BENCH_TEAM_RUNS=20)
	$(BIN)/python scripts/benchmark_team.py

ROWS ?= 100000000
bench-scale: setup ## the demo pipeline at ROWS rows (default 100 M: ~25 GB of disk, ~30 min): seconds, peak GiB
	$(BIN)/python scripts/benchmark_scale.py --rows $(ROWS)
# A fresh Prefect database spends ~6 s of CPU on its migrations at the server's first start: `make setup` runs them,
# so that the first `make run` (which starts the project's server) does not. A later Prefect migrates further itself.
server-db: $(SERVER_HOME)/prefect.db ## create and migrate the project server's database in SERVER_HOME (.prefect/)
$(SERVER_HOME)/prefect.db: | $(INSTALLED)
	@if [ -n "$$PREFECT_API_DATABASE_CONNECTION_URL" ]; then \
	  echo "server-db: PREFECT_API_DATABASE_CONNECTION_URL names the server's database; the server migrates it"; \
	else umask 077 && PREFECT_HOME=$(SERVER_HOME) $(BIN)/prefect server database upgrade -y > /dev/null && echo "server-db: $@"; fi

serve: $(INSTALLED) ## start the project's Prefect server in the background (SERVER_HOST:SERVER_PORT, data and credential in .prefect/)
	$(SERVER) $(BIN)/airnub server start

variables: $(INSTALLED) ## validate configs/variables/ and sync them to Prefect Variables (DRY_RUN=1: only list)
	$(API) $(BIN)/airnub variables sync $(if $(DRY_RUN),--dry-run)

blocks: $(INSTALLED) ## save Prefect Secret blocks from environment variables (see airnub/src/airnub/orchestration/secrets.py)
	$(API) $(BIN)/airnub blocks setup

# Where workers get the code (airnub/src/airnub/orchestration/code_source.py): the repository `origin` names, cloned at
# HEAD, which must be committed and pushed; `REPOSITORY=<url or folder>` names another, `REPOSITORY=` (empty) runs the
# flows from this checkout (one machine). POOL_LIMIT=N: at most N flow runs at once on the pool, whatever the workers.
# A flow run of the pool that crashes on its first run is run again once (airnub/src/airnub/orchestration/crash_retry.py).
POOL_LIMIT ?=
deploy: $(INSTALLED) ## register prefect.local.yaml's deployments at HEAD of the repository (REPOSITORY, POOL_LIMIT)
	@source="$$($(BIN)/python -m airnub.orchestration.code_source \
	  $(if $(filter undefined,$(origin REPOSITORY)),,--repository "$(REPOSITORY)"))" && eval "$$source" && $(API) \
	  { $(BIN)/prefect work-pool inspect "$(AIRNUB_WORK_POOL)" >/dev/null 2>&1 \
	    || $(BIN)/prefect work-pool create --type process "$(AIRNUB_WORK_POOL)"; } \
	  $(if $(POOL_LIMIT),&& $(BIN)/prefect work-pool set-concurrency-limit "$(AIRNUB_WORK_POOL)" $(POOL_LIMIT)) \
	  && $(BIN)/python -m airnub.orchestration.crash_retry --pool "$(AIRNUB_WORK_POOL)" \
	  && $(BIN)/prefect deploy --prefect-file prefect.local.yaml --all --no-prompt

# `prefect worker start`, stopped once however often the stop arrives: `kill` of the group reaches make and the worker,
# and make forwards its SIGTERM too (airnub/src/airnub/services/worker.py).
# WORKER_LIMIT: the flow runs one worker takes at once (each may start max_workers kernels); a run beyond it waits on
# the pool for a worker with room, this one or another.
WORKER_LIMIT ?= 1
worker: $(INSTALLED) ## start a process worker on the project's work pool, WORKER_LIMIT flow runs at once (default 1)
	$(API) exec $(BIN)/python -m airnub.services.worker --pool "$(AIRNUB_WORK_POOL)" --type process --limit $(WORKER_LIMIT)

# The image Docker and Kubernetes work pools run (Dockerfile; docs/containers.md), tagged with the commit it holds: the
# deployments of prefect.docker.yaml and prefect.kubernetes.yaml run AIRNUB_IMAGE, this tag once pushed to a registry.
# A tag of your own (IMAGE=registry.example/team/name:v3) is taken as given; the commit's tag only for a clean tree.
IMAGE ?= airnub-prefect-starter:$(shell git rev-parse --short HEAD 2>/dev/null || echo latest)
image: ## build the project's image for Docker and Kubernetes work pools (IMAGE=name:tag; default: the commit)
	@if [ "$(origin IMAGE)" = file ] && ! git diff --quiet HEAD -- 2>/dev/null; then echo "make image: the working" \
	  "tree has uncommitted changes, so the image would not be $(IMAGE): commit them, or name a tag (IMAGE=name:tag)" >&2; \
	  exit 2; fi
	docker build --tag $(IMAGE) .
	@echo "image: $(IMAGE) (push it, then deploy with AIRNUB_IMAGE=<registry>/$(IMAGE))"

# JupyterLab opens on the project's folder (nbs/, flows/, reports/ all in reach) and offers the project kernel first: the
# kernel new notebooks get, and the first of the launcher. These are command-line settings: the kernel's name has one
# home (settings.ini), and a user's own Jupyter configuration still applies.
lab: setup ## JupyterLab on the project folder, with the project kernel as the default
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --MappingKernelManager.default_kernel_name=$(KERNEL) \
	  $(if $(filter 0,$(shell id -u)),--allow-root,)

lint: setup ## ruff over the notebooks (nbs/), flows, scripts and tests (and the tool's, where it is developed)
	$(BIN)/ruff check nbs flows scripts tests $(if $(TOOL_TESTS),$(TOOL)/nbs $(TOOL)/src $(TOOL)/tests)

clean: ## remove outputs (data, models, reports), the docs site and caches; keeps .venv
	rm -rf data models reports .cache .nbval .pytest_cache .ruff_cache $(DOCS_SITE) $(DOCS_SOURCES)
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean ## clean, and remove .venv
	rm -rf $(VENV)
