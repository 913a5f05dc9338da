"""Time, from one object: the composition root makes one Clock and passes it wherever time is needed.

    time()    monotonic seconds: deadlines and timeouts (the loop's clock; a step of the wall clock
              moves nothing counted on it)
    wall()    the host's epoch seconds: local schedules, what the host's own views show
    now()     epoch seconds on the central system's clock: every event a component publishes and every
              message timestamp. The host's clock plus the offset last measured, counted on the
              monotonic clock since the last sync, so that an NTP step or a `date -s` moves nothing.

The OS3P core keeps the central system's time: it restores the offset it saved at start (`offset`) and
calls sync() with every currentTime the central system sends. Without a central system now() is the host's
clock. We never set the system clock ourselves.

utc_iso() is the one UTC formatter (2027-01-15T08:00:00Z, whole seconds) of the messages and views.
"""

import time as _time


def utc_iso(epoch):
    """2027-01-15T08:00:00Z: whole seconds, UTC."""
    return _time.strftime("%Y-%m-%dT%H:%M:%SZ", _time.gmtime(epoch))


class Clock:
    def __init__(self, monotonic=_time.monotonic, wall=_time.time):
        self.time = monotonic
        self.wall = wall
        self.offset = 0.0  # the central system's clock minus the host's, as last measured (or restored)
        self._synced = None  # (the central system's epoch, time()) at the last sync

    def now(self):
        if self._synced is not None:
            return self._synced[0] + (self.time() - self._synced[1])
        return self.wall() + self.offset

    def now_iso(self):
        return utc_iso(self.now())

    def sync(self, central):
        """The central system says it is `central` (epoch seconds) now: count on from there. -> the offset
        to the host's clock it makes."""
        self._synced = (central, self.time())
        self.offset = central - self.wall()
        return self.offset
