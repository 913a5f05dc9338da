"""The OS3P protocol core: the Substation's side of the conversation, without sockets, threads or clocks.

Events go in as method calls: opened() / closed(reason) / received(text) / pong() for the connection,
tick() when the clock has moved, notify() / call() / trigger() / request_boot() from the actions, and
start_session(events) from the tr069 object. What to do comes out of take() as a list of outputs
(Send, Connect, Ping, Close, Abort, SessionDone, HeartbeatInterval), in order, and deadline() says when
tick() is due next. Time is read from the clock passed in (clock.time() monotonic, clock.wall() epoch):
the tests drive it with a fake one. The supervisor (client.py) owns the sockets and the loop timers.

  session = connect if needed + BootNotification if due + the messages its events map to
            (messages.EVENT_MESSAGES) + draining the persistent outbox; success when every one of them
            got its CALLRESULT.

Outbound CALLs go one at a time (the OCPP-J rule), each with a timeout. Order of precedence: the
BootNotification, then direct calls (Heartbeat, triggered messages), then the outbox, oldest first.
Before the central system has Accepted us only BootNotification and TriggerMessage-requested messages go
out (spec annex 3.1, Pending).
"""

import logging
from collections import deque, namedtuple

from ..backoff import Backoff
from . import errors, framing
from .messages import QUEUED, messages_for, parse_iso, utc_iso, validate

log = logging.getLogger(__name__)

# outputs: what the supervisor does, in the order given
Send = namedtuple("Send", "text after")  # a text frame; after() once it is written (or None)
Connect = namedtuple("Connect", "")  # start a connection attempt; opened() or closed() follows
Ping = namedtuple("Ping", "")
Close = namedtuple("Close", "")  # a polite close frame; closed() follows
Abort = namedtuple("Abort", "why")  # drop the connection now; closed() follows
SessionDone = namedtuple("SessionDone", "success")  # the tr069 session ended
HeartbeatInterval = namedtuple("HeartbeatInterval", "seconds")  # keep it (None: reschedule only)

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


class Session:
    def __init__(self, events):
        self.events = events
        self.messages = messages_for(events)
        self.force_boot = "BootNotification" in self.messages
        self.outstanding = 0
        self.started = False  # its own messages were sent


def _trigger_key(action, payload):
    return action, payload.get("contactorId") if isinstance(payload, dict) else None


def _entry(method):
    """A public event: the outbox is pumped and the session checked once the event is handled."""

    def run(self, *args, **kwargs):
        self._depth += 1
        try:
            return method(self, *args, **kwargs)
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._pump()
                self._check_session()
                if self._out and self.wake is not None:
                    self.wake()

    run.__name__, run.__doc__ = method.__name__, method.__doc__
    return run


class Protocol:
    def __init__(self, config, clock, state, outbox, boot_fields, context=None, rand=None, ids=None):
        self.config = config
        self.clock = clock  # .time(): monotonic seconds; .wall(): epoch seconds
        self.state = state  # bridge.os3p.state.State
        self.outbox = outbox
        self.boot_fields = boot_fields  # () -> the BootNotification payload
        self.context = context  # what action handlers get (context.Context)
        self.wake = None  # called when output waits outside an event the caller handles
        self.ids = ids or framing.IdSource()
        self.backoff = Backoff(0, 0, rand) if rand else Backoff(0, 0)
        self.clock_offset = float(state.get("clock_offset", 0.0))
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
        """Epoch seconds on the central system's clock (we never set the system clock ourselves)."""
        return self.clock.wall() + self.clock_offset

    def now_iso(self):
        return utc_iso(self.now())

    def deadline(self):
        """When tick() is due next (clock.time() seconds), None when nothing waits."""
        return min((d[0] for d in self._deadlines.values()), default=None)

    @_entry
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
        self._deadlines[name] = (self.clock.time() + max(0.0, delay), callback, args)

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
            offset = parse_iso(current_time) - self.clock.wall()
        except (ValueError, TypeError, AttributeError):
            return
        if abs(offset - self.clock_offset) > 1.0:
            log.info("clock offset to the central system: %+.1f s", offset)
        self.clock_offset = offset
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

    @_entry
    def reboot_failed(self, reason):
        """A reboot we asked for failed: the next reboot is unexpected again, and the central system is told
        (StatusNotification ResetFailure), since it expects the device to come back with a new boot."""
        log.error("reboot failed: %s", reason)
        self.reboot_cancelled()
        self.notify("StatusNotification", {
            "status": "Ok", "errorCode": "ResetFailure", "info": ("reboot failed: %s" % reason)[:128],
            "vendorId": "tr069-bridge", "vendorErrorCode": "RebootFailed", "timestamp": self.now_iso()})

    @_entry
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

    @_entry
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

    @_entry
    def settings_changed(self):
        """What the connection depends on changed (a reload): start afresh on a new one."""
        self.backoff.reset()
        if self.link is not None:
            self._emit(Abort("the connection settings changed"))

    @_entry
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

    @_entry
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

    @_entry
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

    @_entry
    def pong(self):
        self.awaiting_pong = False
        self.stats["pongs"] += 1

    @_entry
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

    @_entry
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

    # --- the tr069 session driver ----------------------------------------------------------------
    @_entry
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
        same action is still in the outbox (in flight or not), a retried session does not add another."""
        if any(r["action"] == action for r in self.outbox.records()):
            return
        produce = self.context.snapshot if self.context is not None else None
        payload = produce(action) if produce else None
        if payload is not None:
            self.notify(action, payload)

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

    # --- outbound calls ---------------------------------------------------------------------------
    @_entry
    def call(self, action, payload, on_done=None, early=False):
        """Send a direct (not persisted) CALL when its turn comes; on_done(payload, error) follows."""
        self._call(action, payload, on_done, early)

    def _call(self, action, payload, on_done=None, early=False, first=False):
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

    @_entry
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
        self._call(action, payload, early=True)

    @_entry
    def notify(self, action, payload):
        """Persist a notification, then send it when its turn comes (after the event at hand)."""
        errs = validate(action + ".req", payload)
        if errs:
            log.error("not queueing an invalid %s: %s", action, errs)
            return None
        return self.outbox.put(action, payload)

    def _pump(self):
        if not self.connected or self.pending is not None:
            return
        accepted = self.registration == "Accepted"
        for oc in self.direct:
            if accepted or oc.early:
                self.direct.remove(oc)
                self._send_call(oc)
                return
        if not accepted or "outbox-hold" in self._deadlines:
            return
        head = self.outbox.head()
        if head is not None:
            self.outbox.in_flight = head["id"]
            self._send_call(OutCall(head["id"], head["action"], head["payload"], queued=True))

    def _send_call(self, oc):
        self.pending = oc
        self.stats["calls_sent"] += 1
        self._at("call", self.config.get("os3p.call_timeout"), self._call_timeout, oc)
        self._emit(Send(framing.call(oc.id, oc.action, oc.payload), None))

    def _call_timeout(self, oc):
        if self.pending is not oc:
            return
        log.warning("%s %s: no answer within %s s", oc.action, oc.id, self.config.get("os3p.call_timeout"))
        self._complete(oc, None, "timed out")

    def _on_response(self, msg):
        oc = self.pending
        if oc is None or oc.id != msg.id:
            log.info("ignored a response to no outstanding call (%s)", msg.id)
            return
        self._cancel("call")
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
        if self.session is not None:  # progress: the session's deadline moves on
            self._at("session", self._session_timeout(), self._finish_session, False, "timed out")
        if oc.queued:
            self._queued_done(oc, error, code)
        elif oc.on_done is not None:
            try:
                oc.on_done(payload, error)
            except Exception:
                log.exception("handling the answer to %s failed", oc.action)
        if oc.action == "Heartbeat" and payload:
            self._sync_clock(payload.get("currentTime"))

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
            self._fail_session("%s refused: %s" % (oc.action, error))  # a CALLERROR is no CALLRESULT
            return
        delay = min(self.config.get("os3p.call_timeout"), 2 ** n)
        log.warning("%s %s: %s; retrying in %s s", oc.action, oc.id, error, delay)
        self._at("outbox-hold", delay, lambda: None)
        self._fail_session("%s not delivered: %s" % (oc.action, error))

    def _fail_calls(self, reason):
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

    # --- inbound ------------------------------------------------------------------------------------
    @_entry
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
