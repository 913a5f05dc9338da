"""UCI writes never lose anyone's edits: only the changed options are written, on top of the file as
it is at that moment (host backend and file configs: libuci's lock, re-read, apply, rename; the ubus
backend through rpcd: tests/device/test_rpcd_replay.py and, against a real rpcd, tests/device/test_rpcd_live.py).

"Another tool" edits the file as `uci set` + `uci commit` would (the real `uci` program when
TR069_UCI_CLI names one; otherwise the same edit made by parsing and rewriting the file)."""

import os
import subprocess

import pytest

from bridge import uci
from bridge.config import Config
from bridge.daemon import Daemon
from bridge.device.host import HostDevice

UCI_CLI = os.environ.get("TR069_UCI_CLI")


def other_tool(path, section, option, value, stype=None):
    """`uci set <config>.<section>[.<option>]=<value>; uci commit` from outside the daemon."""
    confdir, name = os.path.split(path)
    if UCI_CLI:
        if stype:
            subprocess.run([UCI_CLI, "-c", confdir, "set", "%s.%s=%s" % (name, section, stype)], check=True)
        subprocess.run([UCI_CLI, "-c", confdir, "set", "%s.%s.%s=%s" % (name, section, option, value)], check=True)
        subprocess.run([UCI_CLI, "-c", confdir, "commit", name], check=True)
    else:
        uci.commit(path, [(section, stype or section, option, value)])


START = "config acs 'acs'\n\toption url 'ws://127.0.0.1:9000/OS3P'\n\toption periodic_inform_interval '300'\n"


@pytest.fixture
def path(tmp_path):
    p = tmp_path / "config" / "tr069"
    p.parent.mkdir()
    p.write_text(START)
    return str(p)


def test_an_outside_commit_between_two_writes_survives_both(path):
    c = Config(path)
    c.set("acs.periodic_inform_interval", 60)
    c.save()
    other_tool(path, "acs", "periodic_inform_interval", "240")     # the option we just wrote
    other_tool(path, "jsonrpc", "port", "8070", stype="jsonrpc")     # a section we never heard of
    c.set("os3p.ping_interval", 7)                                   # from a stale view: 60, no jsonrpc
    c.save()
    c.set("acs.url", "wss://cs.example/OS3P")
    c.save()
    sections = uci.load(path)
    assert uci.find(sections, "acs") == {".type": "acs", ".name": "acs", ".anonymous": False,
                                         "url": "wss://cs.example/OS3P", "periodic_inform_interval": "240"}
    assert uci.find(sections, "jsonrpc")["port"] == "8070"
    assert uci.find(sections, "os3p")["ping_interval"] == "7"
    assert c.get("acs.periodic_inform_interval") == 240 and c.get("jsonrpc.port") == 8070  # seen, too


def test_host_backend_writes_through_the_device(tmp_path):
    d = Daemon("host", str(tmp_path / "state"))
    path = d.config.path
    d.config.set("acs.periodic_inform_interval", 60)
    d.config.save()
    other_tool(path, "jsonrpc", "port", "8070", stype="jsonrpc")
    d.config.set("os3p.ping_interval", 7)
    d.config.save()
    assert uci.find(uci.load(path), "jsonrpc")["port"] == "8070"
    assert d.config.get("jsonrpc.port") == 8070 and d.config.get("acs.periodic_inform_interval") == 60


def test_the_host_daemon_notices_an_edit_on_disk(tmp_path):
    d = Daemon("host", str(tmp_path / "state"))
    with open(d.config.path, "w") as f:
        f.write(START)
    d.watch_config()                                 # first look: remembers the file
    other_tool(d.config.path, "acs", "periodic_inform_interval", "240")
    assert d.config.get("acs.periodic_inform_interval") == 300
    d.watch_config()                                 # the next look (a timer on the loop)
    assert d.config.get("acs.periodic_inform_interval") == 240


def test_no_config_file_is_not_an_edit_every_look(tmp_path):
    """`make run` on a fresh state directory has no config file: looking again is no change."""
    d = Daemon("host", str(tmp_path / "state"))
    reloads = []
    d.reload = lambda: reloads.append(1)
    for _ in range(3):
        d.watch_config()
    assert reloads == []
    with open(d.config.path, "w") as f:
        f.write(START)
    d.watch_config()                                 # a file appeared: that is an edit
    assert reloads == [1]


def test_host_uci_set_stages_a_delta_not_a_copy(tmp_path):
    dev = HostDevice(str(tmp_path))
    path = dev.config_path("tr069")
    with open(path, "w") as f:
        f.write(START)
    dev.uci_set("tr069", "acs", {"periodic_inform_interval": 60})
    other_tool(path, "acs", "url", "wss://elsewhere/OS3P")
    assert dev.uci_get("tr069", "acs", "periodic_inform_interval") == "60"   # staged, visible to us
    dev.uci_commit("tr069")
    acs = uci.find(uci.load(path), "acs")
    assert acs["url"] == "wss://elsewhere/OS3P" and acs["periodic_inform_interval"] == "60"


def test_a_failed_write_keeps_the_change_pending_and_raises_oserror(tmp_path):
    def refuse(changes):
        raise OSError("rpcd said no")

    c = Config(str(tmp_path / "tr069"), writer=refuse, reader=lambda: [])
    c.set("os3p.ping_interval", 7)
    with pytest.raises(OSError):
        c.save()
    assert c.changes == {("os3p", "ping_interval"): "7"}
    c.reload()
    assert c.changes == {} and c.get("os3p.ping_interval") == 60
