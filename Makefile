# Baton: `make serve` runs the local API, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 3000

.PHONY: install serve test lint typecheck unit fuzz bench synth deploy clean

install: $(STAMP) node_modules/.installed

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch node_modules/.installed

serve: install
	PORT=$(PORT) $(BIN)/baton serve

lint: install
	$(BIN)/ruff check layers functions tests benchmarks $(wildcard infra)

typecheck: install
	$(BIN)/mypy layers/baton functions infra tests benchmarks

unit: install
	$(BIN)/pytest -n 2 --dist loadgroup

test: lint typecheck unit

# The long schemathesis pass (make test runs a bounded one): FUZZ_EXAMPLES cases per operation.
FUZZ_EXAMPLES ?= 500
fuzz: install
	$(BIN)/python -m tests.fuzz --max-examples $(FUZZ_EXAMPLES)

# Writes benchmarks/results.json and the table in README.md (about three minutes here).
bench: install
	$(BIN)/python -m benchmarks.run

synth: install
	npx --no-install cdk synth --quiet
	$(BIN)/python -m infra.layer

deploy: install
	npx --no-install cdk deploy --all

clean:
	rm -rf $(VENV) node_modules cdk.out .baton .build
