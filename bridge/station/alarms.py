"""The station's errors: which are active, and the StatusNotification content each change makes
(annex 6.6, tables 4-6). Pure: events in, payloads out; `iso(epoch)` formats timestamps.

- An error that starts: status Faulted, its errorCode, info naming its source (the indicator group, or
  the reading and its limit), timestamp = when it was detected, test: true when a test caused it.
- An error that ends: errorCode NoError, status Faulted while any other error is active and Ok
  otherwise, info = the spec's fixed "... resolved" text for the three indicator errors (table 5) and
  "<errorCode> resolved" for the others (the spec names none for them), timestamp = when it ended.

Thresholds turn readings into HighTemperature / UnderVoltage / OverVoltage; each clears once its reading
is back inside the limit by `hysteresis`, so a reading hovering at the limit does not flap.
"""

RESOLVED = {
    "MVFaultIndicatorError": "Indicator fault (MV) resolved",
    "OverCurrentFailure": "Over current error (MV) resolved",
    "GroundFailure": "Ground failure resolved",
}


class Alarms:
    def __init__(self, iso):
        self.iso = iso
        self.active = {}  # (code, source) -> (info, time, test)

    def faulted(self):
        return bool(self.active)

    def change(self, code, source, active, time, info=None, test=False):
        """-> the StatusNotification payload for this change, or None when nothing changed."""
        key = (code, source)
        if active:
            self.active[key] = (info if info is not None else source, time, test)
            payload = {"status": "Faulted", "errorCode": code, "info": self.active[key][0][:128],
                       "timestamp": self.iso(time)}
        else:
            if key not in self.active:
                return None
            _info, _t, test = self.active.pop(key)
            payload = {"status": "Faulted" if self.active else "Ok", "errorCode": "NoError",
                       "info": RESOLVED.get(code, "%s resolved" % code), "timestamp": self.iso(time)}
        if test:
            payload["test"] = True
        return payload

    def snapshot(self, now):
        """The current status (TriggerMessage StatusNotification): the latest active error, or Ok."""
        if not self.active:
            return {"status": "Ok", "errorCode": "NoError", "timestamp": self.iso(now)}
        (code, _source), (info, time, test) = max(self.active.items(), key=lambda kv: kv[1][1])
        payload = {"status": "Faulted", "errorCode": code, "info": info[:128], "timestamp": self.iso(time)}
        if test:
            payload["test"] = True
        return payload


TEMPERATURES = ("BoardTemperature", "OilTemperature", "AmbientTemperature")
VOLTAGES = ("Voltage.L1N", "Voltage.L2N", "Voltage.L3N")

# measurand -> (low, high): EN 50160's 230 V +-10 % for the phase voltages; a board's and a transformer's
# oil temperature alarm (ambient has no default: it depends on the site)
DEFAULT_LIMITS = {"Voltage.L1N": (207.0, 253.0), "Voltage.L2N": (207.0, 253.0), "Voltage.L3N": (207.0, 253.0),
                  "BoardTemperature": (None, 85.0), "OilTemperature": (None, 95.0)}


class Thresholds:
    """Readings -> threshold alarms: [(code, source, active, info)] for every change."""

    def __init__(self, limits=None, hysteresis=2.0):
        self.limits = dict(DEFAULT_LIMITS if limits is None else limits)
        self.hysteresis = float(hysteresis)
        self.active = set()  # (code, measurand)

    @staticmethod
    def code(measurand, high):
        if measurand in VOLTAGES or measurand.startswith("Voltage."):
            return "OverVoltage" if high else "UnderVoltage"
        if high and measurand in TEMPERATURES:
            return "HighTemperature"
        return None

    def check(self, readings):
        changes = []
        for measurand, _location, unit, value in readings:
            low, high = self.limits.get(measurand, (None, None))
            for limit, is_high in ((high, True), (low, False)):
                code = self.code(measurand, is_high)
                if limit is None or code is None:
                    continue
                key = (code, measurand)
                beyond = value > limit if is_high else value < limit
                back = value <= limit - self.hysteresis if is_high else value >= limit + self.hysteresis
                if key not in self.active and beyond:
                    self.active.add(key)
                    changes.append((code, measurand, True, "%s %s %s %s %s" % (
                        measurand, _num(value), unit or "", ">" if is_high else "<", _num(limit))))
                elif key in self.active and back:
                    self.active.discard(key)
                    changes.append((code, measurand, False, None))
        return changes


def _num(v):
    return ("%.2f" % v).rstrip("0").rstrip(".")


def threshold_problems(sections):
    """[(section name, option or None, why)] of the `config threshold` sections that do not hold."""
    rows = []
    for s in sections:
        if s[".type"] != "threshold":
            continue
        if "measurand" not in s:
            rows.append((s[".name"], None, "option measurand is missing"))
        for option in ("low", "high"):
            if s.get(option, ""):
                try:
                    float(s[option])
                except (TypeError, ValueError):
                    rows.append((s[".name"], option, "%s %r is not a number" % (option, s[option])))
    return rows


def limits_from_uci(sections, problems=None):
    """`config threshold` sections (measurand, low, high) over the defaults; '' removes a limit. A
    section that does not hold is left out (the defaults stay) and said in problems, if a list is given."""
    limits = dict(DEFAULT_LIMITS)
    bad = {name for name, _o, _w in threshold_problems(sections)}
    for s in sections:
        if s[".type"] != "threshold":
            continue
        if s[".name"] in bad:
            if problems is not None:
                problems.append(s[".name"])
            continue
        low, high = limits.get(s["measurand"], (None, None))
        if "low" in s:
            low = float(s["low"]) if s["low"] != "" else None
        if "high" in s:
            high = float(s["high"]) if s["high"] != "" else None
        limits[s["measurand"]] = (low, high)
    return limits