# tr069-bridge developer entry points. Everything installs into .venv from the package registries.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STATE  ?= $(CURDIR)/.run

.PHONY: run test bench lint clean venv ipk sdk-ipk

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

run: venv
	$(PY) -m bridge.devrun --state-dir $(STATE)

test: venv
	$(PY) -m pytest -q tests

bench: venv
	$(PY) -m bench

clean:
	rm -rf $(VENV) .run .pytest_cache build *.egg-info
