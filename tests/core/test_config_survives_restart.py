"""Accepted means it survives a restart: a value a central system sets (ChangeConfiguration) is checked by
the key's one validator before it reaches UCI, reads back the same from GetConfiguration and from the real
daemon started anew on the same state directory, and every reload path applies the same changes.

The central system is the development one over loopback WebSockets; the daemon core runs in this process
(support.os3p_harness.Station) until the restart, which is the real daemon as a subprocess
(support.daemon_process).
"""

import os

import pytest

from bridge import uci
from support.daemon_process import PATIENCE, DaemonProcess
from support.os3p_harness import Station


@pytest.fixture
def station(tmp_path, cs):
    made = []

    def make(**options):
        s = Station(tmp_path / "state", cs.url, **options)
        made.append(s)
        cs.wait_for(lambda c: c.calls("BootNotification") and "SUBS001" in c.connections)
        return s
    yield make
    for s in made:
        if s.thread.is_alive():  # not stopped by the test for its restart
            s.stop()


def change(cs, key, value):
    return cs.call("SUBS001", "ChangeConfiguration", {"key": key, "value": value}, timeout=PATIENCE)


def uci_options(state_dir):
    sections = uci.load(os.path.join(str(state_dir), "config", "tr069"))
    return {"%s.%s" % (s[".name"], k): v for s in sections for k, v in s.items() if not k.startswith(".")}


def restarts(state_dir):
    """The real daemon, started anew on the state directory, comes up and answers `status`; -> its stderr."""
    d = DaemonProcess(state_dir, ["--option", "jsonrpc.port=0"]).start()
    try:
        code, status = d.call("status")
        assert code == 0 and status["cwmp"]["status"] in ("up", "init")
    finally:
        assert d.terminate() == 0
    return d.proc.stderr.read().decode()


# --- a station that never came back: values that passed a check too weak for them ----------------------
@pytest.mark.parametrize("key,option", [("MeterValueSampleInterval", "station.sample_interval"),
                                        ("websocketPingInterval", "os3p.ping_interval")])
def test_a_401_digit_interval_is_rejected_and_never_reaches_uci(cs, station, tmp_path, key, option):
    st = station()
    before = uci_options(st.state_dir).get(option)
    assert change(cs, key, "9" * 401)[2] == {"status": "Rejected"}  # was InternalError, after the write
    assert uci_options(st.state_dir).get(option) == before
    assert change(cs, key, "60")[2] == {"status": "Accepted"}  # the key still works
    st.stop()
    restarts(st.state_dir)


def test_a_geolocation_with_line_breaks_is_rejected_and_later_changes_still_work(cs, station):
    st = station()
    assert change(cs, "Geolocation", "\n[1, 2]\n")[2] == {"status": "Rejected"}  # `\s*` took the newlines
    assert "os3p.geolocation" not in uci_options(st.state_dir)
    # the file still parses, so every later change is accepted (was: "No closing quotation", Rejected)
    assert change(cs, "HeartbeatInterval", "120")[2] == {"status": "Accepted"}
    assert change(cs, "Geolocation", "[52.09, 5.12]")[2] == {"status": "Accepted"}
    assert uci_options(st.state_dir)["os3p.geolocation"] == "[52.09, 5.12]"
    st.stop()
    restarts(st.state_dir)


@pytest.mark.parametrize("key,value", [
    ("HeartbeatInterval", "1_000"),          # int() takes underscores
    ("HeartbeatInterval", "\u0661\u0662\u0663"),  # and Arabic-Indic digits
    ("HeartbeatInterval", " 300 "),          # and spaces around
    ("HeartbeatInterval", "+300"),           # and a sign
    ("HeartbeatInterval", "1" + "0" * 400),  # 10^400: no upper bound
    ("StreetlightProfileMaxStackLevel", str(2 ** 63 - 1)),  # removed the only bound on stored profiles
    ("MeterValueSampleInterval", "0x10"),
    ("Geolocation", "[\u0661, 2]"),
])
def test_numbers_are_ascii_digits_within_the_keys_range(cs, station, key, value):
    st = station()
    before = uci_options(st.state_dir)
    assert change(cs, key, value)[2] == {"status": "Rejected"}
    assert uci_options(st.state_dir) == before


def test_every_accepted_value_is_what_get_configuration_and_a_restart_give_back(cs, station):
    st = station()
    accepted = {"HeartbeatInterval": "604800", "MeterValueSampleInterval": "86400",
                "websocketPingInterval": "0", "StreetlightProfileMaxStackLevel": "64",
                "Geolocation": " [ -33.9 , 151.2 ] "}
    for key, value in accepted.items():
        assert change(cs, key, value)[2] == {"status": "Accepted"}, key
    for key, value in {"HeartbeatInterval": "604801", "MeterValueSampleInterval": "86401",
                       "StreetlightProfileMaxStackLevel": "65"}.items():
        assert change(cs, key, value)[2] == {"status": "Rejected"}, key
    got = cs.call("SUBS001", "GetConfiguration", {"key": list(accepted)}, timeout=PATIENCE)[2]["configurationKey"]
    assert {k["key"]: k["value"] for k in got} == accepted
    st.stop()
    restarts(st.state_dir)


# --- every reload path applies the same changes -----------------------------------------------------------
PERIODIC = """
config jsonrpc 'jsonrpc'
\toption port '0'
config acs 'acs'
\toption periodic_inform_enable '1'
\toption periodic_inform_interval '%d'
"""


def _next_session_in(d):
    from datetime import datetime

    status = d.call("status")[1]
    return datetime.fromisoformat(status["next_session"]["start_time"]).timestamp() - __import__("time").time()


@pytest.mark.parametrize("path", ["SIGHUP", "command reload"])
def test_every_reload_path_reschedules_the_periodic_inform(tmp_path, path):
    """procd's reload trigger sends SIGHUP; `ubus call tr069 command '{"command":"reload"}'` is the other
    path (the init script's `reload` is the SIGHUP): after `uci set ...periodic_inform_interval=123` either
    one moves next_session to the new interval (SIGHUP left it at the old one)."""
    import signal
    import time

    from support.daemon_process import write_config

    write_config(str(tmp_path), PERIODIC % 3000)
    d = DaemonProcess(tmp_path).start()
    try:
        assert 2900 < _next_session_in(d) <= 3001
        write_config(str(tmp_path), PERIODIC % 123)
        if path == "SIGHUP":
            d.proc.send_signal(signal.SIGHUP)
        else:
            assert d.call("command", {"command": "reload"})[1]["status"] == 0
        deadline = time.monotonic() + PATIENCE
        while _next_session_in(d) > 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert 100 < _next_session_in(d) <= 124
    finally:
        d.terminate()


# --- start never depends on what was stored ------------------------------------------------------------------
BAD_PROFILE = {"profiles": {"1": [{"profileId": 1, "stackLevel": 0, "recurrencyKind": "Daily", "daySchedule": [
    {"start": {"kind": "Sunset", "offset": "soon"}, "end": {"kind": "Sunrise", "offset": 0}}]}]}}


@pytest.mark.parametrize("name,content", [
    ("os3p/state.json", "[1]"),                                    # valid JSON, wrong shape: AttributeError
    ("os3p/state.json", '{"clock_offset": "yesterday"}'),
    ("station/streetlights.json", __import__("json").dumps(BAD_PROFILE)),  # a profile the schedule cannot use
    ("station/streetlights.json", '{"contactors": [1]}'),
    ("os3p/outbox/000000000001.json", None),                      # an outbox entry that is a directory
    ("os3p/outbox/000000000002.json", '{"id": 7, "action": "StatusNotification", "payload": {}}'),
    ("os3p/firmware.json", '{"status": "Downloading", "retries": "many"}'),
    ("sessions.json", '{"success": -3, "last_status": "running"}'),
    ("sessions.json", '["garbage"]'),
], ids=lambda v: str(v)[:24])
def test_a_state_file_that_does_not_fit_is_set_aside_and_the_daemon_starts(cs, tmp_path, name, content):
    import json
    import time

    from support.os3p_harness import write_config

    state = str(tmp_path / "state")
    write_config(state, cs.url, jsonrpc__port="0")
    path = os.path.join(state, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if content is None:
        os.mkdir(path)
    else:
        with open(path, "w") as f:
            f.write(content)
    d = DaemonProcess(state).start()
    try:
        cs.wait_for(lambda c: c.calls("BootNotification") and "SUBS001" in c.connections, PATIENCE)
        deadline = time.monotonic() + PATIENCE
        while not os.path.lexists(path + ".bad") and time.monotonic() < deadline:  # streetlights start later
            time.sleep(0.05)
        assert os.path.lexists(path + ".bad")  # (the daemon may have written a fresh one since)
        code, status = d.call("status")
        assert code == 0 and status["cwmp"]["set_aside"] == [path]
        view = json.loads(subprocess_state(d))
        assert [e["file"] for e in view["set_aside"]] == [path] and view["set_aside"][0]["as"] == path + ".bad"
    finally:
        assert d.terminate() == 0
    lines = [x for x in d.proc.stderr.read().decode().splitlines() if path in x]
    assert len(lines) == 1 and " ERROR " in lines[0] and "set aside" in lines[0], lines


def subprocess_state(d):
    import subprocess
    import sys

    from support.paths import ROOT

    return subprocess.run([sys.executable, "-m", "bridge.cli", "state", "--json", "--state-dir", d.state_dir],
                          cwd=ROOT, env=d.env, capture_output=True, text=True, timeout=30).stdout


# --- the streetlight state is written as the outbox is; a write that fails is refused, never a traceback ---
@pytest.mark.parametrize("fault", ["missing", "full", "read-only"])
def test_a_streetlight_change_the_state_directory_refuses_is_rejected_with_one_line(tmp_path, monkeypatch,
                                                                                    caplog, fault):
    import logging
    import shutil

    from bridge.station import contactors as ct
    from bridge.station.backends import hostlines
    from support.contactors import AMS, NIGHT, LocalClock
    from support.disk_faults import FAULTS, break_disk

    clock = LocalClock("2026-05-01T15:00:00")
    lines, local = hostlines.simulated(str(tmp_path / "lines"))
    state = tmp_path / "state"
    state.mkdir()
    st = ct.Control({i: ct.Contactor(i, out, fb) for i, (out, fb) in lines.items()}, lambda: AMS, clock,
                    clock.call_later, str(state / "streetlights.json"), local_switch=local)
    st.start()
    assert st.set_profiles(1, [NIGHT]) == ("Accepted", None)
    if fault == "missing":
        shutil.rmtree(str(state))
    else:
        break_disk(monkeypatch, *FAULTS[fault])
    with caplog.at_level(logging.WARNING):
        assert st.override(2, "On") == "Rejected"  # was: OSError, InternalError with a traceback
        assert st.contactors[2].mode == "Schedule" and lines[2][0].get() is False
        assert st.set_profiles(2, [dict(NIGHT, profileId=2)])[0] == "Rejected"
        assert st.clear_profiles(profile_id=1) == "NotSaved" and st.profiles.of(1)
        assert st.resume(None) == "Rejected"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "streetlight state not saved" in errors[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)
    monkeypatch.undo()
    state.mkdir(exist_ok=True)
    assert st.override(2, "On") == "Accepted" and lines[2][0].get() is True  # mended: accepted again
    assert ct.fits(__import__("json").loads((state / "streetlights.json").read_text()))


def test_override_streetlight_with_the_state_directory_gone_answers_rejected(cs, tmp_path):
    import shutil

    from support.os3p_harness import write_config

    state = str(tmp_path / "state")
    write_config(state, cs.url, jsonrpc__port="0")
    d = DaemonProcess(state).start()
    try:
        cs.wait_for(lambda c: c.calls("BootNotification") and "SUBS001" in c.connections, PATIENCE)
        shutil.rmtree(os.path.join(state, "station", "streetlights.json"), ignore_errors=True)
        os.rename(os.path.join(state, "station"), os.path.join(state, "station.gone"))
        reply = cs.call("SUBS001", "OverrideStreetlight", {"contactorId": 1, "action": "On"}, timeout=PATIENCE)
        assert reply[:1] == [3] and reply[2] == {"status": "Rejected"}, reply  # was: CALLERROR InternalError
    finally:
        d.terminate()
    assert "Traceback" not in d.proc.stderr.read().decode()
