"""The OS3P protocol core: the Substation's side of the conversation, without sockets, threads or files.

Events go in as method calls: opened() / closed(reason) / received(text) / pong() for the connection,
tick() when the clock has moved, notify() / call() / trigger() / request_boot() from the actions,
start_session(events) / session_refused() from the tr069 object, config_changed(name) from the
configuration. What to do comes out of take() as a list of outputs (outputs.py), in order, and
deadline() says when tick() is due next. The supervisor (client.py) owns the sockets and the loop timer.

What it is given, and nothing else: the settings it reads (settings.py), a clock (bridge.clock.Clock:
time() monotonic for deadlines, now() the central system's time, which this core keeps: it restores the
offset from its memory and syncs the clock with every currentTime), its memory (state.State: get(key),
put(key=value, ...)) and the outbox (outbox.Outbox), both persistent behind those methods, and what a
BootNotification says (boot_fields()). The tests drive it with a fake clock and files in a temporary
directory.

Its parts, each owning its state, called through their methods:
  registration  the link and the registration as a state machine (its TRANSITIONS table), reconnects,
                the BootNotification, ping
  calls         the outbound CALLs: one outstanding, the direct ones, the outbox order, answers, timeouts
  session       the tr069 session mapping and the heartbeat deadline
  deadlines     the timers, by name
Here: the events, inbound dispatch to actions.ACTIONS, the central system's clock, reboots.
"""

from ..clock import utc_iso
from ..logger import getLogger
from . import errors, framing
from .calls import Calls
from .deadlines import Deadlines
from .messages import parse_iso, validate
from .state import MAX_OFFSET
from .outputs import Abort, Close, Connect, HeartbeatInterval, NextSession, Ping, Send, SessionDone, SessionDue  # noqa: F401
from .registration import Registration
from .session import Sessions

log = getLogger(__name__)


def event(method):
    """A public event: once it is handled (the outermost one), the next call goes out if it may, a session
    that is done ends, and wake() is told of output produced outside the caller's own event."""

    def run(self, *args, **kwargs):
        self._depth += 1
        try:
            return method(self, *args, **kwargs)
        finally:
            self._depth -= 1
            if self._depth == 0:
                self.calls.pump()
                self.session.check()
                if self._out and self.wake is not None:
                    self.wake()

    run.__name__, run.__doc__ = method.__name__, method.__doc__
    return run


class Protocol:
    def __init__(self, settings, clock, memory, outbox, boot_fields, context=None, rand=None, ids=None):
        self.settings = settings  # settings.Settings: what the core reads of the configuration
        self.clock = clock
        self.memory = memory  # state.State: the boot record, the clock offset, the boot id, an announced reboot
        self.outbox = outbox
        self.boot_fields = boot_fields  # () -> the BootNotification payload
        self.context = context  # what action handlers get (context.Context)
        self.wake = None  # called when output waits outside an event the caller handles
        clock.offset = float(memory.get("clock_offset", 0.0))  # until the first currentTime
        self.deadlines = Deadlines(clock.time)
        self.machine = Registration(self, settings, self.deadlines, memory, rand)
        self.calls = Calls(self, settings, self.deadlines, outbox, ids or framing.IdSource())
        self.session = Sessions(self, settings, self.deadlines, outbox, self._snapshot)
        self.received_calls = 0
        self._out = []
        self._depth = 0

    # --- what the supervisor, the context and the state view read ---------------------------------------
    def emit(self, output):
        self._out.append(output)

    def take(self):
        """The outputs produced since the last take(), in order."""
        out, self._out = self._out, []
        return out

    def deadline(self):
        """When tick() is due next (clock.time() seconds), None when nothing waits."""
        return self.deadlines.next()

    @property
    def link(self):
        """None, "connecting" or "open"."""
        return self.machine.link

    @property
    def connected(self):
        return self.machine.connected

    @property
    def registration(self):
        return self.machine.registration

    def connection_state(self):
        return "up" if self.machine.accepted else "init"

    @property
    def state(self):  # what the handlers' context hands on (log uploads keep their status there)
        return self.memory

    @property
    def pending(self):
        return self.calls.pending

    @property
    def direct(self):
        return self.calls.direct

    @property
    def stats(self):
        return dict(self.machine.stats, calls_sent=self.calls.sent, calls_received=self.received_calls)

    def _snapshot(self, action):
        return self.context.snapshot(action) if self.context is not None else None

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

    @event
    def tick(self):
        """The clock moved: run what is due, earliest first."""
        self.deadlines.run_due()

    def sync_clock(self, current_time):
        """A currentTime from the central system (a BootNotification's or a Heartbeat's answer)."""
        try:
            central = parse_iso(current_time)
        except (ValueError, TypeError, AttributeError):
            return
        if abs(central - self.clock.wall()) > MAX_OFFSET:  # 0001-01-01, 9999-12-31: no timestamp could be written
            log.warning("BootNotification currentTime %.40s is more than a century from ours: ignored", current_time)
            return
        previous = self.clock.offset
        offset = self.clock.sync(central)
        if abs(offset - previous) > 1.0:
            log.info("clock offset to the central system: %+.1f s", offset)
        if abs(self.memory.get("clock_offset", 0.0) - offset) > 1.0:
            self.memory.put(clock_offset=offset)

    # --- reboots ------------------------------------------------------------------------------
    def expect_reboot(self):
        """Called before any reboot we cause (Reset, a flash, tr069's reboot_end_session)."""
        self.memory.put(reboot_expected=True)

    def reboot_cancelled(self):
        """The reboot announced with expect_reboot() will not come (a flash refused before it started)."""
        if self.memory.get("reboot_expected") is not None:
            self.memory.put(reboot_expected=None)

    @event
    def reboot_failed(self, reason):
        """A reboot we asked for failed: the next reboot is unexpected again, and the central system is told
        (StatusNotification ResetFailure), since it expects the device to come back with a new boot."""
        log.error("reboot failed: %s", reason)
        self.reboot_cancelled()
        self.calls.notify("StatusNotification", {
            "status": "Ok", "errorCode": "ResetFailure", "info": ("reboot failed: %s" % reason)[:128],
            "vendorId": "tr069-bridge", "vendorErrorCode": "RebootFailed", "timestamp": self.now_iso()})

    @event
    def check_reboot(self, boot_id):
        """Spec annex 3.2: a reboot that was the result of unexpected behaviour must be reported with a
        StatusNotification. A changed boot id with no reboot of ours announced is such a reboot."""
        previous = self.memory.get("boot_id")
        if boot_id is None or previous == boot_id:
            return
        if previous is not None and not self.memory.get("reboot_expected"):
            log.warning("the device rebooted without being asked to: reporting it")
            self.calls.notify("StatusNotification", {
                "status": "Ok", "errorCode": "OtherError", "info": "unexpected reboot",
                "vendorId": "tr069-bridge", "vendorErrorCode": "UnexpectedReboot", "timestamp": self.now_iso()})
        self.memory.put(boot_id=boot_id, reboot_expected=None)

    # --- the connection -----------------------------------------------------------------------------
    @event
    def start(self):
        self.machine.connect()
        self.session.schedule_heartbeat()

    @event
    def opened(self):
        self.machine.opened()

    @event
    def closed(self, reason):
        """The connection ended, or the attempt failed (reason says why)."""
        why = self.machine.closed(reason)
        if why is not None:
            self.session.fail(why)

    @event
    def pong(self):
        self.machine.pong()

    @event
    def settings_changed(self):
        """What the connection depends on changed (a reload): start afresh on a new one."""
        self.machine.settings_changed()

    @event
    def stop(self):
        self.deadlines.clear()
        self.machine.stop()

    @event
    def config_changed(self, name):
        """A setting changed (ChangeConfiguration, a reload: None): act on the ones that matter now."""
        if name in (None, "os3p.ping_interval"):
            self.machine.schedule_ping()
        if name in (None, "acs.periodic_inform_enable", "acs.periodic_inform_interval"):
            self.session.schedule_heartbeat()

    @event
    def request_boot(self):
        """A BootNotification now (TriggerMessage), unless one is on its way."""
        self.machine.request_boot()

    # --- outbound -----------------------------------------------------------------------------------
    @event
    def call(self, action, payload, on_done=None, early=False):
        """Send a direct (not persisted) CALL when its turn comes; on_done(payload, error) follows."""
        self.calls.call(action, payload, on_done, early)

    @event
    def trigger(self, action, payload):
        """A message a TriggerMessage asked for: direct, allowed while Pending (calls.Calls.trigger)."""
        self.calls.trigger(action, payload)

    @event
    def notify(self, action, payload):
        """Persist a notification, then send it when its turn comes (after the event at hand)."""
        return self.calls.notify(action, payload)

    # --- the tr069 sessions -------------------------------------------------------------------------
    @event
    def start_session(self, events, get_rpc_methods=False):
        self.session.start(events, get_rpc_methods)

    @event
    def session_refused(self):
        """The tr069 object did not start the periodic session SessionDue asked for (one runs, or its
        record could not be written): the next one is an interval away."""
        self.session.schedule_heartbeat()

    # --- inbound ------------------------------------------------------------------------------------
    @event
    def received(self, text):
        """A text frame from the central system."""
        if not self.machine.connected:
            return
        self.machine.traffic()
        try:
            msg = framing.parse(text)
        except framing.FrameError as e:
            log.warning("malformed CALL %s: %s", e.id, e.description)
            self.emit(Send(framing.error(e.id, e.code, e.description), None))
            return
        if msg is None:
            log.info("ignored a message: %.200s", text)
        elif isinstance(msg, framing.Call):
            self._on_call(msg)
        else:
            self.calls.response(msg)

    def _on_call(self, call):
        from . import actions  # imported when first needed: a router's RAM is counted in MiB

        self.received_calls += 1
        handler = actions.ACTIONS.get(call.action)
        if handler is None:
            self.emit(Send(framing.error(call.id, errors.NOT_IMPLEMENTED, "unknown action %s" % call.action[:64]),
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
            self.emit(Send(framing.error(call.id, e.code, e.description, e.details), None))
            return
        except Exception:
            log.exception("%s %s failed", call.action, call.id)  # the traceback stays in our log
            self.emit(Send(framing.error(call.id, errors.INTERNAL_ERROR, "internal error"), None))
            return
        self.emit(Send(framing.result(call.id, result), request.after_sent))
