# tr069-bridge developer entry points. Everything installs into .venv from the package registries.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

.PHONY: help run test lint bench fuzz soak clean venv ipk sdk-ipk browser dbus-headers
.DEFAULT_GOAL := help

# make help: every target with the text after its `##` (a target without one is not listed)
help: ## this list
	@echo "tr069-bridge: make TARGET [VARIABLE=value ...]"
	@awk -F ':.*## ' '/^[a-z][a-z-]*:.*## / { printf "  %-9s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

venv: $(VENV)/.installed ## create .venv from requirements-dev.txt (the other targets do it when needed)

$(VENV)/.installed: requirements-dev.txt pyproject.toml
	@echo "creating $(VENV) and installing requirements-dev.txt from PyPI (once; usually under a minute)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@$(MAKE) --no-print-directory dbus-headers
	$(PY) -m pip install --quiet -r requirements-dev.txt || { \
	  echo "not installed: python-dbusmock (its dbus-python builds against libdbus-1-dev and libglib2.0-dev);" \
	       "installing the rest; the live ModemManager tests will be skipped"; \
	  grep -v '^python-dbusmock' requirements-dev.txt > $(VENV)/requirements-without-dbus.txt && \
	  $(PY) -m pip install --quiet -r $(VENV)/requirements-without-dbus.txt; }
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# make run [STATE_DIR=dir] [PORT=8069] [CS_PORT=9000] [API_PORT=CS_PORT+80] [OPTS="--option KEY=VALUE ..."]:
# a second instance beside the first needs the first three (the DMS API takes a free port when its default
# is taken); OPTS go to the daemon (docs/first-day.md)
RUN_ARGS = $(if $(STATE_DIR),--state-dir $(STATE_DIR)) $(if $(PORT),--port $(PORT)) $(if $(CS_PORT),--cs-port $(CS_PORT)) \
           $(if $(API_PORT),--api-port $(API_PORT))
run: venv ## the daemon on this machine beside a development central system (STATE_DIR, PORT, CS_PORT, OPTS)
	@$(PY) -m devtools.devrun $(RUN_ARGS) $(OPTS)

# one pytest worker per core (TEST_JOBS=1 runs the suite in one process); every test uses its own tmp dir
# and ephemeral 127.0.0.1 ports, so the workers never share a file or a port; an idle worker takes over
# tests queued on a busy one (worksteal), so a slow file near the end does not leave a core idle
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# -rs: every skipped test with its reason at the end (a missing program, no network namespace, ...)
test: venv browser ## the whole suite, one worker per core (TEST_JOBS); skips are listed with their reasons
	$(PY) -m pytest -q -rs -n $(TEST_JOBS) --dist worksteal tests

# mistakes, not style: the rule set is [tool.ruff] in pyproject.toml; .ci/run runs it before the tests
lint: venv ## ruff over bridge/, devtools/, tests/ and package/ (undefined names, unused imports, ...)
	$(VENV)/bin/ruff check --no-cache .

# headless Chromium for the status-page test, Node.js for the LuCI view test, ModemManager's mmcli and
# dbus-daemon for the live ModemManager test; best effort (each test skips with its reason where its
# program is missing). apt-get's own progress is shown.
browser:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="chromium"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v mmcli >/dev/null 2>&1 || missing="$$missing modemmanager"; \
	command -v dbus-daemon >/dev/null 2>&1 && command -v dbus-send >/dev/null 2>&1 || missing="$$missing dbus"; \
	[ -z "$$missing" ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  echo "make test: installing$$missing with apt-get (once; a few minutes: Chromium and its libraries are a large download)" && \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing) && \
	  echo "make test: installed$$missing" || \
	  echo "not installed:$$missing; the tests that need it will be skipped"; }

# what python-dbusmock's dbus-python builds against (pip builds it from source: PyPI has no wheel); best
# effort, as root with apt-get, before the venv's requirements are installed
dbus-headers:
	@pkg-config --exists dbus-1 glib-2.0 2>/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  echo "installing libdbus-1-dev libglib2.0-dev pkg-config with apt-get (once), for python-dbusmock" && \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libdbus-1-dev libglib2.0-dev pkg-config) \
	  || true; }

bench: venv ## speed and memory figures beside the peers measured in the same run
	$(PY) tests/bench

# generated inputs into every surface (FUZZ_EXAMPLES per surface, default 20000; FUZZ_SEED repeats a run)
fuzz: venv ## generated inputs into every surface (FUZZ_EXAMPLES, FUZZ_SEED)
	$(PY) tests/fuzz/fuzz_run.py

# the daemon busy on every surface while the central system and the daemon itself are killed
# (SOAK_SECONDS, default 120; SOAK_CS_KILLS and SOAK_DAEMON_KILLS, default 10 each; SOAK_SEED)
soak: venv ## the daemon busy while it and the central system are killed (SOAK_SECONDS, ...)
	$(PY) tests/fuzz/soak.py

# the feed's packages built without the SDK (package/build_ipk.py, stdlib Python 3.11 only):
# build/{tr069-bridge,tr069-bridge-src,luci-app-tr069}_<version>-r<release>_all.ipk
ipk: ## the OpenWrt packages into build/, without the SDK
	$(PYTHON) package/build_ipk.py --out build

# the same packages built by the OpenWrt 24.10 SDK in docker (openwrt-sdk.md); skipped without a docker engine
SDK_IMAGE ?= openwrt/sdk:x86-64-openwrt-24.10
sdk-ipk: ## the same packages built by the OpenWrt 24.10 SDK in docker (skipped without docker)
	@if ! docker info >/dev/null 2>&1; then \
	  echo "sdk-ipk: skipped: no docker engine runs here ('docker info' fails)."; \
	  echo "         'make ipk' builds the package without the SDK; openwrt-sdk.md builds it with one by hand."; \
	  exit 0; \
	fi; \
	mkdir -p build/sdk && \
	docker run --rm -v "$(CURDIR):/src:ro" $(SDK_IMAGE) bash /src/package/sdk_build.sh > build/sdk/ipk.tar && \
	tar -xf build/sdk/ipk.tar -C build/sdk && rm -f build/sdk/ipk.tar && ls -l build/sdk

clean: ## remove .venv, build/ and the caches
	rm -rf $(VENV) .run .pytest_cache build *.egg-info
