"""The OS3P core's timers as data: name -> (when, callback, args) on the monotonic clock it is given. The
core's parts each set and cancel their own names; tick() runs what is due, earliest first."""

MAX_WAIT = 7 * 86400  # seconds: the longest any timer of the core waits


class Deadlines:
    def __init__(self, time):
        self.time = time  # () -> monotonic seconds
        self._due = {}

    def at(self, name, delay, callback, *args):
        # no wait is longer than MAX_WAIT: a central system's interval of 10^400 s is a week, not an overflow
        self._due[name] = (self.time() + min(max(0.0, delay), MAX_WAIT), callback, args)

    def cancel(self, *names):
        for name in names:
            self._due.pop(name, None)

    def clear(self):
        self._due.clear()

    def __contains__(self, name):
        return name in self._due

    def when(self, name):
        """When `name` is due (monotonic seconds), None when it is not set."""
        entry = self._due.get(name)
        return None if entry is None else entry[0]

    def next(self):
        """The earliest deadline, None when nothing waits."""
        return min((d[0] for d in self._due.values()), default=None)

    def run_due(self):
        """Run every callback due by now, earliest first (one may set or cancel others)."""
        while True:
            now = self.time()
            due = [(d[0], name) for name, d in self._due.items() if d[0] <= now]
            if not due:
                return
            name = min(due)[1]
            _, callback, args = self._due.pop(name)
            callback(*args)
