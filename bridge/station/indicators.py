"""Medium-voltage fault indicators: fault episodes, test and reset. Pure logic: input levels and time
in, fault events and output commands out (no GPIO, no clock, no protocol here).

A group is one indicator (an "opto"): inputs for over-current, ground failure (optional) and the
indicator's own self-fault, and a test and a reset output. Real indicators latch a fault until they
are reset, so:

- an input that becomes active starts a fault episode (its event carries the detection time, and
  test=True while a test runs); an input that drops by itself ends it ("resolved");
- test(): every group's test output is pulsed; a group whose expected inputs have not tripped within
  `test_timeout` seconds is an MVFaultIndicatorError (test=True), kept until a later test trips it;
- reset(): every reset output is pulsed; after `settle` seconds each input is looked at again: a fault
  whose input dropped is resolved, one whose input is still active re-enters the fault state and is
  reported again as a new episode (spec annex 7.9), without a "resolved" in between.

Events are (code, active, group, test, time); commands are (group, "test"|"reset", level).
"""

OVERCURRENT, GROUND, SELFFAULT = "overcurrent", "ground", "selffault"
INPUTS = (OVERCURRENT, GROUND, SELFFAULT)
CODES = {OVERCURRENT: "OverCurrentFailure", GROUND: "GroundFailure", SELFFAULT: "MVFaultIndicatorError"}
TEST_FAILED = "testfailed"  # the episode of a group that did not trip in a test (MVFaultIndicatorError)


class Group:
    __slots__ = ("name", "inputs", "trips")

    def __init__(self, name, inputs=INPUTS, trips=None):
        """inputs: the input kinds wired; trips: those a test must trip (default: over-current, and
        ground failure where wired: spec 7.11 "OverCurrentFailure and (optionally) GroundFailure")."""
        self.name = name
        self.inputs = tuple(inputs)
        self.trips = tuple(trips) if trips is not None else tuple(
            k for k in (OVERCURRENT, GROUND) if k in self.inputs)


class Event:
    __slots__ = ("code", "active", "group", "test", "time")

    def __init__(self, code, active, group, test, time):
        self.code, self.active, self.group, self.test, self.time = code, active, group, test, time

    def __repr__(self):
        return "Event(%s %s %s%s)" % (self.code, "on" if self.active else "off", self.group,
                                      " test" if self.test else "")

    def key(self):
        return self.code, self.group


class Indicators:
    def __init__(self, groups, test_timeout=10.0, pulse=1.0, settle=2.0):
        self.groups = {g.name: g for g in groups}
        self.test_timeout, self.pulse, self.settle = float(test_timeout), float(pulse), float(settle)
        self.level = {}  # (group, input) -> last level seen
        self.faults = {}  # (group, input or TEST_FAILED) -> Event that opened the episode
        self.testing = None  # deadline of the running test
        self.tripped = set()  # (group, input) that tripped during the running test
        self.resetting = None  # when the reset settles
        self.before_reset = {}
        self.pulses = []  # (off time, group, output)

    def configured(self):
        return bool(self.groups)

    def _open(self, key, code, now, test, events):
        ev = Event(code, True, key[0], test, now)
        self.faults[key] = ev
        events.append(ev)

    def _close(self, key, now, events):
        ev = self.faults.pop(key)
        events.append(Event(ev.code, False, ev.group, ev.test, now))

    # --- inputs --------------------------------------------------------------------------------------
    def inputs(self, now, levels):
        """levels: {(group, input): bool}, all or some of them. -> events."""
        events = []
        for key, on in levels.items():
            if key[0] not in self.groups or key[1] not in INPUTS:
                continue
            was = self.level.get(key, False)
            self.level[key] = on
            if on == was or self.resetting is not None:
                continue  # a reset is settling: judged when it has
            if on:
                if self.testing is not None and key[1] != SELFFAULT:
                    self.tripped.add(key)
                if key not in self.faults:
                    self._open(key, CODES[key[1]], now, self.testing is not None and key[1] != SELFFAULT,
                               events)
            elif key in self.faults:
                self._close(key, now, events)
        return events

    # --- test and reset ------------------------------------------------------------------------------
    def alarmed(self):
        """Any indicator in alarm state (a fault or a test), which refuses a new test (table 19)."""
        return self.testing is not None or any(k[1] in (OVERCURRENT, GROUND) for k in self.faults)

    def test(self, now):
        """-> (status, commands): Accepted | RejectedAlreadyFaulted | Rejected (no indicator)."""
        if not self.groups:
            return "Rejected", []
        if self.alarmed() or self.resetting is not None:
            return "RejectedAlreadyFaulted", []
        self.testing = now + self.test_timeout
        self.tripped = set()
        return "Accepted", self._pulse(now, "test")

    def reset(self, now):
        """-> (status, commands): Accepted | Rejected (no indicator)."""
        if not self.groups:
            return "Rejected", []
        self.testing = None  # a reset ends a test in progress
        self.before_reset = {k: ev for k, ev in self.faults.items() if k[1] != TEST_FAILED}
        self.resetting = now + self.pulse + self.settle
        return "Accepted", self._pulse(now, "reset")

    def _pulse(self, now, output):
        commands = []
        for name in self.groups:
            self.pulses.append((now + self.pulse, name, output))
            commands.append((name, output, True))
        return commands

    def deadline(self):
        times = [t for t, _g, _o in self.pulses]
        times += [t for t in (self.testing, self.resetting) if t is not None]
        return min(times) if times else None

    def tick(self, now):
        """-> (events, commands) for what is due at `now`."""
        events, commands = [], []
        due = [p for p in self.pulses if p[0] <= now]
        self.pulses = [p for p in self.pulses if p[0] > now]
        commands += [(g, o, False) for _t, g, o in due]
        if self.testing is not None and now >= self.testing:
            self.testing = None
            for name, group in self.groups.items():
                key = (name, TEST_FAILED)
                failed = any((name, k) not in self.tripped for k in group.trips)
                if failed and key not in self.faults:
                    self._open(key, CODES[SELFFAULT], now, True, events)
                elif not failed and key in self.faults:
                    self._close(key, now, events)
        if self.resetting is not None and now >= self.resetting:
            self.resetting = None
            for key, ev in self.before_reset.items():
                if key in self.faults and self.faults[key] is ev and not self.level.get(key):
                    self._close(key, now, events)
            for key, on in sorted(self.level.items()):
                if on and (key not in self.faults or key in self.before_reset):
                    self._open(key, CODES[key[1]], now, False, events)  # the cause persists: again
            self.before_reset = {}
        return events, commands

    def state(self):
        """For status pages: per group, its inputs and open faults."""
        out = {}
        for name, group in self.groups.items():
            out[name] = {
                "inputs": {k: self.level.get((name, k), False) for k in group.inputs},
                "faults": sorted({ev.code for key, ev in self.faults.items() if key[0] == name}),
            }
        return {"groups": out, "testing": self.testing is not None, "resetting": self.resetting is not None}
