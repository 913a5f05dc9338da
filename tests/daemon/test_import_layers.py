"""The package's imports go one way: every module of bridge/ imports only modules of its own layer or of a
layer below it (the table below, drawn in the README's map and docs/architecture.md), and no two modules
import each other, directly or round a loop.

An import is any of: `import x` and `from x import y` at module level or inside a function (the lazy ones
a router's memory wants count the same), and a module named in a string, as importlib.import_module
and tables of module names (COMPONENTS, LINES) use them."""

import os

from support.imports import GRAPH, MODULES, cycles
from support.paths import ROOT

# bottom to top: a module may import its own layer and the layers above it in this list, never below
LAYERS = [
    ("base", ["bridge", "bridge.version", "bridge.logger", "bridge.logsetup", "bridge.clock", "bridge.events",
              "bridge.components", "bridge.backoff", "bridge.redact", "bridge.schema", "bridge.atomic",
              "bridge.ids", "bridge.uci", "bridge.config", "bridge.ubusmsg", "bridge.loop", "bridge.logperiod",
              "bridge.signature", "bridge.statelock", "bridge.progress", "bridge.ftp", "bridge.errortext",
              "bridge.timers"]),
    ("ubus wire", ["bridge.ubus", "bridge.ubus.blob", "bridge.ubus.replies", "bridge.ubus.connection",
                   "bridge.ubus.client"]),
    ("device", ["bridge.device.*"]),
    ("station", ["bridge.station.*"]),
    ("components", ["bridge.tr069", "bridge.sessions", "bridge.stateview", "bridge.model.*", "bridge.reach.*"]),
    ("surfaces", ["bridge.ubus.surface", "bridge.os3p.*", "bridge.jsonrpc.*"]),
    ("root", ["bridge.wiring", "bridge.daemon", "bridge.cli", "bridge.statetext"]),
]


# the pure cores (events and time in, outputs out) and what none of them may import: a wire format, a socket
# or the shell around them
PURE = {
    "bridge.tr069": ["bridge.ubus", "bridge.jsonrpc", "bridge.os3p", "bridge.loop"],
    **{"bridge.os3p." + m: ["bridge.os3p.client", "bridge.os3p.connection", "bridge.os3p.wsclient", "bridge.loop",
                            "bridge.ubus"]
       for m in ("protocol", "registration", "calls", "session", "deadlines", "settings", "outputs", "messages",
                 "framing", "errors")},
}


def layer_of(module):
    found = None
    for i, (_, members) in enumerate(LAYERS):
        for m in members:
            if module == m or (m.endswith(".*") and (module == m[:-2] or module.startswith(m[:-1]))):
                found = i if found is None or (m == module) else found
    return found


def test_every_module_has_a_layer():
    assert [m for m in sorted(MODULES) if layer_of(m) is None] == []


def test_no_import_runs_up_the_layers():
    upward = ["%s (%s) imports %s (%s)" % (m, LAYERS[layer_of(m)][0], d, LAYERS[layer_of(d)][0])
              for m in sorted(GRAPH) for d in sorted(GRAPH[m]) if layer_of(d) > layer_of(m)]
    assert upward == []


def test_no_pure_core_imports_a_wire_format_or_its_shell():
    found = ["%s imports %s" % (m, d) for m, banned in sorted(PURE.items()) for d in sorted(GRAPH[m])
             if any(d == b or d.startswith(b + ".") for b in banned)]
    assert found == []


def test_no_two_modules_import_each_other():
    assert cycles(GRAPH) == []


def test_the_walk_sees_every_kind_of_import():
    """The test can fail: a lazy import, a string table and a relative import are each seen, and a loop
    and an upward import are each found."""
    assert "bridge.station.backends.gpio" in GRAPH["bridge.station.streetlights"]  # LINES, a string table
    assert "bridge.jsonrpc" in GRAPH["bridge.wiring"]  # imported inside a builder
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer_of("bridge.os3p.client") > layer_of("bridge.station.sensors") > layer_of("bridge.config")


def test_the_architecture_page_has_the_same_table():
    """docs/architecture.md draws this table: a row per layer, its modules as written here."""
    with open(os.path.join(ROOT, "docs", "architecture.md")) as f:
        page = f.read()
    rows = ["| %s | %s |" % (name, ", ".join("`%s`" % m for m in members)) for name, members in LAYERS]
    assert [row for row in rows if row not in page] == []
