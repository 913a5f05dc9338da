"""The OS3P protocol core driven directly: events in, outputs out, a fake clock, no sockets and no sleeps.

Each test plays the central system by hand: it reads the frames the core wants sent (Send outputs),
answers them with received(), and moves the clock with Core.advance(), which runs every deadline due
on the way. The same behaviour over real WebSockets is covered, more briefly, in test_os3p_client.py.
"""

import json

import pytest

from bridge.os3p.protocol import Abort, Close, Connect, HeartbeatInterval, Ping, SessionDone
from support.os3p_core import FIELDS, Core


@pytest.fixture
def core(tmp_path):
    c = Core(tmp_path)
    c.p.start()
    return c


# --- boot ----------------------------------------------------------------------------------------
def test_boot_accepted_keeps_the_interval_and_syncs_the_clock(core):
    assert core.take() == [Connect()]
    core.p.opened()
    [(id, action, payload)] = core.calls()
    assert (action, payload) == ("BootNotification", FIELDS)
    assert core.p.connection_state() == "init"  # not before the answer
    core.answer(id, {"status": "Accepted", "interval": 1234, "currentTime": "2027-01-15T08:00:00Z"})
    assert core.p.connection_state() == "up"
    assert core.take() == [HeartbeatInterval(1234)]
    assert core.state.get("boot")["status"] == "Accepted"
    assert core.p.now_iso() == "2027-01-15T08:00:00Z"  # our timestamps follow the central system's clock
    core.advance(60)
    assert core.p.now_iso() == "2027-01-15T08:01:00Z"


def test_no_boot_on_reconnect_when_nothing_changed_but_after_a_change(core):
    core.connect()
    core.p.closed("lost")
    core.advance(core.next_deadline())
    assert Connect() in core.take()
    core.p.opened()
    assert core.calls() == []  # spec 5.5: fields unchanged since Accepted, no new BootNotification
    assert core.p.connection_state() == "up"
    core.fields["firmwareVersion"] = "2.0"  # a new firmware: a new boot (spec 3.2)
    core.p.closed("lost")
    core.advance(core.next_deadline())
    core.take()
    core.p.opened()
    assert [c[1] for c in core.calls()] == ["BootNotification"]


def test_a_late_answer_from_the_old_central_system_does_not_register_the_new_one(tmp_path):
    """A reload moves acs.url while the BootNotification to the old central system is answered (a loaded
    machine: SIGHUP and the answer in the same turn): that Accepted is the old one's, so the new central
    system still gets a BootNotification on the new link."""
    c = Core(tmp_path, **{"acs.url": "ws://127.0.0.1:9000/OS3P"})
    c.p.start()
    assert c.take() == [Connect()]
    c.p.opened()
    [(boot, action, _)] = c.calls()
    c.config.override("acs.url=wss://127.0.0.1:9443/OS3P")
    c.p.settings_changed()
    assert c.take() == [Abort("the connection settings changed")]
    c.answer(boot, {"status": "Accepted", "interval": 300, "currentTime": "2027-01-15T08:00:00Z"})
    assert c.state.get("boot")["url"] == "ws://127.0.0.1:9000/OS3P"  # the URL it was sent to
    c.p.closed("aborted")
    c.advance(c.next_deadline())
    assert Connect() in c.take()
    c.p.opened()
    assert [a for _, a, _ in c.calls()] == ["BootNotification"]


def test_pending_sends_only_boot_and_triggered_messages_and_retries_after_interval(core):
    core.connect(status="Pending", interval=20)
    assert core.p.registration == "Pending"
    core.p.received('[2, "c1", "GetConfiguration", {"key": ["HeartbeatInterval"]}]')
    assert core.frames()[0][:2] == [3, "c1"]  # the central system may configure us meanwhile: answered
    core.p.notify("StatusNotification", {"status": "Ok", "errorCode": "NoError"})
    assert core.calls() == []  # queued, not sent while Pending
    core.p.trigger("Heartbeat", {})
    [(hb, action, _)] = core.calls()
    assert action == "Heartbeat"  # a TriggerMessage-requested message may go
    core.answer(hb, {"currentTime": "2027-01-15T08:00:00Z"})
    core.advance(19)
    assert core.calls() == []
    core.advance(1)
    [(boot, action, _)] = core.calls()
    assert action == "BootNotification"
    core.answer(boot, {"status": "Accepted", "interval": 300, "currentTime": "2027-01-15T08:00:00Z"})
    [(note, action, _)] = core.calls()
    assert action == "StatusNotification"  # the outbox drains once Accepted
    core.answer(note, {})
    assert len(core.outbox) == 0


def test_a_session_while_pending_fails_and_its_notification_waits(core):
    core.connect(status="Pending", interval=20)
    core.p.start_session(["4 VALUE CHANGE"])
    core.take()
    core.advance(20)
    [(boot, _, _)] = core.calls()
    core.answer(boot, {"status": "Pending", "interval": 20, "currentTime": "2027-01-15T08:00:00Z"})
    assert core.take() == [SessionDone(False)]
    assert [r["action"] for r in core.outbox.records()] == ["StatusNotification"]


def test_rejected_closes_and_waits_the_interval_before_trying_again(core):
    core.connect(status="Rejected", interval=50)
    assert core.take() == [Close()]
    core.p.closed("closed by us")
    core.advance(49)
    assert core.take() == []
    core.advance(1)
    assert core.take() == [Connect()]


def test_rejected_without_interval_backs_off(tmp_path):
    c = Core(tmp_path, rand=lambda: 0.0)
    c.p.start()
    c.connect(status="Rejected", interval=0)
    c.p.closed("closed by us")
    assert c.next_deadline() == pytest.approx(1.0)  # half of reconnect_min: the lowest jitter


# --- backoff -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rand,factor", [(1.0, 1.0), (0.0, 0.5)])
def test_reconnect_backoff_doubles_up_to_the_cap_and_resets_once_stable(tmp_path, rand, factor):
    c = Core(tmp_path, rand=lambda: rand, **{"os3p.reconnect_max": 16})
    c.p.start()
    delays = []
    for _ in range(6):
        assert c.take() == [Connect()]
        c.p.closed("connection refused")
        delays.append(c.next_deadline())
        c.advance(c.next_deadline())
    assert delays == [d * factor for d in (2, 4, 8, 16, 16, 16)]
    c.connect()
    c.advance(29)
    c.p.closed("lost")
    assert c.next_deadline() == 16 * factor  # not stable yet: the backoff goes on
    c.connect()
    c.advance(30)  # stable_after: the next loss starts afresh
    c.p.closed("lost")
    assert c.next_deadline() == 2 * factor


def test_a_session_does_not_shortcut_the_backoff(core):
    core.take()
    core.p.closed("connection refused")
    wait = core.next_deadline()
    core.p.start_session(["6 CONNECTION REQUEST"])
    assert core.take() == [] and core.next_deadline() == wait


def test_a_session_connects_at_once_when_no_attempt_is_due(tmp_path):
    c = Core(tmp_path)
    c.p.start_session(["6 CONNECTION REQUEST"])  # never started: the session asks for the connection
    c.advance(0)
    assert c.take() == [Connect()]


def test_settings_change_aborts_and_resets_the_backoff(core):
    core.connect()
    core.p.closed("lost")
    core.advance(core.next_deadline())
    core.take()
    core.p.settings_changed()
    assert core.take() == [Abort("the connection settings changed")]
    core.p.closed("aborted")
    assert core.next_deadline() == 2


# --- heartbeat, sessions, clock ---------------------------------------------------------------------------
def test_periodic_session_is_a_heartbeat_that_syncs_the_clock(core):
    core.connect()
    core.take()
    core.p.start_session(["2 PERIODIC"])
    [(hb, action, payload)] = core.calls()
    assert (action, payload) == ("Heartbeat", {})
    core.answer(hb, {"currentTime": "2027-01-15T09:00:00Z"})
    assert core.take() == [SessionDone(True)]
    assert core.p.now_iso() == "2027-01-15T09:00:00Z"
    assert core.state.get("clock_offset") == core.p.clock_offset


def test_events_map_to_messages(core):
    core.connect()
    core.take()
    core.p.start_session(["4 VALUE CHANGE", "6 CONNECTION REQUEST"])
    calls = core.calls()
    assert [c[1] for c in calls] == ["Heartbeat"]  # one outstanding: the queued notification waits
    core.answer(calls[0][0], {"currentTime": "2027-01-15T09:00:00Z"})
    [(note, action, payload)] = core.calls()
    assert action == "StatusNotification" and payload["errorCode"] == "NoError"
    assert core.take() == []  # not done before the notification's CALLRESULT
    core.answer(note, {})
    assert core.take() == [SessionDone(True)]


def test_a_boot_session_sends_a_boot_notification_first_on_a_registered_connection(core):
    core.connect()
    core.take()
    core.p.start_session(["1 BOOT", "2 PERIODIC"])
    [(boot, action, _)] = core.calls()
    assert action == "BootNotification"
    core.answer(boot, {"status": "Accepted", "interval": 300, "currentTime": "2027-01-15T08:00:00Z"})
    [(hb, action, _)] = core.calls()
    assert action == "Heartbeat"
    core.answer(hb, {"currentTime": "2027-01-15T08:00:00Z"})
    assert core.take() == [SessionDone(True)]


def test_call_timeout_fails_the_session_the_late_answer_is_ignored_and_the_next_call_works(core):
    core.connect()
    core.take()
    core.p.start_session(["2 PERIODIC"])
    [(hb, _, _)] = core.calls()
    core.advance(9.9)
    assert core.take() == []
    core.advance(0.1)
    assert core.take() == [SessionDone(False)]
    offset = core.p.clock_offset
    core.answer(hb, {"currentTime": "2030-01-01T00:00:00Z"})  # too late: no outstanding call has this id
    assert core.p.clock_offset == offset and core.p.connected
    core.p.start_session(["2 PERIODIC"])
    [(hb2, _, _)] = core.calls()
    core.answer(hb2, {"currentTime": "2027-01-15T08:00:00Z"})
    assert core.take() == [SessionDone(True)]


def test_a_session_times_out_when_nothing_progresses(tmp_path):
    c = Core(tmp_path)
    c.p.start_session(["2 PERIODIC"])
    c.advance(0)
    assert c.take() == [Connect()]  # the attempt hangs: neither opened() nor closed()
    c.advance(5 + 4 * 10)
    assert c.take() == [SessionDone(False)]


def test_a_lost_connection_fails_the_session(core):
    core.connect()
    core.take()
    core.p.start_session(["2 PERIODIC"])
    core.calls()
    core.p.closed("connection lost")
    assert core.take() == [SessionDone(False)]


# --- dead peer --------------------------------------------------------------------------------------------
def test_dead_peer_is_aborted_after_a_ping_interval_without_pong_or_traffic(tmp_path):
    c = Core(tmp_path, **{"os3p.ping_interval": 5})
    c.p.start()
    c.connect()
    c.take()
    c.advance(5)
    assert c.take() == [Ping()]
    c.p.pong()
    c.advance(5)
    assert c.take() == [Ping()]
    c.p.received('[2, "x1", "DoTheDishes", {}]')  # any traffic proves the peer alive
    c.frames()
    c.advance(5)
    assert c.take() == [Ping()]
    c.advance(5)
    assert c.take() == [Abort("dead peer")]


def test_ping_interval_change_takes_effect_at_once(core):
    core.connect()
    core.take()
    core.config.override("os3p.ping_interval=3")
    core.p.config_changed("os3p.ping_interval")
    core.advance(3)
    assert core.take() == [Ping()]


# --- queue order and the outbox -----------------------------------------------------------------------------
def test_one_outstanding_call_boot_first_then_direct_calls_then_the_outbox_oldest_first(core):
    core.take()
    for i in range(3):
        core.p.notify("StatusNotification", {"status": "Ok", "errorCode": "NoError", "info": str(i)})
    core.p.call("Heartbeat", {})
    core.p.opened()
    order = []
    while True:
        calls = core.calls()
        if not calls:
            break
        assert len(calls) == 1  # one CALL at a time
        id, action, payload = calls[0]
        order.append((action, payload.get("info")))
        if action == "BootNotification":
            core.answer(id, {"status": "Accepted", "interval": 300, "currentTime": "2027-01-15T08:00:00Z"})
        else:
            core.answer(id, {"currentTime": "2027-01-15T08:00:00Z"} if action == "Heartbeat" else {})
    assert order == [("BootNotification", None), ("Heartbeat", None), ("StatusNotification", "0"),
                     ("StatusNotification", "1"), ("StatusNotification", "2")]
    assert len(core.outbox) == 0


def test_a_queued_notification_keeps_its_id_when_resent_after_a_loss(core):
    core.connect()
    core.p.notify("StatusNotification", {"status": "Ok", "errorCode": "NoError"})
    [(first, _, _)] = core.calls()
    core.p.closed("lost")
    core.advance(core.next_deadline())
    core.take()
    core.p.opened()
    [(again, _, _)] = core.calls()
    assert again == first  # the central system can tell a repeat


def test_callerror_for_a_notification_drops_it_and_a_transient_one_retries(core):
    core.connect()
    core.p.notify("StatusNotification", {"status": "Ok", "errorCode": "NoError", "info": "a"})
    core.p.notify("StatusNotification", {"status": "Ok", "errorCode": "NoError", "info": "b"})
    [(a, _, _)] = core.calls()
    core.p.received(json.dumps([4, a, "FormationViolation", "no", {}]))  # refused for good: dropped
    [(b, _, payload)] = core.calls()
    assert payload["info"] == "b"
    for attempt in range(1, 3):
        core.p.received(json.dumps([4, b, "InternalError", "busy", {}]))  # maybe transient: held, retried
        assert core.calls() == []
        core.advance(2 ** attempt)
        assert [c[0] for c in core.calls()] == [b]
    core.p.received(json.dumps([4, b, "InternalError", "busy", {}]))  # the third: dropped
    assert core.calls() == [] and len(core.outbox) == 0


def test_one_event_one_notification_after_an_outage(core):
    """A failed session is retried by the tr069 object with the same events: the notification its first
    try queued (and that went out again after the reconnect) is not queued a second time."""
    core.connect()
    core.take()
    core.p.start_session(["4 VALUE CHANGE"])
    [(note, action, _)] = core.calls()
    assert action == "StatusNotification"
    core.p.closed("connection lost")  # the outage
    assert core.take() == [SessionDone(False)]
    core.advance(core.next_deadline())
    core.take()
    core.p.opened()
    assert [c[0] for c in core.calls()] == [note]  # the same notification, in flight again
    core.p.start_session(["4 VALUE CHANGE"])  # the tr069 object's retry
    core.answer(note, {})
    assert core.calls() == []  # no second StatusNotification
    assert core.take() == [SessionDone(True)]


# --- inbound calls ------------------------------------------------------------------------------------------
def test_inbound_calls_are_dispatched_and_errors_answered(core):
    core.connect()
    core.p.received('[2, "a", "DoTheDishes", {}]')
    core.p.received('[2, "b", "GetConfiguration", {"key": ["HeartbeatInterval"]}]')
    core.p.received('[2, "c", "Reset", {"type": "Sideways"}]')
    core.p.received('[2, "d", "Reset", {"type": "Hard"')
    core.p.received('[9, "e", "Future", {}]')  # unknown message type: ignored
    answers = core.frames()
    assert [(f[0], f[1]) for f in answers] == [(4, "a"), (3, "b"), (4, "c"), (4, "d")]
    assert answers[0][2] == "NotImplemented"
    assert answers[1][2]["configurationKey"][0]["key"] == "HeartbeatInterval"
    assert answers[2][2] == "PropertyConstraintViolation"
    assert answers[3][2] == "FormationViolation"
    assert core.p.stats["calls_received"] == 3


def test_a_triggered_message_goes_out_once_the_answer_is_written(core):
    core.connect()
    core.take()
    core.p.received('[2, "t", "TriggerMessage", {"requestedMessage": "StatusNotification"}]')
    [answer] = core.p.take()
    assert json.loads(answer.text) == [3, "t", {"status": "Accepted"}]
    answer.after()  # the supervisor calls it once the frame is on the wire
    [(_, action, payload)] = core.calls()
    assert action == "StatusNotification" and payload["errorCode"] == "NoError"
    core.p.received('[2, "u", "TriggerMessage", {"requestedMessage": "MeterValues"}]')
    assert core.frames()[0][2] == {"status": "Rejected"}  # no producer for it: nothing to report


# --- reboots ------------------------------------------------------------------------------------------------
def test_an_unexpected_reboot_is_reported_an_expected_one_is_not(tmp_path):
    c = Core(tmp_path, state={"boot_id": "one"})
    c.p.check_reboot("two")
    assert [r["payload"]["vendorErrorCode"] for r in c.outbox.records()] == ["UnexpectedReboot"]
    c.p.expect_reboot()
    c.p.check_reboot("three")
    assert len(c.outbox) == 1 and not c.state.get("reboot_expected")
    c.p.check_reboot("three")  # the same boot: nothing
    assert len(c.outbox) == 1


def test_stop_closes_politely_and_cancels_every_deadline(core):
    core.connect()
    core.take()
    core.p.start_session(["2 PERIODIC"])
    core.calls()
    core.p.stop()
    assert core.take() == [Close()] and core.p.deadline() is None

