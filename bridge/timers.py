"""A component's timers on the loop, by name: a poll, a debounce, one expiry per subscription.

Setting a name again replaces its timer (the old one is cancelled first), so a callback that re-arms itself
never leaves two behind; stop() cancels them all and refuses new ones, so a callback already running while
the component stops cannot arm another."""


class Timers:
    def __init__(self, call_later):
        """call_later(delay, fn) -> a handle with cancel(): the loop's."""
        self.call_later = call_later
        self.pending = {}  # name -> the loop's handle
        self.stopped = False

    def set(self, name, delay, fn):
        """The timer `name` calls fn in delay seconds (0 if less), instead of what it called before; a delay
        of None only cancels it."""
        old = self.pending.pop(name, None)
        if old is not None:
            old.cancel()
        if delay is not None and not self.stopped:
            self.pending[name] = self.call_later(max(0.0, delay), fn)

    def cancel(self, name):
        self.set(name, None, None)

    def fired(self, name):
        """A timer's callback says it ran: it is no longer pending (nothing to cancel)."""
        self.pending.pop(name, None)

    def stop(self):
        self.stopped = True
        for name in list(self.pending):
            self.cancel(name)

    def __contains__(self, name):
        return name in self.pending

    def __iter__(self):
        return iter(list(self.pending))
