"""The imports of the package, as tests/daemon/test_import_layers.py reads them: every `import` and
`from ... import` of each module under bridge/ (module level or inside a function), and every module named
in a string (importlib.import_module, tables of module names)."""

import ast
import os

from support.paths import ROOT


def modules():
    """{module name: path} of every module under bridge/."""
    out = {}
    for dirpath, _dirs, files in os.walk(os.path.join(ROOT, "bridge")):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(dirpath, f)
                name = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                out[name[:-len(".__init__")] if name.endswith(".__init__") else name] = path
    return out


MODULES = modules()


def imports(module):
    """The bridge modules `module` imports, in any of the ways the docstring names."""
    path = MODULES[module]
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    out = set()

    def add(name):
        while name and name not in MODULES:  # `from a.b import c` where c is a name, not a module
            name = name.rpartition(".")[0]
        if name and name != module:
            out.add(name)

    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module
            for alias in node.names:
                add(base + "." + alias.name)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("bridge."):
            name = node.value.partition(":")[0]  # "module:function" tables too
            if name in MODULES:
                add(name)
    return out


GRAPH = {m: imports(m) for m in MODULES}


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


