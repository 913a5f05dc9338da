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


NODE_HARNESS = r"""
const fs = require('fs');
const src = fs.readFileSync(process.argv[2], 'utf8');
const declared = [], options = [], polls = [];
function E(tag, attrs, children) {
  const el = { tag, attrs: attrs || {}, children: [], textContent: '' };
  const kids = Array.isArray(attrs) || typeof attrs === 'string' ? attrs : children;
  if (Array.isArray(attrs) || typeof attrs === 'string') el.attrs = {};
  (Array.isArray(kids) ? kids : (kids === undefined ? [] : [kids])).forEach(k => {
    if (typeof k === 'string') el.textContent += k; else if (k) el.children.push(k); });
  el.querySelector = sel => { const m = /data-field="([^"]+)"/.exec(sel); let hit = null;
    (function walk(e) { if (e.attrs && e.attrs['data-field'] === m[1]) hit = e; (e.children || []).forEach(walk); })(el);
    return hit; };
  el.insertBefore = (n) => { el.children.splice(1, 0, n); };
  el.firstChild = { nextSibling: null };
  return el;
}
String.prototype.format = function () { return this; };
const _ = s => s;
const status = JSON.parse(process.argv[3]);
const state = JSON.parse(process.argv[4]);
const rpc = { declare: d => { declared.push(d); return (...args) => Promise.resolve(
  d.method === 'status' ? status : d.method === 'state' ? state : { status: 0, info: 'ok' }); } };
class Section { constructor(sid) { this.sid = sid; }
  option(cls, name) { const o = { name, section: this.sid, value: () => {}, depends: () => {} }; options.push(o); return o; } }
const form = { Map: class { constructor(config) { this.config = config; }
                 section(cls, type, name) { return new Section(name); }
                 render() { return Promise.resolve(E('div', {}, [E('h2', {}, 'map')])); } },
               NamedSection: 'NamedSection', Value: 'Value', Flag: 'Flag', ListValue: 'ListValue' };
const ui = { createHandlerFn: (ctx, name) => ctx[name].bind(ctx), addNotification: () => {} };
const poll = { add: (fn, n) => polls.push(n) };
const view = { extend: o => o };
const L = { bind: (fn, ctx) => fn.bind(ctx) };
const v = new Function('view', 'form', 'rpc', 'ui', 'poll', 'E', '_', 'L', src)(view, form, rpc, ui, poll, E, _, L);
(async () => {
  const loaded = await v.load();
  const el = await v.render(loaded);
  const cells = {};
  (function walk(e) { if (e.attrs && e.attrs['data-field']) cells[e.attrs['data-field']] = e.textContent; (e.children || []).forEach(walk); })(el);
  const handlers = [];
  (function walk(e) { if (e.attrs && e.attrs.click) handlers.push(e.attrs.click); (e.children || []).forEach(walk); })(el);
  for (const h of handlers) await h({});
  console.log(JSON.stringify({ declared, options: options.map(o => o.section + '.' + o.name), cells, polls, buttons: handlers.length }));
})().catch(e => { console.error(e); process.exit(1); });
"""

STATUS = {"cwmp": {"status": "up", "start_time": "2026-01-01T00:00:00+00:00", "acs_url": "ws://acs/"},
          "last_session": {"status": "success", "start_time": "a", "end_time": "b"},
          "next_session": {"status": "waiting", "start_time": "c", "end_time": "N/A"},
          "statistics": {"success_sessions": 3, "failure_sessions": 1, "total_sessions": 4}}


STATE = {"os3p": {"enabled": True, "url": "ws://acs/", "link": "up", "connected": True, "registration": "Accepted",
                  "history": [], "outbox": {"depth": 1, "dropped": 0, "oldest": {
                      "action": "StatusNotification", "queued": "2026-01-01T00:00:00+00:00", "age": 12}}},
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


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js not installed")
def test_view_runs_in_a_luci_stand_in(tmp_path):
    harness = tmp_path / "harness.js"
    harness.write_text(NODE_HARNESS)
    out = subprocess.run(["node", str(harness), VIEW, json.dumps(STATUS), json.dumps(STATE)], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    methods = {(d["object"], d["method"]) for d in res["declared"]}
    assert methods == {("tr069", "status"), ("tr069", "inform"), ("tr069", "command"), ("tr069.bridge", "state")}
    writer = session_for({"write": ["luci-app-tr069"]})
    assert all(writer.allowed("ubus", o, m) for o, m in methods)
    # every form option is a key of the daemon's config
    assert res["options"] and all(opt in KEYS for opt in res["options"]), res["options"]
    assert res["cells"]["cwmp.acs_url"] == "ws://acs/" and res["cells"]["statistics.total_sessions"] == "4"
    assert res["buttons"] == 2 and res["polls"] == [5, 5]
    # the state view, as `tr069-bridge state` shows it
    assert res["cells"]["state.os3p.link"] == "up, connected, Accepted"
    assert res["cells"]["state.os3p.outbox"] == "1 queued, oldest StatusNotification (12 s)"
    assert res["cells"]["state.transfers"] == "firmware: running 50 %, 320.0 KiB of 640.0 KiB, 2 retries left"
    assert res["cells"]["state.errors"] == "none"
    assert res["cells"]["state.sensors.indicators"] == "MV1: OverCurrentFailure; MV2: no fault"
    assert res["cells"]["state.sensors.last"] == "Voltage.L1N 230.5 V, ActivePower.L1 (P1Meter) 40 kW"
    assert res["cells"]["state.sensors.chart"] == "Voltage.L1N \u2581\u2585\u2588\u2583 228-232 V"
    assert res["cells"]["state.reach.state"] == \
        "sms since 2026-05-01T20:00:00.000Z; modem roaming, Swisscom, lte, RSRP -104 dBm; 2 subscription(s)"
    assert res["cells"]["state.streetlights.contactors"] == \
        "1: On (LocalOverride), 3: ? (LocalOverride Off), local switch on (hold)"
    assert res["cells"]["state.streetlights.next"] == \
        "2026-05-01T21:16:00+02:00, sunset 2026-05-01T21:01:00+02:00, sunrise 2026-05-02T06:03:00+02:00"
    reader = session_for({"read": ["luci-app-tr069"]})
    assert reader.allowed("ubus", "tr069.bridge", "state")
