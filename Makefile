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

## make lambda-bundle: the topic-cleanup Lambda's code in build/lambda/ (no Docker): the manylinux
## x86_64 cp312 wheels of its runtime dependencies, pinned by constraints.txt, plus our package.
## manylinux_2_28 is accepted because Lambda's python3.12 runs on Amazon Linux 2023 (glibc 2.34).
## Synth of an ephemeral stage fingerprints this directory; deploy uploads it.
LAMBDA_BUNDLE := build/lambda
LAMBDA_DEPS := confluent-kafka 'pydantic[email]' aws-msk-iam-sasl-signer-python
.PHONY: lambda-bundle
lambda-bundle: setup
	rm -rf $(LAMBDA_BUNDLE)
	$(BIN)/pip install --quiet --target $(LAMBDA_BUNDLE) --platform manylinux2014_x86_64 \
		--platform manylinux_2_28_x86_64 \
		--implementation cp --python-version 3.12 --only-binary=:all: -c constraints.txt $(LAMBDA_DEPS)
	cp -r src/wms_connector $(LAMBDA_BUNDLE)/
	find $(LAMBDA_BUNDLE) -name __pycache__ -prune -exec rm -rf {} +
	rm -rf $(LAMBDA_BUNDLE)/wms_connector/infra
	# boto3/botocore come with Lambda's python3.12 runtime; bundling them would triple the asset.
	rm -rf $(LAMBDA_BUNDLE)/boto3* $(LAMBDA_BUNDLE)/botocore* $(LAMBDA_BUNDLE)/s3transfer* $(LAMBDA_BUNDLE)/bin

## make cdk-cli: the pinned AWS CDK CLI (package.json) in node_modules/, so `npx cdk ...` uses it.
.PHONY: cdk-cli
cdk-cli:
	npm ci --no-audit --no-fund

## make image: the Kafka Connect image (runtime/Dockerfile) from this checkout, on the Docker engine
## that answers `docker info`, else (root + apt) on a private daemon in .state/docker that is
## stopped again afterwards. Bases: the pinned upstream images when pullable, else local Debian
## equivalents (mmdebstrap, cached in ~/.cache/wms-connector/image-bases; never push such an image).
## IMAGE_ARGS passes options, e.g. IMAGE_ARGS='--bases local --json'.
.PHONY: image
image: setup
	$(BIN)/wms-connector image build $(IMAGE_ARGS)
