"""Session bookkeeping: the last session, statistics and end-of-session actions, persisted.

Persisted with write_atomic after every change, so `status` tells the truth
after a restart or a power cut. A session found "running" at load time was cut
short by a crash or a reboot: it is counted as a failure.
"""

import time

from .atomic import is_number, load_json, StateFile, need
from .logger import getLogger

log = getLogger(__name__)

FIELDS = ("last_status", "last_start", "last_end", "success", "failure", "pending_events",
          "end_actions", "running_events")


class Sessions:
    def __init__(self, path, clock=time.time):
        self.path = path
        self.clock = clock
        self.file = StateFile(path, "session state", log)
        state = load_json(path, _fits, {})
        self.last_status = state.get("last_status", "N/A")
        self.last_start = state.get("last_start")
        self.last_end = state.get("last_end")
        self.success = state.get("success", 0)
        self.failure = state.get("failure", 0)
        self.pending_events = list(state.get("pending_events", []))  # events queued while a session ran
        self.end_actions = list(state.get("end_actions", []))  # e.g. "reload", "reboot"
        self.running_events = list(state.get("running_events", []))
        if self.last_status == "running":
            self.last_status = "failure"
            self.last_end = self.clock()
            self.failure += 1
            # what the interrupted session carried is not lost: it goes out with the next one
            self.pending_events = _add_once(list(self.running_events), self.pending_events)
            self.running_events = []
            self.save()

    @property
    def running(self):
        return self.last_status == "running"

    @property
    def total(self):
        return self.success + self.failure

    def save(self):
        """True when written. A full or read-only state directory is logged (once until it
        recovers), not raised: what is in memory stays right and the next save retries."""
        return self.file.write({k: getattr(self, k) for k in FIELDS})

    def begin(self, events):
        """Starts a session; False (and nothing changed) when its start cannot be saved."""
        before = {k: getattr(self, k) for k in FIELDS}
        self.last_status = "running"
        self.last_start = self.clock()
        self.last_end = None
        self.running_events = list(events)
        if self.save():
            return True
        for k, v in before.items():
            setattr(self, k, v)
        return False

    def end(self, success):
        self.last_status = "success" if success else "failure"
        self.last_end = self.clock()
        if success:
            self.success += 1
        else:
            self.failure += 1
            # a failed session's events are retried with the next session, as a CWMP client does
            _add_once(self.pending_events, self.running_events)
        self.running_events = []
        self.save()

    def queue_events(self, events):
        before = len(self.pending_events)
        if len(_add_once(self.pending_events, events)) != before:
            self.save()

    def take_pending(self):
        events, self.pending_events = self.pending_events, []
        return events

    def flag_end_action(self, action):
        before = len(self.end_actions)
        if len(_add_once(self.end_actions, [action])) != before:
            self.save()

    def take_end_actions(self):
        actions, self.end_actions = self.end_actions, []
        if actions:
            self.save()
        return actions


STATUSES = ("N/A", "running", "success", "failure")
MAX_COUNT = 2 ** 31 - 1  # status gives the statistics as blobmsg INT32


def _fits(state):
    """sessions.json's shape (atomic.load_json sets aside what does not fit)."""
    need(isinstance(state, dict), "not an object")
    need(state.get("last_status", "N/A") in STATUSES, "last_status")
    for k in ("last_start", "last_end"):
        need(state.get(k) is None or (is_number(state[k]) and state[k] >= 0), k)
    for k in ("success", "failure"):
        v = state.get(k, 0)
        need(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAX_COUNT, k)
    for k in ("pending_events", "end_actions", "running_events"):
        v = state.get(k, [])
        need(isinstance(v, list) and len(v) <= 64 and all(isinstance(x, str) and len(x) <= 64 for x in v), k)
    return state


def _add_once(items, new):
    """Append each of new not already in items (order kept); returns items."""
    for item in new:
        if item not in items:
            items.append(item)
    return items
