"""The tr069 session mapping, a part of the protocol core (protocol.py).

  session = connect if needed + BootNotification if due + the messages its events map to
            (messages.EVENT_MESSAGES) + draining the persistent outbox; success when every one of them
            got its CALLRESULT. A failed session's events are retried by the tr069 object (its backoff).
"""


from ..logger import getLogger
from .messages import ACCUMULATING, QUEUED, messages_for
from .outputs import SessionDone, event

log = getLogger(__name__)


class Session:
    def __init__(self, events):
        self.events = events
        self.messages = messages_for(events)
        self.force_boot = "BootNotification" in self.messages
        self.outstanding = 0
        self.started = False  # its own messages were sent


class SessionDriver:
    """The tr069 session driver part of Protocol (a mixin: the state lives on the Protocol object)."""

    @event
    def start_session(self, events, get_rpc_methods=False):
        if get_rpc_methods:
            log.debug("GetRPCMethods has no OS3P counterpart; the session sends its events' messages only")
        if self.session is not None:  # the tr069 object serialises sessions; be safe anyway
            log.warning("a new session replaces one still open")
        s = self.session = Session(events)
        for m in s.messages:
            if m in QUEUED:
                self._queue_snapshot(m)
        if s.force_boot:
            self.force_boot = True
        self._at("session", self._session_timeout(), self._finish_session, False, "timed out")
        if not self.connected:
            # connect now only when no attempt is under way or scheduled: a session must not shortcut the backoff
            if self.link is None and "reconnect" not in self._deadlines:
                self._connect_soon()
            return
        self._session_step()

    def _queue_snapshot(self, action):
        """A session's notification of the current state. One event, one notification: while one of the
        same action is still in the outbox (in flight or not), a retried session does not add another.
        An accumulating one (value changes) carries only what is new, so it is queued each time."""
        if action not in ACCUMULATING and any(r["action"] == action for r in self.outbox.records()):
            return
        produce = self.context.snapshot if self.context is not None else None
        payload = produce(action) if produce else None
        if payload is not None and self.notify(action, payload) is None and action in ACCUMULATING:
            self.context.unsent(action, payload)  # the outbox refused it (a full disk): it waits again

    def _session_timeout(self):
        return self.config.get("os3p.connect_timeout") + 4 * self.config.get("os3p.call_timeout")

    def _session_step(self):
        """Called whenever the registration state may let the session move on."""
        s = self.session
        if s is None or not self.connected:
            return
        if self.force_boot and not self.boot_in_flight and self.registration in ("Accepted", "Pending"):
            self._send_boot()  # a 1 BOOT session on a connection that is already registered
        if self.registration != "Accepted":
            return  # Pending: the next Boot answer decides (see _boot_done)
        if s.force_boot and (self.force_boot or self.boot_in_flight):
            return  # the forced BootNotification goes first
        if not s.started:
            s.started = True
            for m in s.messages:
                if m == "Heartbeat":
                    s.outstanding += 1
                    self._call("Heartbeat", {}, self._session_call_done)

    def _session_call_done(self, payload, error):
        s = self.session
        if s is None:
            return
        s.outstanding -= 1
        if error is not None:
            self._finish_session(False, "a session message failed: %s" % (error,))

    def _check_session(self):
        s = self.session
        if s is not None and s.started and s.outstanding == 0 and not len(self.outbox) and self.pending is None:
            self._finish_session(True)

    def _fail_session(self, why):
        if self.session is not None:
            self._finish_session(False, why)

    def _finish_session(self, success, why=""):
        if self.session is None:
            return
        self.session = None
        self._cancel("session")
        if not success:
            log.warning("OS3P session failed: %s", why)
        self._emit(SessionDone(success))
