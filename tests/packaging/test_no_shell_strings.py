"""No input reaches a shell: no shell=True, os.system, os.popen or command built as one string in the package."""

import ast
import os

from support.paths import ROOT


def test_no_input_reaches_a_shell():
    """No shell=True, os.system, os.popen or string command anywhere in the package."""
    found = []
    for base, _, files in os.walk(os.path.join(ROOT, "bridge")):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(base, name)
            tree = ast.parse(open(path).read(), path)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = ast.unparse(node.func)
                if func in ("os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput"):
                    found.append("%s:%d %s" % (path, node.lineno, func))
                for kw in node.keywords:
                    if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                        found.append("%s:%d shell=" % (path, node.lineno))
                if func.startswith("subprocess.") and node.args and _stringy(node.args[0]):
                    found.append("%s:%d a command given as a string" % (path, node.lineno))
    assert found == []


def _stringy(node):
    """A command built as one string: a literal, an f-string, "..." % x or "..." + x."""
    if isinstance(node, ast.BinOp):
        return _stringy(node.left)
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))
