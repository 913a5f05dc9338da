"""The streetlights component: contactors from UCI, their lines, the watcher and the Control on the loop.

    config contactor                       one section per contactor (docs/streetlights.md)
        option id '1'                      1-4 (OS3P contactorId)
        option backend 'gpio'              gpio | ubus | host: LINES below
        option output '17'                 the relay's line
        option feedback '22'               optional: the contactor's auxiliary contact, an input
        option active_low '0'              output wiring; feedback_active_low for the input
        option object 'relays'             ubus backend: the object that owns the lines

The station-wide options (local switch, local_action, StreetlightProfileMaxStackLevel) are keys of the
`streetlights` section in bridge/config.py. With the host device backend and no contactor section the
daemon simulates four contactors with feedback contacts and a local switch (hostlines.py); on a device
only configured contactors exist and the others are refused.
"""

import os
import time

from .. import atomic
from ..ubusmsg import UbusObject
from ..logger import getLogger
from .contactors import Contactor, Control
from .schedule import Place

log = getLogger(__name__)

# backend -> module whose open_line(name, output, active_low, initial, **options) gives a line
LINES = {
    "gpio": "bridge.station.backends.gpio",
    "ubus": "bridge.station.backends.ubuslines",
    "host": "bridge.station.backends.hostlines",
}


def contactor_rows(sections):
    """The `config contactor` sections -> ([row], [(section name, option, why)] of those not used)."""
    rows, problems = [], []
    seen = set()
    for s in sections:
        if s.get(".type") != "contactor":
            continue
        name = s.get(".name")
        try:
            cid = int(s.get("id", ""))
        except ValueError:
            problems.append((name, "id", "id must be 1-4"))
            continue
        backend = s.get("backend", "gpio")
        if cid not in (1, 2, 3, 4):
            problems.append((name, "id", "id %d is not 1-4" % cid))
        elif cid in seen:
            problems.append((name, "id", "contactor %d is configured twice" % cid))
        elif backend not in LINES:
            problems.append((name, "backend", "backend %r is not one of %s" % (backend, ", ".join(LINES))))
        elif not s.get("output"):
            problems.append((name, None, "contactor %d has no output" % cid))
        elif backend == "ubus" and not s.get("object"):
            problems.append((name, None, "contactor %d: the ubus backend needs option object" % cid))
        else:
            seen.add(cid)
            rows.append({"id": cid, "backend": backend, "output": s["output"], "feedback": s.get("feedback") or None,
                         "active_low": s.get("active_low", "0") in ("1", "true", "yes", "on"),
                         "feedback_active_low": s.get("feedback_active_low", "0") in ("1", "true", "yes", "on"),
                         "object": s.get("object", "")})
    return rows, problems


def check_contactors(sections):
    """For `tr069-bridge check` (config.SECTION_CHECKS): what contactor_rows refuses."""
    return contactor_rows(sections)[1]


def _open(backend, name, output, active_low, initial, directory, obj="", socket_path=None):
    import importlib

    module = importlib.import_module(LINES[backend])
    if backend == "host":
        return module.open_line(name, output, active_low, initial, directory=directory)
    if backend == "ubus":
        return module.open_line(name, output, active_low, initial, obj=obj, socket_path=socket_path)
    return module.open_line(name, output, active_low, initial)


def sun_today(geolocation, zone, now=None):
    """(sunrise, sunset) instants of the local date at `now`, whole seconds; None without a Geolocation."""
    from .sun import Sun, parse_latlng

    try:
        latlng = parse_latlng(geolocation)
    except ValueError:
        return None
    if latlng is None:
        return None
    sun = Sun(*latlng)
    today = zone.local(time.time() if now is None else now).date()
    return float(round(sun.sunrise(today, zone))), float(round(sun.sunset(today, zone)))


class Streetlights:
    """The streetlights component: the contactors' lines opened from UCI, their inputs watched, the Control
    (contactors.py) on the loop. Offers subscribe() (the Control's events), the Control itself (what the
    OS3P actions drive), place() and sun_today(), state() for the state view, and objects(): the ubus
    objects it serves (the simulated local switch)."""

    def __init__(self, loop, config, clock, state_dir, zone, simulate=False, ubus_socket=None):
        """zone() -> the device's zone (zone.py), asked at start and on a reload; simulate: the host's four
        simulated contactors when none is configured; ubus_socket: where lines behind ubus objects are."""
        self.loop = loop
        self.config = config
        self.clock = clock
        self.device_zone = zone
        self.dir = os.path.join(state_dir, "station")
        atomic.state_dir(self.dir)
        self.state_path = os.path.join(self.dir, "streetlights.json")
        self.ubus_socket = ubus_socket or self.config.get("ubus.socket")
        self.zone = zone()
        self._place = self._place_key = None
        self.lines = []
        self.watcher = None
        self.poller = None
        self.simulated = False
        contactors, local = self._open_hardware(simulate)
        self.control = Control(contactors, self.place, clock.wall, self.loop.call_later, self.state_path,
                               max_stack_level=lambda: self.config.get("streetlights.max_stack_level"),
                               local_switch=local, local_action=self.config.get("streetlights.local_action"),
                               feedback_timeout=lambda: self.config.get("streetlights.feedback_timeout_ms") / 1000.0,
                               stamp=clock.now)
        self._watch(contactors, local)

    def start(self):
        self.loop.call_soon(self.control.start)  # from the loop's first turn: every subscriber is in by then

    def subscribe(self, fn, *kinds):
        """fn(event) for the Control's ContactorChanged, ModeChanged, ContactorFault and ProfilesChanged (or
        those of kinds)."""
        return self.control.subscribe(fn, *kinds)

    def unsubscribe(self, fn):
        self.control.unsubscribe(fn)

    def objects(self):
        """The ubus objects this component serves: the simulated local switch (the host simulation only)."""
        return [SimulationObject(self)] if self.simulated else []

    def _saved_commanded(self):
        from ..atomic import load_json
        from .contactors import fits

        data = load_json(self.state_path, fits, {})  # the first read: sets the file aside if it does not fit
        return {int(k): bool(v.get("commanded")) for k, v in (data.get("contactors") or {}).items()
                if isinstance(v, dict) and k.isdigit()}

    def _open_hardware(self, simulate):
        rows, problems = contactor_rows(self.config.sections)
        for name, option, why in problems:
            log.error("streetlights: contactor section %s: %s; not used", name, why)
        initial = self._saved_commanded()  # a character-device output is claimed at this level
        contactors = {}
        if not rows and not problems and simulate:
            from .backends import hostlines

            self.simulated = True
            lines, local = hostlines.simulated(self.dir)
            for cid, (out, fb) in lines.items():
                contactors[cid] = Contactor(cid, out, fb)
                self.lines += [out, fb]
            self.lines.append(local)
            log.info("streetlights: no contactor configured, simulating four in %s", self.dir)
            return contactors, local
        for row in rows:
            try:
                out = _open(row["backend"], row["output"], True, row["active_low"], initial.get(row["id"], False),
                            self.dir, row["object"], self.ubus_socket)
                fb = None
                if row["feedback"]:
                    fb = _open(row["backend"], row["feedback"], False, row["feedback_active_low"], False, self.dir,
                               row["object"], self.ubus_socket)
            except (OSError, ValueError) as e:
                log.error("streetlights: contactor %d: %s; not used", row["id"], e)
                continue
            contactors[row["id"]] = Contactor(row["id"], out, fb)
            self.lines += [out] + ([fb] if fb else [])
        local = None
        name = self.config.get("streetlights.local_switch")
        if name:
            try:
                local = _open(self.config.get("streetlights.local_switch_backend"), name, False,
                              self.config.get("streetlights.local_switch_active_low"), False, self.dir,
                              self.config.get("streetlights.local_switch_object"), self.ubus_socket)
                self.lines.append(local)
            except (OSError, ValueError) as e:
                log.error("streetlights: local switch %s: %s; not used", name, e)
        return contactors, local

    def _watch(self, contactors, local):
        """Inputs with a descriptor (GPIO, host files) are watched; the others (ubus) are polled."""
        inputs = {c.feedback: c.id for c in contactors.values() if c.feedback is not None}
        if local is not None:
            inputs[local] = None

        def changed(line, value):
            cid = inputs[line]
            if cid is None:
                self.control.local_switch_changed(value)
            else:
                self.control.feedback_changed(cid, value)

        watched = [line for line in inputs if line.fileno() is not None]
        if watched:
            from .backends.gpio import Watcher

            self.watcher = Watcher()
            for line in watched:
                self.watcher.add(line, changed)
            self.loop.add_reader(self.watcher.fileno(), self.watcher.dispatch)
        polled = [line for line in inputs if line.fileno() is None]
        if polled:
            from .backends.ubuslines import Poller

            # from the loop's first turn: the station has read every input at start by then
            self.poller = Poller(self.loop.call_later, polled, changed).start()

    def place(self):
        """The schedule.Place now: the device's zone and, once Geolocation is set, the sun there."""
        text = self.config.get("os3p.geolocation")
        if self._place is None or self._place_key != text:
            from .sun import Sun, parse_latlng

            sun = None
            try:
                latlng = parse_latlng(text)
                if latlng is not None:
                    sun = Sun(*latlng)
            except ValueError as e:
                log.error("Geolocation %r: %s; Sunset/Sunrise periods stay off", text, e)
            self._place, self._place_key = Place(self.zone, sun), text
        return self._place

    def sun_today(self):
        """(sunrise, sunset) instants of today's local date, or None without a Geolocation."""
        return sun_today(self.config.get("os3p.geolocation"), self.zone, self.clock.wall())

    def reload(self):
        self.zone = self.device_zone()
        self._place = None
        self.control.local_action = self.config.get("streetlights.local_action")
        self.control.evaluate()

    def config_changed(self, name):
        if name in ("os3p.geolocation", "streetlights.local_action"):
            self.reload()

    def state(self):
        """The state view's section (tr069-bridge state, ubus tr069.bridge state, the status page)."""
        st = self.control
        now = self.clock.wall()
        place = self.place()
        today = place.schedule_day(now)
        sun = self.sun_today()
        return {
            "simulated": self.simulated, "zone": self.zone.name, "local_switch": st.local,
            "local_action": st.local_action, "geolocation": self.config.get("os3p.geolocation"),
            "sunrise": None if sun is None else self.zone.iso(sun[0]),
            "sunset": None if sun is None else self.zone.iso(sun[1]),
            "next_change": None if st.next_change is None else self.zone.iso(st.next_change),
            "contactors": [{"id": c.id, "light": None if c.light is None else ("On" if c.light else "Off"),
                            "mode": c.mode, "override": c.override, "feedback": c.feedback is not None,
                            "today": st.effective_day(c.id, today),
                            "profiles": [p.profile_id for p in st.profiles.of(c.id)]}
                           for c in st.contactors.values()]}

    def stop(self):
        self.control.stop()
        if self.poller is not None:
            self.poller.stop()
        if self.watcher is not None:
            self.loop.remove_reader(self.watcher.fileno())
            self.watcher.close()
        for line in self.lines:
            line.close()


class SimulationObject(UbusObject):
    """ubus object `tr069.streetlights`, method `local_switch {"on": true|false}`: moves the simulated local
    switch as a person writing <state>/station/local_switch would (the status page's button). Only the host
    simulation has it: on a device the local switch is a piece of hardware."""

    name = "tr069.streetlights"

    def __init__(self, shell):
        self.shell = shell
        self.methods = {"local_switch": self.local_switch}

    def signature(self):
        from ..ubusmsg import BLOBMSG_BOOL

        return {"local_switch": {"on": BLOBMSG_BOOL}}

    def answer(self, method, handler, args):
        from .. import ubusmsg as status

        if set(args) != {"on"} or not isinstance(args["on"], bool):
            return status.INVALID_ARGUMENT, None
        return handler(args["on"])

    def local_switch(self, on):
        from .. import ubusmsg as status

        line = self.shell.control.local_switch
        if not self.shell.simulated or line is None:
            return status.NOT_SUPPORTED, None
        line.write(on)  # the watcher sees the file change, as with a person's `echo`
        return status.OK, {"local_switch": on}


