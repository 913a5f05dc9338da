"""Contactors, modes, overrides, the local switch and restarts: the Station with a fake clock and lines
that are plain files (the host backend), no loop, no sleeps."""

import datetime
import json
import os

from bridge.events import ContactorFault, ProfilesChanged
from bridge.station import contactors as ct
from support.contactors import NIGHT, LocalClock, at, make, outputs


def test_schedule_switches_at_the_transitions_with_one_timer(tmp_path):
    clock = LocalClock("2026-05-01T15:00:00")
    st, events, lines, _ = make(tmp_path, clock)
    st.start()
    assert events == [] and outputs(lines) == {1: False, 2: False, 3: False, 4: False}
    assert st.set_profiles(1, [NIGHT]) == ("Accepted", None)
    assert len(clock.armed()) == 1 and clock.armed()[0].when == clock.now + ct.GUARD  # one timer, at most 5 min
    assert st.next_change == at("2026-05-01T20:00:00")
    clock.advance_to("2026-05-01T19:58:00")
    assert events == [] and len(clock.armed()) == 1
    assert clock.armed()[0].when == at("2026-05-01T20:00:00")  # the last stretch: exactly at the transition
    clock.advance_to("2026-05-01T20:00:00")
    assert events == [("status", 1, True, False)]
    assert outputs(lines)[1] is True
    stamp_on = clock.now
    clock.advance_to("2026-05-02T07:00:00")
    assert events[-1] == ("status", 1, False, False) and outputs(lines)[1] is False
    assert len(clock.armed()) == 1
    assert stamp_on == at("2026-05-01T20:00:00")


def test_guard_timer_bounds_the_wait_for_clock_steps(tmp_path):
    clock = LocalClock("2026-05-01T15:00:00")
    st, events, lines, _ = make(tmp_path, clock)
    st.start()
    assert clock.armed()[0].when - clock.now == ct.GUARD  # nothing scheduled: the guard only
    st.set_profiles(1, [NIGHT])
    clock.now = at("2026-05-01T21:30:00")  # the wall clock steps (NTP) past 20:00 while the timer waits
    clock.armed()[0].fn()  # the timer fires when it fires; the state is taken from the clock, not the timer
    assert events == [("status", 1, True, False)]


def test_override_suspend_resume_and_modes(tmp_path):
    clock = LocalClock("2026-05-01T15:00:00")
    st, events, lines, _ = make(tmp_path, clock)
    st.start()
    st.set_profiles(1, [NIGHT])
    assert st.override(2, "On") == "Accepted"
    assert events == [("mode", 2, "RemoteOverride"), ("status", 2, True, False)]
    assert st.override(None, "Suspend") == "Accepted"  # all: one station-wide mode event, nothing switches
    assert events[-1] == ("mode", None, "RemoteOverride") and outputs(lines)[2] is True
    clock.advance_to("2026-05-01T21:00:00")
    assert outputs(lines)[1] is False  # suspended: the 20:00 switch does not happen
    assert st.resume(1) == "Accepted"
    assert events[-2:] == [("mode", 1, "Schedule"), ("status", 1, True, False)]  # back to what the schedule says
    assert st.override(5, "On") == "Rejected" and st.resume(9) == "Rejected"
    assert st.override(1, "Dim") == "Rejected"
    assert st.resume(None) == "Accepted"
    assert events[-2:] == [("mode", None, "Schedule"), ("status", 2, False, False)]


def test_local_switch_rejects_remote_commands_and_restores_them(tmp_path):
    clock = LocalClock("2026-05-01T15:00:00")
    st, events, lines, local = make(tmp_path, clock)
    st.start()
    st.override(3, "Off")
    del events[:]
    local.write(True)
    st.local_switch_changed(True)
    assert events[0] == ("mode", None, "LocalOverride")
    assert sorted(events[1:]) == [("status", i, True, False) for i in (1, 2, 3, 4)]  # local_action "on"
    assert st.override(1, "Off") == "RejectedLocalOverride" and st.resume(None) == "RejectedLocalOverride"
    del events[:]
    st.local_switch_changed(False)
    # contactor 3 had a remote override: it comes back; the others follow their (empty) schedule
    assert events[:4] == [("mode", 1, "Schedule"), ("mode", 2, "Schedule"), ("mode", 3, "RemoteOverride"),
                          ("mode", 4, "Schedule")]
    assert outputs(lines) == {1: False, 2: False, 3: False, 4: False}


def test_local_switch_hold_leaves_the_outputs(tmp_path):
    clock = LocalClock("2026-05-01T15:00:00")
    st, events, lines, _ = make(tmp_path, clock, local_action="hold")
    st.start()
    st.set_profiles(1, [NIGHT])
    st.local_switch_changed(True)
    clock.advance_to("2026-05-01T21:00:00")
    assert outputs(lines)[1] is False  # the daemon does not drive while the local switch rules
    st.local_switch_changed(False)
    assert outputs(lines)[1] is True


def test_feedback_that_changes_on_its_own_is_unexpected(tmp_path):
    clock = LocalClock("2026-05-01T15:00:00")
    st, events, lines, _ = make(tmp_path, clock)
    st.start()
    st.override(1, "On")
    del events[:]
    st.feedback_changed(1, True)  # the contact confirming our switch: nothing to report
    assert events == []
    lines[1][1].write(False)  # someone pulls the contactor
    st.feedback_changed(1, False)
    assert events == [("status", 1, False, True)]
    st.feedback_changed(1, True)  # pushed back in by hand: also not our doing
    assert events[-1] == ("status", 1, True, True)


def test_profiles_rules_through_the_station(tmp_path):
    clock = LocalClock("2026-05-01T15:00:00")
    st, _, _, _ = make(tmp_path, clock)
    st.max_stack_level = lambda: 3
    high = dict(NIGHT, profileId=2, stackLevel=4)
    assert st.set_profiles(1, [high])[0] == "Rejected"
    assert st.set_profiles(1, [NIGHT])[0] == "Accepted"
    assert st.set_profiles(1, [dict(NIGHT, profileId=3)])[0] == "Rejected"  # stackLevel 0 taken
    assert st.clear_profiles(profile_id=77) == "Unknown"
    assert st.clear_profiles(cid=9) == "Unknown"
    assert st.effective_day(1, datetime.date(2026, 5, 1)) == [{"start": "20:00:00", "end": "06:00:00"}]
    assert st.effective_day(9, datetime.date(2026, 5, 1)) is None
    assert st.clear_profiles(cid=1) == "Accepted"
    assert st.effective_day(1, datetime.date(2026, 5, 1)) == []


def test_every_saved_change_of_profiles_is_an_event_naming_its_contactors(tmp_path):
    """A profile set or cleared changes no light now (its time has not come), yet it is news to whoever shows
    the profiles (the parameter model): a ProfilesChanged once saved, none for a refusal."""
    clock = LocalClock("2026-05-01T15:00:00")
    st, _, lines, _ = make(tmp_path, clock)
    got = []
    st.subscribe(got.append, ProfilesChanged)
    assert st.set_profiles(1, [NIGHT])[0] == "Accepted"
    assert st.set_profiles(2, [dict(NIGHT, profileId=2)])[0] == "Accepted"
    assert st.set_profiles(1, [dict(NIGHT, profileId=3)])[0] == "Rejected"  # stackLevel 0 taken: no event
    assert st.set_profiles(3, [NIGHT])[0] == "Accepted"  # profile 1 moves from contactor 1 to 3
    assert st.clear_profiles(profile_id=77) == "Unknown"
    assert st.clear_profiles(stack_level=0) == "Accepted"
    now = clock()
    assert got == [ProfilesChanged((1,), now), ProfilesChanged((2,), now), ProfilesChanged((1, 3), now),
                   ProfilesChanged((2, 3), now)]
    assert outputs(lines) == {1: False, 2: False, 3: False, 4: False}  # 15:00: no light changed


def test_restart_reads_outputs_first_and_switches_nothing_that_is_right(tmp_path):
    clock = LocalClock("2026-05-01T15:00:00")
    st, events, lines, _ = make(tmp_path, clock)
    st.start()
    st.set_profiles(1, [NIGHT])
    st.override(2, "On")
    clock.advance_to("2026-05-01T21:00:00")
    assert outputs(lines) == {1: True, 2: True, 3: False, 4: False}
    written = {i: os.stat(out.value_path).st_mtime_ns for i, (out, _) in lines.items()}
    st.stop()
    for out, fb in lines.values():
        out.close(), fb.close()
    # the daemon comes back (kill -9, power cut with the relays holding) later that night
    clock2 = LocalClock("2026-05-01T23:00:00")
    st2, events2, lines2, _ = make(tmp_path, clock2)
    st2.start()
    assert events2 == []  # nothing switched, nothing new to report
    assert outputs(lines2) == {1: True, 2: True, 3: False, 4: False}
    assert {i: os.stat(out.value_path).st_mtime_ns for i, (out, _) in lines2.items()} == written  # not rewritten
    assert st2.contactors[2].mode == "RemoteOverride" and st2.contactors[2].override == "On"
    clock2.advance_to("2026-05-02T07:00:00")
    assert events2 == [("status", 1, False, False)]


def test_restart_after_a_power_cut_that_dropped_the_relays(tmp_path):
    clock = LocalClock("2026-05-01T21:00:00")
    st, events, lines, _ = make(tmp_path, clock)
    st.start()
    st.set_profiles(1, [NIGHT])
    assert outputs(lines)[1] is True
    st.stop()
    lines[1][0].write(False), lines[1][1].write(False)  # relays released while the power was off
    clock2 = LocalClock("2026-05-01T22:00:00")
    st2, events2, lines2, _ = make(tmp_path, clock2)
    st2.start()
    # switched back on at once; the central system was told "On" and the light is on again: nothing to add
    assert events2 == []
    assert outputs(lines2)[1] is True


def test_start_with_the_local_switch_moved_while_down(tmp_path):
    clock = LocalClock("2026-05-01T15:00:00")
    st, events, lines, local = make(tmp_path, clock)
    st.start()
    st.stop()
    local.write(True)
    st2, events2, lines2, _ = make(tmp_path, LocalClock("2026-05-01T16:00:00"))
    st2.start()
    assert events2[0] == ("mode", None, "LocalOverride")


def test_unreadable_state_file_starts_clean(tmp_path):
    path = tmp_path / "station" / "streetlights.json"
    os.makedirs(path.parent)
    path.write_text('{"profiles": {"1": [{"profileId": 1}]}, "contactors": {"1": {"mode": "Sideways"}}}')
    st, _, _, _ = make(tmp_path, LocalClock("2026-05-01T15:00:00"))
    st.start()
    assert st.profiles.of(1) == [] and st.contactors[1].mode == "Schedule"


def test_a_failing_line_does_not_stop_the_schedule(tmp_path):
    clock = LocalClock("2026-05-01T15:00:00")
    st, events, lines, _ = make(tmp_path, clock)
    st.start()
    for i in (1, 2):
        st.set_profiles(i, [dict(NIGHT, profileId=i)])

    def broken(on):
        raise OSError("relay board gone")

    lines[1][0].set = broken
    st.contactors[1].output.set = broken
    clock.advance_to("2026-05-01T20:00:01")
    assert events == [("status", 2, True, False)]  # contactor 2 switched, 1 logged
    assert len(clock.armed()) == 2  # and the timer is still armed (beside contactor 2's feedback check)
    assert st._timer in clock.armed()


def test_a_crash_between_queueing_and_saving_repeats_never_loses(tmp_path):
    """The notification is handed on (to the outbox, on flash) before the station saves that it was
    reported: dying in between sends it again after the restart."""
    clock = LocalClock("2026-05-01T21:00:00")
    st, events, lines, _ = make(tmp_path, clock)
    st.start()
    st.set_profiles(1, [NIGHT])
    assert events == [("status", 1, True, False)]
    st.stop()
    # as if the process died right after the first switch was queued: the saved state predates it
    path = tmp_path / "station" / "streetlights.json"
    data = json.loads(path.read_text())
    data["contactors"]["1"]["reported"] = False
    path.write_text(json.dumps(data))
    st2, st2_events, lines2, _ = make(tmp_path, LocalClock("2026-05-01T21:00:05"))
    st2.start()
    assert st2_events == [("status", 1, True, False)]  # told again (a duplicate), not lost
    assert outputs(lines2)[1] is True


# --- a contact that does not follow the output: PowerSwitchFailure -----------------------------------

def stuck(lines, cid):
    """The contactor's coil no longer moves its auxiliary contact (a welded or dead contactor)."""
    lines[cid][0].contact = None


def test_a_contact_that_does_not_follow_a_switch_is_a_failing_power_switch(tmp_path):
    clock = LocalClock("2026-05-01T15:00:00")
    st, events, lines, _ = make(tmp_path, clock)
    st.start()
    stuck(lines, 1)
    st.override(1, "On")
    del events[:]
    clock.advance_to("2026-05-01T15:00:01.9")
    assert events == []  # within the timeout: nothing judged yet
    clock.advance_to("2026-05-01T15:00:02.1")
    assert events == [("fault", 1, True), ("status", 1, False, True)]  # the light is what the contact says
    assert st.snapshot()[0] == (1, False, "RemoteOverride")
    lines[1][1].write(True)  # the contactor closes at last
    st.feedback_changed(1, True)
    assert events[2:] == [("fault", 1, False), ("status", 1, True, False)]  # late, but our switch


def started_with_faults(tmp_path):
    """A started station, its lines, the clock and the list its fault events go to (whole)."""
    clock = LocalClock("2026-05-01T15:00:00")
    st, _, lines, _ = make(tmp_path, clock)
    faults = []
    st.subscribe(faults.append, ContactorFault)
    st.start()
    return st, lines, clock, faults


def test_the_fault_carries_what_was_switched_and_what_the_contact_says(tmp_path):
    st, lines, clock, faults = started_with_faults(tmp_path)
    stuck(lines, 2)
    st.override(2, "On")
    clock.advance_to("2026-05-01T15:00:05")
    assert [(f.contactor, f.active, f.info) for f in faults] == [
        (2, True, "contactor 2: switched on, feedback still off after 2 s")]
    st.override(2, "On")  # asked again: already failing, no second fault
    clock.advance_to("2026-05-01T15:00:10")
    assert len(faults) == 1
    st.override(2, "Off")  # the output now agrees with the stuck contact: the switch is fine again
    clock.advance_to("2026-05-01T15:00:15")
    assert [(f.contactor, f.active) for f in faults] == [(2, True), (2, False)]


def test_an_unreadable_contact_is_a_failing_power_switch(tmp_path):
    st, _lines, clock, faults = started_with_faults(tmp_path)

    def gone():
        raise OSError("input board gone")

    st.contactors[3].feedback.get = gone
    st.override(3, "On")
    clock.advance_to("2026-05-01T15:00:05")
    assert [f.info for f in faults] == ["contactor 3: feedback unreadable (input board gone)"]


def test_no_check_without_a_timeout_or_under_a_local_switch_that_holds(tmp_path):
    clock = LocalClock("2026-05-01T15:00:00")
    st, events, lines, _ = make(tmp_path, clock)
    st.feedback_timeout = lambda: 0
    st.start()
    stuck(lines, 1)
    st.override(1, "On")
    clock.advance_to("2026-05-01T15:10:00")
    assert not [e for e in events if e[0] == "fault"]

    clock = LocalClock("2026-05-01T15:00:00")
    st, events, lines, _ = make(tmp_path / "hold", clock, local_action="hold")
    st.start()
    stuck(lines, 1)
    st.override(1, "On")
    st.local_switch_changed(True)  # the switch beside the relays rules before the check is due
    clock.advance_to("2026-05-01T15:10:00")
    assert not [e for e in events if e[0] == "fault"]


def test_a_contact_that_disagrees_at_start_is_judged_after_the_timeout(tmp_path):
    clock = LocalClock("2026-05-01T15:00:00")
    st, _, lines, _ = make(tmp_path, clock)
    st.start()
    st.override(4, "On")
    st.stop()
    lines[4][1].write(False)  # while the daemon was down the contact dropped and stays so
    stuck(lines, 4)
    st, events, lines, _ = make(tmp_path, clock)
    stuck(lines, 4)
    st.start()
    assert events == [("status", 4, False, True)]  # what it does now, reported at start
    clock.advance_to("2026-05-01T15:00:03")
    assert events[1:] == [("fault", 4, True)]
