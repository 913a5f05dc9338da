"""The station's reachability state and the weak-signal alarm: pure, observations and time in, changes out.

The state (judge):
    data          an uplink (reach.interfaces, e.g. the WWAN) is up with an address, and the OS3P link is
                  registered (Accepted) or OS3P is not enabled here
    sms           not data, and the modem is registered on a network (home or roaming): it can receive an SMS
    disconnected  neither

Debounce (ReachabilityState): a new state becomes the state only once observations have said it for `hold`
seconds without interruption. Any observation of something else restarts that wait; an observation of the
current state drops the candidate. So a link that flaps ten times in a second gives no change at all when
it ends as it began, and one change, `hold` seconds after it settled, when it ends elsewhere. The change
carries the time it was first observed (the occurrence), not the time the wait ended.

WeakSignal: raised once when RSRP (or, where a technology has no RSRP, RSSI) falls below its threshold,
cleared once it is back above the threshold plus the hysteresis; an unknown signal changes nothing.
"""

DATA, SMS, DISCONNECTED = "data", "sms", "disconnected"
STATES = (DATA, SMS, DISCONNECTED)


def judge(uplink_up, modem, os3p_registered):
    """uplink_up: an uplink interface up with an address; modem: ModemInfo or None; os3p_registered: True,
    False, or None when OS3P is not enabled."""
    if uplink_up and os3p_registered is not False:
        return DATA
    if modem is not None and modem.registered:
        return SMS
    return DISCONNECTED


class Change:
    """A state change that lasted: from `old` to `new`, first observed at `time` (epoch seconds)."""

    __slots__ = ("old", "new", "time")

    def __init__(self, old, new, time):
        self.old, self.new, self.time = old, new, time

    def __repr__(self):
        return "Change(%s -> %s at %s)" % (self.old, self.new, self.time)


class ReachabilityState:
    def __init__(self, hold, state=None, since=None):
        """hold: seconds a new state must last; state, since: what was known before (a restart), or None."""
        self.hold = max(0.0, float(hold))
        self.state = state if state in STATES else None
        self.since = since if self.state is not None else None
        self.candidate = None  # (state, monotonic time first seen, wall time first seen)

    def observe(self, raw, mono, wall):
        """One observation; a Change when it is the first one ever (old None) or when hold is 0."""
        if raw not in STATES:
            raise ValueError("not a reachability state: %r" % (raw,))
        if self.state is None:  # nothing known yet (first start): the first observation is the state
            self.state, self.since = raw, wall
            return None
        if raw == self.state:
            self.candidate = None
            return None
        if self.candidate is None or self.candidate[0] != raw:
            self.candidate = (raw, mono, wall)
        return self.tick(mono)

    def deadline(self):
        """Monotonic time at which the candidate becomes the state, or None."""
        return None if self.candidate is None else self.candidate[1] + self.hold

    def tick(self, mono):
        """The Change due by `mono`, or None."""
        if self.candidate is None or mono < self.candidate[1] + self.hold:
            return None
        new, _, wall = self.candidate
        change = Change(self.state, new, wall)
        self.state, self.since, self.candidate = new, wall, None
        return change


class WeakSignal:
    def __init__(self, rsrp_threshold, rssi_threshold, hysteresis, active=False):
        """Thresholds in dBm (None or 0: that measure is not judged); hysteresis in dB."""
        self.rsrp = rsrp_threshold or None
        self.rssi = rssi_threshold or None
        self.hysteresis = abs(float(hysteresis))
        self.active = active

    def measure(self, modem):
        """(name, value, threshold) of the measure judged for this modem, or None."""
        if modem is None:
            return None
        if modem.rsrp is not None and self.rsrp is not None:
            return "RSRP", modem.rsrp, self.rsrp
        if modem.rsrp is None and modem.rssi is not None and self.rssi is not None:
            return "RSSI", modem.rssi, self.rssi
        return None

    def update(self, modem):
        """-> (active, info) when the alarm is raised or cleared by this reading, else None."""
        m = self.measure(modem)
        if m is None:
            return None
        name, value, threshold = m
        if not self.active and value < threshold:
            self.active = True
            return True, "%s %g dBm below %g dBm" % (name, value, threshold)
        if self.active and value >= threshold + self.hysteresis:
            self.active = False
            return False, "%s %g dBm" % (name, value)
        return None
