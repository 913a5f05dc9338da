"""The OS3P client's supervisor: the protocol core (protocol.py) wired to a connection and the loop.

Everything here runs on the daemon's loop thread. It feeds the core its events (the connection's
on_open / on_text / on_pong / on_close, the clock, the tr069 object's sessions), carries out what the
core asks for (frames to send, a connection attempt, a close, a session result) and keeps one loop timer
at the core's next deadline. The composition root (bridge/wiring.py) builds it and makes it the tr069
object's session driver.
"""

import os
import time

from ..logger import getLogger
from ..redact import redact
from ..stateview import History, iso
from .connection import Connection, Options, connection_url, safe_url
from .context import Context
from .messages import boot_fields
from .outbox import Outbox
from .protocol import (Abort, Close, Connect, HeartbeatInterval, NextSession, Ping, Protocol, Send, SessionDone,
                       SessionDue)
from .settings import Settings
from .state import State

log = getLogger(__name__)

BOOT_ID = "/proc/sys/kernel/random/boot_id"  # Linux: a new random id on every boot


def read_boot_id(path=None):
    try:
        with open(path or BOOT_ID) as f:
            return f.read().strip()
    except OSError:
        return None


class Client:
    """The OS3P surface. Offers what the tr069 object drives (acs_url, connection_state(), start_session(),
    expect_reboot(), reboot_failed()), reload(), state() for the state view, start() and stop()."""

    def __init__(self, loop, config, clock, device, state_dir, tr069, sensors=None, streetlights=None,
                 config_changed=None, modem=None, model=None):
        """tr069: what the client tells of a session (session_finished(success)), asks for one
        (start_session(events): the periodic one) and tells of the next (next_session(at)); sensors,
        streetlights: the station's components, None where they do not run (their actions are refused,
        their messages not sent); config_changed(name): the root's, which makes every running component
        take up a key changed in memory (this one included); modem() -> the reachability's ModemInfo (its
        ICCID and IMSI go into BootNotification where UCI sets none), or None; model: the TR-181 parameter
        model (DataModel, TR-181 paths in Get/ChangeConfiguration, DataModelNotification), None without one."""
        self.loop = loop
        self.config = config
        self.device = device
        self.tr069 = tr069
        self.sensors = sensors
        self.streetlights = streetlights
        self.dir = os.path.join(state_dir, "os3p")
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        outbox = Outbox(os.path.join(self.dir, "outbox"), self.config.get("os3p.queue_limit"))
        self.core = Protocol(Settings(self.config), clock, State(os.path.join(self.dir, "state.json")), outbox,
                             lambda: boot_fields(self.config, device, modem() if modem is not None else None))
        self.config_changed_everywhere = config_changed or self.config_changed
        self.context = self.core.context = Context(self.core, self.config, device, self.loop, self.dir, sensors,
                                                   streetlights, self.config_changed_everywhere, model)
        self.subscriptions = []  # (component, fn) while the client runs
        self.conn = None
        self._timer = self._timer_at = None
        self._handling = False
        self._flush_soon = False
        self.core.wake = self._wake
        self.history = History()  # the link's last events, for the state view
        self._registration = None
        self.clock = clock
        from ..events import Publisher

        self.events = Publisher("OS3P client")  # LinkChanged, for reachability (the root subscribes it)
        self._registered = False

    def start(self):
        self._event(self.core.check_reboot, self.device.boot_id(read_boot_id(BOOT_ID)))
        if os.path.exists(os.path.join(self.dir, "firmware.json")):
            self.context.firmware.resume()  # a firmware update (maybe the one we just booted into) has a story to finish
        self._event(self.core.start)
        # after start: what the sensors published before is queued in order, after the reboot's notice
        if self.streetlights is not None:
            from . import streetlights

            self.subscriptions.append((self.streetlights, self.streetlights.subscribe(streetlights.subscriber(
                self.context))))
        if self.sensors is not None:
            from . import sensors

            self.subscriptions.append((self.sensors, self.sensors.subscribe(sensors.subscriber(self.context))))
        return self

    # --- what the tr069 object and the surfaces see ----------------------------------------------------
    @property
    def acs_url(self):
        return self.config.get("acs.url")

    @property
    def outbox(self):
        return self.core.outbox

    def connection_state(self):
        return self.core.connection_state()

    def registered(self):
        """Connected and BootNotification Accepted: the central system can be reached."""
        return bool(self.core.connected) and self.core.registration == "Accepted"

    def subscribe(self, fn, *kinds):
        """fn(LinkChanged) each time registered() turns (bridge/events.py)."""
        return self.events.subscribe(fn, *kinds)

    def unsubscribe(self, fn):
        self.events.unsubscribe(fn)

    def start_session(self, events, get_rpc_methods=False):
        self._event(self.core.start_session, events, get_rpc_methods)

    def config_changed(self, name):
        """A key changed in memory: the core acts on the ones it uses (ping, heartbeat)."""
        self.core.config_changed(name)  # its output is flushed on wake()

    def expect_reboot(self):
        """Before a reboot the tr069 object causes: the next start must not report it as unexpected."""
        self.core.expect_reboot()

    def reboot_failed(self, reason):
        self.core.reboot_failed(reason)

    def state(self):
        """The state view's section."""
        box = self.outbox
        head = box.head()
        oldest = None if head is None else {"action": head["action"], "queued": iso(head["queued"]),
                                            "age": max(0, int(time.time() - head["queued"]))}
        out = {"enabled": True, "url": redact(self.acs_url), "link": self.connection_state(),
               "connected": self.core.connected, "registration": self.core.registration,
               "history": self.history.view(),
               "outbox": {"depth": len(box), "oldest": oldest, "dropped": box.dropped}}
        # the firmware update's story (Downloaded, Installing, InstallationFailed, ...), once there is one
        if self.context._firmware is not None or os.path.exists(os.path.join(self.dir, "firmware.json")):
            firmware = self.context.firmware.view()
            if firmware is not None:
                out["firmware"] = firmware
        return out

    def options(self):
        c = self.config
        return Options(connection_url(c.get("acs.url"), c.get("acs.identity")),
                       username=c.get("acs.username"), password=c.get("acs.password"),
                       ca_file=c.get("acs.ca_file"), client_cert=c.get("acs.client_cert"),
                       client_key=c.get("acs.client_key"), connect_timeout=c.get("os3p.connect_timeout"),
                       io_timeout=c.get("os3p.call_timeout"), max_message=c.get("os3p.max_message"),
                       allow_insecure_auth=c.get("os3p.allow_insecure_auth"))

    def reload(self):
        """The daemon re-read the config: reconnect when what the connection depends on changed."""
        self.core.outbox.limit = self.config.get("os3p.queue_limit")
        try:
            changed = self.conn is not None and vars(self.options()) != vars(self.conn.options)
        except ValueError as e:
            log.error("OS3P: %s", e)
            changed = True
        if changed:
            log.info("OS3P connection settings changed: reconnecting")
            self._event(self.core.settings_changed)
        self._event(self.core.config_changed, None)

    def stop(self):
        for component, fn in self.subscriptions:
            component.unsubscribe(fn)
        self.subscriptions.clear()
        self._event(self.core.stop)
        if self._timer is not None:
            self._timer.cancel()
        conn = self.conn
        if conn is not None:
            conn.thread.join(0.5)
            if conn.thread.is_alive():
                conn.abort()
                conn.thread.join(1.0)
        self.context.stop()

    # --- Connection handler (called on the loop thread) -------------------------------------
    def on_open(self, conn, headers):
        if conn is self.conn:
            log.info("connected to the central system (%s)", safe_url(conn.options.url))
            self.history.add("connected")
            self._event(self.core.opened)

    def on_close(self, conn, reason):
        if conn is self.conn:
            self.conn = None
            self.history.add("closed", str(reason or ""))
            self._event(self.core.closed, reason)

    def on_text(self, conn, text):
        if conn is self.conn:
            self._event(self.core.received, text)

    def on_pong(self, conn):
        if conn is self.conn:
            self._event(self.core.pong)

    def on_sent(self, conn, after):
        after()

    # --- carrying out what the core asks for ------------------------------------------------------
    def _event(self, method, *args):
        self._handling = True
        try:
            method(*args)
        except Exception:  # a bug or a device surprise: never leave the connection half-open
            log.exception("OS3P: handling %s failed: dropping the connection, registration starts over",
                          getattr(method, "__name__", method))
            if self.conn is not None:
                self.conn.abort()  # on_close -> the core's closed(): backoff, reconnect, BootNotification
        finally:
            self._handling = False
        self._flush()

    def _wake(self):
        """The core has output after a call that came from elsewhere (a transfer, a handler's after())."""
        if not self._handling and not self._flush_soon:
            self._flush_soon = True
            self.loop.call_soon(self._flush)

    def _flush(self):
        self._flush_soon = False
        if self.core.registration != self._registration:
            self._registration = self.core.registration
            if self._registration is not None:
                self.history.add("registration", self._registration)
        registered = self.registered()
        if registered != self._registered:
            from ..events import LinkChanged

            self._registered = registered
            self.events.publish(LinkChanged(registered, self.connection_state(), self.clock.now()))
        for out in self.core.take():
            kind = type(out)
            if kind is Send:
                if self.conn is not None:
                    self.conn.send(out.text, out.after)
            elif kind is SessionDone:
                self.loop.call_soon(self.tr069.session_finished, out.success)
            elif kind is Connect:
                self._connect()
            elif kind is Ping:
                if self.conn is not None:
                    self.conn.ping()
            elif kind is Close:
                if self.conn is not None:
                    self.conn.close()
            elif kind is Abort:
                if self.conn is not None:
                    self.conn.abort()
            elif kind is NextSession:
                self.tr069.next_session(out.at)
            elif kind is SessionDue:
                self.loop.call_soon(self._periodic, out.events)
            elif kind is HeartbeatInterval:
                self._heartbeat_interval(out.seconds)
        self._arm()

    def _arm(self):
        """One loop timer, at the core's next deadline (or earlier: a deadline that moved later, as the call
        timeout does with every CALL, is left to the timer already set, which re-arms when it fires)."""
        when = self.core.deadline()
        if when == self._timer_at or (when is not None and self._timer_at is not None and when > self._timer_at):
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = when
        self._timer = None if when is None else self.loop.call_later(when - self.loop.time(), self._tick)

    def _tick(self):
        self._timer = self._timer_at = None
        self._event(self.core.tick)

    def _connect(self):
        try:
            options = self.options()
        except ValueError as e:
            log.error("OS3P: %s", e)
            self._event(self.core.closed, "bad configuration")
            return
        log.info("connecting to %s", safe_url(options.url))
        self.history.add("connecting", safe_url(options.url))
        self.conn = Connection(self.loop, options, self).start()

    def _periodic(self, events):
        """The core says the periodic session is due: the tr069 object, which keeps the sessions' record,
        starts it (and the core hears of it through start_session), or does not."""
        if not self.tr069.start_session(events):
            self._event(self.core.session_refused)

    def _heartbeat_interval(self, seconds):
        """The central system's interval: kept in the config, and the next heartbeat counts with it."""
        try:
            self.config.set("acs.periodic_inform_interval", seconds)
            self.config.save()
        except (ValueError, OSError) as e:
            log.warning("cannot keep the heartbeat interval %s: %s", seconds, e)
            return
        self.config_changed_everywhere("acs.periodic_inform_interval")

