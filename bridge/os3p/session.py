"""The tr069 sessions and the heartbeat, a part of the protocol core (protocol.py).

  session = connect if needed + BootNotification if due + the messages its events map to
            (messages.EVENT_MESSAGES) + draining the persistent outbox; success when every one of them
            got its CALLRESULT. A failed session's events are retried by the tr069 object (its backoff).

The periodic session (the Heartbeat, "2 PERIODIC") is due `acs.periodic_inform_interval` after the last
session ended (or after start, or a change of the interval): the core says so (SessionDue) and the tr069
object, which keeps the sessions' record, starts it; the core tells it when the next one is due
(NextSession), for its status.
"""


from ..logger import getLogger
from .messages import ACCUMULATING, QUEUED, messages_for
from .outputs import NextSession, SessionDone, SessionDue

log = getLogger(__name__)

PERIODIC = ["2 PERIODIC"]


class Session:
    def __init__(self, events):
        self.events = events
        self.messages = messages_for(events)
        self.force_boot = "BootNotification" in self.messages
        self.outstanding = 0
        self.started = False  # its own messages were sent


class Sessions:
    """The session under way (at most one: the tr069 object serialises them) and the heartbeat deadline."""

    def __init__(self, core, settings, deadlines, outbox, snapshot):
        self.core = core  # core.machine (connected? registered? the BootNotification), core.calls, core.emit
        self.settings = settings
        self.deadlines = deadlines
        self.outbox = outbox
        self.snapshot = snapshot  # action -> its current payload (messages.PRODUCERS), or None
        self.current = None
        self._told = None  # the NextSession last given

    def start(self, events, get_rpc_methods=False):
        if get_rpc_methods:
            log.debug("GetRPCMethods has no OS3P counterpart; the session sends its events' messages only")
        if self.current is not None:  # the tr069 object serialises sessions; be safe anyway
            log.warning("a new session replaces one still open")
        s = self.current = Session(events)
        for m in s.messages:
            if m in QUEUED:
                self._queue_snapshot(m)
        if s.force_boot:
            self.core.machine.force_boot = True
        self.deadlines.at("session", self._timeout(), self._finish, False, "timed out")
        if not self.core.machine.connected:
            self.core.machine.connect_soon()  # not when an attempt is under way or scheduled: no shortcut
            return
        self.step()

    def _queue_snapshot(self, action):
        """A session's notification of the current state. One event, one notification: while one of the
        same action is still in the outbox (in flight or not), a retried session does not add another.
        An accumulating one (value changes) carries only what is new, so it is queued each time."""
        if action not in ACCUMULATING and any(r["action"] == action for r in self.outbox.records()):
            return
        payload = self.snapshot(action)
        if payload is not None and self.core.calls.notify(action, payload) is None and action in ACCUMULATING \
                and self.core.context is not None:
            self.core.context.unsent(action, payload)  # the outbox refused it (a full disk): it waits again

    def _timeout(self):
        return self.settings.connect_timeout + 4 * self.settings.call_timeout

    def progress(self):
        """An answer came: the session's deadline moves on."""
        if self.current is not None:
            self.deadlines.at("session", self._timeout(), self._finish, False, "timed out")

    def step(self):
        """Called whenever the registration may let the session move on."""
        s, link = self.current, self.core.machine
        if s is None or not link.connected:
            return
        if link.force_boot and not link.boot_in_flight and link.registration in ("Accepted", "Pending"):
            link.send_boot()  # a 1 BOOT session on a connection that is already registered
        if not link.accepted:
            return  # Pending: the next Boot answer decides
        if s.force_boot and link.boot_owed():
            return  # the forced BootNotification goes first
        if not s.started:
            s.started = True
            for m in s.messages:
                if m == "Heartbeat":
                    s.outstanding += 1
                    self.core.calls.call("Heartbeat", {}, self._call_done)

    def _call_done(self, payload, error):
        s = self.current
        if s is None:
            return
        s.outstanding -= 1
        if error is not None:
            self._finish(False, "a session message failed: %s" % (error,))

    def check(self):
        """After every event: a session whose messages were all answered, with nothing left to send, is done."""
        s = self.current
        if s is not None and s.started and s.outstanding == 0 and self.core.calls.idle():
            self._finish(True)

    def fail(self, why):
        if self.current is not None:
            self._finish(False, why)

    def _finish(self, success, why=""):
        if self.current is None:
            return
        self.current = None
        self.deadlines.cancel("session")
        if not success:
            log.warning("OS3P session failed: %s", why)
        self.core.emit(SessionDone(success))
        self.schedule_heartbeat()  # the next periodic session counts from the end of this one

    # --- the heartbeat --------------------------------------------------------------------------------
    def schedule_heartbeat(self):
        """The next periodic session `acs.periodic_inform_interval` from now, or none when it is off."""
        self.deadlines.cancel("heartbeat")
        if self.settings.heartbeat_enabled and self.settings.heartbeat_interval > 0:
            self.deadlines.at("heartbeat", self.settings.heartbeat_interval, self._heartbeat_due)
        self._tell()

    def _heartbeat_due(self):
        self._tell()
        self.core.emit(SessionDue(PERIODIC))

    def _tell(self):
        at = self.deadlines.when("heartbeat")
        if at != self._told:
            self._told = at
            self.core.emit(NextSession(at))
