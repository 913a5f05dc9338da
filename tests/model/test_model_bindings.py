"""The model's backend (bridge/model/bindings.py): the getter groups read from real sources (a UCI file
through Config, /sys/class/net and /proc laid out as the kernel lays them out, the streetlight Station
with host lines, netifd's dump), and writes through the config's validators and the Station.
"""

import json
import os

import pytest

from bridge.config import Config
from bridge.model import bindings, rows
from bridge.model.bindings import Backend
from bridge.model.core import Model
from bridge.model.faults import Fault
from support.clock import FakeClock
from support.contactors import AMS, NIGHT, at, make

V = "X_TR069-BRIDGE_"

# `ubus call network.interface dump` as netifd answers it: the fields are those netifd's ubus.c writes
# (openwrt/netifd e97e36f, netifd_dump_status and interface_ip_dump_address_list: "interface", "up",
# "available", "autostart", "l3_device", "proto", "device", "ipv4-address" [{"address", "mask"}]). No
# netifd runs on this machine; the values are those of a stock OpenWrt 24.10 router with a DHCP WAN.
NETIFD_DUMP = {"interface": [
    {"interface": "lan", "up": True, "pending": False, "available": True, "autostart": True, "dynamic": False,
     "uptime": 1698, "l3_device": "br-lan", "proto": "static", "device": "br-lan", "metric": 0,
     "dns_metric": 0, "delegation": True, "ipv4-address": [{"address": "192.168.1.1", "mask": 24}],
     "ipv6-address": [], "ipv6-prefix": [], "route": [], "dns-server": [], "dns-search": []},
    {"interface": "wan", "up": True, "pending": False, "available": True, "autostart": True, "dynamic": False,
     "uptime": 1690, "l3_device": "eth1", "proto": "dhcp", "device": "eth1", "metric": 0,
     "ipv4-address": [{"address": "10.0.3.15", "mask": 22}], "route": [], "dns-server": ["10.0.3.1"]},
    {"interface": "wan6", "up": False, "pending": False, "available": False, "autostart": True,
     "proto": "dhcpv6", "device": "eth1", "ipv4-address": []},
]}


def kernel(root):
    """/sys/class/net and /proc as the kernel lays them out: lo, an Ethernet port, a bridge."""
    net = root / "sys" / "class" / "net"
    devices = {
        "lo": {"type": "772", "flags": "0x9", "operstate": "unknown", "address": "00:00:00:00:00:00",
               "uevent": "INTERFACE=lo\nIFINDEX=1\n"},
        "eth0": {"type": "1", "flags": "0x1003", "operstate": "up", "address": "02:42:ac:11:00:02",
                 "speed": "1000", "duplex": "full", "uevent": "INTERFACE=eth0\nIFINDEX=2\n"},
        "br-lan": {"type": "1", "flags": "0x1002", "operstate": "down", "address": "02:42:ac:11:00:03",
                   "uevent": "DEVTYPE=bridge\nINTERFACE=br-lan\nIFINDEX=3\n"},
    }
    for name, files in devices.items():
        (net / name / "statistics").mkdir(parents=True)
        for f, text in files.items():
            (net / name / f).write_text(text + "\n")
        for i, stat in enumerate(bindings.STATS):
            (net / name / "statistics" / stat).write_text("%d\n" % (1000 * (i + 1)))
    proc = root / "proc"
    proc.mkdir()
    (proc / "uptime").write_text("12345.67 23456.78\n")
    (proc / "meminfo").write_text("MemTotal:         246716 kB\nMemFree:           98000 kB\n"
                                  "MemAvailable:     150000 kB\n")
    return str(net), str(proc)


class Board:
    """The device's board facts (the host backend's shape)."""

    backend = "host"

    def board(self):
        return {"vendor": "OpenWrt", "model": "Example Router", "serial": "02AABB112233",
                "firmware_version": "OpenWrt 24.10.0 r28427", "hostname": "station"}

    def uci_sections(self, config):
        raise FileNotFoundError(config)


class Shell:
    """What the streetlights component offers the model: its Control, its zone, today's sun."""

    def __init__(self, station):
        self.control = station
        self.zone = AMS.zone

    def sun_today(self):
        return None


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "tr069"
    path.write_text("config acs 'acs'\n\toption url 'ws://cs.example/OS3P'\n\toption periodic_inform_interval '300'\n")
    return Config(str(path))


@pytest.fixture
def station(tmp_path):
    clock = FakeClock(at("2026-12-01T12:00:00"))
    st, events, lines, local = make(tmp_path, clock)
    st.start()
    assert st.set_profiles(1, [NIGHT]) == ("Accepted", None)
    yield st
    st.stop()
    for line in [local] + [x for pair in lines.values() for x in pair]:
        line.close()  # no descriptor left for another test's count


@pytest.fixture
def model(tmp_path, config, station):
    net, proc = kernel(tmp_path)
    changed = []
    backend = Backend(config, Board(), rows.registry(), clock=lambda: at("2026-12-01T12:00:00"),
                      zone=lambda: AMS.zone, streetlights=lambda: Shell(station), link=lambda: "Up",
                      on_config_changed=changed.append, proc=proc, sys_net=net)
    m = Model(rows.registry(), backend)
    m.changed = changed
    return m


def values(model, *names):
    return {p: v for p, _r, v in model.get_parameter_values(list(names))}


def test_device_info_from_the_board_and_proc(model):
    got = values(model, "Device.DeviceInfo.")
    assert got["Device.DeviceInfo.SerialNumber"] == "02AABB112233"
    assert got["Device.DeviceInfo.ManufacturerOUI"] == "02AABB"
    assert got["Device.DeviceInfo.SoftwareVersion"] == "OpenWrt 24.10.0 r28427"
    assert got["Device.DeviceInfo.UpTime"] == 12345
    assert got["Device.DeviceInfo.MemoryStatus.Total"] == 246716
    assert got["Device.DeviceInfo.MemoryStatus.Free"] == 150000
    assert got["Device.DeviceInfo.FirmwareImage.1.Status"] == "Active"
    assert got["Device.DeviceInfo.ActiveFirmwareImage"] == "Device.DeviceInfo.FirmwareImage.1"
    assert got["Device.DeviceInfo.FirmwareImageNumberOfEntries"] == 1


def test_ethernet_and_ip_from_the_kernel(model):
    got = values(model, "Device.Ethernet.", "Device.IP.")
    assert got["Device.Ethernet.InterfaceNumberOfEntries"] == 1  # not lo, not the bridge
    assert got["Device.Ethernet.Interface.1.Name"] == "eth0"
    assert got["Device.Ethernet.Interface.1.MACAddress"] == "02:42:AC:11:00:02"
    assert got["Device.Ethernet.Interface.1.MaxBitRate"] == 1000
    assert got["Device.Ethernet.Interface.1.DuplexMode"] == "Full"
    assert got["Device.Ethernet.Interface.1.Stats.BytesSent"] == 1000
    assert got["Device.Ethernet.Interface.1.Status"] == "Up" and got["Device.Ethernet.Interface.1.Enable"] is True
    names = {v for p, v in got.items() if p.startswith("Device.IP.Interface.") and p.endswith(".Name")}
    assert names == {"br-lan", "eth0", "lo"}
    lo = next(p[:-4] for p, v in got.items() if p.endswith(".Name") and v == "lo" and "IP." in p)
    assert got[lo + "Status"] == "Up"  # "unknown" while up: loopback carries traffic


def test_ip_from_netifd(model):
    model.backend.netifd = lambda: NETIFD_DUMP
    got = values(model, "Device.IP.")
    assert got["Device.IP.InterfaceNumberOfEntries"] == 3
    assert got["Device.IP.Interface.1.Name"] == "lan" and got["Device.IP.Interface.1.%sDevice" % V] == "br-lan"
    assert got["Device.IP.Interface.1.IPv4Address.1.IPAddress"] == "192.168.1.1"
    assert got["Device.IP.Interface.1.IPv4Address.1.SubnetMask"] == "255.255.255.0"
    assert got["Device.IP.Interface.2.IPv4Address.1.AddressingType"] == "DHCP"
    assert got["Device.IP.Interface.2.IPv4Address.1.SubnetMask"] == "255.255.252.0"
    assert got["Device.IP.Interface.3.Status"] == "LowerLayerDown"
    assert got["Device.IP.Interface.3.IPv4AddressNumberOfEntries"] == 0


def test_nothing_answers_means_absent_never_an_exception(tmp_path, config):
    class Dead:
        def board(self):
            raise OSError("no procd")

        def uci_sections(self, config):
            raise OSError("no rpcd")

    backend = Backend(config, Dead(), rows.registry(), clock=lambda: 0.0, proc=str(tmp_path / "none"),
                      sys_net=str(tmp_path / "none"))
    m = Model(rows.registry(), backend)
    got = values(m, "Device.")
    assert not any(p.startswith(("Device.DeviceInfo.", "Device.%sStreetlight." % V)) for p in got)
    assert got["Device.IP.InterfaceNumberOfEntries"] == 0 and got["Device.%sMeterNumberOfEntries" % V] == 0
    assert got["Device.ManagementServer.URL"] == "ws://cs.example/OS3P"
    assert got["Device.Time.CurrentLocalTime"] == "1970-01-01T00:00:00Z"
    with pytest.raises(Fault) as e:
        m.get_parameter_values(["Device.DeviceInfo."])
    assert e.value.code == 9005


def test_management_server_through_the_config_validators(model, config):
    got = values(model, "Device.ManagementServer.")
    assert got["Device.ManagementServer.URL"] == "ws://cs.example/OS3P"
    assert got["Device.ManagementServer.PeriodicInformInterval"] == 300
    assert got["Device.ManagementServer.Password"] == ""
    assert got["Device.ManagementServer.%sLinkStatus" % V] == "Up"
    assert model.set_parameter_values([("Device.ManagementServer.PeriodicInformInterval", "600", None),
                                       ("Device.ManagementServer.Password", "s3cret", "string")], "k") == 0
    text = open(config.path).read()
    assert "'600'" in text and "s3cret" in text
    assert model.changed == ["acs.periodic_inform_interval", "acs.password"]
    assert Config(config.path).get("acs.periodic_inform_interval") == 600


def test_one_value_the_config_refuses_changes_nothing(model, config):
    before = open(config.path).read()
    with pytest.raises(Fault) as e:
        model.set_parameter_values([("Device.ManagementServer.URL", "ws://other/OS3P", None),
                                    ("Device.ManagementServer.PeriodicInformInterval", 0, None),
                                    ("Device.ManagementServer.%sIdentity" % V, "X", None)])
    assert [(f.parameter, f.code) for f in e.value.faults] == [
        ("Device.ManagementServer.PeriodicInformInterval", 9007), ("Device.ManagementServer.%sIdentity" % V, 9008)]
    assert open(config.path).read() == before and model.changed == []


def test_a_config_write_that_fails_takes_every_value_back(model, config, monkeypatch):
    def refuse(*_a, **_k):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr("bridge.uci.commit", refuse)
    with pytest.raises(Fault) as e:
        model.set_parameter_values([("Device.ManagementServer.URL", "ws://other/OS3P", None)])
    assert e.value.code == 9002
    assert config.get("acs.url") == "ws://cs.example/OS3P"
    assert model.changed == ["acs.url", "acs.url"]  # applied, then the previous value applied again


def test_streetlight_contactors_and_profiles(model, station):
    got = values(model, "Device.%sStreetlight." % V)
    assert got["Device.%sStreetlight.ContactorNumberOfEntries" % V] == 4
    assert got["Device.%sStreetlight.Contactor.2.ContactorId" % V] == 2
    assert got["Device.%sStreetlight.Contactor.1.Mode" % V] == "Schedule"
    assert got["Device.%sStreetlight.Contactor.1.ProfileNumberOfEntries" % V] == 1
    profile = "Device.%sStreetlight.Contactor.1.Profile.1." % V
    assert got[profile + "ProfileId"] == 1 and got[profile + "RecurrencyKind"] == "Daily"
    assert json.loads(got[profile + "DaySchedule"]) == NIGHT["daySchedule"]
    assert got[profile + "ValidTo"] == "0001-01-01T00:00:00Z"
    assert got["Device.%sStreetlight.LocalAction" % V] == "on"


def test_override_through_a_parameter_write(model, station):
    c2 = "Device.%sStreetlight.Contactor.2.Override" % V
    model.set_parameter_values([(c2, "On", None)])
    assert station.contactors[2].mode == "RemoteOverride" and station.contactors[2].override == "On"
    assert values(model, c2)[c2] == "On"
    model.set_parameter_values([(c2, "", None)])
    assert station.contactors[2].mode == "Schedule"
    with pytest.raises(Fault) as e:
        model.set_parameter_values([(c2, "Dim", None)])
    assert e.value.faults[0].code == 9007


def test_add_set_and_delete_a_profile(model, station):
    table = "Device.%sStreetlight.Contactor.3.Profile." % V
    n, status = model.add_object(table, "add")
    assert status == 0 and n >= 1
    new = station.profiles.of(3)[0]
    assert new.profile_id == 2 and new.recurrency == "None"  # ids are unique across contactors
    path = "%s%d." % (table, n)
    model.set_parameter_values([(path + "RecurrencyKind", "Daily", None), (path + "ValidFrom", "2026-12-01T00:00:00Z",
                                                                            None),
                                (path + "DaySchedule", json.dumps(NIGHT["daySchedule"]), None)], "set")
    p = station.profiles.of(3)[0]
    assert p.recurrency == "Daily" and str(p.valid_from) == "2026-12-01" and len(p.periods) == 1
    # together they must hold: a Weekly profile without ValidFrom is refused, and nothing changes
    with pytest.raises(Fault) as e:
        model.set_parameter_values([(path + "RecurrencyKind", "Weekly", None),
                                    (path + "ValidFrom", "0001-01-01T00:00:00Z", None)])
    assert {f.parameter for f in e.value.faults} == {path + "RecurrencyKind", path + "ValidFrom"}
    assert station.profiles.of(3)[0].recurrency == "Daily"
    with pytest.raises(Fault) as e:
        model.set_parameter_values([(path + "DaySchedule", "[{]", None)])
    assert e.value.faults[0].code == 9007
    assert model.delete_object(path, "del") == 0
    assert station.profiles.of(3) == []
    assert model.add_object(table)[0] > n  # never the deleted one's number again


def test_stack_levels_run_out(model, config, station):
    config.set("streetlights.max_stack_level", 1)
    table = "Device.%sStreetlight.Contactor.4.Profile." % V
    model.add_object(table)
    model.add_object(table)
    with pytest.raises(Fault) as e:
        model.add_object(table)
    assert e.value.code == 9004


def test_every_group_has_a_reader_and_every_row_a_known_group():
    names = set(bindings.READERS) | {"model"}
    assert names == set(rows.GROUPS)
    for row in rows.registry().rows():
        group = getattr(row, "group", None)
        assert group is None or group in names, row


def test_the_poll_groups_are_named_in_the_table():
    assert {g for g, how in rows.GROUPS.items() if how.startswith("poll")} == {"board", "system", "time", "ip",
                                                                               "ethernet", "cellular"}
    assert os.path.basename(bindings.__file__) == "bindings.py"


def test_every_partial_path_of_the_station_is_the_union_of_its_leaves(model):
    """For every object of the real table (as GetParameterNames lists them), GetParameterValues of its
    partial path answers exactly what its leaves answer one by one (values that move by themselves, the
    volatile ones, compared by name only)."""
    names = [n for n, _w in model.get_parameter_names("Device.", False)]
    objects = [n for n in names if n.endswith(".")]
    leaves = [n for n in names if not n.endswith(".")]
    assert len(objects) > 20 and len(leaves) > 100
    volatile = {p for p, row, _v in model.get_parameter_values(["Device."]) if row.volatile}
    for obj in objects:
        try:
            whole = values(model, obj)
        except Fault as e:
            assert e.code == 9005 and not [n for n in leaves if n.startswith(obj)], obj  # an empty table
            continue
        union = {}
        for leaf in [n for n in leaves if n.startswith(obj)]:
            union.update(values(model, leaf))
        assert set(whole) == set(union), obj
        assert {p: v for p, v in whole.items() if p not in volatile} == \
            {p: v for p, v in union.items() if p not in volatile}, obj
