# DCS — `make demo` runs the product, `make test` runs every test. Both set up what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP_PY := $(VENV)/.installed
STAMP_NODE := widget/node_modules/.installed
WIDGET_OUT := signaling_server/static/widget/dcs-widget.js
WIDGET_SRC := $(shell find widget/src widget/console -type f 2>/dev/null) widget/build.mjs
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help demo test test-fast lint bench build deps system-deps clean

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

demo: deps build  ## run the server, the demo shop (/) and the agent console (/console) on SQLite
	$(PY) -m examples.demo_shop

test: deps build system-deps lint  ## lint, then the whole suite: unit, integration, store (SQLite+PostgreSQL), browser
	$(PY) -m pytest -rs

test-fast: deps build  ## the suite without browser tests
	$(PY) -m pytest -rs -m "not browser"

lint: deps  ## ruff (lint + format check) and mypy (strict) on the packages
	$(VENV)/bin/ruff check dcs_sdk signaling_server examples tests bench
	$(VENV)/bin/ruff format --check dcs_sdk signaling_server examples tests bench
	$(VENV)/bin/mypy

bench: deps build system-deps  ## run every benchmark; figures go to bench/results/
	$(PY) bench/chat_latency.py
	$(PY) bench/call_setup.py
	$(PY) bench/cobrowse.py
	$(PY) bench/scale.py
	$(PY) bench/webhooks.py
	$(PY) bench/supervisor.py

build: $(WIDGET_OUT)  ## bundle the widget and the console with esbuild

deps: $(STAMP_PY) $(STAMP_NODE)  ## Python venv and npm packages (from the lock file)

$(STAMP_PY): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

$(STAMP_NODE): widget/package.json widget/package-lock.json
	cd widget && npm ci --no-audit --no-fund
	touch $@

$(WIDGET_OUT): $(STAMP_NODE) $(WIDGET_SRC)
	cd widget && node build.mjs

system-deps:  ## Debian's Chromium (browser tests), coturn (TURN relay tests), HAProxy and Redis (several processes), installed when missing
	@if ! test -x $(CHROMIUM) || ! command -v turnserver >/dev/null || ! command -v haproxy >/dev/null \
	    || ! command -v redis-server >/dev/null; then \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium coturn haproxy redis-server; \
	fi

clean:  ## remove built assets, caches and the demo database (keeps the venv)
	rm -rf signaling_server/static .pytest_cache .mypy_cache .ruff_cache bench/results .dcs
