# tr069-bridge developer entry points. Everything installs into .venv from the package registries.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: run test bench lint clean venv ipk sdk-ipk browser

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

run: venv
	$(PY) -m bridge.devrun

test: venv browser
	$(PY) -m pytest -q tests

# headless Chromium for the page test; best effort (the test skips with its reason where none is installed)
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "chromium not installed: the browser test will be skipped"; }

bench: venv
	$(PY) tests/bench

clean:
	rm -rf $(VENV) .run .pytest_cache build *.egg-info
