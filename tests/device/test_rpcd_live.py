"""The ubus backend's UCI path against a real ubusd + rpcd and the real `uci` program.

Needs TR069_UBUS_SOCKET (a ubusd with rpcd attached), TR069_UCI_CLI (the uci program) and
TR069_UCI_CONFDIR (the directory rpcd reads as /etc/config); skipped otherwise, and when rpcd's `uci`
object is not on that ubusd. Overwrites <TR069_UCI_CONFDIR>/tr069: point it at a directory of its own.
The same scenario, recorded, is replayed in CI by tests/device/test_rpcd_replay.py.
"""

import os
import subprocess

import pytest

from bridge import uci
from bridge.config import Config
from bridge.daemon import Daemon
from bridge.device.ubus_backend import UbusDevice
from bridge.ubus import client

SOCKET, CLI, CONFDIR = (os.environ.get(k) for k in ("TR069_UBUS_SOCKET", "TR069_UCI_CLI", "TR069_UCI_CONFDIR"))


def _rpcd_up():
    if not (SOCKET and CLI and CONFDIR and os.path.exists(SOCKET)):
        return False
    try:
        with client.Client(SOCKET, 2) as c:
            return bool(c.lookup("uci"))
    except client.UbusError:
        return False


pytestmark = pytest.mark.skipif(not _rpcd_up(), reason="no live ubusd + rpcd: set TR069_UBUS_SOCKET, "
                                "TR069_UCI_CLI and TR069_UCI_CONFDIR to run these")


def tool(*argv):
    return subprocess.run([CLI, "-c", CONFDIR] + list(argv), check=True, capture_output=True, text=True).stdout


@pytest.fixture
def path():
    p = os.path.join(CONFDIR, "tr069")
    with open(p, "w") as f:
        f.write("config acs 'acs'\n\toption url 'ws://127.0.0.1:9000/OS3P'\n\toption periodic_inform_interval '300'\n")
    subprocess.run([CLI, "-c", CONFDIR, "revert", "tr069"], capture_output=True)
    yield p
    subprocess.run([CLI, "-c", CONFDIR, "revert", "tr069"], capture_output=True)


def test_outside_commits_and_sections_survive_two_change_configurations(path, tmp_path, monkeypatch):
    monkeypatch.setenv("TR069_UCI_CONFDIR", CONFDIR)
    d = Daemon("ubus", str(tmp_path / "state"))
    assert isinstance(d.device, UbusDevice) and "uci" not in d.missing
    d.config.set("acs.periodic_inform_interval", 60)          # ChangeConfiguration HeartbeatInterval=60
    d.config.save()
    tool("set", "tr069.acs.periodic_inform_interval=240")
    tool("commit", "tr069")
    tool("set", "tr069.jsonrpc=jsonrpc")
    tool("set", "tr069.jsonrpc.port=8070")
    tool("commit", "tr069")
    tool("set", "tr069.acs.username=staged")                  # staged by the other tool, not committed
    d.config.set("os3p.ping_interval", 7)                     # ChangeConfiguration websocketPingInterval=7
    d.config.save()
    d.config.set("acs.url", "wss://cs.example/OS3P")
    d.config.save()
    sections = uci.load(path)
    acs = uci.find(sections, "acs")
    assert acs["periodic_inform_interval"] == "240" and acs["url"] == "wss://cs.example/OS3P"
    assert "username" not in acs and "tr069.acs.username='staged'" in tool("changes", "tr069")
    assert uci.find(sections, "jsonrpc")["port"] == "8070" and uci.find(sections, "os3p")["ping_interval"] == "7"
    assert d.config.get("acs.periodic_inform_interval") == 240 and d.config.get("jsonrpc.port") == 8070


def test_the_uci_program_without_rpcd(path, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", os.path.dirname(CLI) + os.pathsep + os.environ.get("PATH", ""))
    dev = UbusDevice(socket=SOCKET, config_dir=CONFDIR)
    dev._missing = {"uci": "as if rpcd were not there"}
    c = Config(dev.config_path("tr069"), writer=lambda ch: dev.uci_apply("tr069", ch),
               reader=lambda: dev.uci_sections("tr069"))
    c.set("os3p.ping_interval", 7)
    c.save()
    tool("set", "tr069.acs.periodic_inform_interval=240")
    tool("commit", "tr069")
    c.set("acs.url", "wss://cs.example/OS3P")
    c.save()
    sections = uci.load(path)
    assert uci.find(sections, "os3p")["ping_interval"] == "7"
    assert uci.find(sections, "acs")["periodic_inform_interval"] == "240"
    assert c.get("acs.url") == "wss://cs.example/OS3P"


def test_the_daemon_process_on_a_device_without_procd(path, tmp_path):
    """The issue's scenario, end to end: `--backend ubus` against the real ubusd + rpcd (no procd, no logd),
    a real central system, the real `uci` program editing between two ChangeConfiguration calls."""
    import sys

    from devtools.centralsystem import CentralSystem
    from support.daemon_process import ROOT

    cs = CentralSystem(quiet=True).start()
    with open(path, "w") as f:
        f.write("config acs 'acs'\n\toption url '%s'\n\toption periodic_inform_enable '0'\n"
                "config os3p 'os3p'\n\toption enabled '1'\n\toption reconnect_min '1'\n" % cs.url)
    env = dict(os.environ, PYTHONPATH=ROOT, TR069_UCI_CONFDIR=CONFDIR)
    log_path = tmp_path / "daemon.log"
    with open(log_path, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bridge.daemon", "--backend", "ubus", "--state-dir",
                                 str(tmp_path / "state")], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        cs.wait_for(lambda c: c.calls("BootNotification") and "SUBS001" in c.connections, timeout=15)
        call = lambda action, payload: cs.call("SUBS001", action, payload, timeout=5)  # noqa: E731
        assert call("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"})[2] == {"status": "Accepted"}
        tool("set", "tr069.acs.periodic_inform_interval=240")
        tool("set", "tr069.jsonrpc=jsonrpc")
        tool("set", "tr069.jsonrpc.port=8070")
        tool("commit", "tr069")
        assert call("ChangeConfiguration", {"key": "websocketPingInterval", "value": "7"})[2] == \
            {"status": "Accepted"}
        assert call("GetConfiguration", {"key": ["HeartbeatInterval"]})[2]["configurationKey"][0]["value"] == "240"
        assert call("Reset", {"type": "Soft"})[2] == {"status": "Rejected"}
        assert call("GetFile", {"location": "http://127.0.0.1:1/x", "fileType": "Syslog"})[2]["status"] == "Rejected"
        reply = call("UpdateFirmware", {"retrieveDate": "2020-01-01T00:00:00Z", "location": "http://127.0.0.1:1/x"})
        assert reply[2] == "NotSupported" and "system" in reply[3]
        with client.Client(SOCKET, 5) as c:
            code, status = c.call("tr069", "status")
        assert code == 0 and "system" in status["cwmp"]["missing"] and status["cwmp"]["status"] == "up"
    finally:
        proc.terminate()
        proc.wait(10)
        cs.stop()
    sections = uci.load(path)
    assert uci.find(sections, "acs")["periodic_inform_interval"] == "240"
    assert uci.find(sections, "jsonrpc")["port"] == "8070" and uci.find(sections, "os3p")["ping_interval"] == "7"
    text = log_path.read_text()
    assert "Traceback" not in text and text.count("missing on this device: system") == 1
