"""The developer entry points: `make help` lists every target, `make lint` exists and CI runs it first."""

import os
import re
import subprocess

from support.paths import ROOT


def read(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        return f.read()


def phony_targets():
    m = re.search(r"^\.PHONY:(.*)$", read("Makefile"), re.M)
    return set(m.group(1).split())


def test_make_help_lists_every_target_but_the_internal_ones():
    out = subprocess.run(["make", "-s", "-C", ROOT, "help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    listed = {line.split()[0] for line in out.stdout.splitlines()[1:] if line.strip()}
    # `browser` installs test programs for `make test`, `dbus-headers` what python-dbusmock builds against
    # for `make venv`: steps, not something to run by hand
    assert listed == phony_targets() - {"browser", "dbus-headers"}
    assert all(len(line.split(None, 1)) == 2 for line in out.stdout.splitlines()[1:])  # each one described


def test_bare_make_prints_the_help_instead_of_doing_something():
    out = subprocess.run(["make", "-s", "-n", "-C", ROOT], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "awk" in out.stdout and "pip" not in out.stdout  # the help's commands, not the venv's


def test_ci_runs_the_linter_before_the_suite():
    steps = [line.strip() for line in read(".ci/run").splitlines() if line.strip().startswith("make ")]
    assert steps == ["make lint", "make test"]


def test_the_linter_is_a_pinned_dev_requirement_with_a_rule_set():
    assert re.search(r"^ruff==\S+", read("requirements-dev.txt"), re.M)
    rules = re.search(r"^\[tool\.ruff\.lint\]\s*\nselect = \[(.*)\]", read("pyproject.toml"), re.M)
    assert rules and '"F"' in rules.group(1)  # pyflakes' checks at least
    assert re.search(r"^lint:.*\n\t.*ruff check", read("Makefile"), re.M)
