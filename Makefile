# The two commands a newcomer runs (see README.md):
#   make demo   set everything up, start the lab, scan its sites, store the results, write the reports
#   make test   set everything up and run the whole test suite (the lab is started and stopped by it)

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
GOVSCAN := $(VENV)/bin/govscan
APT_PACKAGES := nginx-light nsd unbound bind9-dnsutils bind9-utils ldnsutils chromium libnss3-tools \
                iproute2 nmap openssl curl
OUT ?= out

.PHONY: setup system python node demo test bench lab-down clean

setup: system python node

# System packages: only the missing ones are installed, so a second run costs nothing.
system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

python: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

node: node_modules/.installed

node_modules/.installed: package.json
	npm install --no-audit --no-fund --silent
	touch $@

demo: setup
	$(GOVSCAN) lab up
	$(GOVSCAN) --lab scan --sites lab --out $(OUT)
	$(GOVSCAN) --lab publish --out $(OUT)/site
	@echo "Reports written under $(OUT)/ (open $(OUT)/site/index.html). Stop the lab with: $(GOVSCAN) lab down"

test: setup
	$(VENV)/bin/pytest -q

# Benchmarks (tests/bench, README "Benchmarks"): never part of `make test`. ARGS=--peers compares with pshtt
# and sslyze (installed into .venv-peers by the benchmark itself).
N ?= 500
bench: setup
	$(PY) -m tests.bench.run --sites $(N) $(ARGS)

lab-down:
	$(GOVSCAN) lab down

clean: lab-down
	rm -rf $(VENV) node_modules $(OUT)
