"""The README stays true: its config table is the KEYS table; its two commands exist in the Makefile."""

import os
import re

from bridge.config import README_MARK, markdown_table
from support.paths import ROOT


def read(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        return f.read()


def test_config_table_is_current():
    readme = read("README.md")
    assert README_MARK in readme
    assert README_MARK + markdown_table() in readme, "run: .venv/bin/python -m bridge.config --readme"


def test_make_targets_exist():
    makefile = read("Makefile")
    for target in ("run", "test", "bench"):
        assert re.search(r"^%s:" % target, makefile, re.M), target
    assert "make test" in read(".ci/run")
