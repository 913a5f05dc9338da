"""Fault injection: the wall clock jumps forward and backward under a running daemon (NTP after a boot
with the clock at 1970, an operator's `date -s`, a dead RTC battery). The protocol core's timers run on the
monotonic clock, and once a BootNotification has given the central system's currentTime, our timestamps
and the retrieveDate of an UpdateFirmware follow the central system's clock, whatever the wall clock does.
"""

import pytest

from support.os3p_core import Core

JUMPS = [3600.0, -86400.0, -1_800_000_000.0]  # an hour ahead, a day back, back to 1970


def booted(tmp_path):
    core = Core(tmp_path)  # its clock's wall time can be set apart from its monotonic time (clock.skew)
    core.p.start()
    core.connect(interval=300)
    core.take()
    return core


@pytest.mark.parametrize("jump", JUMPS)
def test_timestamps_follow_the_central_system_across_a_wall_clock_jump(tmp_path, jump):
    core = booted(tmp_path)
    assert core.p.now_iso() == "2027-01-15T08:00:00Z"
    core.clock.skew += jump
    core.advance(60)
    assert core.p.now_iso() == "2027-01-15T08:01:00Z"  # not moved by the jump
    core.p.notify("StatusNotification", {"status": "Ok", "errorCode": "NoError", "timestamp": core.p.now_iso()})
    [(_, _, payload)] = core.calls()
    assert payload["timestamp"] == "2027-01-15T08:01:00Z"


@pytest.mark.parametrize("jump", JUMPS)
def test_timers_keep_their_spacing_across_a_wall_clock_jump(tmp_path, jump):
    core = booted(tmp_path)
    core.p.notify("StatusNotification", {"status": "Ok", "errorCode": "NoError"})
    [(call_id, _, _)] = core.calls()
    core.clock.skew += jump
    assert core.next_deadline() == pytest.approx(10)  # os3p.call_timeout, neither stalled nor fired early
    core.advance(9.9)
    assert core.calls() == [] and core.p.pending is not None
    core.advance(0.2)
    assert core.p.pending is None or core.p.pending.id != call_id


def test_retrieve_date_waits_on_the_central_system_clock(tmp_path):
    core = booted(tmp_path)
    core.clock.skew -= 86400.0  # the wall clock a day behind after the boot: retrieveDate must not be a day late
    core.advance(30)
    # "2027-01-15T08:10:00Z" is 9.5 min after the central system's now: that is the wait, not 1 day + 9.5 min
    from bridge.os3p.messages import parse_iso
    assert parse_iso("2027-01-15T08:10:00Z") - core.p.now() == pytest.approx(570)


@pytest.mark.parametrize("jump", JUMPS)
def test_the_heartbeat_keeps_its_interval_across_a_wall_clock_jump(tmp_path, monkeypatch, jump):
    # the heartbeat is tr069's periodic inform (2 PERIODIC -> Heartbeat): a loop timer on the monotonic clock
    import time
    import types

    from bridge import tr069 as tr069_module
    from bridge.loop import Loop
    from bridge.sessions import Sessions

    wall = [time.time()]
    monkeypatch.setattr(tr069_module, "time", types.SimpleNamespace(
        time=lambda: wall[0], localtime=time.localtime, strftime=time.strftime))
    loop = Loop()
    mono = [1000.0]
    loop.time = lambda: mono[0]
    try:
        obj = tr069_module.Tr069(loop, Sessions(str(tmp_path / "sessions.json")), periodic=lambda: (True, 300))
        started = []
        real = obj.start_session
        monkeypatch.setattr(obj, "start_session", lambda events: started.append(list(events)) or real(events))
        obj.schedule_periodic()
        wall[0] += jump
        for _ in range(3):
            mono[0] += 299.0
            loop.run_once(0)
            assert started == [["2 PERIODIC"]] * _  # not early
            mono[0] += 1.0
            loop.run_once(0)
            loop.run_once(0)
            assert started == [["2 PERIODIC"]] * (_ + 1)  # not stalled
    finally:
        loop.close()
