"""The OS3P client: supervisor, registration (BootNotification), outbound calls, sessions.

Everything here runs on the daemon's loop thread; the WebSocket's own thread (connection.py) only moves
frames. start(daemon) attaches the client to the tr069 object as its session driver:

  session = connect if needed + BootNotification if due + the messages its events map to (EVENT_MESSAGES)
            + draining the persistent outbox; success when every one of them got its CALLRESULT.

Outbound CALLs go one at a time (the OCPP-J rule), each with a timeout. Order of precedence: the
BootNotification, then direct calls (Heartbeat, triggered messages), then the outbox, oldest first.
Before the central system has Accepted us only BootNotification and TriggerMessage-requested messages go
out (spec annex 3.1, Pending).
"""

import json
import logging
import os
import time
from collections import deque
from datetime import datetime, timezone

from .. import schema
from ..atomic import read_json, write_json
from . import errors, framing
from .connection import Connection, Options, connection_url, safe_url
from .outbox import Outbox

log = logging.getLogger(__name__)

# tr069 inform event -> the OS3P message a session for it sends (README: "inform event -> OS3P message")
EVENT_MESSAGES = {
    "1 BOOT": "BootNotification",  # sent even when its fields did not change
    "2 PERIODIC": "Heartbeat",  # the periodic inform is the heartbeat; its interval is HeartbeatInterval
    "3 SCHEDULED": "Heartbeat",
    "4 VALUE CHANGE": "StatusNotification",  # the station's current status, through the outbox
    "6 CONNECTION REQUEST": "Heartbeat",  # the ACS asked us to call in: connect, drain, sync the clock
    "8 DIAGNOSTICS COMPLETE": "GetFileStatusNotification",  # the last log upload's status, through the outbox
}
DEFAULT_MESSAGE = "Heartbeat"
# notifications that must survive a restart: they go through the outbox (and leave it on CALLRESULT only)
QUEUED = {"StatusNotification", "GetFileStatusNotification", "FirmwareStatusNotification", "MeterValues",
          "StreetlightModeStatusNotification", "StreetlightStatusNotification"}
# a CALLERROR with one of these codes for a queued notification may be transient: retry a few times
RETRYABLE = {errors.INTERNAL_ERROR, errors.GENERIC_ERROR}
MAX_ATTEMPTS = 3
BOOT_ID = "/proc/sys/kernel/random/boot_id"  # Linux: a new random id on every boot


def _uniform():
    """A random float in [0, 1] for the backoff jitter (os.urandom: the random module costs RSS)."""
    return int.from_bytes(os.urandom(2), "big") / 65535.0


def utc_iso(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text):
    return datetime.fromisoformat(text.replace("z", "+00:00").replace("Z", "+00:00")).timestamp()


_checked = {}  # (schema, payload as JSON text) -> errors: the same payloads come again and again


def validate(name, payload):
    """bridge.schema.errors for schemas/os3p/<name>.json, remembered for payloads seen before."""
    try:
        text = json.dumps(payload, separators=(",", ":"))
    except (TypeError, ValueError):
        text = None
    if text is None or len(text) > 512:  # only small payloads are remembered: bounded memory
        return schema.errors(schema.load("os3p/" + name), payload)
    key = (name, text)
    errs = _checked.get(key)
    if errs is None:
        errs = schema.errors(schema.load("os3p/" + name), payload)
        if len(_checked) >= 256:
            _checked.clear()
        _checked[key] = errs
    return errs


class OutCall:
    __slots__ = ("id", "action", "payload", "on_done", "early", "queued", "timer")

    def __init__(self, id, action, payload, on_done=None, early=False, queued=False):
        self.id = id
        self.action = action
        self.payload = payload
        self.on_done = on_done  # (payload | None, error | None) -> None
        self.early = early  # may go out before the central system has Accepted us
        self.queued = queued
        self.timer = None


class Session:
    def __init__(self, events):
        self.events = events
        self.messages = []
        for event in events:
            m = EVENT_MESSAGES.get(event, DEFAULT_MESSAGE)
            if m not in self.messages:
                self.messages.append(m)
        self.force_boot = "BootNotification" in self.messages
        self.outstanding = 0
        self.begun = False  # its work began (after any retry pause)
        self.started = False  # its own messages were sent


class Client:
    def __init__(self, daemon):
        self.daemon = daemon
        self.loop = daemon.loop
        self.config = daemon.config
        self.device = daemon.device
        self.tr069 = daemon.tr069
        self.dir = os.path.join(daemon.state_dir, "os3p")
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        self.state_path = os.path.join(self.dir, "state.json")
        self.state = read_json(self.state_path, {}) or {}
        self.outbox = Outbox(os.path.join(self.dir, "outbox"), self.config.get("os3p.queue_limit"))
        self.ids = framing.IdSource()
        self.acs_url = self.config.get("acs.url")
        self.call_timeout = self.config.get("os3p.call_timeout")  # read per call: kept at hand
        self.clock_offset = float(self.state.get("clock_offset", 0.0))
        self.conn = None
        self.connected = False
        self.registration = None  # None | "Accepted" | "Pending" | "Rejected" on the current connection
        self.pending = None  # the one outstanding CALL
        self.direct = deque()  # calls not persisted, waiting for their turn
        self.session = None
        self.session_failures = 0
        self.session_retry_at = 0.0  # a session after a failed one does not start its work before this
        self.force_boot = False
        self.boot_in_flight = False
        self.failures = 0  # connection attempts since the last stable connection (drives the backoff)
        self.last_attempt = None
        self.hold_until = 0.0  # Rejected: no new attempt before this (loop time)
        self.awaiting_pong = False
        self.outbox_hold = None  # a timer while the outbox waits to retry its head
        self.attempts = {}  # queued message id -> CALLERRORs seen
        self.stopped = False
        self.stats = {"attempts": 0, "connected": 0, "calls_sent": 0, "calls_received": 0}
        self._timers = {}
        self._firmware = self._files = None
        self.tr069.attach_driver(self)
        on_reboot = self.tr069.on_reboot

        def reboot_at_end_of_session():
            self.expect_reboot()
            return on_reboot()

        self.tr069.on_reboot = reboot_at_end_of_session
        self._check_reboot()
        if os.path.exists(os.path.join(self.dir, "firmware.json")):
            self.firmware.resume()  # a firmware update (maybe the one we just booted into) has a story to finish
        self._set_timer("reconnect", 0, self._connect)

    # transfers and actions are imported when first needed: a router's RAM is counted in MiB
    @property
    def firmware(self):
        if self._firmware is None:
            from .transfers import Firmware

            self._firmware = Firmware(self)
        return self._firmware

    @property
    def files(self):
        if self._files is None:
            from .transfers import LogUpload

            self._files = LogUpload(self)
        return self._files

    @property
    def actions(self):
        from . import actions

        return actions

    # --- small helpers -------------------------------------------------------------------
    def _set_timer(self, name, delay, callback, *args):
        self._cancel_timer(name)
        self._timers[name] = self.loop.call_later(delay, callback, *args)

    def _cancel_timer(self, name):
        t = self._timers.pop(name, None)
        if t is not None:
            t.cancel()

    def now(self):
        """Epoch seconds on the central system's clock (we never set the system clock ourselves)."""
        return time.time() + self.clock_offset

    def now_iso(self):
        return utc_iso(self.now())

    def save_state(self):
        write_json(self.state_path, self.state)

    def _sync_clock(self, current_time):
        try:
            offset = parse_iso(current_time) - time.time()
        except (ValueError, TypeError):
            return
        if abs(offset - self.clock_offset) > 1.0:
            log.info("clock offset to the central system: %+.1f s", offset)
        self.clock_offset = offset
        if abs(self.state.get("clock_offset", 0.0) - offset) > 1.0:
            self.state["clock_offset"] = offset
            self.save_state()

    # --- reboots ------------------------------------------------------------------------------
    def expect_reboot(self):
        """Called before any reboot we cause (Reset, a flash, tr069's reboot_end_session)."""
        self.state["reboot_expected"] = True
        self.save_state()

    def _check_reboot(self):
        """Spec annex 3.2: a reboot that was the result of unexpected behaviour must be reported with a
        StatusNotification. A changed boot id with no reboot of ours announced is such a reboot."""
        try:
            with open(BOOT_ID) as f:
                boot_id = f.read().strip()
        except OSError:
            return
        previous = self.state.get("boot_id")
        if previous == boot_id:
            return
        if previous is not None and not self.state.get("reboot_expected"):
            log.warning("the device rebooted without being asked to: reporting it")
            self.notify("StatusNotification", {
                "status": "Ok", "errorCode": "OtherError", "info": "unexpected reboot",
                "vendorId": "tr069-bridge", "vendorErrorCode": "UnexpectedReboot", "timestamp": self.now_iso()})
        self.state["boot_id"] = boot_id
        self.state.pop("reboot_expected", None)
        self.save_state()

    # --- the tr069 session-driver interface ----------------------------------------------
    def connection_state(self):
        return "up" if self.connected and self.registration == "Accepted" else "init"

    def start_session(self, events, get_rpc_methods=False):
        # never finishes synchronously: the tr069 object restarts a failed session's events at once, so a
        # session that cannot go on must wait for the next real event (an attempt, a Boot answer, its timeout)
        if get_rpc_methods:
            log.debug("GetRPCMethods has no OS3P counterpart; the session sends its events' messages only")
        if self.session is not None:  # the tr069 object serialises sessions; be safe anyway
            log.warning("a new session replaces one still open")
        s = self.session = Session(events)
        wait = self.session_retry_at - self.loop.time()
        if wait > 0:
            log.info("session retry in %.1f s", wait)
            self._set_timer("session-start", wait, self._begin_session, s)
            return
        self._begin_session(s)

    def _begin_session(self, s):
        if s is not self.session:
            return
        s.begun = True
        for m in s.messages:
            if m in QUEUED:
                self.notify(m, self.snapshot(m), coalesce=True)
        if s.force_boot:
            self.force_boot = True
        self._set_timer("session", self._session_timeout(), self._finish_session, False, "timed out")
        if not self.connected:
            # connect now only when no attempt is scheduled: a session must not shortcut the backoff
            if self.conn is None and "reconnect" not in self._timers:
                self._connect_soon()
            return
        self.loop.call_soon(self._session_step)

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
                    self.call("Heartbeat", {}, self._session_call_done)
        self._check_session()

    def _session_call_done(self, payload, error):
        s = self.session
        if s is None:
            return
        s.outstanding -= 1
        if error is not None:
            self._finish_session(False, "a session message failed: %s" % (error,))
        else:
            self._check_session()

    def _check_session(self):
        s = self.session
        if s is not None and s.started and s.outstanding == 0 and not len(self.outbox) and self.pending is None:
            self._finish_session(True)

    def _fail_session(self, why):
        """Fail the session only if its work began: one waiting out a retry pause is not concerned."""
        if self.session is not None and self.session.begun:
            self._finish_session(False, why)

    def _finish_session(self, success, why=""):
        if self.session is None:
            return
        self.session = None
        self._cancel_timer("session")
        self._cancel_timer("session-start")
        if success:
            self.session_failures = 0
        else:
            # the tr069 object retries a failed session's events at once; pace those retries like reconnects
            base = self.config.get("os3p.reconnect_min")
            delay = min(max(base, self.config.get("os3p.reconnect_max")), base * 2 ** min(self.session_failures, 16))
            self.session_failures += 1
            self.session_retry_at = self.loop.time() + delay
            log.warning("OS3P session failed: %s", why)
        self.tr069.session_finished(success)

    # --- configuration -------------------------------------------------------------------
    def options(self):
        c = self.config
        return Options(connection_url(c.get("acs.url"), c.get("acs.identity")),
                       username=c.get("acs.username"), password=c.get("acs.password"),
                       ca_file=c.get("acs.ca_file"), client_cert=c.get("acs.client_cert"),
                       client_key=c.get("acs.client_key"), connect_timeout=c.get("os3p.connect_timeout"),
                       io_timeout=c.get("os3p.call_timeout"), max_message=c.get("os3p.max_message"))

    def reload(self):
        """The daemon re-read the config: reconnect when what the connection depends on changed."""
        self.acs_url = self.config.get("acs.url")
        self.call_timeout = self.config.get("os3p.call_timeout")
        self.outbox.limit = self.config.get("os3p.queue_limit")
        try:
            changed = self.conn is not None and vars(self.options()) != vars(self.conn.options)
        except ValueError as e:
            log.error("OS3P: %s", e)
            changed = True
        if changed:
            log.info("OS3P connection settings changed: reconnecting")
            self.failures = 0
            self.conn.abort()
        self._schedule_ping()

    def config_changed(self, name):
        """A ChangeConfiguration was applied (on this connection)."""
        if name == "os3p.ping_interval":
            self._schedule_ping()
        elif name == "acs.periodic_inform_interval":
            self.tr069.schedule_periodic()

    # --- connecting ------------------------------------------------------------------------
    def _connect_soon(self):
        """Start an attempt now, or as soon as the minimum spacing allows; False while Rejected holds."""
        now = self.loop.time()
        if now < self.hold_until:
            return False
        spacing = self.config.get("os3p.reconnect_min")
        delay = 0 if self.last_attempt is None else max(0.0, self.last_attempt + spacing - now)
        self._set_timer("reconnect", delay, self._connect)
        return True

    def _connect(self):
        self._cancel_timer("reconnect")
        if self.stopped or self.conn is not None:
            return
        self.last_attempt = self.loop.time()
        self.stats["attempts"] += 1
        try:
            options = self.options()
        except ValueError as e:
            log.error("OS3P: %s", e)
            self._connection_failed("bad configuration")
            return
        log.info("connecting to %s", safe_url(options.url))
        self.conn = Connection(self.loop, options, self).start()

    def _backoff(self):
        base = self.config.get("os3p.reconnect_min")
        cap = max(base, self.config.get("os3p.reconnect_max"))
        delay = min(cap, base * (2 ** min(self.failures, 16)))
        self.failures += 1
        return delay / 2 + _uniform() * delay / 2  # "equal jitter": never below half the step

    def _connection_failed(self, reason, delay=None):
        if delay is None:
            delay = self._backoff()
        log.warning("OS3P connection: %s; next attempt in %.1f s", reason, delay)
        if not self.stopped:
            self._set_timer("reconnect", delay, self._connect)
        self._fail_session(reason)

    # --- Connection handler (called on the loop thread) -------------------------------------
    def on_open(self, conn, headers):
        if conn is not self.conn:
            return
        self.connected = True
        self.stats["connected"] += 1
        self.registration = None
        self.awaiting_pong = False
        log.info("connected to the central system (%s)", safe_url(conn.options.url))
        self._schedule_ping()
        if self._boot_due():
            self._send_boot()
        else:
            # spec 5.5: nothing in the BootNotification changed since it was Accepted: carry on
            self._accepted()

    def on_close(self, conn, reason):
        if conn is not self.conn:
            return
        was_connected = self.connected
        self.conn = None
        self.connected = False
        self.boot_in_flight = False
        registration, self.registration = self.registration, None
        self._cancel_timer("ping")
        self._cancel_timer("stable")
        self._cancel_timer("boot")
        self._fail_calls("connection closed: %s" % reason)
        if self.stopped:
            return
        if registration == "Rejected":
            self._connection_failed("rejected by the central system",
                                    max(0.0, self.hold_until - self.loop.time()) or None)
        else:
            self._connection_failed(("connection lost (%s)" if was_connected else "%s") % reason)

    def on_sent(self, conn, after):
        after()

    def on_pong(self, conn):
        if conn is self.conn:
            self.awaiting_pong = False

    def on_text(self, conn, text):
        if conn is not self.conn:
            return
        self.awaiting_pong = False  # any traffic proves the peer alive
        try:
            msg = framing.parse(text)
        except framing.FrameError as e:
            log.warning("malformed CALL %s: %s", e.id, e.description)
            self._send(framing.error(e.id, e.code, e.description))
            return
        if msg is None:
            log.info("ignored a message: %.200s", text)
        elif isinstance(msg, framing.Call):
            self._on_call(msg)
        else:
            self._on_response(msg)

    # --- ping / dead-peer detection ----------------------------------------------------------
    def _schedule_ping(self):
        self._cancel_timer("ping")
        interval = self.config.get("os3p.ping_interval")
        if self.connected and interval > 0:
            self._set_timer("ping", interval, self._ping_tick)

    def _ping_tick(self):
        if not self.connected:
            return
        if self.awaiting_pong:
            log.warning("no pong and no traffic for a whole ping interval: the connection is dead")
            self.conn.abort()
            return
        self.awaiting_pong = True
        self.conn.ping()
        self._schedule_ping()

    # --- registration --------------------------------------------------------------------------
    def boot_fields(self):
        board = self.device.board()
        c = self.config
        fields = {
            "vendor": board.get("vendor") or "",
            "model": board.get("model") or "",
            "stationNumber": c.get("os3p.station_number"),
            "serialNumber": board.get("serial") or "",
            "firmwareVersion": board.get("firmware_version") or "",
            "iccid": c.get("os3p.iccid"),
            "imsi": c.get("os3p.imsi"),
        }
        limits = schema.load("os3p/BootNotification.req")["properties"]
        return {k: str(v)[:limits[k]["maxLength"]] for k, v in fields.items()}

    def _boot_due(self):
        record = self.state.get("boot") or {}
        if self.force_boot or record.get("status") != "Accepted":
            return True
        # spec 3.2 and annex 3.1 notes: a changed field (a new firmware version) or a new URL means a new boot
        return record.get("fields") != self.boot_fields() or record.get("url") != self.config.get("acs.url")

    def _send_boot(self, early=True):
        fields = self.boot_fields()
        self.force_boot = False
        self.boot_in_flight = True
        self._cancel_timer("boot")
        self.call("BootNotification", fields, lambda p, e: self._boot_done(fields, p, e), early=early, first=True)

    def _boot_done(self, fields, payload, error):
        self.boot_in_flight = False
        if not self.connected:
            return
        if error is not None:
            log.warning("BootNotification failed: %s", error)
            self.conn.abort()
            return
        status, interval = payload["status"], payload["interval"]
        self._sync_clock(payload.get("currentTime"))
        self.state["boot"] = {"fields": fields, "url": self.config.get("acs.url"), "status": status}
        self.save_state()
        log.info("BootNotification: %s (interval %s)", status, interval)
        if status == "Accepted":
            if interval > 0 and interval != self.config.get("acs.periodic_inform_interval"):
                self._set_heartbeat_interval(interval)
            self._accepted()
        elif status == "Pending":
            self.registration = "Pending"
            self._set_timer("boot", interval if interval > 0 else self._backoff(), self._retry_boot)
            self._fail_session("the central system has not accepted us yet (Pending)")
        else:
            self.registration = "Rejected"
            self.hold_until = self.loop.time() + (interval if interval > 0 else self._backoff())
            self.conn.close()
            self._fail_session("rejected by the central system")

    def _retry_boot(self):
        if self.connected and self.registration == "Pending" and not self.boot_in_flight:
            self._send_boot()

    def _set_heartbeat_interval(self, interval):
        try:
            self.config.set("acs.periodic_inform_interval", interval)
            self.config.save()
        except (ValueError, OSError) as e:
            log.warning("cannot keep the heartbeat interval %s: %s", interval, e)
            return
        self.tr069.schedule_periodic()

    def _accepted(self):
        self.registration = "Accepted"
        self.hold_until = 0.0
        self._set_timer("stable", self.config.get("os3p.stable_after"), self._stable)
        self._session_step()
        self._pump()

    def _stable(self):
        self.failures = 0  # a connection that lasted: the next loss starts the backoff afresh

    # --- outbound calls ---------------------------------------------------------------------------
    def call(self, action, payload, on_done=None, early=False, first=False):
        """Send a direct (not persisted) CALL when its turn comes; on_done(payload, error) follows."""
        errs = validate(action + ".req", payload)
        if errs:
            log.error("not sending an invalid %s: %s", action, errs)
            if on_done:
                on_done(None, "invalid payload")
            return
        oc = OutCall(self.ids(), action, payload, on_done, early=early)
        if first:
            self.direct.appendleft(oc)
        else:
            self.direct.append(oc)
        self._pump()

    def notify(self, action, payload, coalesce=False):
        """Persist a notification, then send it when its turn comes (after the current callback).

        coalesce: a snapshot of current state (a session's StatusNotification) is not queued again while
        one of the same action waits unsent: a failed session is retried, its snapshot need not pile up."""
        errs = validate(action + ".req", payload)
        if errs:
            log.error("not queueing an invalid %s: %s", action, errs)
            return None
        if coalesce:
            for r in self.outbox.records():
                if r["action"] == action and r["id"] != self.outbox.in_flight:
                    return r
        record = self.outbox.put(action, payload)
        self.loop.call_soon(self._pump)
        return record

    def trigger(self, action, payload):
        """A message a TriggerMessage asked for: direct, allowed while Pending."""
        self.call(action, payload, early=True)

    def _pump(self):
        if not self.connected or self.pending is not None:
            return
        accepted = self.registration == "Accepted"
        for oc in self.direct:
            if accepted or oc.early:
                self.direct.remove(oc)
                self._send_call(oc)
                return
        if not accepted or self.outbox_hold is not None:
            return
        head = self.outbox.head()
        if head is not None:
            self.outbox.in_flight = head["id"]
            self._send_call(OutCall(head["id"], head["action"], head["payload"], queued=True))

    def _send_call(self, oc):
        self.pending = oc
        self.stats["calls_sent"] += 1
        oc.timer = self.loop.call_later(self.call_timeout, self._call_timeout, oc)
        self._send(framing.call(oc.id, oc.action, oc.payload))

    def _send(self, text, after=None):
        if self.conn is not None:
            self.conn.send(text, after)

    def _call_timeout(self, oc):
        if self.pending is not oc:
            return
        log.warning("%s %s: no answer within %s s", oc.action, oc.id, self.call_timeout)
        self._complete(oc, None, "timed out")

    def _on_response(self, msg):
        oc = self.pending
        if oc is None or oc.id != msg.id:
            log.info("ignored a response to no outstanding call (%s)", msg.id)
            return
        oc.timer.cancel()
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
        if self.session is not None and self.session.begun:  # progress: the session's deadline moves on
            self._set_timer("session", self._session_timeout(), self._finish_session, False, "timed out")
        if oc.queued:
            self._queued_done(oc, error, code)
        elif oc.on_done is not None:
            try:
                oc.on_done(payload, error)
            except Exception:
                log.exception("handling the answer to %s failed", oc.action)
        if oc.action == "Heartbeat" and payload:
            self._sync_clock(payload.get("currentTime"))
        self._pump()
        self._check_session()

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
        self.outbox_hold = self.loop.call_later(delay, self._release_outbox)
        self._fail_session("%s not delivered: %s" % (oc.action, error))

    def _release_outbox(self):
        self.outbox_hold = None
        self._pump()

    def _fail_calls(self, reason):
        if self.outbox_hold is not None:
            self.outbox_hold.cancel()
            self.outbox_hold = None
        calls = list(self.direct)
        self.direct.clear()
        if self.pending is not None:
            self.pending.timer.cancel()
            calls.insert(0, self.pending)
            self.pending = None
        self.outbox.in_flight = None
        for oc in calls:
            if oc.on_done is not None and not oc.queued:
                try:
                    oc.on_done(None, reason)
                except Exception:
                    log.exception("handling the failure of %s failed", oc.action)

    # --- inbound calls ------------------------------------------------------------------------------
    def _on_call(self, call):
        self.stats["calls_received"] += 1
        handler = self.actions.ACTIONS.get(call.action)
        if handler is None:
            self._send(framing.error(call.id, errors.NOT_IMPLEMENTED, "unknown action %s" % call.action[:64]))
            return
        request = self.actions.Request(self, call)
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
            self._send(framing.error(call.id, e.code, e.description, e.details))
            return
        except Exception:
            log.exception("%s %s failed", call.action, call.id)  # the traceback stays in our log
            self._send(framing.error(call.id, errors.INTERNAL_ERROR, "internal error"))
            return
        self._send(framing.result(call.id, result), request.after_sent)

    # --- snapshots for notifications ------------------------------------------------------------------
    def snapshot(self, action):
        """The current content of a notification a session or a TriggerMessage asks for."""
        if action == "StatusNotification":
            return {"status": "Ok", "errorCode": "NoError", "timestamp": self.now_iso()}
        if action == "GetFileStatusNotification":
            return self.files.status()
        if action == "FirmwareStatusNotification":
            return self.firmware.status()
        if action == "Heartbeat":
            return {}
        if action == "BootNotification":
            return self.boot_fields()
        return None

    def stop(self):
        self.stopped = True
        for name in list(self._timers):
            self._cancel_timer(name)
        if self.outbox_hold is not None:
            self.outbox_hold.cancel()
        conn = self.conn
        if conn is not None:
            conn.close()  # a close frame, so the central system sees a clean goodbye
            conn.thread.join(0.5)
            if conn.thread.is_alive():
                conn.abort()
                conn.thread.join(1.0)
        for transfer in (self._firmware, self._files):
            if transfer is not None:
                transfer.stop()


def start(daemon):
    return Client(daemon)
