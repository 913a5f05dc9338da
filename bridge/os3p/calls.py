"""Outbound CALLs, a part of the protocol core (protocol.py): one outstanding at a time, each with its
timeout; the BootNotification first, then direct calls (Heartbeat, triggered messages), then the
persistent outbox oldest first; before Accepted only early calls (Boot, triggered messages) go out.
A queued notification leaves the outbox on its CALLRESULT, or on a CALLERROR that is not transient."""

from collections import deque

from ..logger import getLogger
from . import errors, framing
from .messages import validate
from .outputs import Send

log = getLogger(__name__)

# a CALLERROR with one of these codes for a queued notification may be transient: retry a few times
RETRYABLE = {errors.INTERNAL_ERROR, errors.GENERIC_ERROR}
MAX_ATTEMPTS = 3
MAX_DIRECT = 64  # direct calls waiting their turn (heartbeats, triggered messages); more are refused


class OutCall:
    __slots__ = ("id", "action", "payload", "on_done", "early", "queued")

    def __init__(self, id, action, payload, on_done=None, early=False, queued=False):
        self.id = id
        self.action = action
        self.payload = payload
        self.on_done = on_done  # (payload | None, error | None) -> None
        self.early = early  # may go out before the central system has Accepted us
        self.queued = queued


def _trigger_key(action, payload):
    return action, payload.get("contactorId") if isinstance(payload, dict) else None


class Calls:
    """The outbound CALLs. Its state: the direct calls waiting their turn, the one outstanding, the
    CALLERRORs each queued notification met."""

    def __init__(self, core, settings, deadlines, outbox, ids):
        self.core = core  # core.machine (may a call go now?), core.session (its progress), core.sync_clock, core.emit
        self.settings = settings
        self.deadlines = deadlines
        self.outbox = outbox  # the persistent queue (outbox.Outbox): put, head, remove, in_flight
        self.ids = ids
        self.direct = deque()  # calls not persisted, waiting for their turn
        self.pending = None  # the one outstanding CALL
        self.attempts = {}  # queued message id -> CALLERRORs seen
        self.sent = 0

    def call(self, action, payload, on_done=None, early=False, first=False):
        """Send a direct (not persisted) CALL when its turn comes; on_done(payload, error) follows."""
        errs = validate(action + ".req", payload)
        if errs:
            log.error("not sending an invalid %s: %s", action, errs)
            if on_done:
                on_done(None, "invalid payload")
            return
        if not first and len(self.direct) >= MAX_DIRECT:  # (the BootNotification always goes)
            log.warning("%s not sent: %d calls already wait for the central system to answer", action,
                        len(self.direct))
            if on_done:
                on_done(None, "queue full")
            return
        oc = OutCall(self.ids(), action, payload, on_done, early=early)
        if first:
            self.direct.appendleft(oc)
        else:
            self.direct.append(oc)

    def trigger(self, action, payload):
        """A message a TriggerMessage asked for: direct, allowed while Pending. One of the same kind
        (and contactor) still waiting is brought up to date instead: a central system that triggers
        faster than it answers cannot grow the queue."""
        key = _trigger_key(action, payload)
        for oc in self.direct:
            if oc.early and _trigger_key(oc.action, oc.payload) == key:
                if not validate(action + ".req", payload):
                    oc.payload = payload
                return
        self.call(action, payload, early=True)

    def notify(self, action, payload):
        """Persist a notification, then send it when its turn comes (after the event at hand)."""
        errs = validate(action + ".req", payload)
        if errs:
            log.error("not queueing an invalid %s: %s", action, errs)
            return None
        return self.outbox.put(action, payload)

    def idle(self):
        """Nothing outstanding and nothing queued: what a session waits for before it succeeds."""
        return self.pending is None and not len(self.outbox)

    def pump(self):
        """Send the next call, if the link and the one-outstanding rule allow it."""
        link = self.core.machine
        if not link.connected or self.pending is not None:
            return
        accepted = link.accepted
        for oc in self.direct:
            if accepted or oc.early:
                self.direct.remove(oc)
                self._send(oc)
                return
        if not accepted or "outbox-hold" in self.deadlines:
            return
        head = self.outbox.head()
        if head is not None:
            self.outbox.in_flight = head["id"]
            self._send(OutCall(head["id"], head["action"], head["payload"], queued=True))

    def _send(self, oc):
        self.pending = oc
        self.sent += 1
        self.deadlines.at("call", self.settings.call_timeout, self._timeout, oc)
        self.core.emit(Send(framing.call(oc.id, oc.action, oc.payload), None))

    def _timeout(self, oc):
        if self.pending is not oc:
            return
        log.warning("%s %s: no answer within %s s", oc.action, oc.id, self.settings.call_timeout)
        self._complete(oc, None, "timed out")

    def response(self, msg):
        """A CALLRESULT or CALLERROR from the central system."""
        oc = self.pending
        if oc is None or oc.id != msg.id:
            log.info("ignored a response to no outstanding call (%s)", msg.id)
            return
        self.deadlines.cancel("call")
        if isinstance(msg, framing.CallErrorMessage):
            self._complete(oc, None, "%s %s" % (msg.code, msg.description), code=msg.code)
            return
        errs = validate(oc.action + ".resp", msg.payload)
        if errs and not oc.queued:
            log.warning("invalid %s response %r: %s", oc.action, msg.payload, errs)
            self._complete(oc, None, "invalid response")
            return
        if errs:  # a notification was answered: delivered, whatever the answer looks like
            log.info("%s answered with an unexpected payload %r", oc.action, msg.payload)
        self._complete(oc, msg.payload, None)

    def _complete(self, oc, payload, error, code=None):
        self.pending = None
        self.core.session.progress()  # an answer, of any kind: the session's deadline moves on
        if oc.queued:
            self._queued_done(oc, error, code)
        elif oc.on_done is not None:
            try:
                oc.on_done(payload, error)
            except Exception:
                log.exception("handling the answer to %s failed", oc.action)
        if oc.action == "Heartbeat" and payload:
            self.core.sync_clock(payload.get("currentTime"))

    def _queued_done(self, oc, error, code):
        if self.outbox.in_flight == oc.id:
            self.outbox.in_flight = None
        if error is None:
            self.outbox.remove(oc.id)
            self.attempts.pop(oc.id, None)
            return
        n = self.attempts[oc.id] = self.attempts.get(oc.id, 0) + 1
        if code is not None and (code not in RETRYABLE or n >= MAX_ATTEMPTS):
            # the central system answered (delivered) but refuses it; resending the same bytes cannot help
            log.error("%s %s refused by the central system (%s); dropped from the outbox", oc.action, oc.id, error)
            self.outbox.remove(oc.id)
            self.attempts.pop(oc.id, None)
            self.core.session.fail("%s refused: %s" % (oc.action, error))  # a CALLERROR is no CALLRESULT
            return
        delay = min(self.settings.call_timeout, 2 ** n)
        log.warning("%s %s: %s; retrying in %s s", oc.action, oc.id, error, delay)
        self.deadlines.at("outbox-hold", delay, lambda: None)
        self.core.session.fail("%s not delivered: %s" % (oc.action, error))

    def fail_all(self, reason):
        """The link went down: every direct call waiting, and the one outstanding, fails with `reason`."""
        self.deadlines.cancel("call", "outbox-hold")
        calls = list(self.direct)
        self.direct.clear()
        if self.pending is not None:
            calls.insert(0, self.pending)
            self.pending = None
        self.outbox.in_flight = None
        for oc in calls:
            if oc.on_done is not None and not oc.queued:
                try:
                    oc.on_done(None, reason)
                except Exception:
                    log.exception("handling the failure of %s failed", oc.action)
