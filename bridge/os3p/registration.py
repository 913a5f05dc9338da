"""The connection and the registration, a part of the protocol core (protocol.py): one state, and every
transition it may take as data (h11's _state.py is the model).

    state        the link                                              connection_state()
    OFFLINE      none; the next attempt may be scheduled (backoff)     init
    CONNECTING   an attempt under way (Connect given)                  init
    BOOTING      open, not registered: BootNotification due or sent    init
    PENDING      open, answered Pending: another BootNotification after the interval it gave
    ACCEPTED     open and registered: every call may go                up
    REJECTED     open, answered Rejected: closing; no attempt before the hold it gave ends

Events: connect (an attempt starts), opened, accepted / pending / rejected (a BootNotification's answer;
accepted also when nothing changed since the last Accepted, spec 5.5), closed (the connection ended or
the attempt failed). An event a state has no row for is a bug: LocalError.

Around the state: the reconnect backoff and its minimum spacing, the hold after Rejected, the
BootNotification (due when forced, not Accepted before, or its fields or the URL changed), the ping that
finds a dead peer, and when the link counts as stable (the backoff starts over).
"""

from ..backoff import Backoff
from ..logger import getLogger
from .outputs import Abort, Close, Connect, HeartbeatInterval, Ping

log = getLogger(__name__)

OFFLINE, CONNECTING, BOOTING, PENDING, ACCEPTED, REJECTED = (
    "offline", "connecting", "booting", "pending", "accepted", "rejected")

_ANSWERS = {"accepted": ACCEPTED, "pending": PENDING, "rejected": REJECTED, "closed": OFFLINE}
# (a BootNotification may be answered on any open link: a forced one, TriggerMessage, even while closing)
TRANSITIONS = {
    OFFLINE: {"connect": CONNECTING, "closed": OFFLINE},
    CONNECTING: {"opened": BOOTING, "closed": OFFLINE},
    BOOTING: _ANSWERS,
    PENDING: _ANSWERS,
    ACCEPTED: _ANSWERS,
    REJECTED: _ANSWERS,
}
LINK = {OFFLINE: None, CONNECTING: "connecting"}  # every other state: "open"
REGISTRATION = {PENDING: "Pending", ACCEPTED: "Accepted", REJECTED: "Rejected"}  # every other state: None


class LocalError(RuntimeError):
    """An event the state has no transition for: a bug of ours, never the peer's doing."""


class Registration:
    def __init__(self, core, settings, deadlines, memory, rand=None):
        self.core = core  # the other parts: core.calls, core.session; core.boot_fields(), what a Boot says
        self.settings = settings
        self.deadlines = deadlines
        self.memory = memory
        self.backoff = Backoff(0, 0, rand) if rand else Backoff(0, 0)
        self.state = OFFLINE
        self.stopped = False
        self.force_boot = False  # a BootNotification is owed on this link (a 1 BOOT session)
        self.boot_in_flight = False
        self.last_attempt = None
        self.hold_until = 0.0  # Rejected: no new attempt before this
        self.awaiting_pong = False
        self.stats = {"attempts": 0, "connected": 0, "pongs": 0}

    def _move(self, event):
        nxt = TRANSITIONS[self.state].get(event)
        if nxt is None:
            raise LocalError("OS3P link: %s while %s" % (event, self.state))
        self.state = nxt

    # --- what the other parts read ------------------------------------------------------------
    @property
    def link(self):
        return LINK.get(self.state, "open")

    @property
    def registration(self):
        return REGISTRATION.get(self.state)

    @property
    def connected(self):
        return self.link == "open"

    @property
    def accepted(self):
        return self.state == ACCEPTED

    def boot_owed(self):
        """A BootNotification must go (or is on its way) before the session's own messages."""
        return self.force_boot or self.boot_in_flight

    # --- connecting ---------------------------------------------------------------------------------
    def connect(self):
        if self.stopped or self.state != OFFLINE:
            return
        self.last_attempt = self.deadlines.time()
        self.stats["attempts"] += 1
        self._move("connect")
        self.core.emit(Connect())

    def connect_soon(self):
        """Start an attempt now, or as soon as the minimum spacing allows; not while Rejected holds, not
        when one is under way or scheduled (a session must not shortcut the backoff)."""
        if self.state != OFFLINE or "reconnect" in self.deadlines:
            return
        now = self.deadlines.time()
        if now < self.hold_until:
            return
        spacing = self.settings.reconnect_min
        delay = 0 if self.last_attempt is None else max(0.0, self.last_attempt + spacing - now)
        self.deadlines.at("reconnect", delay, self.connect)

    def _backoff(self):
        self.backoff.base = self.settings.reconnect_min
        self.backoff.cap = self.settings.reconnect_max
        return self.backoff.next()

    def settings_changed(self):
        """What the connection depends on changed (a reload): start afresh on a new one."""
        self.backoff.reset()
        if self.link is not None:
            self.core.emit(Abort("the connection settings changed"))

    def opened(self):
        self._move("opened")
        self.stats["connected"] += 1
        self.awaiting_pong = False
        self.schedule_ping()
        if self._boot_due():
            self.send_boot()
        else:
            # spec 5.5: nothing in the BootNotification changed since it was Accepted: carry on
            self._accepted()

    def closed(self, reason):
        """The link is down: its calls fail, the next attempt is scheduled. -> why, as a session failure
        says it (None once stopped)."""
        was_connected, was = self.connected, self.state
        self._move("closed")
        self.boot_in_flight = False
        self.deadlines.cancel("ping", "stable", "boot")
        self.core.calls.fail_all("connection closed: %s" % reason)
        if self.stopped:
            return None
        if was == REJECTED:
            reason, delay = "rejected by the central system", max(0.0, self.hold_until - self.deadlines.time())
        else:
            reason, delay = ("connection lost (%s)" if was_connected else "%s") % reason, None
        if not delay:
            delay = self._backoff()
        log.warning("OS3P connection: %s; next attempt in %.1f s", reason, delay)
        self.deadlines.at("reconnect", delay, self.connect)
        return reason

    def stop(self):
        self.stopped = True
        if self.link is not None:
            self.core.emit(Close())  # a close frame, so the central system sees a clean goodbye

    # --- ping / dead-peer detection -------------------------------------------------------------------
    def schedule_ping(self):
        self.deadlines.cancel("ping")
        interval = self.settings.ping_interval
        if self.connected and interval > 0:
            self.deadlines.at("ping", interval, self._ping_due)

    def _ping_due(self):
        if not self.connected:
            return
        if self.awaiting_pong:
            log.warning("no pong and no traffic for a whole ping interval: the connection is dead")
            self.core.emit(Abort("dead peer"))
            return
        self.awaiting_pong = True
        self.core.emit(Ping())
        self.schedule_ping()

    def pong(self):
        self.awaiting_pong = False
        self.stats["pongs"] += 1

    def traffic(self):
        self.awaiting_pong = False  # any traffic proves the peer alive

    # --- the BootNotification ---------------------------------------------------------------------------
    def _boot_due(self):
        record = self.memory.get("boot") or {}
        if self.force_boot or record.get("status") != "Accepted":
            return True
        # spec 3.2 and annex 3.1 notes: a changed field (a new firmware version) or a new URL means a new boot
        return record.get("fields") != self.core.boot_fields() or record.get("url") != self.settings.acs_url

    def request_boot(self):
        """A BootNotification now (TriggerMessage), unless one is on its way."""
        if self.connected and not self.boot_in_flight:
            self.send_boot()

    def send_boot(self):
        fields = self.core.boot_fields()
        url = self.settings.acs_url  # the central system it goes to: a reload may change acs.url before the answer
        self.force_boot = False
        self.boot_in_flight = True
        self.deadlines.cancel("boot")
        self.core.calls.call("BootNotification", fields, lambda p, e: self._boot_done(fields, url, p, e), early=True,
                             first=True)

    def _boot_done(self, fields, url, payload, error):
        self.boot_in_flight = False
        if not self.connected:
            return
        if error is not None:
            log.warning("BootNotification failed: %s", error)
            self.core.emit(Abort("BootNotification failed"))
            return
        status, interval = payload["status"], payload["interval"]
        self.core.sync_clock(payload.get("currentTime"))
        # recorded for the URL it was sent to: an answer that comes after a reload moved acs.url is not the new
        # central system's, which still gets its own BootNotification on the new link
        self.memory.put(boot={"fields": fields, "url": url, "status": status})
        log.info("BootNotification: %s (interval %s)", status, interval)
        if status == "Accepted":
            if interval > 0 and interval != self.settings.heartbeat_interval:
                self.core.emit(HeartbeatInterval(interval))
            self._accepted()
        elif status == "Pending":
            self._move("pending")
            self.deadlines.at("boot", interval if interval > 0 else self._backoff(), self._retry_boot)
            self.core.session.fail("the central system has not accepted us yet (Pending)")
        else:
            self._move("rejected")
            self.hold_until = self.deadlines.time() + (interval if interval > 0 else self._backoff())
            self.core.emit(Close())
            self.core.session.fail("rejected by the central system")

    def _retry_boot(self):
        if self.state == PENDING and not self.boot_in_flight:
            self.send_boot()

    def _accepted(self):
        self._move("accepted")
        self.hold_until = 0.0
        self.deadlines.at("stable", self.settings.stable_after, self.backoff.reset)
        self.core.session.step()
