"""The daemon's UCI writes, replayed from a real ubusd + rpcd (tests/data/rpcd/uci-writes.json).

Recorded by tests/support/record_rpcd.py (provenance in the file): the daemon reads its config, a
ChangeConfiguration writes one option, another tool (the real `uci` program) commits a change to that
option and to another and adds a section, and stages one more edit without committing it; a second
ChangeConfiguration creates a section. The replay plays rpcd's side back byte for byte: our backend must
send exactly the recorded bytes (a session of its own, set/add of the changed option only, commit) and
understand the answers, and the file the real rpcd left after each step shows what those bytes did.
"""

import json
import os
import threading

import pytest

from bridge import uci
from bridge.device.base import DeviceError
from bridge.device.ubus_backend import FACILITIES, UbusDevice
from support import record_rpcd
from support.paths import DATA
from support.record_rpcd import device_config
from support.ubusd import FakeUbusd, ScriptedUbusd

WAIT = 5.0
with open(os.path.join(DATA, "rpcd", "uci-writes.json")) as f:
    RECORDED = json.load(f)
STEPS = {t["step"]: t for t in RECORDED["transcripts"]}


class Player(threading.Thread):
    """rpcd's side of one step: its connections one after the other, as the backend opens them."""

    def __init__(self, fake, connections):
        super().__init__(daemon=True)
        self.fake, self.connections = fake, connections
        self.got, self.error = [], None

    def run(self):
        for messages in self.connections:
            p = ScriptedUbusd(self.fake, messages)
            p.run()
            self.got.append(p.got)
            if p.error is not None:
                self.error = p.error
                return


def replayer(fake, steps):
    """step(name, operation) -> (its result, the recorded step): the device's bytes must be the recorded ones."""
    def step(name, operation):
        entry = steps[name]
        player = Player(fake, entry["connections"])
        player.start()
        try:
            result = operation()
        except DeviceError as e:   # recorded as the recorder saw it
            result = {"error": type(e).__name__, "message": str(e).replace(record_rpcd.PROCD_IMAGE, "IMAGE")}
        player.join(WAIT)
        assert player.error is None, player.error
        assert player.got == [[m["hex"] for m in c if m["dir"] == "send"] for c in entry["connections"]]
        return result, entry
    return step


@pytest.fixture
def rpcd(tmp_path):
    fake = FakeUbusd(tmp_path / "ubus.sock")
    dev = UbusDevice(socket=fake.path, timeout=WAIT)
    step = replayer(fake, STEPS)

    yield dev, step
    fake.close()


def test_the_recording_shows_others_edits_kept():
    final = uci.parse(STEPS["read again"]["file_after"])
    acs = uci.find(final, "acs")
    assert acs["periodic_inform_interval"] == "240" and acs["identity"] == "SUBS002"   # the other tool's
    assert uci.find(final, "jsonrpc")["port"] == "8070"                                # its new section
    assert uci.find(final, "os3p")["ping_interval"] == "7"                             # ours
    assert uci.find(final, "cpe")["log_level"] == "info"   # staged by the other tool: not committed by us
    assert "log_level='debug'" in STEPS["another tool: uci changes tr069"]["output"]   # still staged


def test_probe_finds_what_the_device_lists(rpcd):
    dev, step = rpcd
    found, entry = step("probe", dev._probe)
    assert {k: v for k, v in found.items() if FACILITIES[k][0] == "ubus"} == entry["result"]
    assert set(entry["result"]) == {"system", "log"}   # no procd, no logd where it was recorded


def test_change_configuration_writes_only_the_changed_option_and_keeps_others_edits(rpcd):
    dev, step = rpcd
    dev._missing = {}
    holder = []
    sections, entry = step("start: the daemon reads its config",
                           lambda: holder.append(device_config(dev)) or holder[0].sections)
    config = holder[0]
    assert sections == entry["result"] and config.get("acs.periodic_inform_interval") == 300

    def change(name, value):
        return record_rpcd.change(config, name, value)

    sections, entry = step("ChangeConfiguration HeartbeatInterval=60",
                           lambda: change("acs.periodic_inform_interval", "60"))
    assert sections == entry["result"] and config.get("acs.periodic_inform_interval") == 60
    # another tool commits 240 for that option, a new identity and a jsonrpc section, stages a log level
    sections, entry = step("ChangeConfiguration websocketPingInterval=7 (a section that does not exist yet)",
                           lambda: change("os3p.ping_interval", "7"))
    assert sections == entry["result"]
    assert config.get("acs.periodic_inform_interval") == 240 and config.get("acs.identity") == "SUBS002"
    assert config.get("jsonrpc.port") == 8070 and config.get("os3p.ping_interval") == 7
    assert config.get("cpe.log_level") == "info"
    assert uci.parse(entry["file_after"]) == sections   # what we read is what rpcd left in the file


def test_delete_and_missing_config(rpcd):
    dev, step = rpcd
    dev._missing = {}
    assert step("delete an option", lambda: dev.uci_apply("tr069", [("acs", "acs", "username", None)]))[0] is None
    sections, entry = step("read again", lambda: dev.uci_sections("tr069"))
    assert sections == entry["result"] and "username" not in uci.find(sections, "acs")
    assert step("read a missing config", lambda: dev.uci_sections("nosuch"))[0] == []


# --- without rpcd: the uci program, replayed (tests/data/rpcd/uci-cli.json) ------------------------------
with open(os.path.join(DATA, "rpcd", "uci-cli.json")) as f:
    CLI = json.load(f)
CLI_STEPS = {t["step"]: t for t in CLI["steps"]}
PLAYER = """#!%s
import json, os, sys
runs = json.load(open(os.environ["UCI_REPLAY"]))
pos_file = os.environ["UCI_REPLAY"] + ".pos"
pos = int(open(pos_file).read()) if os.path.exists(pos_file) else 0
open(pos_file, "w").write(str(pos + 1))
argv = ["CONFDIR" if a == os.environ["UCI_CONFDIR"] else a for a in sys.argv[1:]]
if pos >= len(runs) or runs[pos]["argv"] != argv:
    open(os.environ["UCI_REPLAY"] + ".mismatch", "a").write("run %%d: %%r\\n" %% (pos, argv))
    sys.exit(99)
sys.stdout.write(runs[pos]["stdout"])
sys.stderr.write(runs[pos]["stderr"])
sys.exit(runs[pos]["exit_code"])
"""


@pytest.fixture
def uci_program(tmp_path, monkeypatch):
    """The recorded `uci` runs of one step, played back by a program of that name on PATH."""
    import sys

    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "uci").write_text(PLAYER % sys.executable)
    (bindir / "uci").chmod(0o755)
    monkeypatch.setenv("PATH", "%s:%s" % (bindir, os.environ.get("PATH", "")))
    confdir = str(tmp_path / "config")
    monkeypatch.setenv("UCI_CONFDIR", confdir)
    dev = UbusDevice(socket=str(tmp_path / "none.sock"), config_dir=confdir)
    dev._missing = {"uci": "rpcd is not there"}

    def step(name, operation):
        entry = CLI_STEPS[name]
        script = tmp_path / ("%d.json" % len(list(tmp_path.glob("*.json"))))
        script.write_text(json.dumps(entry["runs"]))
        monkeypatch.setenv("UCI_REPLAY", str(script))
        result = operation()
        assert not os.path.exists(str(script) + ".mismatch"), open(str(script) + ".mismatch").read()
        assert int(open(str(script) + ".pos").read()) == len(entry["runs"])   # every recorded run, no more
        return result, entry

    return dev, step


def test_without_rpcd_the_uci_program_writes_only_the_changes(uci_program):
    dev, step = uci_program
    holder = []
    sections, entry = step("start: the daemon reads its config",
                           lambda: holder.append(device_config(dev)) or holder[0].sections)
    config = holder[0]
    assert sections == entry["result"]

    def change(name, value):
        return record_rpcd.change(config, name, value)

    sections, entry = step("ChangeConfiguration HeartbeatInterval=60",
                           lambda: change("acs.periodic_inform_interval", "60"))
    assert sections == entry["result"] and config.get("acs.periodic_inform_interval") == 60
    sections, entry = step("another tool committed acs.periodic_inform_interval=240 and a jsonrpc section; "
                           "ChangeConfiguration websocketPingInterval=7", lambda: change("os3p.ping_interval", "7"))
    assert sections == entry["result"] == uci.parse(entry["file_after"])
    assert config.get("acs.periodic_inform_interval") == 240 and config.get("jsonrpc.port") == 8070
    result, entry = step("a list and a deleted option", lambda: dev.uci_apply("tr069", [
        ("cpe", "cpe", "servers", ["a", "b c"]), ("acs", "acs", "username", None)]))
    assert uci.find(uci.parse(entry["file_after"]), "cpe")["servers"] == ["a", "b c"]
    assert step("read a missing config", lambda: dev.uci_sections("nosuch"))[0] == []


# --- procd's system object, replayed (tests/data/rpcd/procd.json) ----------------------------------------
with open(os.path.join(DATA, "rpcd", "procd.json")) as f:
    PROCD = {t["step"]: t for t in json.load(f)["steps"]}


@pytest.fixture
def procd(tmp_path):
    fake = FakeUbusd(tmp_path / "ubus.sock")
    yield UbusDevice(socket=fake.path, timeout=WAIT), replayer(fake, PROCD)
    fake.close()


def test_procd_board_and_validate_firmware_image(procd):
    dev, step = procd
    found, entry = step("probe", dev._probe)
    assert {k: v for k, v in found.items() if FACILITIES[k][0] == "ubus"} == entry["result"]
    assert "system" not in found
    dev._missing = {}
    board, entry = step("board", dev.board)
    assert {k: v for k, v in board.items() if k != "serial"} == \
        {k: v for k, v in entry["result"].items() if k != "serial"}
    assert board["firmware_version"] == "OpenWrt 24.10.0 r28427-6df0e3d02a"
    with open(record_rpcd.PROCD_IMAGE, "wb") as f:   # the recorded request names this path
        f.write(b"not a sysupgrade image\n")
    try:
        refused, entry = step("validate_firmware_image", lambda: dev.validate_firmware(record_rpcd.PROCD_IMAGE))
    finally:
        os.unlink(record_rpcd.PROCD_IMAGE)
    assert refused == entry["result"] and refused["error"] == "DeviceError"   # never flashed: procd said no
