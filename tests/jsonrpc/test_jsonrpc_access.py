"""The shim's access rules: loopback unless configured, the page server reads only its one page, every
method but login needs a session, and a session cannot grant itself rights.

Covered elsewhere: secrets in `status` and transfer errors (core/test_redact.py, os3p/test_os3p_transfers.py),
the failed-login limit and its timing (jsonrpc/test_jsonrpc_login_limits.py), TLS verification on by default
with the certificate problem named (os3p/test_os3p_client.py::test_wss_refuses_a_certificate_it_cannot_verify,
os3p/test_ftp.py), the outbox's and cli.sid's modes (os3p/test_os3p_outbox.py, jsonrpc/test_jsonrpc_daemon.py),
the daemon's files (daemon/test_daemon_file_modes.py), no shell (packaging/test_no_shell_strings.py).
"""

import os

import pytest

from bridge.config import KEYS
from support.jsonrpc_helpers import DATA, ZERO_SID, Running, StandinTr069, raw_exchange


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
