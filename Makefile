# ossgate — everything a fresh clone needs, from nothing: `make local` runs it, `make test` tests it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

NODE_STAMP := miniprogram/node_modules/.installed
# Serverless Devs' CLI, pinned in tools/package.json: the tests render s.yaml with it; deploy and invoke use it.
S_STAMP := tools/node_modules/.installed
S := $(CURDIR)/tools/node_modules/.bin/s
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help local test test-python test-js chromium redis bench build deploy invoke doctor clean

help:
	@echo "make local   run the function + local OSS (+ demo page) with no cloud account"
	@echo "             LOCAL_REDIS=1 make local: with a redis-server and per-user quotas on"
	@echo "make test    every test (creates the venv and installs what it needs)"
	@echo "make bench   cold start and per-ticket cost, side by side with the classic Flask signing server"
	@echo "make build   vendor requirements.txt into function/python for FC python3.10"
	@echo "make deploy  s deploy (needs Serverless Devs and an account: see README)"
	@echo "make invoke  s local invoke -f events/upload-ticket.json (needs Docker; EVENT=events/... for another)"
	@echo "make doctor  check a deployment: settings, credentials, bucket ACL/CORS/lifecycle, clock, a real round trip"

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

$(NODE_STAMP): miniprogram/package.json miniprogram/package-lock.json
	cd miniprogram && npm ci --no-audit --no-fund
	touch $@

$(S_STAMP): tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund
	touch $@

# The browser test drives Debian's chromium with playwright-core (no browser download); the demo page speaks
# Chinese, so a CJK font too (else its screenshot shows empty boxes).
chromium:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }
	@fc-list :lang=zh | grep -q . || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq fonts-wqy-microhei; }

# Quota tests and `make bench` start Debian's redis-server on free ports (no persistence); installed when missing.
REDIS_SERVER ?= /usr/bin/redis-server
redis:
	@test -x $(REDIS_SERVER) || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server; }

# make local [HOST=0.0.0.0] [FC_PORT=9000] [OSS_PORT=9100] [WECHAT_PORT=9200]
HOST = 127.0.0.1
FC_PORT ?= 9000
OSS_PORT ?= 9100
WECHAT_PORT ?= 9200

local: $(STAMP)
	@$(PY) -m local.dev --host $(HOST) --fc-port $(FC_PORT) --oss-port $(OSS_PORT) --wechat-port $(WECHAT_PORT)

test: test-python test-js

test-python: $(STAMP) $(S_STAMP) redis
	OSSGATE_REDIS_SERVER=$(REDIS_SERVER) $(PY) -m pytest -q tests

test-js: $(STAMP) $(NODE_STAMP) chromium
	cd miniprogram && OSSGATE_PYTHON=$(CURDIR)/$(PY) OSSGATE_CHROMIUM=$(CHROMIUM) node --test test/*.test.js

bench: $(STAMP) redis
	OSSGATE_REDIS_SERVER=$(REDIS_SERVER) $(PY) bench/bench.py

# Runtime requirements only (requirements.txt), for python3.10 x86_64, with any Python 3 that has pip.
build:
	$(PYTHON) tools/vendor.py --target function/python

# Serverless Devs' CLI pinned in tools/ (`tools/node_modules/.bin/s config add` once for your account).
deploy: build $(S_STAMP)
	$(S) deploy -y

# make invoke [EVENT=events/upload-ticket.json] [SESSION_TOKEN=...] [WX_CODE=...]: the function in FC's
# python3.10 image (needs Docker); README "Invoke" says which settings each event needs.
EVENT = events/upload-ticket.json
SESSION_TOKEN =
WX_CODE =
invoke: build $(S_STAMP)
	@command -v docker >/dev/null && docker info >/dev/null 2>&1 || { echo "make invoke runs the function in Docker (s local invoke): install and start Docker first"; exit 1; }
	@mkdir -p .local && $(PYTHON) tools/event.py $(EVENT) --token "$(SESSION_TOKEN)" --code "$(WX_CODE)" > .local/invoke-event.json
	$(S) local invoke -f .local/invoke-event.json

# Reads the function's settings, ALIBABA_CLOUD_* credentials and OSSGATE_URL from the environment.
doctor: $(STAMP)
	$(PY) tools/doctor.py

clean:
	rm -rf $(VENV) .local function/python .pytest_cache .hypothesis miniprogram/node_modules test-output
