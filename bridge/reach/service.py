"""Reachability on the daemon's loop: the shell around the pure parts (state.py, camara.py).

- Refreshes read the modem (the backend) and the uplinks (netifd's `network.interface dump` over ubus,
  or the host simulation) in one worker thread, never on the loop; one at a time, a request during one
  runs once after it. They run at start, on every netifd `network.interface` event (ifup, ifdown,
  ifupdate) for an interface of reach.interfaces, every reach.refresh_interval seconds, and on the host
  when the simulation file changes (one stat a second).
- Each refresh judges the state (state.judge) and feeds the debounce (state.ReachabilityState, reach.debounce
  seconds); a change that lasted notifies the subscriptions whose type it reaches, in order.
- Events (bridge/events.py): ReachabilityChanged for every change that lasted, SignalChanged when the
  weak-signal hysteresis turns; the root hands SignalChanged to the sensors, whose alarms make it the
  station's WeakSignal error, as a ContactorFault makes a PowerSwitchFailure.
- Subscriptions (camara.py) are stored (store.py) before they are answered; deliveries go through
  delivery.py. Expiry, max events and deletion end a subscription with subscription-ends. Neither is
  loaded before it is used (bridge/reach/__init__.py): the deliveries are made at the first notification,
  or at start when the last run left some waiting.
"""

import _thread
import os
import time

from .. import ubusmsg as st
from ..ubusmsg import UbusObject
from ..events import Publisher, ReachabilityChanged, SignalChanged
from ..ids import uuid4
from ..logger import getLogger
from ..timers import Timers
from . import camara
from .backends import BackendError, choose, open_backend
from .modem import ModemInfo
from .state import ReachabilityState, WeakSignal, judge
from .store import OUTBOX, Store

log = getLogger(__name__)

NETIFD_ACTIONS = ("ifup", "ifdown", "ifupdate")
SIM_POLL = 1.0  # seconds between two looks at the host simulation file (one stat)
TOKEN_MARGIN = 30.0  # a sink's access token ends its subscription this long before it expires


class ReachObject(UbusObject):
    """ubus object tr069.reach: `status` (the state view's section), `subscriptions` (as the API lists them)."""

    name = "tr069.reach"

    def __init__(self, reach):
        self.reach = reach
        self.methods = {"status": lambda _args: (st.OK, reach.view()),
                        "subscriptions": lambda _args: (st.OK, {"subscriptions": reach.list()})}

    def signature(self):
        return {"status": {}, "subscriptions": {}}


class Reach:
    def __init__(self, loop, config, state_dir, device_backend="host", ubus_socket=None, clock=time.time):
        """ubus_socket: where ubusd listens, for the modem backends that ask it (ModemManager's rpcd object,
        uqmid); netifd is asked over the daemon's own connection (use_ubus)."""
        """clock() -> the host's epoch seconds (the subscriptions' and the events' times)."""
        self.loop = loop
        self.config = config
        self.clock = clock
        self.events = Publisher("reachability")
        self.object = ReachObject(self)
        self.os3p_registered = lambda: None  # OS3P not enabled here, until follow_os3p
        self.interfaces = config.get("reach.interfaces").split()
        self._plain_http = config.get("reach.plain_http_sinks")  # judged at its first use (plain_http_allowed)
        self.simulation = None
        if device_backend == "host":  # the simulated modem's module only where it is simulated
            from .backends.simulated import FILE

            self.simulation = os.path.join(state_dir, FILE)
        self.backend_name = choose(config.get("reach.backend"), device_backend)
        try:
            self.backend = open_backend(self.backend_name, {
                "device": config.get("reach.device"), "modem_name": config.get("reach.modem_name"),
                "ubus_socket": ubus_socket, "simulation": self.simulation})
        except ValueError as e:
            log.error("reach: backend %s: %s; no modem", self.backend_name, e)
            self.backend_name = "none"
            self.backend = open_backend("none", {})
        self.modem = ModemInfo()
        self.modem_error = None
        self.uplinks = {}  # interface -> [addresses] of the uplinks up with an address
        self.addresses = ([], [])  # (ipv4, ipv6) of every interface up: what identifies the station
        self.store = Store(state_dir, self.plain_http_allowed)
        last = self.store.state or {}
        self.reach = ReachabilityState(config.get("reach.debounce"), last.get("state"), last.get("since"))
        self.weak = WeakSignal(config.get("reach.weak_signal_rsrp"), config.get("reach.weak_signal_rssi"),
                               config.get("reach.weak_signal_hysteresis"))
        self.outbox = os.path.join(state_dir, OUTBOX)
        self._delivery_options = (config.get("reach.sink_queue"), config.get("reach.sink_timeout"),
                                  config.get("reach.ca_file") or None)
        self.delivery = None  # deliveries(): made on first use
        self.refreshing = False
        self.again = False
        self.refreshed_once = False
        self.timers = Timers(loop.call_later)
        self.sim_mark = None
        self.ubus = None  # the daemon's ubus connection, once the root hands it over (use_ubus)
        self.refreshes = 0  # completed, for observers and tests
        self.api_url = None  # where the CAMARA API listens, once the root started its server

    # --- the component ----------------------------------------------------------------------------------------
    def start(self):
        if os.path.isdir(self.outbox) and os.listdir(self.outbox):
            self.deliveries().start()  # what the last run left waiting goes first, each sink in order
        for record in self.store.subscriptions.values():
            self._arm_expiry(record)
        self.refresh("start")
        self.timers.set("slow", self.config.get("reach.refresh_interval"), self._slow)
        if self.simulation:
            self.timers.set("sim", SIM_POLL, self._watch_simulation)

    def subscribe(self, fn, *kinds):
        return self.events.subscribe(fn, *kinds)

    def unsubscribe(self, fn):
        self.events.unsubscribe(fn)

    def modem_info(self):
        return self.modem

    def follow_os3p(self, registered):
        """registered() -> whether the OS3P link is registered now; the root subscribes on_link to the
        client's LinkChanged, so the state is judged again the moment it turns (no polling)."""
        self.os3p_registered = registered

    def on_link(self, event):
        """LinkChanged from the OS3P client (bridge/events.py)."""
        log.debug("reach: OS3P link %s", "registered" if event.registered else event.link or "down")
        self._judge()

    def state(self):
        return self.view()

    # --- timers ------------------------------------------------------------------------------------------
    def _slow(self):
        self.refresh("timer")
        self.timers.set("slow", self.config.get("reach.refresh_interval"), self._slow)

    def _watch_simulation(self):
        try:
            st = os.stat(self.simulation)
            mark = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            mark = None
        if mark != self.sim_mark:
            self.sim_mark = mark
            if self.refreshed_once:
                self.refresh("simulation")
        self.timers.set("sim", SIM_POLL, self._watch_simulation)

    # --- refreshing ------------------------------------------------------------------------------------------
    def on_netifd(self, event, data):
        """A `network.interface` event from ubusd (the ubus surface's listener)."""
        if not isinstance(data, dict) or data.get("action") not in NETIFD_ACTIONS:
            return
        name = data.get("interface")
        if self.interfaces and name not in self.interfaces:
            return
        log.debug("reach: netifd %s %s", data.get("action"), name)
        self.refresh("netifd %s %s" % (data.get("action"), name))

    def refresh(self, reason):
        """Read the modem, then the uplinks. A modem tool blocks: it runs in a worker thread (one at a time;
        the host simulation and `none` are read on the loop). netifd's dump goes over the daemon's own ubus
        connection (use_ubus), never blocking the loop, and no thread for it: a thread costs a glibc host
        a malloc arena (~0.8 MiB kept), though not musl on a router."""
        if self.stopped:
            return
        if self.refreshing:
            self.again = True
            return
        self.refreshing = True
        if self.backend_name in ("host", "none"):
            self._modem_read(*self._read_modem())
            return
        # _thread, not threading: the threading module would cost ~0.25 MiB where nothing else loads it
        # (the ubus surface alone); the worker ends with the read and never needs joining
        _thread.start_new_thread(self._read_in_thread, ())

    def _read_in_thread(self):
        self.loop.call_soon_threadsafe(self._modem_read, *self._read_modem())

    def _read_modem(self):
        try:
            return self.backend.read(), None
        except BackendError as e:
            return ModemInfo(), str(e)
        except Exception as e:  # a bug in a parser must not stop the refreshes
            log.exception("reach: reading the modem failed")
            return ModemInfo(), "%s: %s" % (type(e).__name__, e)

    def use_ubus(self, conn):
        """The daemon's ubus connection (bridge/ubus/connection.py): netifd's dump is asked over it, once it
        is connected (and again after each reconnect: what changed meanwhile was not heard)."""
        self.ubus = conn
        conn.ready_callbacks.append(lambda: self.refresh("ubus connected"))

    def _modem_read(self, modem, error):
        if self.ubus is not None and self.ubus.connected:
            self.ubus.call("network.interface", "dump", {},
                           lambda code, dump: self._uplinks_read(modem, error, code, dump))
        else:
            self._uplinks_read(modem, error, 10, None)

    def _uplinks_read(self, modem, error, code, dump):
        if self.ubus is not None and code == 10 and not self.ubus.connected:
            # netifd cannot be asked yet: the modem is kept, the state waits for the connection's refresh
            self.refreshing = False
            self.modem = modem
            if self.again:
                self.again = False
            return
        if code == 0 and isinstance(dump, dict):
            uplinks, addresses = interfaces_from_dump(dump, self.interfaces)
        elif self.simulation:
            from .backends.simulated import read_file, uplink_interfaces

            uplinks = uplink_interfaces(read_file(self.simulation), self.interfaces or ["wwan"])
            addresses = ([a for v in uplinks.values() for a in v] + ["127.0.0.1"], ["::1"])
        else:
            uplinks, addresses = {}, ([], [])
        self._refreshed(modem, error, uplinks, addresses)

    def _refreshed(self, modem, error, uplinks, addresses):
        self.refreshing = False
        self.refreshes += 1
        self.refreshed_once = True
        if self.stopped:
            return
        if error != self.modem_error:
            if error:
                log.warning("reach: modem (%s): %s; its fields are absent until it answers", self.backend_name, error)
            elif self.modem_error:
                log.info("reach: modem (%s) answers again", self.backend_name)
            self.modem_error = error
        self.modem, self.uplinks, self.addresses = modem, uplinks, addresses
        weak = self.weak.update(modem)
        if weak is not None:
            self.events.publish(SignalChanged(weak[0], self.clock(), weak[1]))
        self._judge()
        if self.again:
            self.again = False
            self.refresh("again")

    # --- the state ---------------------------------------------------------------------------------------------
    def _judge(self):
        raw = judge(bool(self.uplinks), self.modem, self.os3p_registered())
        before = self.reach.state
        change = self.reach.observe(raw, self.loop.time(), self.clock())
        if before is None and self.reach.state is not None:
            self._save_state()
        self._changed(change)

    def _tick(self):
        self.timers.fired("debounce")
        self._changed(self.reach.tick(self.loop.time()))

    def _changed(self, change):
        if change is not None:
            log.info("reach: %s -> %s", change.old, change.new)
            self._save_state()
            self.events.publish(ReachabilityChanged(change.old, change.new, change.time))
            for record in list(self.store.subscriptions.values()):
                if camara.TYPES[record["request"]["types"][0]] == change.new:
                    self._notify(record, camara.event_type(change.new), change.time)
        deadline = self.reach.deadline()
        self.timers.set("debounce", None if deadline is None else deadline - self.loop.time(), self._tick)

    def _save_state(self):
        self.store.state = {"state": self.reach.state, "since": self.reach.since}
        self._save()

    def _save(self):
        try:
            self.store.save()
            return True
        except OSError as e:
            log.error("reach: cannot write %s: %s", self.store.path, e.strerror or e)
            return False

    # --- notifications -------------------------------------------------------------------------------------------
    def deliveries(self):
        """The deliveries (delivery.py), made at their first use: a station nobody subscribed from never loads
        their code."""
        if self.delivery is None:
            from .delivery import Delivery

            queue, timeout, ca_file = self._delivery_options
            self.delivery = Delivery(self.loop, queue, timeout, ca_file=ca_file, on_gone=self._gone,
                                     directory=self.outbox, sink_allowed=self._sink_allowed)
        return self.delivery

    def _send(self, record, event):
        from .delivery import Notification

        cred = record["request"].get("sinkCredential")
        self.deliveries().send(Notification(record["request"]["sink"], event, cred and cred["accessToken"],
                                            record["id"]))

    def _notify(self, record, type_, when):
        record["events"] += 1
        self._send(record, camara.cloud_event(uuid4(), record, type_, when))
        limit = record["request"]["config"].get("subscriptionMaxEvents")
        if limit is not None and record["events"] >= limit:
            self._end(record, "MAX_EVENTS_REACHED")
        else:
            self._save()

    def _end(self, record, reason):
        if self.store.subscriptions.pop(record["id"], None) is None:
            return
        self.timers.cancel("expiry " + record["id"])
        self._save()
        log.info("reach: subscription %s ended: %s", record["id"], reason)
        self._send(record, camara.ends_event(uuid4(), record, reason, self.clock()))

    def _gone(self, note):
        record = self.store.subscriptions.get(note.subscription)
        if record is not None:
            self.store.subscriptions.pop(record["id"], None)
            self._save()

    def plain_http_allowed(self, addr):
        """Whether a plain http sink at this address is allowed (reach.plain_http_sinks, parsed once)."""
        if not callable(self._plain_http):
            self._plain_http = camara.networks_check(self._plain_http)
        return self._plain_http(addr)

    def _sink_allowed(self, url):
        try:
            camara.check_sink(url, self.plain_http_allowed)
            return True
        except camara.ApiError:
            return False

    def _arm_expiry(self, record):
        """One timer at the earliest end: the expire time, or the token's expiry less TOKEN_MARGIN."""
        req = record["request"]
        ends = []
        if "subscriptionExpireTime" in req["config"]:
            ends.append((camara.parse_time(req["config"]["subscriptionExpireTime"]), "SUBSCRIPTION_EXPIRED"))
        if "sinkCredential" in req:
            ends.append((camara.parse_time(req["sinkCredential"]["accessTokenExpiresUtc"]) - TOKEN_MARGIN,
                         "ACCESS_TOKEN_EXPIRED"))
        if not ends:
            return
        when, reason = min(ends)
        # on the loop's clock: a wall-clock step moves it by as much (a long wait is re-checked hourly)
        delay = min(when - self.clock(), 3600.0)

        def fire():
            self.timers.fired("expiry " + record["id"])
            if record["id"] not in self.store.subscriptions:
                return
            if self.clock() >= when:
                self._end(record, reason)
            else:
                self._arm_expiry(record)
        self.timers.set("expiry " + record["id"], delay, fire)

    # --- the API's operations (api.py calls them; ApiError for every refusal) ----------------------------------
    def identity(self):
        msisdn = self.config.get("reach.msisdn") or self.modem.msisdn
        return camara.Identity(msisdn, self.addresses[0], self.addresses[1])

    def create(self, body):
        now = self.clock()
        request = camara.validate(body, now, self.plain_http_allowed)
        device = request["config"]["subscriptionDetail"].get("device")
        if device is None:
            raise camara.ApiError(422, "MISSING_IDENTIFIER", "The device cannot be identified.")
        camara.match_device(device, self.identity())
        if self.backend_name == "none" and camara.TYPES[request["types"][0]] == "sms":
            raise camara.ApiError(422, "SERVICE_NOT_APPLICABLE",
                                  "The service is not available for the provided identifier: this station has no modem.")
        if len(self.store.subscriptions) >= self.config.get("reach.max_subscriptions"):
            raise camara.ApiError(429, "QUOTA_EXCEEDED", "Out of resource quota.")
        record = {"id": uuid4(), "request": request, "starts": now, "events": 0}
        self.store.subscriptions[record["id"]] = record
        if not self._save():
            del self.store.subscriptions[record["id"]]
            raise camara.ApiError(503, "UNAVAILABLE", "The station cannot store the subscription now.")
        log.info("reach: subscription %s for %s to %s", record["id"], request["types"][0].rsplit(".", 1)[1],
                 request["sink"].split("?", 1)[0])
        self._arm_expiry(record)
        shown = camara.shown(record)
        if camara.initial_event_due(record, self.reach.state):
            self.loop.call_soon(self._initial, record["id"])
        return shown

    def _initial(self, sid):
        record = self.store.subscriptions.get(sid)
        if record is not None and camara.initial_event_due(record, self.reach.state):
            self._notify(record, camara.event_type(self.reach.state), self.reach.since or self.clock())

    def list(self):
        return [camara.shown(r) for r in self.store.subscriptions.values()]

    def type_of(self, sid):
        """The event type a subscription is for, None when there is no such subscription."""
        record = self.store.subscriptions.get(sid)
        return record["request"]["types"][0] if record is not None else None

    def get(self, sid):
        record = self.store.subscriptions.get(sid)
        if record is None:
            raise camara.ApiError(404, "NOT_FOUND", "The specified resource is not found.")
        return camara.shown(record)

    def delete(self, sid):
        record = self.store.subscriptions.get(sid)
        if record is None:
            raise camara.ApiError(404, "NOT_FOUND", "The specified resource is not found.")
        self._end(record, "SUBSCRIPTION_DELETED")

    # --- views ---------------------------------------------------------------------------------------------------
    def view(self):
        out = {"state": self.reach.state, "since": camara.format_time(self.reach.since) if self.reach.since else None,
               "backend": self.backend_name, "modem": self.modem.as_dict(), "uplinks": sorted(self.uplinks),
               "weak_signal": self.weak.active, "subscriptions": len(self.store.subscriptions)}
        if self.modem_error:
            out["modem_error"] = self.modem_error
        if self.api_url:
            out["api"] = self.api_url
        if self.reach.candidate is not None:
            out["settling"] = self.reach.candidate[0]
        sinks = self.delivery.view() if self.delivery is not None else None
        if sinks:
            out["sinks"] = sinks
        return out

    @property
    def stopped(self):
        """Once stop() ran: its timers refuse new ones, and what a callback still running would start is not."""
        return self.timers.stopped

    def stop(self):
        self.timers.stop()
        if self.delivery is not None:
            self.delivery.stop()


def interfaces_from_dump(dump, names):
    """netifd's `network.interface dump` -> ({uplink: [addresses]} for the named interfaces up with an
    address (every interface but loopback when no name is given), (ipv4, ipv6) of every interface up)."""
    uplinks, v4, v6 = {}, [], []
    for iface in dump.get("interface") or []:
        if not isinstance(iface, dict) or iface.get("up") is not True:
            continue
        name = iface.get("interface")
        a4 = [a.get("address") for a in iface.get("ipv4-address") or [] if isinstance(a, dict)]
        a6 = [a.get("address") for a in iface.get("ipv6-address") or [] if isinstance(a, dict)]
        a4 = [a for a in a4 if isinstance(a, str)]
        a6 = [a for a in a6 if isinstance(a, str)]
        v4 += a4
        v6 += a6
        wanted = name in names if names else name != "loopback"
        if wanted and (a4 or a6):
            uplinks[name] = a4 + a6
    return uplinks, (v4, v6)
