"""The parameter model as a component of the daemon: the shell around the pure core.

Built by the composition root (bridge/wiring.py build_model) with what it reads: the config, the device,
the clock, the station's parts that run here, ubusd's socket (netifd) and the state directory. It

  - builds the model (rows, backend, its state file) on first use: a daemon nobody asks and that watches
    nothing never loads the table;
  - compares the watched parameters when a source tells it something changed: a config reload or write
    (reload(), config_changed()), the streetlights' and the sensors' events (streetlights_changed(),
    sensors_changed(): the root subscribes them), the OS3P link and the firmware transfer (link_changed());
    and every model.poll_interval seconds for the groups that cannot tell (rows.GROUPS), while anything of
    them is watched;
  - publishes what changed as ParameterChanged events; an active one also starts a tr069 session with
    event "4 VALUE CHANGE" (inform, given by the root), whose OS3P messages take the changes
    (value_changes()); passive ones wait for the next session (docs/notifications.md).

Its state (instance numbers, attributes, ParameterKey, the last watched values, the changes not sent yet)
is <state>/model.json, written with write + fsync + rename; a file that does not fit is set aside.
"""

import os

from .. import atomic
from ..events import ParameterChanged, Publisher
from ..logger import getLogger
from ..timers import Timers

log = getLogger(__name__)

STATE_FILE = "model.json"
NETIFD_TIMEOUT = 2.0  # seconds netifd has to answer its dump (else the interfaces are absent this time)
POLL_KEY = "model.poll_interval"


class Store:
    """The model's state file."""

    def __init__(self, path):
        self.path = path

    def load(self):
        return atomic.load_json(self.path, _fits, default=None)

    def save(self, state):
        atomic.write_json(self.path, state)


def _fits(data):
    atomic.need(isinstance(data, dict), "not an object")
    for name, kind in (("instances", dict), ("attributes", dict), ("parameter_key", str), ("last", dict),
                       ("pending", dict)):
        atomic.need(isinstance(data.get(name, kind()), kind), "%s is not a %s" % (name, kind.__name__))
    return data


def has_state(state_dir):
    return os.path.exists(os.path.join(state_dir, STATE_FILE))


class ParameterModel:
    def __init__(self, loop, clock, config, device, state_dir, inform, streetlights=None, sensors=None,
                 netifd_socket=None, reach=None):
        """inform(event): what `ubus call tr069 inform` does (the tr069 object's session for an event);
        reach: the reachability component (Device.Cellular.*), None where it does not run."""
        self.loop = loop
        self.clock = clock
        self.config = config
        self.device = device
        self.state_dir = state_dir
        self.inform = inform
        self.streetlights = streetlights
        self.sensors = sensors
        self.reach = reach
        self.netifd_socket = netifd_socket
        self.link = lambda: None  # the OS3P link's state and the firmware transfer: link_changed() sets them
        self.firmware = lambda: None
        self.config_changed_hook = lambda name: None  # applies a key written through the model (the root sets it)
        self.events = Publisher("parameter model")
        self._model = None
        self.timers = Timers(loop.call_later)
        self._due = set()  # getter groups to compare on the loop's next turn

    # --- the model, built on first use ---------------------------------------------------------------------
    def model(self):
        if self._model is None:
            from . import rows
            from .bindings import Backend
            from .core import Model

            registry = rows.registry()
            backend = Backend(self.config, self.device, registry, clock=self.clock.wall, zone=self._zone,
                              streetlights=lambda: self.streetlights, sensors=lambda: self.sensors,
                              link=lambda: self.link(), firmware=lambda: self.firmware(), netifd=self._netifd(),
                              reach=lambda: self.reach,
                              on_config_changed=self.config_changed_hook)
            self._model = Model(registry, backend, Store(os.path.join(self.state_dir, STATE_FILE)))
        return self._model

    def _zone(self):
        from ..station.zone import device_zone

        return device_zone(self.device)

    def _netifd(self):
        if self.device.backend != "ubus":
            return None  # the host: the kernel's interfaces

        def dump():
            from ..ubus import client

            try:  # a short wait: a request's snapshot runs on the loop
                code, data = client.call("network.interface", "dump", socket_path=self.netifd_socket,
                                         timeout=NETIFD_TIMEOUT)
            except client.UbusError:
                return None
            return data if code == 0 and isinstance(data, dict) else None

        return dump

    def loaded(self):
        return self._model is not None

    def object(self):
        """The ubus object tr069.model, serving this model."""
        from .ubus_object import ModelObject

        return ModelObject(self.model, after_call=lambda method: self.changed(("config", "streetlight")))

    # --- Component --------------------------------------------------------------------------------------------
    def start(self):
        if has_state(self.state_dir):
            # something was watched or numbered before: take it up now (a change while stopped is found)
            self.loop.call_soon(self.changed)
        self._arm_poll()

    @property
    def stopped(self):
        """Once stop() ran: its timers refuse new ones, and what a callback still running would start is not."""
        return self.timers.stopped

    def stop(self):
        self.timers.stop()

    def reload(self):
        """The config was read again (a reload, SIGHUP, procd's trigger, the host's file watch)."""
        self.changed(("config",))
        self._arm_poll()

    def state(self):
        if self._model is None:
            return {"loaded": False}
        m = self._model
        return {"loaded": True, "watched": len(m.last), "pending": len(m.pending),
                "parameter_key": m.parameter_key, "failing": sorted(m.failing)}

    def subscribe(self, fn, *kinds):
        return self.events.subscribe(fn, *kinds)

    def unsubscribe(self, fn):
        self.events.unsubscribe(fn)

    # --- value changes ----------------------------------------------------------------------------------------
    def config_changed(self, name):
        """A key was written (ChangeConfiguration, a SetParameterValues): compare what is watched of the
        config once the write is done or taken back (a value that could not be written is no change)."""
        self._compare_soon("config")

    def streetlights_changed(self, event):
        """The streetlights' ContactorChanged, ModeChanged, ProfilesChanged (OS3P's SetStreetlightProfile
        and ClearStreetlightProfile change no light now, yet the profiles' parameters)."""
        self._compare_soon("streetlight")

    def sensors_changed(self, event):
        """The sensors' FaultChanged and SampleTaken."""
        self.changed(("meter", "indicators"))

    def _compare_soon(self, group):
        """Compare the watched parameters of `group` on the loop's next turn, once what caused the event is
        done: a write of the central system's own (DataModel SetParameterValues of a profile, whose event
        comes in the middle of the write) is the baseline by then, not a change to notify back to it."""
        if not self._due:
            self.loop.call_soon(self._compare_due)
        self._due.add(group)

    def _compare_due(self):
        groups, self._due = tuple(sorted(self._due)), set()
        self.changed(groups)

    def link_changed(self):
        self.changed(("link", "firmware"))

    def changed(self, groups=None):
        """Compare the watched parameters of these getter groups (all by default) with their last values."""
        if self.stopped or (self._model is None and not has_state(self.state_dir)):
            return []  # nothing watched, nothing numbered: nothing to compare
        try:
            changes = self.model().check(groups)
        except Exception:
            log.exception("model: comparing %s failed", ", ".join(groups or ("every group",)))
            return []
        for c in changes:
            self.events.publish(ParameterChanged(c.path, c.value, c.type, c.active, self.clock.now()))
        if changes:
            log.info("model: %d value change(s): %s", len(changes), ", ".join(c.path for c in changes[:5]))
        if any(c.active for c in changes):
            self.inform("4 VALUE CHANGE")
        return changes

    def value_changes(self):
        """The DataModelNotification payload's parameter list of what waits, taken out of the model (None:
        nothing waits). restore() puts them back when they could not be queued."""
        if self._model is None or not self._model.has_pending():
            return None
        return [{"name": p["Name"], "value": p["Value"], "type": p["Type"]}
                for p in self._model.take_notification()]

    def restore(self, params):
        self.model().restore([{"Name": p["name"], "Value": p["value"], "Type": p["type"]} for p in params])

    def before_session(self, events):
        """A session starts for these events: an icwmp-style `inform 4 VALUE CHANGE` from another program
        means "look": every group is compared first, so what changed goes with it."""
        if "4 VALUE CHANGE" in events:
            self.changed()

    # --- polling what cannot tell -----------------------------------------------------------------------------
    def _arm_poll(self):
        every = self.config.get(POLL_KEY)
        self.timers.set("poll", every if every > 0 else None, self._poll)

    def _poll(self):
        self.timers.fired("poll")
        if self._model is not None and self._model.attributes.watched_roots():
            from .rows import GROUPS

            self.changed(tuple(g for g, how in GROUPS.items() if how.startswith("poll")))
        self._arm_poll()
