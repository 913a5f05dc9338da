"""The CAMARA API's tokens against a real rpcd: sessions made over a real ubusd (`session create` and
`session grant`, the ACLs a LuCI login's groups give), checked by the daemon with `session access` over its own
ubus connection. Needs TR069_UBUS_SOCKET (a ubusd with rpcd attached); skipped otherwise. The same answers,
recorded (tests/support/record_rpcd_sessions.py), are replayed in CI by tests/reach/test_reach_api.py."""

import http.client
import json
import os
import time
from urllib.parse import urlsplit

import pytest

from bridge.ubus import client
from support.daemon_process import BASE_CONFIG, DaemonProcess, write_config
from support.paths import ROOT

SOCKET = os.environ.get("TR069_UBUS_SOCKET")
BASE = "/device-reachability-status-subscriptions/v0.7"
WAIT = 30.0


def _rpcd_up():
    if not (SOCKET and os.path.exists(SOCKET)):
        return False
    try:
        with client.Client(SOCKET, 2) as c:
            return bool(c.lookup("session"))
    except (client.UbusError, OSError):
        return False


pytestmark = pytest.mark.skipif(not _rpcd_up(), reason="no live ubusd + rpcd: set TR069_UBUS_SOCKET to run these")


def session(grants, timeout=300):
    with client.Client(SOCKET, 5) as c:
        sid = c.call("session", "create", {"timeout": timeout})[1]["ubus_rpc_session"]
        c.call("session", "grant", {"ubus_rpc_session": sid, "scope": "ubus", "objects": grants})
    return sid


@pytest.fixture
def api(tmp_path):
    state = tmp_path / "state"
    write_config(str(state), BASE_CONFIG + "config reach 'reach'\n\toption api_port '0'\n"
                 "\toption interfaces 'wwan'\n")
    proc = DaemonProcess(state, env={"TR069_UBUS_SOCKET": SOCKET}).start()
    try:
        deadline = time.monotonic() + WAIT
        while True:
            import subprocess
            import sys

            r = subprocess.run([sys.executable, "-m", "bridge.cli", "state", "--json", "--state-dir", str(state)],
                               cwd=ROOT, env={k: v for k, v in proc.env.items() if k != "TR069_UBUS_SOCKET"},
                               capture_output=True, text=True, timeout=30)
            view = json.loads(r.stdout).get("reach") if r.returncode == 0 else None
            if view and view.get("api"):
                u = urlsplit(view["api"])
                break
            assert time.monotonic() < deadline, "the API never listened"
            time.sleep(0.1)

        def request(method, path, token):
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
            conn.request(method, BASE + path, None, {"Authorization": "Bearer " + token})
            resp = conn.getresponse()
            raw = resp.read()
            conn.close()
            return resp.status, json.loads(raw) if raw else None
        yield request
    finally:
        proc.terminate()
        if proc.proc.stderr is not None:
            proc.proc.stderr.close()


def test_rpcd_sessions_as_their_acls_say(api):
    granted = session([["tr069.reach", "subscriptions"], ["tr069.reach", "subscribe"]])
    reader = session([["tr069.reach", "subscriptions"]])
    other = session([["luci-rpc", "*"], ["file", "read"]])
    assert api("GET", "/subscriptions", granted) == (200, [])
    assert api("GET", "/subscriptions", reader) == (200, [])
    assert api("DELETE", "/subscriptions/nope", granted)[0] == 404
    assert api("DELETE", "/subscriptions/nope", reader)[1]["code"] == "PERMISSION_DENIED"
    assert api("GET", "/subscriptions", other)[1]["code"] == "PERMISSION_DENIED"
    assert api("GET", "/subscriptions", "0123456789abcdef0123456789abcdef")[1]["code"] == "UNAUTHENTICATED"


def test_an_expired_rpcd_session_must_authenticate_again(api):
    sid = session([["tr069.reach", "subscriptions"]], timeout=1)
    assert api("GET", "/subscriptions", sid)[0] == 200
    deadline = time.monotonic() + WAIT
    while True:
        time.sleep(2.0)  # past its 1 s timeout without a use (every use, even a check, restarts rpcd's timer)
        status, body = api("GET", "/subscriptions", sid)
        if status != 200:
            break
        assert time.monotonic() < deadline, "rpcd never expired the session"
    assert (status, body["code"]) == (401, "AUTHENTICATION_REQUIRED")
