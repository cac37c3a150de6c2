# The README's commands. Everything installs from this repository's own files:
# pyproject.toml (ranges) + constraints.txt (the exact versions) for Python, runtime/pom.xml for jars.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint typecheck unit fmt clean runtime-jars standin-deps

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

setup: $(STAMP)

## make run: the local pipeline for 60 s: broker + Connect workers + the STAND-IN PostgreSQL source,
## a demo workload, change events shown live (`wms-connector local run --help` for more)
run: setup runtime-jars standin-deps
	$(BIN)/wms-connector local run --for 60

## PostgreSQL server binaries for the STAND-IN source (Debian packages, only when missing). The
## package's own system cluster is not created: our code runs its server in .state/ on demand.
standin-deps:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing PostgreSQL server binaries (Debian package postgresql) for the STAND-IN source"; \
	  mkdir -p /etc/postgresql-common && \
	  ( [ -f /etc/postgresql-common/createcluster.conf ] || echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf ) && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	else \
	  echo "PostgreSQL server binaries (initdb, pg_ctl) are missing for the STAND-IN source: install Debian's 'postgresql' package (sudo apt-get install postgresql) or run make as root"; exit 1; \
	fi

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: setup
	$(BIN)/mypy

## the pinned Kafka/Connect/Debezium jars of runtime/pom.xml (Maven, cached in .cache/runtime)
runtime-jars: setup
	$(BIN)/wms-connector local fetch

## make test: set-up, lint, type check, the whole suite
test: lint typecheck runtime-jars standin-deps
	$(BIN)/pytest

fmt: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis

## make lambda-bundle: the Lambda functions' code in build/lambda/ (no Docker): the manylinux
## x86_64 cp312 wheels of their runtime dependencies, pinned by constraints.txt, plus our package.
## The pip command and the staleness stamp live in src/wms_connector/infra/bundle.py; synth, cost
## and `npx cdk synth` of a branch stage run the same build themselves when the bundle is missing
## or stale, so this target is only needed to build it ahead of time.
LAMBDA_BUNDLE := build/lambda
.PHONY: lambda-bundle
lambda-bundle: setup
	$(BIN)/python -m wms_connector.infra.bundle $(LAMBDA_BUNDLE)

## make cdk-cli: the pinned AWS CDK CLI (package.json) in node_modules/, so `npx cdk ...` uses it.
.PHONY: cdk-cli
cdk-cli:
	npm ci --no-audit --no-fund
