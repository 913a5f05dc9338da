"""The tr069 object's logic: every method, command and event, bad arguments, output schemas."""

import re

import jsonschema
import pytest

from bridge import schema
from bridge.loop import Loop
from bridge.sessions import Sessions
from bridge.tr069 import EVENTS, Tr069, canonical_event, format_time
from bridge import ubusmsg as ubus

SCHEMA = schema.load("tr069")
COMMANDS = SCHEMA["definitions"]["command_t"]["enum"]
EVENT_LIST = SCHEMA["definitions"]["event_t"]["enum"]


def output_validator(method):
    sub = dict(SCHEMA["properties"][method]["properties"]["output"], definitions=SCHEMA["definitions"])
    return jsonschema.Draft7Validator(sub)


class Harness:
    def __init__(self, tmp_path, driver=None):
        self.loop = Loop()
        self.reloads = 0
        self.reboots = 0
        self.exits = 0
        self.reload_ok = True
        self.sessions = Sessions(str(tmp_path / "sessions.json"))
        self.obj = Tr069(self.loop, self.sessions, acs_url=lambda: "ws://cs.example/OS3P",
                         on_reload=self._reload, on_reboot=self._reboot, on_exit=self._exit)
        if driver:
            self.obj.attach_driver(driver)

    def _reload(self):
        self.reloads += 1
        return self.reload_ok

    def _reboot(self):
        self.reboots += 1

    def _exit(self):
        self.exits += 1

    def call(self, method, args=None):
        code, data = self.obj.call(method, args)
        if code == ubus.OK:
            output_validator(method).validate(data)  # every reply validates, whatever the input
        return code, data

    def settle(self, rounds=5):
        for _ in range(rounds):
            self.loop.run_once(0)


class Driver:
    """A session driver that ends sessions only when the test says so."""

    def __init__(self):
        self.started = []
        self.acs_url = "wss://central.example/OS3P"
        self.state = "init"

    def start_session(self, events, get_rpc_methods):
        self.started.append((list(events), get_rpc_methods))

    def connection_state(self):
        return self.state


@pytest.fixture
def h(tmp_path):
    return Harness(tmp_path)



def test_signature_matches_transcript(h):
    # what python-ubus registered in the recorded transcript, which icwmp's object has too
    assert h.obj.signature() == {"status": {}, "inform": {"GetRPCMethods": ubus.BLOBMSG_BOOL, "event": ubus.BLOBMSG_STRING},
                                 "command": {"command": ubus.BLOBMSG_STRING}}
    assert list(h.obj.signature()) == ["status", "inform", "command"]


def test_status_before_any_session(h):
    code, data = h.call("status", {})
    assert code == ubus.OK
    assert data["cwmp"]["status"] == "up"
    assert data["cwmp"]["acs_url"] == "ws://cs.example/OS3P"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", data["cwmp"]["start_time"])
    assert data["last_session"] == {"status": "N/A", "start_time": "N/A", "end_time": "N/A"}
    assert data["next_session"]["status"] == "waiting"
    assert data["next_session"]["end_time"] == "N/A"
    assert data["statistics"] == {"success_sessions": 0, "failure_sessions": 0, "total_sessions": 0}


def test_status_with_no_args_and_with_session_arg(h):
    assert h.call("status")[0] == ubus.OK
    assert h.call("status", {"ubus_rpc_session": "0123456789abcdef0123456789abcdef"})[0] == ubus.OK
    assert h.call("status", {"ubus_rpc_session": 42})[0] == ubus.OK  # never fails validation


@pytest.mark.parametrize("args", [{"foo": 1}, {"event": "1 BOOT"}, []])
def test_status_refuses_arguments_it_does_not_have(h, args):
    assert h.call("status", args) == (ubus.INVALID_ARGUMENT, None)


@pytest.mark.parametrize("args", [None, {}, {"ubus_rpc_session": "x"}])
def test_inform_without_arguments_starts_a_connection_request_session(h, args):
    code, data = h.call("inform", args)
    assert (code, data) == (ubus.OK, {"status": 1, "info": "Session started"})
    assert h.sessions.running_events == ["6 CONNECTION REQUEST"]
    h.settle()
    assert h.call("status")[1]["last_session"]["status"] == "success"
    assert h.call("status")[1]["statistics"]["total_sessions"] == 1


@pytest.mark.parametrize("event", EVENT_LIST)
@pytest.mark.parametrize("spelling", [str, str.lower, lambda e: e.split()[0], lambda e: " " + e.title() + " "])
def test_every_event_in_every_spelling(h, event, spelling):
    code, data = h.call("inform", {"event": spelling(event)})
    assert (code, data) == (ubus.OK, {"status": 1, "info": "Session started"})
    assert h.sessions.running_events == [event]


@pytest.mark.parametrize("event", ["0 BOOTSTRAP", "7 TRANSFER COMPLETE", "M Reboot", "boot", "6 BOOT", "99"])
def test_events_outside_the_list_are_answered_like_icwmp(h, event):
    code, data = h.call("inform", {"event": event})
    assert code == ubus.OK
    assert data["status"] == -1 and event in data["info"]
    assert not h.sessions.running


def test_get_rpc_methods(tmp_path):
    d = Driver()
    h = Harness(tmp_path, d)
    assert h.call("inform", {"GetRPCMethods": True}) == (
        ubus.OK, {"status": 1, "info": "Session with GetRPCMethods will start"})
    assert d.started == [(["2 PERIODIC"], True)]


def test_get_rpc_methods_false_is_a_plain_inform(tmp_path):
    d = Driver()
    h = Harness(tmp_path, d)
    assert h.call("inform", {"GetRPCMethods": False, "event": "1 boot"})[1]["info"] == "Session started"
    assert d.started == [(["1 BOOT"], False)]


def test_event_while_a_session_runs_goes_out_at_its_end(tmp_path):
    d = Driver()
    h = Harness(tmp_path, d)
    assert h.call("inform", {"event": "1 BOOT"})[1]["info"] == "Session started"
    code, data = h.call("inform", {"event": "4 value change"})
    assert data == {"status": 1, "info": "Session already running, event will be sent at the end of the session"}
    assert h.call("status")[1]["last_session"]["status"] == "running"
    h.obj.session_finished(True)
    h.settle()
    assert d.started == [(["1 BOOT"], False), (["4 VALUE CHANGE"], False)]


def test_failed_session_counts_and_its_events_are_retried_with_backoff(tmp_path):
    d = Driver()
    h = Harness(tmp_path, d)
    h.obj.retry.base = 0.05
    h.call("inform", {"event": "8 DIAGNOSTICS COMPLETE"})
    h.obj.session_finished(False)
    st = h.call("status")[1]
    assert st["last_session"]["status"] == "failure"
    assert st["statistics"] == {"success_sessions": 0, "failure_sessions": 1, "total_sessions": 1}
    assert st["next_session"]["start_time"] != "N/A"  # the retry is the next session
    h.settle()
    assert len(d.started) == 1  # not at once: after the retry delay
    deadline = h.loop.time() + 5
    while len(d.started) < 2 and h.loop.time() < deadline:
        h.loop.run_once(0.05)
    assert d.started[-1][0] == ["8 DIAGNOSTICS COMPLETE"]
    # a second failure doubles the delay; a success resets it
    h.obj.session_finished(False)
    assert h.obj.retry.failures == 2
    h.call("inform", {"event": "1 BOOT"})  # a new inform does not wait for the retry
    assert d.started[-1][0] == ["8 DIAGNOSTICS COMPLETE", "1 BOOT"]
    h.obj.session_finished(True)
    assert h.obj.retry.failures == 0


def test_driver_reports_connection_and_url(tmp_path):
    d = Driver()
    h = Harness(tmp_path, d)
    st = h.call("status")[1]
    assert st["cwmp"]["status"] == "init" and st["cwmp"]["acs_url"] == "wss://central.example/OS3P"
    d.state = "up"
    assert h.call("status")[1]["cwmp"]["status"] == "up"


@pytest.mark.parametrize("args", [
    {"event": 6},                      # wrong type
    {"event": ["1 BOOT"]},
    {"event": None},
    {"GetRPCMethods": "1"},            # a string is not a boolean
    {"GetRPCMethods": 1},
    {"GetRPCMethods": True, "extra": 1},  # unknown key
    {"Event": "1 BOOT"},               # keys are case-sensitive
    "1 BOOT",                          # not an object
    ["1 BOOT"],
    7,
])
def test_inform_invalid_arguments(h, args):
    assert h.call("inform", args) == (ubus.INVALID_ARGUMENT, None)
    assert not h.sessions.running


def test_command_values(tmp_path):
    d = Driver()
    h = Harness(tmp_path, d)
    for cmd in COMMANDS:
        code, data = h.call("command", {"command": cmd})
        assert code == ubus.OK and data["status"] == 0, cmd
    assert set(COMMANDS) == set(h.obj.commands)


def test_reload_now_and_at_session_end(tmp_path):
    d = Driver()
    h = Harness(tmp_path, d)
    assert h.call("command", {"command": "reload"})[1] == {"status": 0, "info": "tr069-bridge config reloaded"}
    assert h.reloads == 1
    h.call("inform", {})
    assert h.call("command", {"command": "reload"})[1]["info"] == "Session running, reload at the end of the session"
    assert h.reloads == 1
    h.obj.session_finished(True)
    assert h.reloads == 2


def test_reload_failure_is_reported(h):
    h.reload_ok = False
    assert h.call("command", {"command": "reload"})[1] == {"status": -1, "info": "tr069-bridge config reload failed"}
    # the daemon's on_reload gives the first problem of the refused file: that is the info
    h.reload_ok = "/etc/config/tr069:3: tr069.cpe.log_level: expected one of error, warning, info, debug, got 'loud'"
    assert h.call("command", {"command": "reload"})[1] == {"status": -1, "info": h.reload_ok}


def test_reboot_and_reload_at_end_of_session(tmp_path):
    d = Driver()
    h = Harness(tmp_path, d)
    h.call("command", {"command": "reboot_end_session"})
    h.call("command", {"command": "reload_end_session"})
    assert (h.reboots, h.reloads) == (0, 0)
    h.call("inform", {"event": "2 periodic"})
    h.obj.session_finished(True)
    assert (h.reboots, h.reloads) == (1, 1)
    h.call("inform", {})
    h.obj.session_finished(True)
    assert (h.reboots, h.reloads) == (1, 1)  # flags are spent once


def test_action_end_session_applies_flags_when_idle(h):
    h.call("command", {"command": "reboot_end_session"})
    assert h.call("command", {"command": "action_end_session"})[1]["info"] == "End-session actions applied: reboot"
    assert h.reboots == 1


def test_exit_answers_then_stops(h):
    assert h.call("command", {"command": "exit"}) == (ubus.OK, {"status": 0, "info": "tr069-bridge is stopping"})
    assert h.exits == 0
    deadline = h.loop.time() + 5
    while not h.exits and h.loop.time() < deadline:
        h.loop.run_once(0.1)
    assert h.exits == 1


def test_unknown_command_is_answered_like_icwmp(h):
    assert h.call("command", {"command": "factory_reset"}) == (
        ubus.OK, {"status": -1, "info": "factory_reset command is not supported"})


@pytest.mark.parametrize("args", [None, {}, {"command": 1}, {"command": True}, {"command": "reload", "x": 1},
                                  {"cmd": "reload"}, ["reload"]])
def test_command_invalid_arguments(h, args):
    assert h.call("command", args) == (ubus.INVALID_ARGUMENT, None)


def test_unknown_method(h):
    assert h.call("nosuch", {}) == (ubus.METHOD_NOT_FOUND, None)


def test_statistics_survive_a_restart(tmp_path):
    h = Harness(tmp_path)
    for _ in range(3):
        h.call("inform", {})
        h.settle()
    h2 = Harness(tmp_path)
    assert h2.call("status")[1]["statistics"] == {"success_sessions": 3, "failure_sessions": 0, "total_sessions": 3}
    assert h2.call("status")[1]["last_session"]["status"] == "success"


def test_a_session_cut_by_a_crash_counts_as_failure_and_keeps_its_events(tmp_path):
    h = Harness(tmp_path, Driver())
    h.call("inform", {"event": "1 BOOT"})
    d2 = Driver()
    h2 = Harness(tmp_path, d2)  # the state file as a crash left it
    st = h2.call("status")[1]
    assert st["last_session"]["status"] == "failure"
    assert st["statistics"]["failure_sessions"] == 1
    h2.call("inform", {"event": "6 CONNECTION REQUEST"})
    assert d2.started == [(["1 BOOT", "6 CONNECTION REQUEST"], False)]


def test_canonical_event():
    assert canonical_event("6 connection request") == "6 CONNECTION REQUEST"
    assert canonical_event("6   Connection   Request") == "6 CONNECTION REQUEST"
    assert canonical_event("") == "6 CONNECTION REQUEST"
    assert canonical_event("6 BOOT") == "6 BOOT"
    assert set(EVENTS.values()) == set(EVENT_LIST)


def test_time_format(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Stockholm")
    import time as _t
    _t.tzset()
    try:
        assert format_time(1795338000) == "2026-11-22T10:00:00+01:00"
        assert format_time(None) == "N/A"
    finally:
        monkeypatch.delenv("TZ")
        _t.tzset()


def test_periodic_inform_schedules_next_session(tmp_path):
    loop = Loop()
    s = Sessions(str(tmp_path / "s.json"))
    obj = Tr069(loop, s, periodic=lambda: (True, 0.05))
    assert obj.call("status", {})[1]["next_session"]["start_time"] != "N/A"
    deadline = loop.time() + 5
    while s.total == 0 and loop.time() < deadline:
        loop.run_once(0.05)
    assert s.total >= 1 and "2 PERIODIC" in (s.running_events or ["2 PERIODIC"])
    obj2 = Tr069(loop, Sessions(str(tmp_path / "t.json")), periodic=lambda: (False, 300))
    assert obj2.call("status", {})[1]["next_session"]["start_time"] == "N/A"


def test_an_invalid_reply_is_refused_when_checking(h, monkeypatch):
    assert h.obj.check_output  # the suite runs with the self-check on
    monkeypatch.setitem(h.obj.methods, "status", lambda args: {"cwmp": {}})
    assert h.obj.call("status", {}) == (ubus.UNKNOWN_ERROR, None)
