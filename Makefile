# ossgate — everything a fresh clone needs, from nothing: `make local` runs it, `make test` tests it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

NODE_STAMP := miniprogram/node_modules/.installed
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help local test test-python test-js chromium bench build deploy invoke clean

help:
	@echo "make local   run the function + local OSS (+ demo page) with no cloud account"
	@echo "make test    every test (creates the venv and installs what it needs)"
	@echo "make bench   cold start and per-ticket cost, side by side with the seed's server"
	@echo "make build   vendor requirements.txt into function/python for FC python3.10"
	@echo "make deploy  s deploy (needs Serverless Devs and an account: see README)"
	@echo "make invoke  s local invoke -f events/upload-ticket.json (needs Docker)"

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

$(NODE_STAMP): miniprogram/package.json miniprogram/package-lock.json
	cd miniprogram && npm ci --no-audit --no-fund
	touch $@

# The browser test drives Debian's chromium with playwright-core (no browser download).
chromium:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

# make local [HOST=0.0.0.0] [FC_PORT=9000] [OSS_PORT=9100] [WECHAT_PORT=9200]
HOST = 127.0.0.1
FC_PORT ?= 9000
OSS_PORT ?= 9100
WECHAT_PORT ?= 9200

local: $(STAMP)
	@$(PY) -m local.dev --host $(HOST) --fc-port $(FC_PORT) --oss-port $(OSS_PORT) --wechat-port $(WECHAT_PORT)

test: test-python test-js

test-python: $(STAMP)
	$(PY) -m pytest -q tests

test-js: $(STAMP) $(NODE_STAMP) chromium
	cd miniprogram && OSSGATE_PYTHON=$(CURDIR)/$(PY) OSSGATE_CHROMIUM=$(CHROMIUM) node --test test/*.test.js

bench: $(STAMP)
	$(PY) bench/bench.py

build: $(STAMP)
	$(PY) tools/vendor.py --target function/python

deploy: build
	@command -v s >/dev/null || { echo "Serverless Devs is not installed: npm install -g @serverless-devs/s, then s config add"; exit 1; }
	s deploy -y

invoke: build
	@command -v s >/dev/null || { echo "Serverless Devs is not installed: npm install -g @serverless-devs/s"; exit 1; }
	s local invoke -f events/upload-ticket.json

clean:
	rm -rf $(VENV) .local function/python .pytest_cache .hypothesis miniprogram/node_modules test-output
