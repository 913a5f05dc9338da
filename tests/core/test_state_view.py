"""The state view: providers table, transfer progress (and its 10 % log lines), the tr069.bridge ubus
object, `tr069-bridge state` against a real daemon process, and a firmware download seen in progress."""

import json
import logging
import subprocess
import sys

import jsonschema

from bridge import progress, schema, statetext, stateview
from bridge import ubusmsg as st
from support.daemon_process import ROOT
from support.os3p_harness import Station
from support.stalling_peer import StallingPeer

CHUNK = 64 * 1024


def output_validator():
    root = schema.load(stateview.SCHEMA_NAME)
    sub = dict(root["properties"]["state"]["properties"]["output"], definitions=root["definitions"])
    return jsonschema.Draft7Validator(sub)


# --- progress -------------------------------------------------------------------------------------

class Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_progress_logs_every_tenth_once_and_counts_retries():
    logger = logging.getLogger("test.progress")
    logger.setLevel(logging.INFO)
    rec = Records()
    logger.addHandler(rec)
    try:
        p = progress.Progress("firmware", "http://user:secret@h/fw.bin", attempts=3, logger=logger)
        assert p.view()["url"] == "http://user:********@h/fw.bin"
        p.begin_attempt()
        p.sized(1000)
        for _ in range(6):
            p.add(150)  # 15 %, 30 %, 45 % ...: each crossing of a 10 % mark logged once
        p.add(100)
        assert rec.lines == ["firmware: %d%% (%d of 1000 bytes)" % (pct, done) for pct, done in
                             ((10, 150), (30, 300), (40, 450), (60, 600), (70, 750), (90, 900), (100, 1000))]
        assert p.view() == {"name": "firmware", "url": "http://user:********@h/fw.bin", "state": "running",
                            "bytes_done": 1000, "bytes_total": 1000, "percent": 100, "attempt": 1, "attempts": 3,
                            "retries_left": 2, "error": None}
        p.failed_attempt("ConnectionError: reset")
        assert (p.view()["state"], p.view()["error"]) == ("retrying", "ConnectionError: reset")
        p.begin_attempt()
        assert p.view()["retries_left"] == 1 and p.view()["bytes_done"] == 0 and p.view()["bytes_total"] is None
        rec.lines.clear()
        p.add(progress.UNKNOWN_SIZE_STEP - 1)
        p.add(2)
        assert rec.lines == ["firmware: %d bytes (size not announced)" % (progress.UNKNOWN_SIZE_STEP + 1)]
        p.begin_attempt()
        p.failed_attempt("HTTPError: 404")
        assert p.view()["state"] == "failed" and p.view()["retries_left"] == 0
    finally:
        logger.removeHandler(rec)


def test_announced_size():
    assert progress.announced_size({"Content-Length": "123"}) == 123
    assert progress.announced_size({}) is None
    assert progress.announced_size({"Content-Length": "lots"}) is None


# --- the sections -----------------------------------------------------------------------------------

def test_a_section_that_raises_shows_its_error_and_the_others_answer():
    def _broken():
        raise RuntimeError("no meter")

    sections = {"good": lambda: {"lamps": 3}, "broken": _broken, "absent": lambda: None}
    assert stateview.collect(sections) == {"good": {"lamps": 3}, "broken": {"error": "RuntimeError: no meter"}}


def test_render_text_aligns_what_comes_in_rows():
    """`tr069-bridge state`: a line per fact, aligned tables for rows, words for values (yes/no, -), a section
    it does not know as aligned key/value lines, never as Python values."""
    view = {
        "daemon": {"version": "1.0", "pid": 42, "backend": "host", "state_dir": "/s", "config": "/s/config/tr069",
                   "started": "2026-01-01T10:00:00+00:00", "uptime": 5, "components": ["sensors"], "surfaces": ["jsonrpc", "os3p"]},
        "os3p": {"enabled": True, "url": "ws://cs/OS3P", "link": "up", "connected": True, "registration": "Accepted",
                 "history": [{"time": "2026-01-01T10:00:01+00:00", "event": "connected", "detail": ""}],
                 "outbox": {"depth": 2, "dropped": 0, "oldest": {"action": "StatusNotification",
                                                                 "queued": "2026-01-01T10:00:02+00:00", "age": 3}},
                 "firmware": {"status": "InstallationFailed", "requestId": "fw-1", "location": "http://h/fw.bin",
                              "since": "2026-01-01T10:00:04+00:00", "from": "1.0", "to": None,
                              "error": "image refused before flashing: bad signature"}},
        "transfers": [{"name": "firmware", "url": "http://h/fw.bin", "state": "running", "bytes_done": 327680,
                       "bytes_total": 655360, "percent": 50, "attempt": 1, "attempts": 3, "retries_left": 2,
                       "error": None}],
        "errors": [{"time": "2026-01-01T10:00:03+00:00", "level": "warning", "source": "bridge.os3p",
                    "message": "connection refused"}],
        "sensors": {"indicators": {"groups": {"MV1": {"inputs": {"overcurrent": True, "ground": False},
                                                      "faults": ["OverCurrentFailure"]},
                                              "MV2": {"inputs": {}, "faults": []}}, "testing": False,
                                   "resetting": False},
                    "alarms": [], "sources": {"meter": {"failing": True}},
                    "last": {"time": "2026-01-01T10:00:00Z", "readings": [["Voltage.L1N", "", "V", 226.7],
                                                                          ["ActivePower.L1", "P1Meter", "kW", 40]]},
                    "chart": {"measurand": "Voltage.L1N", "location": "", "unit": "V", "points": []}},
        "streetlights": {"simulated": False, "zone": "Europe/Amsterdam", "local_switch": True, "local_action": "hold",
                         "geolocation": "[52.37, 4.90]", "sunrise": "2026-05-02T06:03:00+02:00",
                         "sunset": "2026-05-01T21:01:00+02:00", "next_change": "2026-05-01T21:16:00+02:00",
                         "contactors": [{"id": 1, "light": "On", "mode": "Schedule", "override": None,
                                         "feedback": True, "today": [{"start": "21:16:00", "end": "23:00:00"}],
                                         "profiles": [1]},
                                        {"id": 3, "light": None, "mode": "Override", "override": "Off",
                                         "feedback": False, "today": [], "profiles": []}]},
        "lamps": {"on": 3, "broken": False, "names": ["a", "b"]},
    }
    assert statetext.render(view).splitlines() == [
        "daemon          tr069-bridge 1.0, pid 42, backend host, up 5 s (since 2026-01-01T10:00:00+00:00)",
        "                state /s, config /s/config/tr069",
        "                components sensors; surfaces jsonrpc, os3p",
        "os3p            up (connected, Accepted)  ws://cs/OS3P",
        "  outbox        2 queued, oldest StatusNotification queued 2026-01-01T10:00:02+00:00 (3 s ago)",
        "  firmware      InstallationFailed (request fw-1) since 2026-01-01T10:00:04+00:00, from 1.0: image refused "
        "before flashing: bad signature",
        "                http://h/fw.bin",
        "  link          recent events",
        "                2026-01-01T10:00:01+00:00  connected  -",
        "transfers",
        "                NAME      STATE    DONE  BYTES                   ATTEMPT         URL              ERROR",
        "                firmware  running  50 %  320.0 KiB of 640.0 KiB  attempt 1 of 3  http://h/fw.bin  -",
        "errors          recent warnings and errors",
        "                2026-01-01T10:00:03+00:00  warning  bridge.os3p  connection refused",
        "sensors         MV fault indicators",
        "                GROUP  INPUTS ON    FAULTS",
        "                MV1    overcurrent  OverCurrentFailure",
        "                MV2    none         no fault",
        "  alarms        none",
        "  sources       meter (failing)",
        "  readings      at 2026-01-01T10:00:00Z",
        "                MEASURAND       LOCATION  VALUE  UNIT",
        "                Voltage.L1N     -         226.7  V",
        "                ActivePower.L1  P1Meter   40     kW",
        "  24 h          Voltage.L1N: no sample yet",
        "streetlights    sunrise 2026-05-02T06:03:00+02:00, sunset 2026-05-01T21:01:00+02:00, zone Europe/Amsterdam",
        "  next change   2026-05-01T21:16:00+02:00",
        "  local switch  on (action hold)",
        "                CONTACTOR  LIGHT  READ FROM         MODE      OVERRIDE  TODAY              PROFILES",
        "                1          On     feedback contact  Schedule  -         21:16:00-23:00:00  1",
        "                3          ?      output            Override  Off       off all day        -",
        "lamps           on      3",
        "                broken  no",
        "                names   a, b",
    ]
    assert "True" not in statetext.render(view) and "None" not in statetext.render(view)
    output_validator().validate(view)


# --- a real daemon process: the CLI ---------------------------------------------------------------

def state_cli(daemon, *args):
    env = {k: v for k, v in daemon.env.items() if k != "TR069_UBUS_SOCKET"}
    return subprocess.run([sys.executable, "-m", "bridge.cli", "state", "--state-dir", daemon.state_dir] + list(args),
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)


def test_state_cli_text_and_json(daemon):
    r = state_cli(daemon, "--json")
    assert r.returncode == 0, r.stderr
    view = json.loads(r.stdout)
    output_validator().validate(view)
    assert view["daemon"]["pid"] == daemon.proc.pid
    assert view["daemon"]["components"] == ["model", "reach", "sensors", "streetlights"]
    assert view["daemon"]["surfaces"] == ["jsonrpc", "reach_api"]
    assert view["os3p"] == {"enabled": False} and view["transfers"] == []
    text = state_cli(daemon)
    assert text.returncode == 0
    lines = text.stdout.splitlines()
    assert lines[0].startswith("daemon          tr069-bridge ") and ", pid %d, backend host" % daemon.proc.pid in lines[0]
    assert lines[2] == "                components model, reach, sensors, streetlights; surfaces jsonrpc, reach_api"
    assert lines[3:6] == ["os3p            off (os3p.enabled is 0)", "transfers       none", "errors          none"]
    assert lines[6].startswith("reach           data since ")
    assert lines[7] == "  modem         host: home, Simulated, lte, RSRP -90 dBm"
    sensors = lines.index("sensors         MV fault indicators")  # the host's simulated indicator group
    assert lines[sensors + 1:sensors + 3] == ["                GROUP  INPUTS ON  FAULTS",
                                              "                MV1    none       no fault"]
    lights = [i for i, line in enumerate(lines) if line.startswith("streetlights    simulated, ")]
    assert lights and lines[lights[0] + 3].split() == ["CONTACTOR", "LIGHT", "READ", "FROM", "MODE", "OVERRIDE",
                                                       "TODAY", "PROFILES"]  # the host's four contactors
    assert lines[-1] == "model           loaded  no"  # the parameter model, its table not loaded
    assert [c["light"] for c in view["streetlights"]["contactors"]] == ["Off"] * 4


def test_state_cli_without_a_daemon(tmp_path):
    r = subprocess.run([sys.executable, "-m", "bridge.cli", "state", "--state-dir", str(tmp_path)], cwd=ROOT,
                       capture_output=True, text=True, timeout=30,
                       env={k: v for k, v in __import__("os").environ.items() if k != "TR069_UBUS_SOCKET"})
    assert r.returncode == 256 - st.CONNECTION_FAILED
    assert r.stderr.splitlines() == [
        "Command failed: ubus call tr069.bridge state (Connection failed)",
        "reason: no daemon runs with the state directory %s (it has no cli.url): start one (make run), or give "
        "the --state-dir of the one that runs" % tmp_path]


# --- a firmware download in progress, through a real central system -------------------------------

def test_firmware_download_in_progress_is_in_the_state_view_and_logged_every_10_percent(tmp_path, cs):
    peer = StallingPeer(b"x" * (10 * CHUNK), stall_at=5 * CHUNK)
    rec = Records()
    logging.getLogger("bridge.progress").addHandler(rec)
    logging.getLogger("bridge.progress").setLevel(logging.INFO)
    st_ = Station(tmp_path / "st", cs.url, os3p__download_dir=str(tmp_path))
    try:
        cs.wait_for(lambda c: "SUBS001" in c.connections and c.calls("BootNotification"))
        st_.wait(lambda: st_.client.connection_state() == "up")
        cs.call("SUBS001", "UpdateFirmware", {"retrieveDate": "2020-01-01T00:00:00Z", "retries": 3,
                                              "location": peer.url}, timeout=5)
        obj = st_.daemon.objects["tr069.bridge"]
        st_.wait(lambda: any(t["bytes_done"] == 5 * CHUNK for t in obj.call("state", {})[1]["transfers"]))
        code, view = st_.run(lambda: obj.call("state", {"ubus_rpc_session": "x"}))
        assert code == st.OK
        output_validator().validate(view)
        firmware = [t for t in view["transfers"] if t["name"] == "firmware"]  # an earlier test's upload may show
        assert firmware == [{"name": "firmware", "url": peer.url, "state": "running",
                             "bytes_done": 5 * CHUNK, "bytes_total": 10 * CHUNK, "percent": 50,
                             "attempt": 1, "attempts": 3, "retries_left": 2, "error": None}]
        assert rec.lines == ["firmware: %d%% (%d of %d bytes)" % (10 * i, i * CHUNK, 10 * CHUNK) for i in range(1, 6)]
        os3p = view["os3p"]
        assert (os3p["link"], os3p["connected"], os3p["registration"]) == ("up", True, "Accepted")
        assert [h["event"] for h in os3p["history"]] == ["connecting", "connected", "registration"]
        assert os3p["history"][2]["detail"] == "Accepted"
        assert os3p["outbox"]["depth"] >= 0 and set(os3p["outbox"]) == {"depth", "oldest", "dropped"}
        peer.release.set()
        st_.wait(lambda: obj.call("state", {})[1]["transfers"][0]["state"] == "done")
        assert rec.lines[-1] == "firmware: 100%% (%d of %d bytes)" % (10 * CHUNK, 10 * CHUNK)
    finally:
        st_.stop()
        peer.close()
        logging.getLogger("bridge.progress").removeHandler(rec)
