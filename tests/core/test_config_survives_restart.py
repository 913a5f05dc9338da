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
from support.daemon_process import DaemonProcess
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
    return cs.call("SUBS001", "ChangeConfiguration", {"key": key, "value": value}, timeout=5)


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
    got = cs.call("SUBS001", "GetConfiguration", {"key": list(accepted)}, timeout=5)[2]["configurationKey"]
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
        deadline = time.monotonic() + 10
        while _next_session_in(d) > 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert 100 < _next_session_in(d) <= 124
    finally:
        d.terminate()
