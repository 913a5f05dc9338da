"""Progress of file transfers (firmware downloads, uploads): bytes done and total, attempts, state.

A transfer's worker thread updates its Progress; the state view reads it (plain attribute reads and
writes: no lock needed for a view that is a snapshot). Progress is logged at info level at every 10 %
of a known size, or every 1 MiB when the server sends no size. The last transfer of each name stays
visible after it ends, so `tr069-bridge state` still shows how the last one went.
"""

import time

from .logger import getLogger
from .redact import redact

log = getLogger(__name__)

UNKNOWN_SIZE_STEP = 1 << 20
_CURRENT = {}  # name -> Progress (one per name: a new transfer of that name replaces the last)


class Progress:
    def __init__(self, name, url, attempts=1, clock=time.time, logger=log):
        self.name = name
        self.url = redact(url)  # never a password
        self.attempts = max(1, attempts)
        self.attempt = 0
        self.state = "waiting"
        self.done = 0
        self.total = None
        self.error = None
        self.clock = clock
        self.started = clock()
        self.log = logger
        self._next_mark = 0

    def begin_attempt(self):
        self.attempt += 1
        self.state = "running"
        self.done = 0
        self.total = None
        self._next_mark = 1

    def sized(self, total):
        """The size the server announced for this attempt (None or 0: unknown)."""
        self.total = total if total and total > 0 else None

    def add(self, n):
        self.done += n
        if self.total:
            mark = min(10, self.done * 10 // self.total)
            if mark >= self._next_mark:
                self._next_mark = mark + 1
                self.log.info("%s: %d%% (%d of %d bytes)", self.name, mark * 10, self.done, self.total)
        elif self.done >= self._next_mark * UNKNOWN_SIZE_STEP:
            self._next_mark = self.done // UNKNOWN_SIZE_STEP + 1
            self.log.info("%s: %d bytes (size not announced)", self.name, self.done)

    def failed_attempt(self, reason):
        self.error = redact(reason)
        self.state = "retrying" if self.attempt < self.attempts else "failed"

    def finish(self, state="done", error=None):
        self.state = state
        if error is not None:
            self.error = redact(error)

    def view(self):
        percent = None
        if self.total:
            percent = min(100, self.done * 100 // self.total)
        return {"name": self.name, "url": self.url, "state": self.state, "bytes_done": self.done,
                "bytes_total": self.total, "percent": percent, "attempt": self.attempt, "attempts": self.attempts,
                "retries_left": max(0, self.attempts - max(self.attempt, 1)), "error": self.error}


def announced_size(headers):
    """Content-Length of an HTTP answer, None when absent or not a number."""
    try:
        return int(headers.get("Content-Length") or 0) or None
    except ValueError:
        return None


def start(name, url, attempts=1, **kwargs):
    """A new transfer named `name` (e.g. "firmware"), shown in the state view from now on."""
    p = _CURRENT[name] = Progress(name, url, attempts, **kwargs)
    return p


def current():
    return list(_CURRENT.values())


def forget_all():
    """A daemon starts with no transfers shown (one daemon per process; tests run several in turn)."""
    _CURRENT.clear()
