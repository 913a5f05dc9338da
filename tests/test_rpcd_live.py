"""The ubus backend's UCI path against a real ubusd + rpcd and the real `uci` program.

Needs TR069_UBUS_SOCKET (a ubusd with rpcd attached), TR069_UCI_CLI (the uci program) and
TR069_UCI_CONFDIR (the directory rpcd reads as /etc/config); skipped otherwise, and when rpcd's `uci`
object is not on that ubusd. Overwrites <TR069_UCI_CONFDIR>/tr069: point it at a directory of its own.
The same scenario, recorded, is replayed in CI by tests/test_rpcd_replay.py.
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
