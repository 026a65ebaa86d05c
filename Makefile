# WardWatch: the two set-up commands are `make demo` and `make test`.
# Each installs what it needs and is quick the second time.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
DEMO_COMPLAINTS ?= 5000

# An explicit WARDWATCH_DATABASE_URL wins over the project-local cluster.
DB_URL = $${WARDWATCH_DATABASE_URL:-$$(scripts/localpg.sh url wardwatch)}
TEST_DB_URL = $${WARDWATCH_TEST_DATABASE_URL:-$$(scripts/localpg.sh url postgres)}

.PHONY: demo test system system-test venv assets lint bench

demo: system venv assets
	@export WARDWATCH_DATABASE_URL="$(DB_URL)" WARDWATCH_ENV=development && \
	$(BIN)/wardwatch db upgrade && \
	$(BIN)/wardwatch wards import data/wards/demo_wards.geojson \
	    --code-field code --name-field name && \
	$(BIN)/wardwatch routing load data/routing/default.toml && \
	$(BIN)/wardwatch demo seed --n $(DEMO_COMPLAINTS) && \
	echo "WardWatch demo at http://$(HOST):$(PORT)/" && \
	exec $(BIN)/wardwatch serve --host $(HOST) --port $(PORT)

test: system-test venv assets
	@export WARDWATCH_TEST_DATABASE_URL="$(TEST_DB_URL)" && \
	$(BIN)/pytest $(PYTEST_ARGS)

system:
	@PYTHON=$(PYTHON) scripts/system-deps.sh

system-test:
	@PYTHON=$(PYTHON) scripts/system-deps.sh test

assets: venv
	@scripts/assets.sh

venv: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

lint: venv
	$(BIN)/ruff check app geo analytics tests bench

bench: system venv
	@export WARDWATCH_DATABASE_URL="$$(scripts/localpg.sh url wardwatch_bench)" && \
	$(BIN)/python bench/bench_routing_import.py
