"""The status reply is kept (as a dict by the tr069 object, encoded by the ubus surface's
bridge/ubus/replies.py) while nothing it shows changes: each input is changed here in turn and the very
next reply must show it, in both forms."""

import time

import pytest

from bridge.loop import Loop
from bridge.sessions import Sessions
from bridge.tr069 import Tr069, format_time
from bridge.ubus import blob
from bridge.ubus.replies import Replies
from bridge import ubusmsg as ubus


class Driver:
    def __init__(self):
        self.acs_url = "wss://a.example/OS3P"
        self.state = "init"

    def start_session(self, events, get_rpc_methods):
        pass

    def connection_state(self):
        return self.state


@pytest.fixture
def obj(tmp_path):
    url = {"v": "ws://one.example/OS3P"}
    missing = []
    o = Tr069(Loop(), Sessions(str(tmp_path / "s.json")), acs_url=lambda: url["v"],
              periodic=lambda: (False, 0), missing=lambda: missing)
    o.url = url
    o.missing_list = missing
    o.replies = Replies(o)  # as the ubus connection keeps it for the object
    return o


def both(o):
    """The reply as the JSON-RPC shim gets it and as the ubus surface sends it; they must agree."""
    code, data = o.call("status", {})
    assert code == ubus.OK
    encoded = o.replies.encoded("status", {})
    assert encoded == blob.encode_table(data)   # a reply naming missing facilities too
    return data


def test_the_same_inputs_give_the_same_reply_without_recomputing(obj):
    first = both(obj)
    assert obj.replies.encoded("status", {}) is obj.replies.encoded("status", {})
    assert obj.call("status", {})[1] is first


def test_each_input_shows_in_the_next_reply(obj):
    s = obj.sessions
    assert both(obj)["cwmp"]["acs_url"] == "ws://one.example/OS3P"
    obj.url["v"] = "ws://two.example/OS3P"                      # config reloaded
    assert both(obj)["cwmp"]["acs_url"] == "ws://two.example/OS3P"
    obj.start_time -= 3600
    assert both(obj)["cwmp"]["start_time"] == format_time(obj.start_time)

    s.begin(["1 BOOT"])
    st = both(obj)
    assert st["last_session"] == {"status": "running", "start_time": format_time(s.last_start), "end_time": "N/A"}
    s.end(True)
    st = both(obj)
    assert st["last_session"]["status"] == "success" and st["last_session"]["end_time"] == format_time(s.last_end)
    assert st["statistics"] == {"success_sessions": 1, "failure_sessions": 0, "total_sessions": 1}
    s.begin(["2 PERIODIC"])
    s.end(False)
    assert both(obj)["statistics"] == {"success_sessions": 1, "failure_sessions": 1, "total_sessions": 2}
    s.last_end += 5                                             # any field, even without a method
    assert both(obj)["last_session"]["end_time"] == format_time(s.last_end)

    now = time.time()
    obj.next_session_time = now + 100
    assert both(obj)["next_session"]["start_time"] == format_time(now + 100)
    obj._retry_due = obj.loop.time() + 50                       # the earliest of the three is shown
    assert both(obj)["next_session"]["start_time"] in (format_time(now + 49), format_time(now + 50),
                                                       format_time(now + 51))
    obj._periodic_due = obj.loop.time() + 10
    assert both(obj)["next_session"]["start_time"] in (format_time(now + 9), format_time(now + 10),
                                                       format_time(now + 11))
    obj._periodic_due = obj._retry_due = obj.next_session_time = None
    assert both(obj)["next_session"]["start_time"] == "N/A"

    d = Driver()
    obj.attach_driver(d)
    st = both(obj)
    assert st["cwmp"]["status"] == "init" and st["cwmp"]["acs_url"] == "wss://a.example/OS3P"
    d.state = "up"
    assert both(obj)["cwmp"]["status"] == "up"
    d.acs_url = "wss://b.example/OS3P"
    assert both(obj)["cwmp"]["acs_url"] == "wss://b.example/OS3P"
    d.acs_url = "wss://op:secret@b.example/OS3P"
    assert both(obj)["cwmp"]["acs_url"] == "wss://op:********@b.example/OS3P"

    obj.missing_list.append("rpcd uci")
    assert both(obj)["cwmp"]["missing"] == ["rpcd uci"]
    obj.missing_list.clear()
    assert "missing" not in both(obj)["cwmp"]


def test_the_encoded_reply_is_only_for_status_without_arguments(obj):
    assert obj.replies.encoded("inform", {}) is None
    assert obj.replies.encoded("status", {"ubus_rpc_session": "x"}) is None


def test_a_reply_that_fails_its_schema_is_not_sent_encoded(obj, monkeypatch):
    obj.check_output = True
    monkeypatch.setattr(obj.sessions, "last_status", "exploded")
    obj.sessions.last_start = time.time()
    assert obj.replies.encoded("status", {}) is None
    assert obj.call("status", {}) == (ubus.UNKNOWN_ERROR, None)


def test_the_next_session_follows_a_wall_clock_step(obj, monkeypatch):
    """A router without an RTC boots in 1970 (or at its build date) and NTP steps the clock later: the
    retry and periodic timers run on the monotonic clock and are not moved, and status must show the
    time they fire at on the new clock, not the one computed before the step."""
    wall, mono = [1_000_000_000.0], [5_000.0]
    monkeypatch.setattr(obj, "wall", lambda: wall[0])
    monkeypatch.setattr(obj.loop, "time", lambda: mono[0])
    obj.periodic = lambda: (True, 600)
    obj.schedule_periodic()                                       # fires at mono 5600: wall 1e9 + 600
    assert both(obj)["next_session"]["start_time"] == format_time(1_000_000_600)
    first = obj.replies.encoded("status", {})
    mono[0] += 100
    wall[0] += 100.3                                              # both clocks on: the same reply, kept
    assert obj.replies.encoded("status", {}) is first
    assert both(obj)["next_session"]["start_time"] == format_time(1_000_000_600)
    wall[0] += 86400 * 365                                        # NTP steps the clock a year on
    assert both(obj)["next_session"]["start_time"] == format_time(1_000_000_600 + 86400 * 365)
    obj._retry_due = mono[0] + 30                                 # a failed session's retry, sooner
    assert both(obj)["next_session"]["start_time"] == format_time(1_000_000_100 + 30 + 86400 * 365)
