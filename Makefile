# The README's commands. Everything installs from this repository's own files:
# pyproject.toml (ranges) + constraints.txt (the exact versions) for Python, runtime/pom.xml for jars.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test test-oracle lint typecheck unit fmt clean runtime-jars standin-deps specs workflow-lint shellcheck-deps checkov-deps

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	@echo "installing the Python packages into $(VENV) (pyproject.toml, pinned by constraints.txt): a few minutes the first time"
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

## make specs: the pinned OpenSpec CLI (package.json, installed by npm ci) validates every spec and
## open change of openspec/ strictly. Telemetry and the CLI's version check stay off.
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	@node -e 'const [a, b] = process.versions.node.split(".").map(Number); if (a < 20 || (a === 20 && b < 19)) { console.error("Node.js 20.19+ is required for the OpenSpec CLI, found " + process.version + ": install a newer nodejs"); process.exit(1) }'
	npm ci --no-audit --no-fund
	touch $@

specs: $(NODE_STAMP)
	OPENSPEC_TELEMETRY=0 node_modules/.bin/openspec validate --all --strict --no-interactive

## make test: set-up, lint, type check, the specs, the workflows' lint, the whole suite
test: lint typecheck specs workflow-lint runtime-jars standin-deps checkov-deps
	$(BIN)/pytest

## checkov (exact pins of tools/checkov-requirements.txt) in its own virtualenv under .cache/, keyed
## by that file's hash: tests/infra/test_checkov.py finds it there.
CHECKOV_REQ := tools/checkov-requirements.txt
CHECKOV_VENV := .cache/checkov/$(shell sha256sum $(CHECKOV_REQ) | cut -c1-12)
$(CHECKOV_VENV)/.installed: $(CHECKOV_REQ)
	@echo "installing checkov into $(CHECKOV_VENV) ($(CHECKOV_REQ)): about a minute the first time"
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet -r $(CHECKOV_REQ)
	touch $@

checkov-deps: $(CHECKOV_VENV)/.installed

## make test-oracle: the Oracle suite, against a real Oracle named by the environment only
## (tests/integration/oracle_target.py): WMS_TEST_ORACLE_DSN=host:port/service, WMS_TEST_ORACLE_PDB
## for a CDB, WMS_TEST_ORACLE_CDC_PASSWORD and WMS_TEST_ORACLE_DBA_PASSWORD (users:
## WMS_TEST_ORACLE_CDC_USER, WMS_TEST_ORACLE_DBA_USER). Without them: one line saying so, exit 2.
## The workers get the CDC password as ORACLE_PASSWORD, as ECS gives it (never on a command line).
test-oracle: setup
	@$(BIN)/python -m tests.integration.oracle_target
	$(MAKE) runtime-jars
	ORACLE_PASSWORD="$$WMS_TEST_ORACLE_CDC_PASSWORD" $(BIN)/pytest -m oracle -p no:cacheprovider \
	  tests/integration/test_oracle_dba_scripts.py tests/integration/test_preflight_oracle.py \
	  tests/integration/test_oracle_optin.py

## actionlint (pinned; built from source through the Go module proxy into .cache/) with Debian's
## shellcheck for the run: blocks, over .github/workflows/.
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := .cache/actionlint/$(ACTIONLINT_VERSION)/actionlint
$(ACTIONLINT):
	@command -v go >/dev/null || { echo "Go is needed to build the pinned actionlint: install Debian's 'golang' package"; exit 1; }
	GOBIN=$(CURDIR)/$(dir $(ACTIONLINT)) go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

shellcheck-deps:
	@if command -v shellcheck >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing shellcheck (Debian package) for actionlint"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null; \
	else \
	  echo "shellcheck is missing: install Debian's 'shellcheck' package (sudo apt-get install shellcheck) or run make as root"; exit 1; \
	fi

workflow-lint: $(ACTIONLINT) shellcheck-deps
	$(ACTIONLINT) -shellcheck="$$(command -v shellcheck)"

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

## make image: the Kafka Connect image (runtime/Dockerfile) from this checkout, on the Docker engine
## that answers `docker info`, else (root + apt) on a private daemon in .state/docker that is
## stopped again afterwards. Bases: the pinned upstream images when pullable, else local Debian
## equivalents (mmdebstrap, cached in ~/.cache/wms-connector/image-bases; never push such an image).
## IMAGE_ARGS passes options, e.g. IMAGE_ARGS='--bases local --json'.
.PHONY: image
image: setup
	$(BIN)/wms-connector image build $(IMAGE_ARGS)
