"""The README and docs/ stay true: the config table is the KEYS table, the two commands exist in the
Makefile, every docs/ page is linked from the README, and every relative link and anchor resolves."""

import os
import re

from bridge.config import TABLE_DOC, TABLE_MARK, markdown_table
from support.paths import ROOT

README_MAX_LINES = 300  # an entry page a newcomer reads in ten minutes; the reference lives in docs/
LINK = re.compile(r"\]\(([^)\s]+)\)")


def read(name):
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        return f.read()


def docs_pages():
    return sorted("docs/" + n for n in os.listdir(os.path.join(ROOT, "docs")) if n.endswith(".md"))


def anchors(text):
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    out = set()
    fence = False
    for line in text.splitlines():
        if line.startswith("```"):
            fence = not fence
        m = None if fence else re.match(r"#{1,6} (.*)", line)
        if m:
            out.add(re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-"))
    return out


def test_config_table_is_current():
    doc = read(TABLE_DOC)
    assert TABLE_MARK in doc
    assert TABLE_MARK + markdown_table() in doc, "run: .venv/bin/python -m bridge.config --docs"


def test_make_targets_exist():
    makefile = read("Makefile")
    for target in ("run", "test", "bench"):
        assert re.search(r"^%s:" % target, makefile, re.M), target
    assert "make test" in read(".ci/run")


def test_readme_is_short_and_links_every_docs_page():
    readme = read("README.md")
    assert len(readme.splitlines()) <= README_MAX_LINES
    linked = {os.path.normpath(t.split("#")[0]) for t in LINK.findall(readme)}
    missing = [p for p in docs_pages() if os.path.normpath(p) not in linked]
    assert not missing, "docs pages the README does not link: %s" % missing


def test_relative_links_and_anchors_resolve():
    bad = []
    for page in ["README.md"] + docs_pages():
        base = os.path.dirname(page)
        for target in LINK.findall(read(page)):
            if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            rel = os.path.normpath(os.path.join(base, path)) if path else page
            if not os.path.exists(os.path.join(ROOT, rel)):
                bad.append("%s: %s (no such file)" % (page, target))
            elif anchor and rel.endswith(".md") and anchor not in anchors(read(rel)):
                bad.append("%s: %s (no such heading)" % (page, target))
    assert not bad, "\n".join(bad)
