"""bridge.timers on the fake clock: a name holds one timer, set again it replaces it, and once stopped
nothing is armed, not even by a callback that re-arms itself."""

from bridge.timers import Timers
from support.clock import FakeClock


def test_setting_a_name_again_replaces_its_timer_and_none_cancels_it():
    clock, fired = FakeClock(), []
    timers = Timers(clock.call_later)
    timers.set("poll", 5, lambda: fired.append("first"))
    timers.set("poll", 2, lambda: fired.append("second"))
    timers.set("tick", -1, lambda: fired.append("late"))  # a deadline already past: at once, not never
    assert len(clock.armed()) == 2 and "poll" in timers and sorted(timers) == ["poll", "tick"]
    clock.run(10)
    assert fired == ["late", "second"]
    timers.set("poll", 1, lambda: fired.append("third"))
    timers.set("poll", None, None)
    assert "poll" not in timers and clock.armed() == []


def test_a_callback_that_re_arms_itself_keeps_one_timer_until_stopped():
    clock, fired = FakeClock(), []
    timers = Timers(clock.call_later)

    def poll():
        timers.fired("poll")
        fired.append(clock.now)
        if len(fired) == 3:
            timers.stop()  # the component stops from inside a callback
        timers.set("poll", 1, poll)

    timers.set("poll", 1, poll)
    timers.set("expiry s1", 60, lambda: fired.append("expired"))
    clock.run(2.5)
    assert fired == [1001.0, 1002.0] and len(clock.armed()) == 2
    clock.run(10)
    assert fired == [1001.0, 1002.0, 1003.0]  # stopped: neither the re-arm nor the expiry ran
    assert clock.armed() == [] and list(timers) == []
