"""Fault injection: the wall clock steps under the streetlight schedule (NTP after a boot at 1970, date -s).

The Station reads the wall clock at each evaluation, and its timers run on the loop's monotonic clock, at
most GUARD apart: after a step forward or backward the lights follow the schedule for the new time within
GUARD, each switch made once (none lost, none doubled), and no timer waits for the old time.
"""

import pytest

from bridge.station import contactors as ct
from support.contactors import NIGHT, LocalClock, at, make, outputs


class SteppingClock(LocalClock):
    """The fake clock's timers, on monotonic time (its `now`); the wall clock the Station reads is `now + skew`."""

    def __init__(self, start):
        super().__init__(start)
        self.skew = 0.0

    def __call__(self):
        return self.wall()

    def call_later(self, delay, fn):
        assert 0.0 <= delay <= ct.GUARD  # a step can never leave a timer waiting for the old time
        return super().call_later(delay, fn)

    def step(self, text):
        self.skew = at(text) - self.now


@pytest.mark.parametrize("step_to, lit", [
    ("2026-05-01T21:30:00", True),    # forward past the evening switch-on
    ("2026-05-02T07:00:00", False),   # forward past the night altogether: nothing to do
    ("2026-04-30T15:00:00", False),   # a day back, still afternoon
    ("1970-01-01T22:00:00", True),    # back to 1970 at night: before validFrom, so no profile holds
])
def test_a_step_forward_or_back_is_followed_within_the_guard(tmp_path, step_to, lit):
    clock = SteppingClock("2026-05-01T15:00:00")
    st, events, lines, _ = make(tmp_path, clock)
    st.start()
    assert st.set_profiles(1, [NIGHT]) == ("Accepted", None)
    clock.run(600)
    assert events == []
    clock.step(step_to)
    clock.run(ct.GUARD)
    expected = lit and step_to >= "2026"
    assert outputs(lines)[1] is expected
    assert events == ([("status", 1, True, False)] if expected else [])


def test_a_step_back_across_a_switch_repeats_the_schedule_once_each_way(tmp_path):
    clock = SteppingClock("2026-05-01T19:50:00")
    st, events, lines, _ = make(tmp_path, clock)
    st.start()
    st.set_profiles(1, [NIGHT])
    clock.run(20 * 60)  # 20:10, on at 20:00 exactly
    assert events == [("status", 1, True, False)]
    clock.step("2026-05-01T19:30:00")  # back 40 minutes: the schedule says off again
    clock.run(ct.GUARD)
    assert events[1:] == [("status", 1, False, False)] and outputs(lines)[1] is False
    clock.run(30 * 60)  # 20:00 again: on, once
    assert events[2:] == [("status", 1, True, False)] and outputs(lines)[1] is True
    clock.run(60 * 60)
    assert len(events) == 3  # nothing doubled while the schedule holds
