"""The day's extremes the spec's MeterValues table 1 names (DayMax.*, DayMin.*), from the samples.

Pure: samples in, values out; the caller gives the local day of an instant (the device's zone), so
that a day runs from local midnight to local midnight. Each aggregate follows one reading, at that
reading's location and in its unit (the unit travels with the value); a day without that reading has
none. "Total energy delivered during day" (DayMax.Energy.Active.Import.Register) is the register's
rise since the day's first sample, not a maximum: a register only counts up.
"""

from . import finite

# aggregate measurand -> (the reading it follows, how)
EXTREMES = {}
for _phase, _n in (("L1", "L1N"), ("L2", "L2N"), ("L3", "L3N")):
    EXTREMES["DayMax.Voltage.%s" % _phase] = ("Voltage.%s" % _n, "max")
    EXTREMES["DayMin.Voltage.%s" % _phase] = ("Voltage.%s" % _n, "min")
    EXTREMES["DayMax.Current.%s" % _phase] = ("Current.%s" % _phase, "max")
    for _kind in ("ActivePower", "ReactivePower"):
        EXTREMES["DayMax.%s.%s" % (_kind, _phase)] = ("%s.%s" % (_kind, _phase), "max")
        EXTREMES["DayMin.%s.%s" % (_kind, _phase)] = ("%s.%s" % (_kind, _phase), "min")
EXTREMES["DayMax.Energy.Active.Import.Register"] = ("Energy.Active.Import.Register", "rise")
del _phase, _n, _kind

FOLLOWED = {source for source, _how in EXTREMES.values()}



class DayExtremes:
    def __init__(self, day_of):
        """day_of(epoch) -> the local day (any value that compares equal within one day)."""
        self.day_of = day_of
        self.day = None
        self.seen = {}  # (measurand, location) -> [unit, low, high, first, last]

    def add(self, epoch, readings):
        """One sample's readings [(measurand, location, unit, value)]; a new day starts afresh."""
        day = self.day_of(epoch)
        if day != self.day:
            self.day, self.seen = day, {}
        for measurand, location, unit, value in readings:
            if measurand not in FOLLOWED or not finite(value):  # NaN/inf: no reading, never an extreme
                continue
            s = self.seen.get((measurand, location))
            if s is None:
                self.seen[(measurand, location)] = [unit, value, value, value, value]
            else:
                s[0], s[1], s[2], s[4] = unit, min(s[1], value), max(s[2], value), value

    def values(self, epoch):
        """[(aggregate, location, unit, value)] of the day `epoch` is in, in EXTREMES' order; nothing
        for a day no sample was added in (the day changed since)."""
        if self.day_of(epoch) != self.day:
            return []
        out = []
        for aggregate, (source, how) in EXTREMES.items():
            for (measurand, location), (unit, low, high, first, last) in self.seen.items():
                if measurand == source:
                    value = {"max": high, "min": low, "rise": last - first}[how]
                    out.append((aggregate, location, unit, value))
        return out
