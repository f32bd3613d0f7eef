# The two commands a newcomer runs (see README.md):
#   make demo   set everything up, start the lab, scan its sites, store the results, write the reports
#   make test   set everything up and run the whole test suite (the lab is started and stopped by it)

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
GOVSCAN := $(VENV)/bin/govscan
# chromium and libnss3-tools for the browser probe; the rest for the lab (nsd, unbound, nginx, iproute2) and
# the tests that look at it with other tools (dig, openssl, curl, nmap); the broker, Redis and PostgreSQL for the
# distributed runs and their tests (docs/workers.md).
APT_PACKAGES := nginx-light nsd unbound bind9-dnsutils chromium libnss3-tools iproute2 nmap openssl curl \
	rabbitmq-server redis-server postgresql
OUT ?= out

.PHONY: setup system python services demo test bench update-axe update-autoconsent update-nlds lab-down clean

setup: system python

# System packages: only the missing ones are installed, so a second run costs nothing.
system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

python: $(VENV)/.installed

# The package in editable mode, and the checkout itself on the environment's path: the lab (lab/) and the
# tests and benchmarks (tests/) belong to the checkout, not to the installed package.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -c 'import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()["purelib"], "govscan-checkout.pth").write_text("$(CURDIR)\n")'
	touch $@

demo: setup
	$(GOVSCAN) lab up
	$(GOVSCAN) --lab scan --sites lab --out $(OUT)
	$(GOVSCAN) --lab publish --out $(OUT)/site
	@echo "Reports written under $(OUT)/ (open $(OUT)/site/index.html). Stop the lab with: $(GOVSCAN) lab down"

test: setup services
	$(VENV)/bin/pytest -q

# The servers the tests of distributed runs use, each started only when it does not answer yet.
services:
	@pg_isready -q -h 127.0.0.1 || service postgresql start
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || service redis-server start
	@rabbitmqctl -q status >/dev/null 2>&1 || service rabbitmq-server start

# Benchmarks (tests/bench, README "Benchmarks"): never part of `make test`. ARGS=--peers compares with pshtt
# and sslyze (installed into .venv-peers by the benchmark itself).
N ?= 500
bench: setup
	$(PY) -m tests.bench.run --sites $(N) $(ARGS)

# axe-core is pinned in the package (scanner/probes/browser_js/axe.min.js, version in package.json); only
# this target needs Node.js and npm.
update-axe:
	command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm)
	npm install --no-audit --no-fund --silent
	cp node_modules/axe-core/axe.min.js scanner/probes/browser_js/axe.min.js
	cp node_modules/axe-core/LICENSE scanner/probes/browser_js/axe.min.js.LICENSE

# DuckDuckGo's autoconsent (MPL-2.0): its content script for Playwright, with its version in the first line, and
# its full rule set (with the opt-in steps the compact rules leave out); scanner/probes/consent.py drives them.
update-autoconsent:
	command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm)
	npm install --no-audit --no-fund --silent
	{ echo "/*! @duckduckgo/autoconsent $$(node -p 'require("./node_modules/@duckduckgo/autoconsent/package.json").version') (MPL-2.0, autoconsent.LICENSE) */"; \
	  cat node_modules/@duckduckgo/autoconsent/dist/autoconsent.playwright.js; } > scanner/probes/browser_js/autoconsent.playwright.js
	cp node_modules/@duckduckgo/autoconsent/rules/rules.json scanner/probes/browser_js/autoconsent.rules.json
	cp node_modules/@duckduckgo/autoconsent/LICENSE scanner/probes/browser_js/autoconsent.LICENSE

# The NL Design System CSS of the pages (reports/static/, package data): the Utrecht component CSS and the NL
# Design System's open 'voorbeeld' theme (the Utrecht and Rijkshuisstijl themes are not open), at the versions
# package.json pins, with their licence and where they came from.
STATIC := reports/static
update-nlds:
	command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm)
	npm install --no-audit --no-fund --silent
	cp node_modules/@utrecht/component-library-css/dist/index.css $(STATIC)/utrecht-components.css
	cp node_modules/@utrecht/component-library-css/dist/html.css $(STATIC)/utrecht-html.css
	cp node_modules/@nl-design-system-unstable/voorbeeld-design-tokens/dist/theme.css $(STATIC)/voorbeeld-theme.css
	cp node_modules/@utrecht/component-library-css/LICENSE.md $(STATIC)/NLDS-LICENCE.md
	for p in @utrecht/component-library-css @nl-design-system-unstable/voorbeeld-design-tokens; do \
	  echo "$$p $$(node -p "require('./node_modules/$$p/package.json').version") from npm, licence $$(node -p "require('./node_modules/$$p/package.json').license")"; \
	done > $(STATIC)/NLDS-SOURCE.txt

lab-down:
	$(GOVSCAN) lab down

clean: lab-down
	rm -rf $(VENV) node_modules $(OUT)
