"""The host backend's station sensors (`make run`, tests): one MV fault-indicator group and a meter with
plausible, changing readings. Never used on a device: there nothing is simulated.

The indicator group's wiring is a small JSON file, <state>/simulation.json, that a person (or a test)
edits with `tr069-bridge simulate GROUP INPUT on|off`:

    {"MV1": {"overcurrent": false, "ground": false, "selffault": false, "broken": false, "persist": false}}

overcurrent/ground/selffault: the cause is there (the indicator trips on it); broken: the test output
does nothing (a test finds an MVFaultIndicatorError); persist: a reset does not clear the cause.
The indicator latches as a real one does: a trip stays until the reset output is pulsed.
"""

import json
import math
import os

from ..indicators import GROUND, OVERCURRENT, SELFFAULT

GROUP = "MV1"
FLAGS = (OVERCURRENT, GROUND, SELFFAULT, "broken", "persist")


def read_file(path):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def set_flag(path, group, flag, on):
    """What `tr069-bridge simulate` does: one flag of one group, written atomically."""
    from ...atomic import write_json

    if flag not in FLAGS:
        raise ValueError("%s is not one of %s" % (flag, ", ".join(FLAGS)))
    data = read_file(path)
    data.setdefault(group, {})[flag] = bool(on)
    write_json(path, data)
    return data


class SimulatedIndicators:
    """The indicator backend interface: groups, read() -> {(group, input): level}, output(group, name, on)."""

    def __init__(self, path, groups=(GROUP,)):
        self.path = path
        self.groups = list(groups)
        self.latched = {}  # (group, input) -> True: tripped and not reset yet
        self.stat = None
        self.flags = {}

    def _flags(self):
        try:
            st = os.stat(self.path)
            key = (st.st_mtime_ns, st.st_size)
        except OSError:
            key = None
        if key != self.stat:
            self.stat = key
            self.flags = read_file(self.path)
        return self.flags

    def read(self):
        flags = self._flags()
        levels = {}
        for g in self.groups:
            f = flags.get(g) or {}
            for kind in (OVERCURRENT, GROUND):
                if f.get(kind):
                    self.latched[(g, kind)] = True
                levels[(g, kind)] = bool(self.latched.get((g, kind)))
            levels[(g, SELFFAULT)] = bool(f.get(SELFFAULT))
        return levels

    def output(self, group, name, on):
        if not on:
            return
        f = self._flags().get(group) or {}
        if name == "test" and not f.get("broken"):
            self.latched[(group, OVERCURRENT)] = True
            self.latched[(group, GROUND)] = True
        elif name == "reset":
            for kind in (OVERCURRENT, GROUND):
                if not (f.get("persist") or f.get(kind)):
                    self.latched.pop((group, kind), None)

    def close(self):
        pass


class SimulatedMeter:
    """Readings that follow a day's load curve, with a little noise, as a substation meter would show."""

    def __init__(self, clock):
        self.clock = clock
        self.start = clock()

    def describe(self):
        return "simulated meter"

    def read(self):
        t = self.clock()
        day = (t % 86400) / 86400.0
        load = 0.55 + 0.35 * math.sin(2 * math.pi * (day - 0.3)) + 0.05 * math.sin(t / 97.0)
        out = []
        for i, phase in enumerate(("L1", "L2", "L3")):
            v = 230.0 + 2.5 * math.sin(t / 301.0 + i) - 4.0 * load
            a = 180.0 * load * (1 + 0.04 * i)
            out += [("Voltage.%sN" % phase, "", "V", round(v, 1)), ("Current.%s" % phase, "", "A", round(a, 1)),
                    ("ActivePower.%s" % phase, "", "W", round(v * a * 0.95))]
        out.append(("Frequency", "", "Hz", round(50.0 + 0.02 * math.sin(t / 53.0), 3)))
        energy = 1.2e6 + (t - 1.7e9) * 0.0347  # kWh, rising about 125 kWh an hour
        out.append(("Energy.Active.Import.Register", "", "kWh", round(energy, 1)))
        out.append(("OilTemperature", "", "Celsius", round(38.0 + 12.0 * load, 1)))
        return out

    def close(self):
        pass


class SimulatedBoard:
    def __init__(self, clock):
        self.clock = clock

    def describe(self):
        return "simulated board temperature"

    def read(self):
        return [("BoardTemperature", "", "Celsius", round(41.0 + 3.0 * math.sin(self.clock() / 600.0), 1))]

    def close(self):
        pass
