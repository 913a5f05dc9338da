"""One fake clock for the tests: time moves only when the test moves it, and the timers set on it fire in
order, each at its own time, on the way.

`now` is the monotonic time: time(), or the clock called (what the streetlights' Control and the session store read).
wall() is `now + skew`: a wall clock that the test can set apart from the monotonic one, as NTP after a
boot at 1970 or an operator's `date -s` do (what the OS3P core reads for timestamps).
"""


class FakeClock:
    def __init__(self, now=1000.0, skew=1_800_000_000.0):
        self.now = now
        self.skew = skew
        self.timers = []

    def time(self):
        return self.now

    def __call__(self):
        return self.now

    def wall(self):
        return self.skew + self.now

    def daemon_clock(self):
        """The daemon's clock (bridge.clock.Clock: the central system's time is kept there) over this one."""
        from bridge.clock import Clock

        return Clock(self.time, self.wall)

    def call_later(self, delay, fn, *args):
        t = Timer(self.now + delay, fn, args)
        self.timers.append(t)
        return t

    def run(self, seconds):
        """Move the clock on by seconds, firing every due timer in order."""
        self.advance_until(self.now + seconds)

    def advance_until(self, end):
        """Move the clock to `end`, firing every timer due by then in order (what the loop does)."""
        while True:
            due = sorted((t for t in self.timers if not t.cancelled and t.when <= end), key=lambda t: t.when)
            if not due:
                break
            t = due[0]
            self.timers.remove(t)
            self.now = max(self.now, t.when)
            t.fn(*t.args)
        self.now = end

    def armed(self):
        return [t for t in self.timers if not t.cancelled]


class Timer:
    def __init__(self, when, fn, args=()):
        self.when, self.fn, self.args, self.cancelled = when, fn, args, False

    def cancel(self):
        self.cancelled = True
