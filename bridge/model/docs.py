"""The parameter table of docs/parameters.md, generated from the model's rows (rows.py), as the
configuration table is generated from KEYS. tests/model/test_model_docs.py keeps the page true.

    python -m bridge.model.docs           print the table
    python -m bridge.model.docs --docs    rewrite it in docs/parameters.md (below its mark)
"""

import os

from .registry import Object

MARK = "<!-- parameter-table: generated from bridge/model/rows.py; tests/model/test_model_docs.py keeps it true -->\n"
GROUPS_MARK = "<!-- group-table: generated from bridge/model/rows.py GROUPS -->\n"


def _binding(row):
    kind, name = row.binding
    if row.count is not None:
        return "computed: number of %s" % row.count
    if kind == "uci":
        return "UCI `tr069.%s` (its validator)" % name
    if kind == "model":
        return "the model's own state"
    return "%s: %s" % ({"fact": "device", "state": "station", "computed": "computed"}[kind], row.source)


def markdown_table(registry=None):
    from . import rows

    registry = registry or rows.registry()
    out = ["| path | type | access | notification | getter group | from | notes |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in registry.rows():
        if isinstance(row, Object):
            if row.path == "Device.":
                continue
            what = []
            if row.multi:
                what.append("multi-instance" + (", numbered by key" if row.numbered == "key" else ""))
                if row.add:
                    what.append("AddObject")
                if row.delete:
                    what.append("DeleteObject")
            out.append("| **`%s`** | object | %s | | %s | | %s |" % (
                row.path, ", ".join(what) or "", row.group or "", row.doc))
            continue
        access = "W" if row.writable else "R"
        if row.secret:
            access += " (write-only: reads as empty)"
        flags = ["forced inform, always 2"] if row.forced else []
        if row.volatile:
            flags.append("volatile: active refused (9009)")
        notes = [row.doc] if row.doc else []
        if row.reboot:
            notes.append("takes effect after a restart (Status 1)")
        out.append("| `%s` | %s | %s | %s | %s | %s | %s |" % (
            row.path, row.type.describe(), access, ", ".join(flags), row.group or "", _binding(row),
            "; ".join(notes)))
    return "\n".join(out) + "\n"


def groups_table():
    from .rows import GROUPS

    out = ["| getter group | how a change is known |", "| --- | --- |"]
    out += ["| `%s` | %s |" % (name, how) for name, how in GROUPS.items()]
    return "\n".join(out) + "\n"


def _replace(text, mark, table):
    head, found, rest = text.partition(mark)
    if not found:
        raise SystemExit("no mark %r" % mark.strip())
    tail = rest[rest.index("\n\n") + 1:] if rest.startswith("|") else rest
    return head + mark + table + ("\n" if not tail.startswith("\n") else "") + tail


def page_text(text):
    """docs/parameters.md with its generated tables as the rows say."""
    return _replace(_replace(text, MARK, markdown_table()), GROUPS_MARK, groups_table())


def rewrite(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(page_text(text))


PAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "docs",
                    "parameters.md")

if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--docs"]:
        rewrite(PAGE)
    else:
        sys.stdout.write(markdown_table())
