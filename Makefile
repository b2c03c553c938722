# Two commands for a newcomer: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint system-tools bench bench-quick clean

# Runtime dependencies only: `make run` should not wait for the linters and browsers of the tests.
$(VENV)/.run-deps: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=python3.11)")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.test-deps: $(VENV)/.run-deps pyproject.toml
	$(PY) -m pip install --quiet -e '.[test,e2e,bench,deploy]'
	touch $@

run: $(VENV)/.run-deps
	$(PY) -m service

# System tools the suite drives, all from Debian: Chromium for the browser tests (never a
# downloaded browser), hey for the bench smoke test, promtool (prometheus) for the metrics check,
# node to load pm2/ecosystem.config.js in the deployment tests.
# Installed with apt-get when we can; otherwise stop and say how to get them.
SYSTEM_TOOLS := $(CHROMIUM):chromium /usr/bin/hey:hey /usr/bin/promtool:prometheus /usr/bin/node:nodejs

system-tools:
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
	  [ -x "$${pair%%:*}" ] || missing="$$missing $${pair##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then SUDO=""; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo"; \
	  else SUDO=none; fi; \
	  if [ "$$SUDO" != none ]; then \
	    echo "installing Debian packages the tests need:$$missing"; \
	    $$SUDO apt-get install -y --no-install-recommends $$missing >/dev/null 2>&1 || \
	      { $$SUDO apt-get update >/dev/null 2>&1 && $$SUDO apt-get install -y --no-install-recommends $$missing >/dev/null; }; \
	  fi; \
	fi; \
	for pair in $(SYSTEM_TOOLS); do \
	  if [ ! -x "$${pair%%:*}" ]; then \
	    echo "The tests need $${pair%%:*}: run 'sudo apt-get install $${pair##*:}' (Chromium may also be given as CHROMIUM=/path/to/chromium)"; \
	    exit 1; \
	  fi; \
	done

test: $(VENV)/.test-deps system-tools lint
	CHROMIUM=$(CHROMIUM) $(PY) -m pytest

# Every Python file is held to `ruff check` and `ruff format --check`, and service/ to
# `mypy --strict` (config in pyproject.toml), all at zero findings.
LINT_PATHS ?= service bench tests reliability

lint: $(VENV)/.test-deps
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/mypy service

bench: $(VENV)/.test-deps
	$(PY) -m bench compare
	$(PY) -m bench report

bench-quick: $(VENV)/.test-deps
	$(PY) -m bench compare --quick

clean:
	rm -rf $(VENV) test-output .pytest_cache

# The container image as it ships (Dockerfile): built with docker when its daemon answers, else
# with buildah + podman (and a debootstrap stand-in base when the registry cannot be reached, as
# here), run, and checked from outside: /health, a conversion per format, non-root, jemalloc in
# every process, no PM2 log files, SIGTERM mid-request -> answered and exit status 0; prints the
# image size. Slow (minutes), so not part of `make test`; CI runs it with docker.
IMAGE_TOOLS := buildah podman runc debootstrap

.PHONY: image-test
image-test: $(VENV)/.test-deps
	@if ! docker info >/dev/null 2>&1; then \
	  missing=""; for t in $(IMAGE_TOOLS); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	  if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      echo "no docker daemon: installing$$missing"; \
	      apt-get install -y --no-install-recommends $$missing >/dev/null 2>&1 || \
	        { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends $$missing >/dev/null; }; \
	    else echo "make image-test needs docker, or: sudo apt-get install$$missing"; exit 1; fi; \
	  fi; \
	fi
	$(PY) tests/deploy/imagetest.py
# Issue 13's abuse scenarios against this tree, loopback only, each bounded (about 5 minutes in all).
# Figures for an older tree: `git archive <commit> | tar -x -C /tmp/before` then
# `$(PY) -m reliability --source /tmp/before --label before`. See RELIABILITY.md.
.PHONY: reliability
reliability: $(VENV)/.test-deps
	RELIABILITY_HEAVY=1 timeout 1200 $(PY) -m reliability --label current
