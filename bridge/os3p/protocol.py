"""The OS3P protocol core: the Substation's side of the conversation, without sockets, threads or clocks.

Events go in as method calls: opened() / closed(reason) / received(text) / pong() for the connection,
tick() when the clock has moved, notify() / call() / trigger() / request_boot() from the actions, and
start_session(events) from the tr069 object. What to do comes out of take() as a list of outputs
(Send, Connect, Ping, Close, Abort, SessionDone, HeartbeatInterval), in order, and deadline() says when
tick() is due next. Time is read from the clock passed in (bridge.clock.Clock: time() monotonic, wall()
epoch, now() the central system's clock, which this core keeps: it restores the offset saved in its state
and syncs the clock with every currentTime); the tests drive it with a fake one. The supervisor (client.py) owns the sockets and the loop timers.

Here: time and deadlines, connecting and the backoff, registration (BootNotification), ping, reboots,
inbound dispatch to actions.ACTIONS. Two parts live beside it, one responsibility each: calls.py (the
outbound CALLs and the outbox order) and session.py (the tr069 session mapping); outputs.py names the
outputs.
"""

from collections import deque

from ..backoff import Backoff
from ..clock import utc_iso
from ..logger import getLogger
from . import errors, framing
from .calls import Calls
from .messages import parse_iso, validate
from .outputs import Abort, Close, Connect, HeartbeatInterval, Ping, Send, SessionDone, event  # noqa: F401
from .session import SessionDriver

log = getLogger(__name__)

MAX_WAIT = 7 * 86400  # seconds: the longest any timer of the core waits


class Protocol(Calls, SessionDriver):
    def __init__(self, config, clock, state, outbox, boot_fields, context=None, rand=None, ids=None):
        self.config = config
        self.clock = clock  # bridge.clock.Clock: time() monotonic, wall() the host's epoch, now() the central's
        self.state = state  # bridge.os3p.state.State
        self.outbox = outbox
        self.boot_fields = boot_fields  # () -> the BootNotification payload
        self.context = context  # what action handlers get (context.Context)
        self.wake = None  # called when output waits outside an event the caller handles
        self.ids = ids or framing.IdSource()
        self.backoff = Backoff(0, 0, rand) if rand else Backoff(0, 0)
        clock.offset = float(state.get("clock_offset", 0.0))  # until the first currentTime
        self.link = None  # None | "connecting" | "open"
        self.registration = None  # None | "Accepted" | "Pending" | "Rejected" on the current connection
        self.pending = None  # the one outstanding CALL
        self.direct = deque()  # calls not persisted, waiting for their turn
        self.session = None
        self.force_boot = False
        self.boot_in_flight = False
        self.last_attempt = None
        self.hold_until = 0.0  # Rejected: no new attempt before this
        self.awaiting_pong = False
        self.attempts = {}  # queued message id -> CALLERRORs seen
        self.stopped = False
        self.stats = {"attempts": 0, "connected": 0, "calls_sent": 0, "calls_received": 0,
                      "pongs": 0}
        self._deadlines = {}  # name -> (when, callback, args)
        self._out = []
        self._depth = 0

    # --- time ---------------------------------------------------------------------------------
    def now(self):
        """Epoch seconds on the central system's clock (we never set the system clock ourselves). Counted
        on the monotonic clock from the last currentTime, so a wall-clock jump (NTP, date -s) moves
        nothing; before one, the wall clock with the offset kept from the last run."""
        return self.clock.now()

    @property
    def clock_offset(self):
        return self.clock.offset

    def now_iso(self):
        return utc_iso(self.now())

    def deadline(self):
        """When tick() is due next (clock.time() seconds), None when nothing waits."""
        return min((d[0] for d in self._deadlines.values()), default=None)

    @event
    def tick(self):
        """The clock moved: run what is due, earliest first."""
        while True:
            now = self.clock.time()
            due = [(d[0], name) for name, d in self._deadlines.items() if d[0] <= now]
            if not due:
                return
            name = min(due)[1]
            _, callback, args = self._deadlines.pop(name)
            callback(*args)

    def _at(self, name, delay, callback, *args):
        # no wait is longer than MAX_WAIT: a central system's interval of 10^400 s is a week, not an overflow
        self._deadlines[name] = (self.clock.time() + min(max(0.0, delay), MAX_WAIT), callback, args)

    def _cancel(self, *names):
        for name in names:
            self._deadlines.pop(name, None)

    def take(self):
        """The outputs produced since the last take(), in order."""
        out, self._out = self._out, []
        return out

    def _emit(self, output):
        self._out.append(output)

    def _sync_clock(self, current_time):
        try:
            central = parse_iso(current_time)
        except (ValueError, TypeError, AttributeError):
            return
        previous = self.clock.offset
        offset = self.clock.sync(central)
        if abs(offset - previous) > 1.0:
            log.info("clock offset to the central system: %+.1f s", offset)
        if abs(self.state.get("clock_offset", 0.0) - offset) > 1.0:
            self.state.data["clock_offset"] = offset
            self.state.save()

    # --- reboots ------------------------------------------------------------------------------
    def expect_reboot(self):
        """Called before any reboot we cause (Reset, a flash, tr069's reboot_end_session)."""
        self.state.data["reboot_expected"] = True
        self.state.save()

    def reboot_cancelled(self):
        """The reboot announced with expect_reboot() will not come (a flash refused before it started)."""
        if self.state.data.pop("reboot_expected", None) is not None:
            self.state.save()

    @event
    def reboot_failed(self, reason):
        """A reboot we asked for failed: the next reboot is unexpected again, and the central system is told
        (StatusNotification ResetFailure), since it expects the device to come back with a new boot."""
        log.error("reboot failed: %s", reason)
        self.reboot_cancelled()
        self.notify("StatusNotification", {
            "status": "Ok", "errorCode": "ResetFailure", "info": ("reboot failed: %s" % reason)[:128],
            "vendorId": "tr069-bridge", "vendorErrorCode": "RebootFailed", "timestamp": self.now_iso()})

    @event
    def check_reboot(self, boot_id):
        """Spec annex 3.2: a reboot that was the result of unexpected behaviour must be reported with a
        StatusNotification. A changed boot id with no reboot of ours announced is such a reboot."""
        previous = self.state.get("boot_id")
        if boot_id is None or previous == boot_id:
            return
        if previous is not None and not self.state.get("reboot_expected"):
            log.warning("the device rebooted without being asked to: reporting it")
            self.notify("StatusNotification", {
                "status": "Ok", "errorCode": "OtherError", "info": "unexpected reboot",
                "vendorId": "tr069-bridge", "vendorErrorCode": "UnexpectedReboot", "timestamp": self.now_iso()})
        self.state.data["boot_id"] = boot_id
        self.state.data.pop("reboot_expected", None)
        self.state.save()

    # --- connecting ---------------------------------------------------------------------------
    @property
    def connected(self):
        return self.link == "open"

    def connection_state(self):
        return "up" if self.connected and self.registration == "Accepted" else "init"

    @event
    def start(self):
        self._connect()

    def _connect_soon(self):
        """Start an attempt now, or as soon as the minimum spacing allows; not while Rejected holds."""
        now = self.clock.time()
        if now < self.hold_until:
            return
        spacing = self.config.get("os3p.reconnect_min")
        delay = 0 if self.last_attempt is None else max(0.0, self.last_attempt + spacing - now)
        self._at("reconnect", delay, self._connect)

    def _connect(self):
        if self.stopped or self.link is not None:
            return
        self.last_attempt = self.clock.time()
        self.stats["attempts"] += 1
        self.link = "connecting"
        self._emit(Connect())

    def _backoff(self):
        self.backoff.base = self.config.get("os3p.reconnect_min")
        self.backoff.cap = self.config.get("os3p.reconnect_max")
        return self.backoff.next()

    @event
    def settings_changed(self):
        """What the connection depends on changed (a reload): start afresh on a new one."""
        self.backoff.reset()
        if self.link is not None:
            self._emit(Abort("the connection settings changed"))

    @event
    def opened(self):
        self.link = "open"
        self.stats["connected"] += 1
        self.registration = None
        self.awaiting_pong = False
        self._schedule_ping()
        if self._boot_due():
            self._send_boot()
        else:
            # spec 5.5: nothing in the BootNotification changed since it was Accepted: carry on
            self._accepted()

    @event
    def closed(self, reason):
        """The connection ended, or the attempt failed (reason says why)."""
        was_connected = self.connected
        self.link = None
        self.boot_in_flight = False
        registration, self.registration = self.registration, None
        self._cancel("ping", "stable", "boot", "call", "outbox-hold")
        self._fail_calls("connection closed: %s" % reason)
        if self.stopped:
            return
        if registration == "Rejected":
            reason, delay = "rejected by the central system", max(0.0, self.hold_until - self.clock.time())
        else:
            reason, delay = ("connection lost (%s)" if was_connected else "%s") % reason, None
        if not delay:
            delay = self._backoff()
        log.warning("OS3P connection: %s; next attempt in %.1f s", reason, delay)
        self._at("reconnect", delay, self._connect)
        self._fail_session(reason)

    @event
    def stop(self):
        self.stopped = True
        self._deadlines.clear()
        if self.link is not None:
            self._emit(Close())  # a close frame, so the central system sees a clean goodbye

    # --- ping / dead-peer detection ----------------------------------------------------------
    def _schedule_ping(self):
        self._cancel("ping")
        interval = self.config.get("os3p.ping_interval")
        if self.connected and interval > 0:
            self._at("ping", interval, self._ping_due)

    def _ping_due(self):
        if not self.connected:
            return
        if self.awaiting_pong:
            log.warning("no pong and no traffic for a whole ping interval: the connection is dead")
            self._emit(Abort("dead peer"))
            return
        self.awaiting_pong = True
        self._emit(Ping())
        self._schedule_ping()

    @event
    def pong(self):
        self.awaiting_pong = False
        self.stats["pongs"] += 1

    @event
    def config_changed(self, name):
        """A setting changed (ChangeConfiguration, a reload): act on the ones that matter now."""
        if name in (None, "os3p.ping_interval"):
            self._schedule_ping()
        if name == "acs.periodic_inform_interval":
            self._emit(HeartbeatInterval(None))

    # --- registration --------------------------------------------------------------------------
    def _boot_due(self):
        record = self.state.get("boot") or {}
        if self.force_boot or record.get("status") != "Accepted":
            return True
        # spec 3.2 and annex 3.1 notes: a changed field (a new firmware version) or a new URL means a new boot
        return record.get("fields") != self.boot_fields() or record.get("url") != self.config.get("acs.url")

    @event
    def request_boot(self):
        """A BootNotification now (TriggerMessage), unless one is on its way."""
        if self.connected and not self.boot_in_flight:
            self._send_boot()

    def _send_boot(self):
        fields = self.boot_fields()
        self.force_boot = False
        self.boot_in_flight = True
        self._cancel("boot")
        self._call("BootNotification", fields, lambda p, e: self._boot_done(fields, p, e), early=True, first=True)

    def _boot_done(self, fields, payload, error):
        self.boot_in_flight = False
        if not self.connected:
            return
        if error is not None:
            log.warning("BootNotification failed: %s", error)
            self._emit(Abort("BootNotification failed"))
            return
        status, interval = payload["status"], payload["interval"]
        self._sync_clock(payload.get("currentTime"))
        self.state.data["boot"] = {"fields": fields, "url": self.config.get("acs.url"), "status": status}
        self.state.save()
        log.info("BootNotification: %s (interval %s)", status, interval)
        if status == "Accepted":
            if interval > 0 and interval != self.config.get("acs.periodic_inform_interval"):
                self._emit(HeartbeatInterval(interval))
            self._accepted()
        elif status == "Pending":
            self.registration = "Pending"
            self._at("boot", interval if interval > 0 else self._backoff(), self._retry_boot)
            self._fail_session("the central system has not accepted us yet (Pending)")
        else:
            self.registration = "Rejected"
            self.hold_until = self.clock.time() + (interval if interval > 0 else self._backoff())
            self._emit(Close())
            self._fail_session("rejected by the central system")

    def _retry_boot(self):
        if self.connected and self.registration == "Pending" and not self.boot_in_flight:
            self._send_boot()

    def _accepted(self):
        self.registration = "Accepted"
        self.hold_until = 0.0
        self._at("stable", self.config.get("os3p.stable_after"), self.backoff.reset)
        self._session_step()

    # --- inbound ------------------------------------------------------------------------------------
    @event
    def received(self, text):
        """A text frame from the central system."""
        if not self.connected:
            return
        self.awaiting_pong = False  # any traffic proves the peer alive
        try:
            msg = framing.parse(text)
        except framing.FrameError as e:
            log.warning("malformed CALL %s: %s", e.id, e.description)
            self._emit(Send(framing.error(e.id, e.code, e.description), None))
            return
        if msg is None:
            log.info("ignored a message: %.200s", text)
        elif isinstance(msg, framing.Call):
            self._on_call(msg)
        else:
            self._on_response(msg)

    def _on_call(self, call):
        from . import actions  # imported when first needed: a router's RAM is counted in MiB

        self.stats["calls_received"] += 1
        handler = actions.ACTIONS.get(call.action)
        if handler is None:
            self._emit(Send(framing.error(call.id, errors.NOT_IMPLEMENTED, "unknown action %s" % call.action[:64]),
                            None))
            return
        request = actions.Request(self.context, call)
        try:
            errs = validate(call.action + ".req", call.payload)
            if errs:
                raise errors.from_schema_errors(errs)
            result = handler(request)
            bad = validate(call.action + ".resp", result)
            if bad:
                log.error("%s produced an invalid response %r: %s", call.action, result, bad)
                raise errors.CallError(errors.INTERNAL_ERROR, "internal error")
        except errors.CallError as e:
            log.info("%s %s answered %s: %s", call.action, call.id, e.code, e.description)
            self._emit(Send(framing.error(call.id, e.code, e.description, e.details), None))
            return
        except Exception:
            log.exception("%s %s failed", call.action, call.id)  # the traceback stays in our log
            self._emit(Send(framing.error(call.id, errors.INTERNAL_ERROR, "internal error"), None))
            return
        self._emit(Send(framing.result(call.id, result), request.after_sent))
