"""End-to-end against a real ubusd (and the real `ubus` CLI when available).

Run with TR069_UBUS_SOCKET pointing at a running ubusd's socket; the CLI is found through
TR069_UBUS_CLI or PATH. TR069_UBUSD (a ubusd binary) enables the restart test, which runs its own
private ubusd. Without them these tests are skipped. Expected outputs are the transcripts
recorded from a real ubusd + ubus CLI (tests/data/ubus/caller-transcripts.json).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import jsonschema
import pytest

from bridge.daemon import Daemon
from bridge.wiring import UBUS_SOCKET_ENV
from bridge.ubus import client
from bridge import ubusmsg as st
from support.paths import ROOT
from support.ubusd import fixture, tr069_output_schema

SOCKET = os.environ.get("TR069_UBUS_SOCKET")
pytestmark = pytest.mark.skipif(
    not SOCKET or not os.path.exists(SOCKET),
    reason="no live ubusd: set TR069_UBUS_SOCKET to a running ubusd's socket to run these")
WAIT = 5.0


def wait_for(predicate, timeout=WAIT, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def lookup(path, sock=None):
    try:
        with client.Client(sock or SOCKET, timeout=2) as c:
            return c.lookup(path)
    except client.UbusError as e:
        if e.code == st.NOT_FOUND:
            return []
        raise


class LiveFace:
    """A host daemon's ubus surface in this process, its loop in a thread."""

    def __init__(self, tmp_path, sock, monkeypatch):
        monkeypatch.setenv(UBUS_SOCKET_ENV, sock)
        self.daemon = Daemon("host", str(tmp_path / "state"))
        self.loop = self.daemon.loop
        self.surface = None
        started = threading.Event()
        self.loop.call_soon(lambda: (self.daemon.start_components(only={"ubus"}),
                                     setattr(self, "surface", self.daemon.running["ubus"]), started.set()))
        self.thread = threading.Thread(target=self.loop.run, daemon=True)
        self.thread.start()
        assert started.wait(WAIT)

    def stop(self):
        done = threading.Event()
        self.loop.call_soon_threadsafe(lambda: (self.surface.stop(), done.set()))
        assert done.wait(WAIT)
        self.loop.stop()
        self.thread.join(WAIT)


@pytest.fixture
def live(tmp_path, monkeypatch):
    if lookup("tr069"):
        pytest.skip("an object tr069 is already registered on %s" % SOCKET)
    f = LiveFace(tmp_path, SOCKET, monkeypatch)
    assert wait_for(lambda: lookup("tr069")), "tr069 did not appear on the live ubusd"
    yield f
    f.stop()


@pytest.fixture
def cli():
    path = os.environ.get("TR069_UBUS_CLI") or shutil.which("ubus")
    if not path:
        pytest.skip("no ubus CLI: set TR069_UBUS_CLI or put ubus on PATH")
    return lambda *args: subprocess.run([path, "-s", SOCKET, *args], capture_output=True, text=True,
                                        timeout=WAIT * 2)


def transcript(*argv):
    return next(t for t in fixture("caller-transcripts.json")["transcripts"] if t["argv"] == list(argv))


def test_cli_list_signature_is_icwmps(live, cli):
    r = cli("list", "-v", "tr069")
    assert r.returncode == 0
    expected = transcript("ubus", "list", "-v", "tr069")["output"]
    oid = live.surface.object_ids["tr069"]
    assert r.stdout == re.sub(r"@[0-9a-f]{8}", "@%08x" % oid, expected)


@pytest.mark.parametrize("args", [
    [],                                               # what scripts send
    ['{"event":"1 BOOT"}'],                           # python-ubus refused this one
    ['{"GetRPCMethods":true}'],                       # what LuCI sends
    ['{"event":"6 connection request","ubus_rpc_session":"0123456789abcdef0123456789abcdef"}'],  # via uhttpd
])
def test_cli_inform_with_optional_keys_starts_a_session(live, cli, args):
    r = cli("call", "tr069", "inform", *args)
    assert r.returncode == 0, r.stderr
    reply = json.loads(r.stdout)
    assert reply["status"] == 1
    jsonschema.validate(reply, tr069_output_schema("inform"))


def test_cli_errors_match_the_transcript(live, cli):
    r = cli("call", "tr069", "nosuch", "{}")
    exp = transcript("ubus", "call", "tr069", "nosuch", "{}")
    assert (r.returncode, r.stderr.splitlines()[0] + "\n") == (exp["exit_code"], exp["output"])
    r = cli("call", "tr069", "inform", '{"GetRPCMethods":"yes"}')
    assert r.returncode == 254 and "(Invalid argument)" in r.stderr


def test_cli_status_and_command(live, cli):
    r = cli("call", "tr069", "status")
    assert r.returncode == 0
    jsonschema.validate(json.loads(r.stdout), tr069_output_schema("status"))
    r = cli("call", "tr069", "command", '{"command":"reload"}')
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == 0


def test_our_client_against_real_ubusd(live):
    with client.Client(SOCKET, timeout=WAIT) as c:
        (obj,) = c.lookup("tr069")
        assert obj["signature"] == live.daemon.tr069.signature()
        code, data = c.call("tr069", "status", {"ubus_rpc_session": "x"})
        assert code == st.OK
        jsonschema.validate(data, tr069_output_schema("status"))
        assert c.call("tr069", "inform", {"event": "2 periodic"})[0] == st.OK
        assert c.call("tr069", "nosuch") == (st.METHOD_NOT_FOUND, None)
        assert c.call("nosuch.object", "x") == (st.NOT_FOUND, None)
        assert c.send("tr069.test", {"a": 1}) == st.OK


def test_clean_stop_removes_the_object(tmp_path, monkeypatch):
    if lookup("tr069"):
        pytest.skip("an object tr069 is already registered on %s" % SOCKET)
    f = LiveFace(tmp_path, SOCKET, monkeypatch)
    assert wait_for(lambda: lookup("tr069"))
    f.stop()
    assert lookup("tr069") == []


@pytest.fixture
def private_ubusd(tmp_path):
    binary = os.environ.get("TR069_UBUSD")
    if not binary:
        pytest.skip("set TR069_UBUSD to a ubusd binary to run the restart test")
    sock = str(tmp_path / "private.sock")
    procs = []

    def start():
        p = subprocess.Popen([binary, "-s", sock], stderr=subprocess.DEVNULL)
        procs.append(p)
        assert wait_for(lambda: os.path.exists(sock))
        return p

    yield sock, start
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            p.wait(WAIT)


def test_face_comes_back_after_ubusd_restart(tmp_path, monkeypatch, private_ubusd):
    sock, start = private_ubusd
    first = start()
    f = LiveFace(tmp_path, sock, monkeypatch)
    try:
        assert wait_for(lambda: lookup("tr069", sock))
        first.send_signal(signal.SIGTERM)
        first.wait(WAIT)
        assert wait_for(lambda: not os.path.exists(sock))
        start()
        (obj,) = wait_for(lambda: lookup("tr069", sock), timeout=10)
        with client.Client(sock, timeout=WAIT) as c:
            code, data = c.call("tr069", "status")
        assert code == st.OK and data["cwmp"]["status"] == "up"
        assert obj["signature"] == f.daemon.tr069.signature()
    finally:
        f.stop()


def test_daemon_process_registers_and_removes_on_sigterm(tmp_path):
    if lookup("tr069"):
        pytest.skip("an object tr069 is already registered on %s" % SOCKET)
    root = ROOT
    env = dict(os.environ, TR069_UBUS_SOCKET=SOCKET, PYTHONPATH=root)
    proc = subprocess.Popen([sys.executable, "-m", "bridge.daemon", "--backend", "host",
                             "--state-dir", str(tmp_path / "state")], env=env, cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: lookup("tr069"), timeout=10), "the daemon did not register tr069"
        for name in ("tr069.bridge", "tr069.model", "tr069.reach", "tr069.streetlights"):  # every object it serves
            assert wait_for(lambda: lookup(name)), "the daemon did not register %s" % name
        with client.Client(SOCKET, timeout=WAIT) as c:
            code, data = c.call("tr069", "inform", {"event": "1 BOOT"})
        assert code == st.OK and data["status"] == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(WAIT) == 0
        assert lookup("tr069") == []                      # REMOVE_OBJECT went out before exit
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
