"""Imported first by every bench module: puts the repository (the package `bridge`, `devtools`), tests/ (the
shared `support` helpers) and this folder on sys.path. This folder is already there however a bench runs
(`make bench` runs it as `python tests/bench`, or one alone as `python tests/bench/bench_<surface>.py`), so
this module is found; the rest is then found the same way in both."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
ROOT = os.path.dirname(TESTS)

for _path in (HERE, TESTS, ROOT):
    if _path not in sys.path:
        sys.path.insert(0, _path)
