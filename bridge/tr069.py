"""The tr069 object: command, inform and status, icwmp-compatible.

Pure logic over the session state; the protocol surfaces (ubus, JSON-RPC) call
Tr069.call(method, args) on the loop thread and get (ubus_status, data). Nothing here knows a wire
format: the status reply is kept as a dict while nothing it shows changes (cached_reply), and the ubus
surface keeps it encoded (bridge/ubus/replies.py, with REPLY_SHAPES).
The OS3P client, when configured, is attached as the session driver.
"""

import os
import time

from . import schema
from . import ubusmsg as ubus
from .backoff import Backoff
from .ubusmsg import UbusObject
from .logger import getLogger
from .redact import redact
from .sessions import Sessions

log = getLogger(__name__)

SCHEMA_NAME = "tr069"
DEFAULT_EVENT = "6 CONNECTION REQUEST"
# leading code -> canonical event (the spec's list); matching is by code, case-insensitive on the rest
EVENTS = {e.split(" ", 1)[0]: e for e in ("1 BOOT", "2 PERIODIC", "3 SCHEDULED", "4 VALUE CHANGE",
                                           "6 CONNECTION REQUEST", "8 DIAGNOSTICS COMPLETE")}
RELOAD_FAILED = "tr069-bridge config reload failed"  # when on_reload gives no reason
NOT_SAVED = "Session not started: the state directory is not writable (full or read-only)"
_S, _I = ubus.BLOBMSG_STRING, ubus.BLOBMSG_INT32
# the status reply's shape (schemas/tr069.json): its leaves' blobmsg types, in order, for the ubus surface's
# encoder of that one shape (a reply naming missing facilities or set-aside files is encoded the generic way)
STATUS_SHAPE = {
    "cwmp": {"status": _S, "start_time": _S, "acs_url": _S},
    "last_session": {"status": _S, "start_time": _S, "end_time": _S},
    "next_session": {"status": _S, "start_time": _S, "end_time": _S},
    "statistics": {"success_sessions": _I, "failure_sessions": _I, "total_sessions": _I},
}


def format_time(epoch):
    """Local time as icwmp prints it: 2026-11-22T10:00:00+01:00; N/A when there is none."""
    if not epoch:
        return "N/A"
    s = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(epoch))
    return s[:-2] + ":" + s[-2:]


def canonical_event(event):
    """'6 connection request' -> '6 CONNECTION REQUEST'; unknown strings are returned unchanged."""
    words = event.split()
    if not words:
        return DEFAULT_EVENT  # icwmp treats an empty event as a connection request
    known = EVENTS.get(words[0])
    if known and (len(words) == 1 or " ".join(words).upper() == known):
        return known
    return event


class Tr069(UbusObject):
    name = "tr069"
    REPLY_SHAPES = {"status": STATUS_SHAPE}
    wall = staticmethod(time.time)   # what status shows times in (tests put a fake clock here)

    def __init__(self, loop, sessions: Sessions, acs_url=lambda: "", on_reload=None, on_reboot=None,
                 on_exit=None, periodic=lambda: (False, 0), retry_base=5.0, retry_max=300.0, missing=lambda: (),
                 cannot_reboot=lambda: None, set_aside=()):
        self.loop = loop
        self.missing = missing  # () -> names of the device facilities that are missing (status shows them)
        # what the start-up readers set aside (bridge.atomic.SET_ASIDE: {"file", "as", "why"}), shown by
        # status as cwmp.set_aside (the files) only when there is something, as cwmp.missing
        self.set_aside = set_aside
        self.cannot_reboot = cannot_reboot  # () -> None, or why the device cannot reboot
        self.sessions = sessions
        self.acs_url = acs_url
        self.on_reload = on_reload or (lambda: True)
        self.on_reboot = on_reboot or (lambda: None)
        self.before_reboot = []  # hooks run before a reboot we cause (the OS3P client: not "unexpected")
        # hooks run with a session's events before it starts (the parameter model: "4 VALUE CHANGE" from
        # another program means "look", so what changed goes with that session)
        self.before_session = []
        self.reboot_failed = []  # hooks run with the reason when that reboot fails (the expectation goes)
        self.on_exit = on_exit or (lambda: None)
        self.periodic = periodic  # () -> (enabled, interval seconds)
        self.driver = None
        self.start_time = time.time()
        self.next_session_time = None  # a driver may set it (wall clock)
        self._periodic_timer = None
        self._periodic_due = None      # loop (monotonic) time: a wall-clock jump moves what status shows
        # a failed session's events are retried after about min(retry_base * 2^(n-1), retry_max) seconds
        # (n consecutive failures, bridge.backoff): CWMP's session retry policy, so that an absent central
        # system is not hammered
        self.retry = Backoff(retry_base, retry_max)
        self._retry_timer = None
        self._retry_due = None         # loop time, as _periodic_due
        self._status_cache = None   # (inputs, dict): see _status_reply
        self.schema = schema.load(SCHEMA_NAME)
        # Replies are built by this module, so checking each against its schema is a self-test: on in
        # the test suite and at log level debug, off otherwise (it costs more than the call itself).
        self.check_output = bool(os.environ.get("TR069_CHECK_OUTPUT"))
        # order as icwmp registers them (and as `ubus list -v tr069` prints them)
        self.methods = {"status": self._status, "inform": self._inform, "command": self._command}
        self.commands = {
            "reload": self._cmd_reload,
            "reload_end_session": self._cmd_reload_end_session,
            "reboot_end_session": self._cmd_reboot_end_session,
            "action_end_session": self._cmd_action_end_session,
            "exit": self._cmd_exit,
        }
        self.schedule_periodic()

    # --- the ubus signature, generated from the schema -----------------------------
    def signature(self):
        sig = {}
        for method in self.methods:
            props = self._part(method, "input").get("properties", {})
            sig[method] = {arg: ubus.SCHEMA_TO_BLOBMSG[self._type_of(sub)] for arg, sub in props.items()}
        return sig

    def _part(self, method, part):
        """The input or output schema of a method (method names come from self.methods: known)."""
        return self.schema["properties"][method]["properties"][part]

    def _type_of(self, sub):
        if "$ref" in sub:
            sub = schema._resolve(self.schema, sub["$ref"])
        return sub["type"]

    # --- dispatch (UbusObject.call first) ------------------------------------------------
    def answer(self, method, handler, args):
        if isinstance(args.get("event"), str):
            args["event"] = canonical_event(args["event"])
        errs = schema.errors(self._part(method, "input"), args, "", self.schema)
        refusal = self._refusal(method, args, errs)
        if refusal is not None:
            return refusal
        data = handler(args)
        bad = self.check_output and schema.errors(self._part(method, "output"), data, "", self.schema)
        if bad:  # a bug of ours; answer as libubus does for a failing handler
            log.error("%s produced an invalid reply %r: %s", method, data, bad)
            return ubus.UNKNOWN_ERROR, None
        return ubus.OK, data

    @staticmethod
    def _refusal(method, args, errs):
        if not errs:
            return None
        # a well-typed but unknown command or event is answered in the reply, as icwmp does
        if all(kind == "enum" for kind, _, _ in errs):
            if method == "command":
                return ubus.OK, {"status": -1, "info": "%s command is not supported" % args["command"]}
            if method == "inform":
                return ubus.OK, {"status": -1, "info": "%s event is not supported" % args["event"]}
        log.info("tr069 %s refused: %s", method, "; ".join("%s %s" % (p, m) for _, p, m in errs))
        return ubus.INVALID_ARGUMENT, None

    # --- status ----------------------------------------------------------------------
    def connection_state(self):
        return self.driver.connection_state() if self.driver else "up"

    def _status_inputs(self):
        """Everything the status reply shows, in STATUS_SHAPE's leaf order before formatting: the
        reply is recomputed exactly when one of these changed (read on every call, so never stale)."""
        s, d = self.sessions, self.driver
        retry, periodic = self._retry_due, self._periodic_due
        # the timers run on the loop's monotonic clock; shown in wall-clock time through the offset
        # between the two, in whole seconds (what status shows), so that the reply follows a clock
        # step (NTP on a router without an RTC) and is not recomputed for the clocks' slow drift
        offset = round(self.wall() - self.loop.time()) if retry is not None or periodic is not None else 0
        return (d.connection_state() if d else "up", self.start_time, d.acs_url if d else self.acs_url(),
                s.last_status if s.last_start else "N/A", s.last_start, s.last_end,
                self.next_session_time, None if retry is None else retry + offset,
                None if periodic is None else periodic + offset,
                s.success, s.failure, tuple(self.missing()), len(self.set_aside))

    def _status_reply(self):
        """The status reply, the same dict while its inputs are the same."""
        inputs = self._status_inputs()
        cached = self._status_cache
        if cached is not None and cached[0] == inputs:
            return cached[1]
        conn, started, acs, last, last_start, last_end, nxt, retry_at, periodic_at, ok, failed, missing, aside = inputs
        nxt = min((t for t in (nxt, retry_at, periodic_at) if t), default=None)
        # anyone allowed `status` may read acs_url: never the URL's password
        leaves = (conn, format_time(started), redact(acs), last, format_time(last_start), format_time(last_end),
                  "waiting", format_time(nxt), "N/A", ok, failed, ok + failed)
        data = {
            "cwmp": {"status": leaves[0], "start_time": leaves[1], "acs_url": leaves[2]},
            "last_session": {"status": leaves[3], "start_time": leaves[4], "end_time": leaves[5]},
            "next_session": {"status": leaves[6], "start_time": leaves[7], "end_time": leaves[8]},
            "statistics": {"success_sessions": ok, "failure_sessions": failed, "total_sessions": ok + failed},
        }
        if missing:  # only on a device that lacks something: icwmp's reply is unchanged otherwise
            data["cwmp"]["missing"] = list(missing)
        if aside:  # only when a stored file (or a config value) did not fit at start
            data["cwmp"]["set_aside"] = sorted({e["file"] for e in self.set_aside})
        self._status_cache = (inputs, data)
        return data

    def _status(self, _args):
        # the cached dict is shared by every caller until an input changes: callers only read it
        return self._status_reply()

    def cached_reply(self, method, args):
        """The reply of a call the ubus surface can answer without decoding or validating anything (status
        with no arguments), the same dict while nothing it shows changed; else None (call() answers)."""
        if method != "status" or args:
            return None
        data = self._status_reply()
        if self.check_output and schema.errors(self._part(method, "output"), data, "", self.schema):
            return None    # call() answers it, and logs why
        return data

    # --- inform ----------------------------------------------------------------------
    def _inform(self, args):
        grm = args.get("GetRPCMethods") is True
        event = args.get("event", DEFAULT_EVENT)
        if grm:
            # icwmp opens a 2 PERIODIC session carrying GetRPCMethods; an explicit event goes with it
            events = ["2 PERIODIC"] if "event" not in args else [event]
            self.start_session(events, get_rpc_methods=True)
            return {"status": 1, "info": "Session with GetRPCMethods will start"}
        if self.sessions.running:
            self.sessions.queue_events([event])
            return {"status": 1, "info": "Session already running, event will be sent at the end of the session"}
        if self.start_session([event]) is None:
            return {"status": -1, "info": NOT_SAVED}
        return {"status": 1, "info": "Session started"}

    def start_session(self, events, get_rpc_methods=False):
        if self.sessions.running:
            self.sessions.queue_events(events)
            return False
        self._cancel_retry()
        events = list(dict.fromkeys(self.sessions.take_pending() + list(events)))
        if not self.sessions.begin(events):
            # the state directory is full or read-only: no session runs that could never be
            # recorded; its events wait (in memory) for the next attempt
            self.sessions.queue_events(events)
            self._retry_later()
            return None
        log.info("session started: %s%s", ", ".join(events), " + GetRPCMethods" if get_rpc_methods else "")
        for hook in self.before_session:
            hook(events)
        if self.driver is not None:
            self.driver.start_session(events, get_rpc_methods)
        else:
            # no central system configured: the session is a local record that succeeds at once
            self.loop.call_soon(self.session_finished, True)
        return True

    def session_finished(self, success):
        if not self.sessions.running:
            return
        self.sessions.end(success)
        log.info("session ended: %s", "success" if success else "failure")
        self.schedule_periodic()
        if self.sessions.end_actions:
            self._apply_end_actions()
        if success:
            self.retry.reset()
        if self.sessions.pending_events:
            if success:
                self.loop.call_soon(self._start_pending)
            else:
                self._retry_later()

    def _retry_later(self):
        delay = self.retry.next()
        self._retry_due = self.loop.time() + delay
        self._retry_timer = self.loop.call_later(delay, self._start_pending)
        log.info("retrying the session's events in %.0f s", delay)

    def _cancel_retry(self):
        if self._retry_timer is not None:
            self._retry_timer.cancel()
        self._retry_timer = self._retry_due = None

    def _start_pending(self):
        self._retry_timer = self._retry_due = None
        if self.sessions.pending_events and not self.sessions.running:
            self.start_session([])

    # --- periodic inform -------------------------------------------------------------
    def schedule_periodic(self):
        """The next periodic session, from now. With a session driver the driver keeps that deadline (the
        OS3P core: the periodic session is its heartbeat) and tells us of it (next_session)."""
        if self.driver is not None:
            return
        if self._periodic_timer is not None:
            self._periodic_timer.cancel()
            self._periodic_timer = self._periodic_due = None
        enabled, interval = self.periodic()
        if enabled and interval > 0:
            self._periodic_due = self.loop.time() + interval
            self._periodic_timer = self.loop.call_later(interval, self._periodic_inform)

    def _periodic_inform(self):
        self._periodic_timer = self._periodic_due = None
        if not self.start_session(["2 PERIODIC"]):
            self.schedule_periodic()

    # --- command ---------------------------------------------------------------------
    def _command(self, args):
        return self.commands[args["command"]]()

    def _cmd_reload(self):
        if self.sessions.running:
            self.sessions.flag_end_action("reload")
            return {"status": 0, "info": "Session running, reload at the end of the session"}
        refused = self._reload()
        if refused:
            return {"status": -1, "info": refused}
        return {"status": 0, "info": "tr069-bridge config reloaded"}

    def _cmd_reload_end_session(self):
        self.sessions.flag_end_action("reload")
        return {"status": 0, "info": "Config will be reloaded at the end of the session"}

    def _cmd_reboot_end_session(self):
        missing = self.cannot_reboot()
        if missing:  # cannot comply: said now, not found out at the end of the session
            return {"status": -1, "info": "reboot is not possible: %s" % missing}
        self.sessions.flag_end_action("reboot")
        return {"status": 0, "info": "Device will reboot at the end of the session"}

    def _cmd_action_end_session(self):
        if self.sessions.running:
            return {"status": 0, "info": "End-session actions will be applied at the end of the session"}
        applied = self._apply_end_actions()
        return {"status": 0, "info": "End-session actions applied: %s" % (", ".join(applied) or "none")}

    def _cmd_exit(self):
        # answer first: the reply must leave before the daemon does
        self.loop.call_later(0.05, self.on_exit)
        return {"status": 0, "info": "tr069-bridge is stopping"}

    def _reload(self):
        """None when reloaded, else why not: on_reload answers False or the first problem (a str)."""
        try:
            result = self.on_reload()
        except Exception:
            log.exception("config reload failed")
            return RELOAD_FAILED
        self.schedule_periodic()
        if result is False:
            return RELOAD_FAILED
        return result if isinstance(result, str) else None

    def _apply_end_actions(self):
        actions = self.sessions.take_end_actions()
        if "reload" in actions:
            self._reload()
        if "reboot" in actions:
            log.warning("rebooting at the end of the session, as requested")
            for hook in self.before_reboot:
                hook()
            try:
                self.on_reboot()
            except Exception as e:  # the device stays up: say so, and the next reboot is unexpected again
                reason = "%s: %s" % (e.__class__.__name__, e)
                log.error("the end-of-session reboot failed: %s", reason)
                for hook in self.reboot_failed:
                    hook(reason)
        return actions

    # --- the session driver (the OS3P client) --------------------------------------
    def attach_driver(self, driver):
        """From now on sessions go through `driver` (components.SessionDriver), which also keeps the
        periodic session's deadline: ours is cancelled."""
        self.driver = driver
        if self._periodic_timer is not None:
            self._periodic_timer.cancel()
        self._periodic_timer = self._periodic_due = None

    def next_session(self, at):
        """The driver's next periodic session (loop time, None: none), for status."""
        self._periodic_due = at
