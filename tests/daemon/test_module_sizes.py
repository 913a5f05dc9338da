"""No module of the package grows past 400 lines unless docs/architecture.md lists it, with its one
responsibility and why it stays whole."""

import os

from support.imports import MODULES
from support.paths import ROOT

LIMIT = 400


def test_every_long_module_is_listed_with_its_responsibility():
    with open(os.path.join(ROOT, "docs", "architecture.md")) as f:
        page = f.read()
    section = page.split("## Modules over 400 lines", 1)[1]
    long = {}
    for path in MODULES.values():
        with open(path) as f:
            n = sum(1 for _ in f)
        if n > LIMIT:
            long[os.path.relpath(path, ROOT)] = n
    assert long  # the test can fail: there are such modules, and each must have its row
    assert [p for p in sorted(long) if "| `%s` |" % p not in section] == []
