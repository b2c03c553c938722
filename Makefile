# Two commands for a newcomer: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test chromium bench bench-quick clean

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

# The browser tests drive Debian's Chromium (never a downloaded browser); install it when we can.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Chromium missing: installing Debian's chromium for the browser tests"; \
	    apt-get install -y --no-install-recommends chromium >/dev/null || { apt-get update >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null; }; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
	    sudo apt-get install -y --no-install-recommends chromium >/dev/null; \
	  fi; \
	fi; \
	if [ ! -x $(CHROMIUM) ]; then \
	  echo "The browser tests need Chromium at $(CHROMIUM): run 'sudo apt-get install chromium' (or set CHROMIUM=/path/to/chromium)"; \
	  exit 1; \
	fi

test: $(VENV)/.test-deps chromium
	CHROMIUM=$(CHROMIUM) $(PY) -m pytest

bench: $(VENV)/.test-deps
	$(PY) -m bench compare
	$(PY) -m bench report

bench-quick: $(VENV)/.test-deps
	$(PY) -m bench compare --quick

clean:
	rm -rf $(VENV) test-output .pytest_cache
