"""The heartbeat deadline belongs to the OS3P core: the periodic session ("2 PERIODIC", a Heartbeat) is due an
interval after the last session ended; the core says so (SessionDue) and tells when the next one is due
(NextSession); the tr069 object, which keeps the sessions' record, starts it and shows the time in status.
And the link's states and transitions are data: an event a state has no row for is a bug, said at once."""

import pytest

from bridge.os3p import registration
from bridge.os3p.protocol import Connect, NextSession, SessionDone, SessionDue
from support.os3p_core import Core
from support.os3p_harness import Station


def periodic_core(tmp_path, interval=100):
    core = Core(tmp_path, **{"acs.periodic_inform_enable": 1, "acs.periodic_inform_interval": interval})
    core.p.start()
    return core


def test_the_core_keeps_the_heartbeat_deadline(tmp_path):
    core = periodic_core(tmp_path)
    assert core.take() == [Connect(), NextSession(1100.0)]  # the fake clock starts at 1000
    core.p.opened()
    [(id, action, _)] = core.calls()
    core.answer(id, {"status": "Accepted", "interval": 100, "currentTime": "2027-01-15T08:00:00Z"})
    assert core.take() == []  # the interval it gives is the one kept: nothing to change
    core.advance(100)
    assert core.take() == [NextSession(None), SessionDue(["2 PERIODIC"])]
    core.p.start_session(["2 PERIODIC"])  # the tr069 object starts it
    [(id, action, _)] = core.calls()
    assert action == "Heartbeat"
    core.advance(5)
    core.answer(id, {"currentTime": "2027-01-15T08:00:00Z"})
    assert core.take() == [SessionDone(True), NextSession(1205.0)]  # the next counts from the session's end


def test_a_periodic_session_the_tr069_object_refuses_is_due_again_an_interval_later(tmp_path):
    core = periodic_core(tmp_path)
    core.take()
    core.advance(100)
    assert SessionDue(["2 PERIODIC"]) in core.take()
    core.advance(7)
    core.p.session_refused()  # a session runs, or its record could not be written
    assert core.take() == [NextSession(1207.0)]


def test_a_changed_interval_or_enable_moves_the_next_heartbeat(tmp_path):
    core = periodic_core(tmp_path)
    core.take()
    core.advance(30)
    core.config.override("acs.periodic_inform_interval=600")
    core.p.config_changed("acs.periodic_inform_interval")
    assert core.take() == [NextSession(1630.0)]
    core.config.override("acs.periodic_inform_enable=0")
    core.p.config_changed("acs.periodic_inform_enable")
    assert core.take() == [NextSession(None)]
    core.advance(1000)
    assert core.take() == []


def test_an_event_the_state_has_no_transition_for_is_a_bug(tmp_path):
    core = Core(tmp_path)
    assert core.p.machine.state == registration.OFFLINE
    with pytest.raises(registration.LocalError):
        core.p.opened()  # no attempt was made
    core.p.start()
    assert core.p.machine.state == registration.CONNECTING
    core.p.opened()
    assert core.p.machine.state == registration.BOOTING and core.p.connection_state() == "init"


def test_every_state_knows_the_connection_closing():
    assert all("closed" in row for row in registration.TRANSITIONS.values())
    assert set(registration.TRANSITIONS) == {registration.OFFLINE, registration.CONNECTING, registration.BOOTING,
                                             registration.PENDING, registration.ACCEPTED, registration.REJECTED}


def test_the_periodic_session_goes_through_the_tr069_object(tmp_path, cs):
    """Over a real WebSocket: every heartbeat is a tr069 session (its statistics count it), status shows
    when the next is due, and the tr069 object runs no periodic timer of its own."""
    cs.boot_interval = 1  # what the BootNotification's answer makes the interval
    st = Station(tmp_path / "st", cs.url, acs__periodic_inform_enable="1", acs__periodic_inform_interval="1")
    try:
        cs.wait_for(lambda c: len(c.calls("Heartbeat")) >= 2)
        st.wait(lambda: st.tr069("status")[1]["statistics"]["success_sessions"] >= 2)
        assert st.run(lambda: st.daemon.tr069._periodic_timer) is None
        status = st.tr069("status")[1]
        assert status["next_session"]["start_time"] != "N/A"
    finally:
        st.stop()
