# The README's commands. Everything installs from this repository's own files:
# pyproject.toml (ranges) + constraints.txt (the exact versions) for Python, runtime/pom.xml for jars.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint typecheck unit fmt clean runtime-jars

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

setup: $(STAMP)

## make run: the main job (for now the plan of stage main, offline)
run: setup
	$(BIN)/wms-connector plan --stage main

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

## the pinned Kafka/Connect/Debezium jars of runtime/pom.xml (Maven, cached in .cache/runtime)
runtime-jars: setup
	$(BIN)/wms-connector local fetch

## make test: set-up, lint, type check, the whole suite
test: lint typecheck runtime-jars
	$(BIN)/pytest

fmt: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
