"""Security review items, each pinned by a test.

Covered elsewhere: secrets in `status` and transfer errors (test_findings_core.py, test_findings_os3p.py),
the failed-login limit and its timing (test_findings_login.py), TLS verification on by default with the
certificate problem named (test_os3p_client.py::test_wss_refuses_a_certificate_it_cannot_verify,
test_ftp.py), the outbox's and cli.sid's modes (test_os3p_outbox.py, test_jsonrpc_daemon.py).
"""

import ast
import os
import stat

import pytest

from bridge.config import KEYS
from daemon_process import BASE_CONFIG, DaemonProcess, write_config
from jsonrpc_helpers import DATA, ZERO_SID, Running, StandinTr069, raw_exchange

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


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


@pytest.fixture
def shim(tmp_path):
    r = Running(lambda loop: {"tr069": StandinTr069()}, users_file=os.path.join(DATA, "rpcd"),
                state_dir=str(tmp_path))
    yield r
    r.close()


@pytest.mark.parametrize("path", ["/../../../../etc/passwd", "/index.html/../../etc/passwd", "/%2e%2e/etc/passwd",
                                  "//etc/passwd", "/www/index.html", "/../bridge/jsonrpc/app.py", "/cli.sid"])
def test_the_page_server_reads_nothing_outside_its_one_page(shim, path):
    answer = raw_exchange(shim.host, shim.port, b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                          % path.encode())
    assert answer.startswith(b"HTTP/1.1 404 ") and b"root:" not in answer


def test_the_shim_listens_on_loopback_unless_configured(tmp_path):
    from bridge.jsonrpc.app import Shim

    assert KEYS["jsonrpc.listen"].default == "127.0.0.1"
    assert Shim.__init__.__defaults__[0] == "127.0.0.1"  # host= when nothing is configured


def test_every_method_but_login_needs_a_session(shim):
    c = shim.client()
    for sid in (ZERO_SID, "f" * 32, ""):
        for obj, method in (("tr069", "status"), ("tr069", "inform"), ("tr069", "command"), ("session", "list"),
                            ("session", "destroy")):
            res = c.call(sid, obj, method, {})
            assert res.get("error", {}).get("code") == -32002 or res.get("result", [None])[0] != 0, (sid, obj,
                                                                                                     method, res)
    assert c.login("viewer", "viewer-pw")["result"][0] == 0


def test_a_session_cannot_grant_itself_rights(shim):
    c = shim.client()
    sid = c.login("viewer", "viewer-pw")["result"][1]["ubus_rpc_session"]
    for method, args in (("grant", {"scope": "ubus", "objects": [["*", "*"]]}), ("set", {"values": {"x": 1}}),
                         ("login", {"username": "admin", "password": "wrong"})):
        res = c.call(sid, "session", method, args)
        assert "error" in res or res["result"][0] != 0, (method, res)
    assert c.call(sid, "tr069", "inform", {})["error"]["code"] == -32002  # a reader, still


def test_every_file_the_daemon_creates_is_private(tmp_path):
    state = tmp_path / "state"
    write_config(str(state), BASE_CONFIG)
    daemon = DaemonProcess(str(state)).start()
    try:
        assert daemon.call("inform", {"event": "1 BOOT"})[0] == 0
    finally:
        daemon.terminate()
    loose = []
    for base, dirs, files in os.walk(str(state)):
        for name in dirs + files:
            path = os.path.join(base, name)
            mode = stat.S_IMODE(os.lstat(path).st_mode)
            if mode & 0o077:
                loose.append("%s %o" % (os.path.relpath(path, str(state)), mode))
    assert loose == []
