"""The LuCI app files: menu entry, rpcd ACLs and the JS view.

The view runs in Node.js (when installed) inside a small stand-in for LuCI's runtime (view, form,
rpc, ui, poll, E, _): its rpc.declare() calls must name tr069 methods the ACL grants, its form.Map
must bind options the daemon's config knows, and render() must build the status table.
"""

import json
import os
import shutil
import subprocess

import pytest

from bridge.config import KEYS
from bridge.jsonrpc import acl
from bridge.jsonrpc.sessions import SessionStore
from support import paths

# the luci-app-tr069 package (package/luci-app-tr069: htdocs/ goes to /www, root/ to /)
APP = os.path.join(paths.ROOT, "package", "luci-app-tr069")
VIEW = os.path.join(APP, "htdocs", "luci-static", "resources", "view", "tr069", "status.js")
MENU = os.path.join(APP, "root", "usr", "share", "luci", "menu.d", "luci-app-tr069.json")
# both packages' ACL files, as rpcd finds them side by side in /usr/share/rpcd/acl.d
ACL_DIRS = [os.path.join(APP, "root", "usr", "share", "rpcd", "acl.d"),
            os.path.join(paths.ROOT, "files", "usr", "share", "rpcd", "acl.d")]


def session_for(login):
    ses = SessionStore(lambda: 0.0).create()
    acl.grant_groups(ses, login, acl.AclFiles(ACL_DIRS).groups())
    return ses


def test_menu_points_at_the_view_and_its_acl():
    with open(MENU) as f:
        menu = json.load(f)
    entry = menu["admin/services/tr069"]
    assert entry["action"] == {"type": "view", "path": "tr069/status"}
    assert os.path.exists(os.path.join(APP, "htdocs", "luci-static", "resources", "view", entry["action"]["path"] + ".js"))
    assert entry["depends"]["acl"] == ["luci-app-tr069"]


@pytest.mark.parametrize("group", ["luci-app-tr069", "tr069-bridge"])
def test_read_gets_status_write_gets_actions(group):
    reader, writer = session_for({"read": [group]}), session_for({"write": [group]})
    assert reader.allowed("ubus", "tr069", "status")
    assert not reader.allowed("ubus", "tr069", "inform") and not reader.allowed("ubus", "tr069", "command")
    for method in ("status", "inform", "command"):
        assert writer.allowed("ubus", "tr069", method)
    if group == "luci-app-tr069":
        assert reader.allowed("uci", "tr069", "read") and not reader.allowed("uci", "tr069", "write")
        assert writer.allowed("uci", "tr069", "write")


STANDIN = os.path.join(paths.ROOT, "tests", "support", "luci_standin.js")
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js not installed (apt-get install nodejs)")


def run_view(tmp_path, **scenario):
    """The view in the LuCI stand-in (tests/support/luci_standin.js) -> what it declared, rendered and accepts."""
    path = tmp_path / ("scenario-%d.json" % len(list(tmp_path.glob("scenario-*.json"))))
    path.write_text(json.dumps(scenario))
    out = subprocess.run(["node", STANDIN, VIEW, str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


STATUS = {"cwmp": {"status": "up", "start_time": "2026-01-01T00:00:00+00:00", "acs_url": "ws://acs/"},
          "last_session": {"status": "success", "start_time": "a", "end_time": "b"},
          "next_session": {"status": "waiting", "start_time": "c", "end_time": "N/A"},
          "statistics": {"success_sessions": 3, "failure_sessions": 1, "total_sessions": 4}}


STATE = {"os3p": {"enabled": True, "url": "ws://acs/", "link": "up", "connected": True, "registration": "Accepted",
                  "history": [], "outbox": {"depth": 1, "dropped": 0, "oldest": {
                      "action": "StatusNotification", "queued": "2026-01-01T00:00:00+00:00", "age": 12}},
                  "firmware": {"status": "Installing", "requestId": "fw-1", "location": "http://h/fw",
                               "since": "2026-01-01T00:01:00+00:00", "from": "1.0", "to": None, "error": None}},
         "transfers": [{"name": "firmware", "url": "http://h/fw", "state": "running", "bytes_done": 327680,
                        "bytes_total": 655360, "percent": 50, "attempt": 1, "attempts": 3, "retries_left": 2,
                        "error": None}],
         "errors": [],
         "sensors": {"indicators": {"groups": {"MV1": {"inputs": {"overcurrent": True}, "faults": ["OverCurrentFailure"]},
                                               "MV2": {"inputs": {}, "faults": []}}},
                     "last": {"time": "t", "readings": [["Voltage.L1N", "", "V", 230.5], ["ActivePower.L1", "P1Meter", "kW", 40]]},
                     "chart": {"measurand": "Voltage.L1N", "location": "", "unit": "V",
                               "points": [[1, 228], [2, 230], [3, 232], [4, 229]]}},
         "streetlights": {"simulated": False, "zone": "Europe/Amsterdam", "local_switch": True, "local_action": "hold",
                          "geolocation": "52.37,4.90", "sunrise": "2026-05-02T06:03:00+02:00",
                          "sunset": "2026-05-01T21:01:00+02:00", "next_change": "2026-05-01T21:16:00+02:00",
                          "contactors": [{"id": 1, "light": "On", "mode": "LocalOverride", "override": None,
                                          "feedback": True, "today": [], "profiles": [1]},
                                         {"id": 3, "light": None, "mode": "LocalOverride", "override": "Off",
                                          "feedback": False, "today": [], "profiles": []}]},
         "reach": {"state": "sms", "since": "2026-05-01T20:00:00.000Z", "backend": "modemmanager",
                   "modem": {"registration": "roaming", "operator": "Swisscom", "technology": "lte", "rsrp": -104.0},
                   "uplinks": [], "weak_signal": False, "subscriptions": 2}}


@needs_node
def test_view_runs_in_a_luci_stand_in(tmp_path):
    res = run_view(tmp_path, status=STATUS, state=STATE)
    methods = {(d["object"], d["method"]) for d in res["declared"]}
    assert methods == {("tr069", "status"), ("tr069", "inform"), ("tr069", "command"), ("tr069.bridge", "state")}
    assert all(d["reject"] for d in res["declared"])  # a failed call rejects: the page can say what failed
    writer = session_for({"write": ["luci-app-tr069"]})
    assert all(writer.allowed("ubus", o, m) for o, m in methods)
    cells = res["before"]["cells"]
    assert cells["cwmp.acs_url"] == "ws://acs/" and cells["statistics.total_sessions"] == "4"
    assert res["buttons"] == 2 and res["polls"] == [5, 5] and res["notifications"] == [
        ["ok", "info"], ["ok", "info"]]
    assert res["before"]["banner"] == {"text": "", "shown": False}
    # the state view, as `tr069-bridge state` shows it
    assert cells["state.os3p.link"] == "up, connected, Accepted"
    assert cells["state.os3p.outbox"] == "1 queued, oldest StatusNotification (12 s)"
    assert cells["state.os3p.firmware"] == "Installing since 2026-01-01T00:01:00+00:00"
    assert cells["state.transfers"] == "firmware: running 50 %, 320.0 KiB of 640.0 KiB, 2 retries left"
    assert cells["state.errors"] == "none"
    assert cells["state.sensors.indicators"] == "MV1: OverCurrentFailure; MV2: no fault"
    assert cells["state.sensors.last"] == "Voltage.L1N 230.5 V, ActivePower.L1 (P1Meter) 40 kW"
    assert cells["state.sensors.chart"] == "Voltage.L1N \u2581\u2585\u2588\u2583 228-232 V"
    assert cells["state.streetlights.contactors"] == \
        "1: On (LocalOverride), 3: ? (LocalOverride Off), local switch on (hold)"
    assert cells["state.streetlights.next"] == \
        "2026-05-01T21:16:00+02:00, sunset 2026-05-01T21:01:00+02:00, sunrise 2026-05-02T06:03:00+02:00"
    # the status block sits below the page's title and description, above the form's sections
    assert res["layout"][:3] == ["h2", "cbi-map-descr", "tr069-status-block"]
    assert all(x == "cbi-section" for x in res["layout"][3:])
    reader = session_for({"read": ["luci-app-tr069"]})
    assert reader.allowed("ubus", "tr069.bridge", "state")


# --- the form: every section the daemon reads, with the daemon's validation ----------------------------

import re  # noqa: E402

UNIVERSAL = ["0", "1", "-1", "5", "1.5", "+5", " 5", "abc", "on", "hold", "debug", "gpio", "auto", "bogus",
             "[52.37, 4.90]", "[-33.9, 151.2]", "[91, 0]", "[0, 181]", "52.37,4.90", "[52.37,4.90,1]",
             "/dev/cdc-wdm0", "/dev/../etc", "dev/x", "modem_1", "bad name", "wwan", "wwan lan", "a" * 16,
             "+31612345678", "31612345678", "+0123", "A" * 31, "A" * 32, "B" * 256, "B" * 257, "with space " * 4,
             "loopback private", "10.0.0.0/8", "192.168.1.5", "999.1.1.1", "010.1.1.1", "fe80::/10", "::1",
             "none", "-110", "-156", "-157"]


def samples(key):
    """Values on both sides of the key's limits, and the universal ones."""
    out = list(UNIVERSAL)
    m = re.search(r"(-?\d+)(?:-| to )(-?\d+)", key.parse.expect)
    if key.type is int and m:
        low, high = int(m.group(1)), int(m.group(2))
        out += [str(low - 1), str(low), str(high), str(high + 1)]
    m = re.search(r"at most (\d+) characters", key.parse.expect)
    if m:
        out += ["x" * int(m.group(1)), "x" * (int(m.group(1)) + 1)]
    if key.parse.expect.startswith("one of "):
        out += key.parse.expect[len("one of "):].split(", ")
    return sorted(set(out))


def accepts(key, value):
    try:
        key.parse(value)
        return True
    except ValueError:
        return False


def uci_text(value):
    return ("1" if value else "0") if isinstance(value, bool) else str(value)


@needs_node
def test_the_form_has_every_key_with_its_default_and_the_daemons_validation(tmp_path):
    """One form option per key of bridge/config.py KEYS, in its section; its default (a placeholder, or a
    Flag's or a list's default) is the key's; and it accepts exactly what the daemon's validator accepts."""
    flags = [k.name for k in KEYS.values() if k.type is bool]
    res = run_view(tmp_path, status=STATUS, state=STATE,
                   samples={name: samples(k) for name, k in KEYS.items() if name not in flags})
    named = {"%s.%s" % (o["section"], o["name"]): o for o in res["options"] if o["sectionClass"] == "NamedSection"
             and o["section"] in {k.section for k in KEYS.values()}}
    assert set(named) == set(KEYS)
    wrong = []
    for name, key in KEYS.items():
        o = named[name]
        shown = o["default"] if o["cls"] in ("Flag", "ListValue") else o["placeholder"]
        if (shown or "") != uci_text(key.default):
            wrong.append("%s: the form's default %r, the daemon's %r" % (name, shown, uci_text(key.default)))
        if o["cls"] == "Flag":
            if key.type is not bool:
                wrong.append("%s: a Flag for a %s" % (name, key.type.__name__))
            continue
        for value, ok in zip(samples(key), res["accepted"][name]):
            if ok != accepts(key, value):
                wrong.append("%s %r: the form %s, the daemon %s" % (name, value, "accepts" if ok else "refuses",
                                                                     "accepts" if accepts(key, value) else "refuses"))
        if key.secret and not o["password"]:
            wrong.append("%s: a secret shown in clear" % name)
        if key.reboot and "restart" not in o["description"]:
            wrong.append("%s: the form does not say it needs a restart" % name)
    assert wrong == []


@needs_node
def test_the_station_sections_are_tables_with_the_checks_of_tr069_bridge_check(tmp_path):
    """Contactors, indicators, registers and thresholds are table sections, the meter a section to add; their
    choices are the daemon's tables, and the lines, addresses and numbers are checked as `check` does."""
    from bridge.station.checks import SECTION_CHECKS
    from bridge.station.backends import gpio
    from bridge.station.backends.modbus import TYPES, WORD_ORDERS
    from bridge.station.meter import LOCATIONS, UNITS
    from bridge.station.streetlights import LINES

    lines = ["17", "0", "gpiochip0:5", "gpiochip12:33", "gpio17", "gpiochip:5", "17a", "-1", "PA3"]
    addresses = ["0", "40001", "65535", "65536", "0x10", "0XFFFF", "0x10000", "-1", "1.5", "abc"]
    numbers = ["1", "-2", "1.5", "-0.25", ".5", "1e3", "abc", "1,5"]
    res = run_view(tmp_path, status=STATUS, state=STATE, formvalues={"indicator": {"backend": "gpio"}},
                   samples={"indicator.ground": lines, "register.address": addresses, "register.scale": numbers,
                            "threshold.high": numbers, "contactor.output": ["", "17"], "register.measurand": ["", "V"]})
    kinds = {s["type"]: s for s in res["sections"]}
    assert set(SECTION_CHECKS) <= set(kinds)  # every section kind `check` knows has its form
    for kind in ("contactor", "indicator", "register", "threshold"):
        assert kinds[kind]["cls"] == "GridSection", kind
    assert kinds["meter"] == {"cls": "NamedSection", "type": "meter", "name": "meter", "tabs": []}
    opts = {"%s.%s" % (o["section"], o["name"]): o for o in res["options"] if o["sectionClass"] != "NamedSection"
            or o["section"] == "meter"}
    assert opts["contactor.backend"]["values"] == list(LINES)
    assert opts["contactor.id"]["values"] == ["1", "2", "3", "4"]
    assert opts["indicator.backend"]["values"] == ["gpio", "ubus"]
    assert opts["register.type"]["values"] == list(TYPES)
    assert opts["register.word_order"]["values"] == list(WORD_ORDERS)
    assert opts["register.location"]["values"] == list(LOCATIONS)
    assert opts["register.unit"]["values"] == list(UNITS)
    assert opts["register.function"]["values"] == ["3", "4"]
    assert opts["meter.protocol"]["values"] == ["tcp", "rtu"] and opts["meter.stopbits"]["values"] == ["1", "2"]

    def python(check, value):
        try:
            check(value)
            return True
        except ValueError:
            return False

    assert res["accepted"]["indicator.ground"] == [python(gpio.parse_name, v) for v in lines]
    assert res["accepted"]["register.address"] == [python(lambda v: int(v, 0) <= 65535 or int("x"), v)
                                                   and not v.startswith("-") for v in addresses]
    assert res["accepted"]["register.scale"] == [python(float, v) and "e" not in v for v in numbers]
    assert res["accepted"]["threshold.high"] == res["accepted"]["register.scale"]
    assert res["accepted"]["contactor.output"] == [False, True]  # required
    assert res["accepted"]["register.measurand"] == [False, True]
    # another backend names its lines its own way: not checked as GPIO lines
    res = run_view(tmp_path, status=STATUS, state=STATE, formvalues={"indicator": {"backend": "ubus"}},
                   samples={"indicator.ground": ["mv1_ground"]})
    assert res["accepted"]["indicator.ground"] == [True]


@needs_node
def test_geolocation_is_checked_as_the_daemon_reads_it(tmp_path):
    from bridge.config import parse_latlng

    values = ["[52.37, 4.90]", " [ -33.86 , 151.21 ] ", "[90, -180]", "[90.0001, 0]", "[0, 180.5]", "52.37, 4.90",
              "[52.37;4.90]", "[1e1, 2]", "[52.37, 4.90, 7]", "[-0.5,-0.5]"]

    def python(v):
        try:
            parse_latlng(v)
            return True
        except ValueError:
            return False

    res = run_view(tmp_path, status=STATUS, state=STATE, samples={"os3p.geolocation": values})
    assert res["accepted"]["os3p.geolocation"] == [python(v) for v in values]
    assert any(res["accepted"]["os3p.geolocation"]) and not all(res["accepted"]["os3p.geolocation"])


STOPPED = "RPC call to %s failed with error -32000: Object not found"  # uhttpd: no such ubus object
DENIED = "RPC call to %s failed with error -32002: Access denied"  # uhttpd: the session's ACL


@needs_node
def test_a_stopped_daemon_is_said_where_the_status_is(tmp_path):
    res = run_view(tmp_path, status={"error": STOPPED % "tr069/status"}, state={"error": STOPPED % "tr069.bridge/state"})
    banner = res["before"]["banner"]
    assert banner["shown"]
    assert banner["text"].startswith("The tr069-bridge daemon does not answer: ubus has no object tr069. Is the "
                                     "service running?")
    assert "/etc/init.d/tr069-bridge start" in banner["text"] and "logread -e tr069-bridge" in banner["text"]
    assert "no object tr069.bridge" in banner["text"]
    assert res["before"]["cells"]["cwmp.status"] == "-"  # nothing made up
    # the daemon comes back: the next poll fills the table and the banner goes
    res = run_view(tmp_path, status={"error": STOPPED % "tr069/status"}, state={"error": STOPPED % "tr069.bridge/state"},
                   poll={"status": STATUS, "state": STATE})
    assert res["after"]["banner"] == {"text": "", "shown": False}
    assert res["after"]["cells"]["cwmp.status"] == "up"
    # and stops again: the poll says so
    res = run_view(tmp_path, status=STATUS, state=STATE,
                   poll={"status": {"error": STOPPED % "tr069/status"}, "state": STATE})
    assert not res["before"]["banner"]["shown"] and res["after"]["banner"]["shown"]
    assert res["after"]["cells"]["cwmp.status"] == "up"  # the last known values stay, the banner says they are old


@needs_node
def test_an_acl_denial_is_said_as_such(tmp_path):
    res = run_view(tmp_path, status=STATUS, state={"error": DENIED % "tr069.bridge/state"})
    assert res["before"]["banner"] == {
        "text": "Access denied: this login may not call tr069.bridge state. The rpcd ACL group luci-app-tr069 grants "
                "it (read: the status; write: the buttons and the form).", "shown": True}
    assert res["before"]["cells"]["cwmp.status"] == "up"  # what the login may read is still shown
