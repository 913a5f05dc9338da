"""The ubus device backend: UCI over rpcd's uci object (replaying the recorded uci transcripts
from a real ubusd + rpcd, tests/data/ubus/uci-transcripts.json), system calls against a small ubusd
emulator on a real Unix socket, sysupgrade and logread as real programs on PATH."""

import os
import time

import jsonschema
import pytest

from bridge.daemon import Daemon
from bridge.device import open_device
from bridge.device.base import DeviceError, NotFound, NotSupported
from bridge.device.ubus_backend import UbusDevice
from bridge import ubusmsg as st
from support.device import BOARD, fake_program, lay_out_root
from support.ubusd import WAIT, MiniUbusd, ScriptedUbusd, fixture, tr069_output_schema

UCI = {" ".join(t["argv"][1:]): t for t in fixture("uci-transcripts.json")["transcripts"]}


def replay(ubusd, key, operation):
    """Run one device operation against ubusd's side of a uci transcript; returns its result or error."""
    entry = UCI[key]
    player = ScriptedUbusd(ubusd, entry["messages"])
    player.start()
    dev = UbusDevice(socket=ubusd.path, timeout=WAIT)
    try:
        result = operation(dev)
    except (NotFound, DeviceError) as e:
        result = e
    player.join(WAIT)
    assert player.error is None, player.error
    assert player.got == [m["hex"] for m in entry["messages"] if m["dir"] == "send"]   # byte for byte
    return result


def test_open_device_picks_the_ubus_backend(tmp_path, monkeypatch):
    monkeypatch.setenv("TR069_UBUS_SOCKET", "/tmp/some.sock")
    monkeypatch.delenv("TR069_UCI_CONFDIR", raising=False)  # the live runs point it at a test config
    dev = open_device("ubus", str(tmp_path))
    assert isinstance(dev, UbusDevice) and dev.backend == "ubus" and dev.socket == "/tmp/some.sock"
    assert dev.config_path("tr069") == "/etc/config/tr069"


def test_uci_get_section(ubusd):
    values = replay(ubusd, 'call uci get {"config":"tr069","section":"acs"}',
                    lambda d: d.uci_get("tr069", "acs"))
    assert values == {".anonymous": False, ".type": "acs", ".name": "acs", "url": "ws://127.0.0.1:9000/OS3P",
                      "identity": "SUBS001", "periodic_inform_enable": "1", "periodic_inform_interval": "300"}


def test_uci_get_option(ubusd):
    assert replay(ubusd, 'call uci get {"config":"tr069","section":"acs","option":"url"}',
                  lambda d: d.uci_get("tr069", "acs", "url")) == "ws://127.0.0.1:9000/OS3P"


def test_uci_set_and_commit(ubusd):
    assert replay(ubusd, 'call uci set {"config":"tr069","section":"acs","values":{"url":"wss://cs.example.com/OS3P"}}',
                  lambda d: d.uci_set("tr069", "acs", {"url": "wss://cs.example.com/OS3P"})) is None
    assert replay(ubusd, 'call uci commit {"config":"tr069"}', lambda d: d.uci_commit("tr069")) is None


def test_uci_get_missing_config_and_option_are_not_found(ubusd):
    e = replay(ubusd, 'call uci get {"config":"nosuch"}', lambda d: d.uci_get("nosuch"))
    assert isinstance(e, NotFound)
    # rpcd answers a missing option with status 0 and no data
    e = replay(ubusd, 'call uci get {"config":"tr069","section":"acs","option":"nosuch"}',
               lambda d: d.uci_get("tr069", "acs", "nosuch"))
    assert isinstance(e, NotFound)


@pytest.fixture
def device(tmp_path):
    path = str(tmp_path / "mini.sock")
    uci_state = {"tr069": {"acs": {".type": "acs", "url": "ws://x"}}}

    def uci_set(a):
        sec = uci_state.get(a["config"], {}).get(a["section"])
        if sec is None:
            return st.NOT_FOUND, None
        sec.update(a["values"])
        return st.OK, None

    def uci_add(a):
        uci_state.setdefault(a["config"], {})[a["name"]] = dict(a["values"], **{".type": a["type"]})
        return st.OK, {"section": a["name"]}

    mini = MiniUbusd(path, {
        "system": (0x100, {"board": lambda a: (st.OK, BOARD), "reboot": lambda a: (st.OK, None)}),
        "log": (0x300, {}),
        "uci": (0x200, {"set": uci_set, "add": uci_add, "commit": lambda a: (st.PERMISSION_DENIED, None)}),
    })
    mini.start()
    dev = UbusDevice(socket=path, timeout=WAIT)
    dev.mini, dev.uci_state = mini, uci_state
    yield dev
    mini.stop()


def test_board_maps_system_board(device):
    b = device.board()
    assert b["vendor"] == "Linksys" and b["model"] == "Linksys WRT3200ACM"
    assert b["firmware_version"] == "OpenWrt 24.10.0 r28427-6df0e3d02a"
    assert b["hostname"] == "OpenWrt"
    assert set(b) == {"vendor", "model", "serial", "firmware_version", "hostname"} and b["serial"]


def test_reboot_calls_system_reboot(device):
    device.reboot()
    assert device.mini.calls == [("system", "reboot", {})]


def test_set_on_a_missing_section_creates_it(device):
    device.uci_set("tr069", "cpe", {"log_level": "debug", "flag": True, "list": [1, "a"]})
    assert device.uci_state["tr069"]["cpe"] == {".type": "cpe", "log_level": "debug", "flag": "1", "list": ["1", "a"]}
    assert [c[1] for c in device.mini.calls] == ["set", "add"]
    device.uci_set("tr069", "acs", {"url": "wss://y"})
    assert device.uci_state["tr069"]["acs"]["url"] == "wss://y"


def test_refusals_and_missing_objects_raise(device, tmp_path):
    with pytest.raises(DeviceError, match="Permission denied"):
        device.uci_commit("tr069")
    with pytest.raises(DeviceError):
        UbusDevice(socket=str(tmp_path / "none.sock"), timeout=1).reboot()


@pytest.fixture
def bindir(tmp_path, monkeypatch):
    d = tmp_path / "bin"
    d.mkdir()
    monkeypatch.setenv("PATH", "%s:%s" % (d, os.environ.get("PATH", "")))
    return d


def test_sysupgrade_checks_the_image_then_flashes(bindir, tmp_path, device):
    record = tmp_path / "argv.log"
    fake_program(bindir, "sysupgrade",
                 'printf "%%s\\n" "$*" >> %s\nif [ "$1" = -T ]; then grep -q GOOD "$2"; exit $?; fi\nexit 0\n' % record)
    good, bad = tmp_path / "good.bin", tmp_path / "bad.bin"
    good.write_text("GOOD")
    bad.write_text("BAD")
    dev = device
    dev.sysupgrade(str(good), keep_settings=False)
    with pytest.raises(DeviceError, match="refused"):
        dev.sysupgrade(str(bad))
    with pytest.raises(NotFound):
        dev.sysupgrade(str(tmp_path / "missing.bin"))
    deadline = time.monotonic() + WAIT     # the flashing run is detached: wait for its record
    while record.read_text().count("\n") < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    lines = sorted(record.read_text().splitlines())
    assert lines == sorted(["-T %s" % good, "-n %s" % good, "-T %s" % bad])


def test_logread_runs_logread(bindir, device):
    fake_program(bindir, "logread", 'if [ "$1" = -l ]; then echo "last $2"; else printf "a\\nb\\n"; fi\n')
    dev = device
    assert dev.logread() == "a\nb\n"
    assert dev.logread(lines=5) == "last 5\n"
    fake_program(bindir, "logread", "echo broken >&2; exit 1\n")
    with pytest.raises(DeviceError, match="broken"):
        dev.logread()


@pytest.fixture
def bare(tmp_path):
    """A ubusd with rpcd's uci and session objects only: no procd (`system`), no logd (`log`)."""
    path = str(tmp_path / "bare.sock")
    mini = MiniUbusd(path, {"uci": (0x200, {"get": lambda a: (st.NOT_FOUND, None)}),
                            "session": (0x400, {})})
    mini.start()
    root = tmp_path / "root"
    lay_out_root(root)
    yield path, root
    mini.stop()


def test_without_system_the_board_comes_from_files(bare):
    path, root = bare
    dev = UbusDevice(socket=path, timeout=WAIT, root=str(root))
    assert set(dev.missing()) >= {"system", "log"} and "uci" not in dev.missing()
    assert dev.board() == {"vendor": "Linksys", "model": "Linksys WRT3200ACM", "serial": "6038E0123456",
                           "firmware_version": "OpenWrt 24.10.0 r28427-6df0e3d02a", "hostname": "substation-7"}
    # what needs procd or logd is refused at once, naming what is missing
    for op, call in (("reboot", dev.reboot), ("logread", dev.logread),
                     ("validate_firmware", lambda: dev.validate_firmware(str(root / "etc" / "openwrt_release")))):
        with pytest.raises(NotSupported, match="system|log"):
            call()
    assert dev.supports("reboot") == "system missing on this device"
    assert dev.supports("logread").startswith("log")


def test_status_names_what_is_missing_and_validates(bare, tmp_path, monkeypatch, caplog):
    path, root = bare
    monkeypatch.setenv("TR069_UBUS_SOCKET", path)
    d = Daemon("ubus", str(tmp_path / "state"))
    code, reply = d.tr069.call("status", {})
    assert code == st.OK
    assert "system" in reply["cwmp"]["missing"] and "log" in reply["cwmp"]["missing"]
    jsonschema.validate(reply, tr069_output_schema("status"))
    code, reply = d.tr069.call("command", {"command": "reboot_end_session"})
    assert reply == {"status": -1, "info": "reboot is not possible: system missing on this device"}
    warned = [r.getMessage() for r in caplog.records if "missing on this device" in r.getMessage()]
    assert any("system" in w for w in warned) and len(warned) == len(d.missing)   # once each


def test_host_status_is_icwmp_s(tmp_path):
    code, reply = Daemon("host", str(tmp_path / "state")).tr069.call("status", {})
    assert "missing" not in reply["cwmp"]


def test_board_facts_procd_leaves_out_come_from_the_files(tmp_path):
    """procd answers `system board` without a model or a release version (an image without /tmp/sysinfo):
    each field it leaves out comes from the files, the others stay procd's (issue 23: vendor and model were
    `unknown` although the files had them)."""
    path = str(tmp_path / "partial.sock")
    partial = {"kernel": "6.6.73", "hostname": "procd-host", "system": "ARMv7 Processor rev 5 (v7l)",
               "release": {"distribution": "OpenWrt", "target": "mvebu/cortexa9"}}
    mini = MiniUbusd(path, {"system": (0x100, {"board": lambda a: (st.OK, partial)})})
    mini.start()
    try:
        root = tmp_path / "root"
        lay_out_root(root)
        b = UbusDevice(socket=path, timeout=WAIT, root=str(root)).board()
        assert (b["vendor"], b["model"]) == ("Linksys", "Linksys WRT3200ACM")      # was unknown, unknown
        assert b["firmware_version"] == "OpenWrt 24.10.0 r28427-6df0e3d02a"
        assert b["hostname"] == "procd-host"                                       # procd's, where it said
    finally:
        mini.stop()


def test_board_from_os_release_as_procd_reads_it(tmp_path):
    root = tmp_path / "root"
    (root / "usr" / "lib").mkdir(parents=True)
    (root / "usr" / "lib" / "os-release").write_text(
        'NAME="OpenWrt"\nVERSION="24.10.0"\nBUILD_ID="r28427-6df0e3d02a"\nOPENWRT_BOARD="x86/64"\n')
    dev = UbusDevice(socket=str(tmp_path / "none.sock"), timeout=1, root=str(root))
    assert dev.board()["firmware_version"] == "OpenWrt 24.10.0 r28427-6df0e3d02a"


def test_board_without_openwrt_files_comes_from_proc(tmp_path):
    root = tmp_path / "root"
    (root / "proc" / "sys" / "kernel").mkdir(parents=True)
    (root / "proc" / "cpuinfo").write_text("system type\t\t: MediaTek MT7621 ver:1 eco:3\n"
                                           "machine\t\t\t: Xiaomi Mi Router 4A Gigabit Edition\n")
    (root / "proc" / "sys" / "kernel" / "osrelease").write_text("6.6.73\n")
    dev = UbusDevice(socket=str(tmp_path / "none.sock"), timeout=1, root=str(root))
    b = dev.board()
    assert b["model"] == "Xiaomi Mi Router 4A Gigabit Edition" and b["vendor"] == "Xiaomi"
    assert b["firmware_version"] == "Linux 6.6.73" and b["serial"] == "unknown"
