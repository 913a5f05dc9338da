"""The composition root: every component and protocol surface built here, with what it needs, in one
stated order. The process around it (signals, the loop, reloads, the command line) is bridge/daemon.py.

Two words. A *component* holds logic behind the protocols (the tr069 object, the state view, the sensors,
the streetlights, the parameter model, the reachability); a *protocol surface* (a surface) speaks one
protocol to the outside and translates (ubus, OS3P, JSON-RPC over HTTP, CAMARA's HTTP routes on it).

Root() makes what every component may be given: the device, the config, the loop, the clock, the tr069
object and its sessions, the ubus objects the surfaces serve and the state view's sections.
start_components() then builds, in this order, the components and the surfaces this configuration wants
(COMPONENTS, SURFACES), each with explicit constructor arguments, wires them (event subscriptions, the
tr069 object's session driver) and starts them:

    sensors        the station's MV fault indicators, meter, history (always: the status views read it)
    streetlights   the contactors (the host simulates four; a device drives its `config contactor` ones);
                   its ContactorFault events go to the sensors (a failing power switch is a station error)
    model          the TR-181 parameter model (its table loaded on first use): the ubus object tr069.model,
                   value changes of the config, the streetlights and the sensors (subscribed), active ones a
                   tr069 session with 4 VALUE CHANGE
    os3p           the OS3P client: subscribes to both, becomes the tr069 object's session driver; serves
                   the model (DataModel, TR-181 paths) and carries its changes
    ubus           the ubus surface: serves the objects below on ubusd
    jsonrpc        the JSON-RPC surface (uhttpd's /ubus): serves the same objects over HTTP

No component or surface receives the root or looks another up: a new one is a builder method here, a row
in COMPONENTS or SURFACES and a line in start_components(). Each module is imported only when it is wanted,
so a device that does not use the JSON-RPC shim never loads it. stop_components() runs in the reverse order.
"""

import os
import time

from . import __version__, atomic, progress, stateview, uci
from .clock import Clock
from .config import CONFIG_NAME, Config, ConfigError, Problem
from .device import default_backend, open_device
from .device.base import DeviceError
from .logger import getLogger
from .loop import Loop
from .sessions import Sessions
from .station.checks import SECTION_CHECKS
from .tr069 import Tr069

log = getLogger("tr069-bridge")

DEVICE_STATE_DIR = "/etc/tr069-bridge"  # on flash: statistics and queued messages survive a reboot
def default_state_dir(backend):
    if os.environ.get("TR069_STATE_DIR"):
        return os.environ["TR069_STATE_DIR"]
    if backend == "ubus":
        return DEVICE_STATE_DIR
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "tr069-bridge")



UBUS_SOCKET_ENV = "TR069_UBUS_SOCKET"  # where ubusd is, before the config key ubus.socket


def ubus_socket(config):
    """ubusd's socket: TR069_UBUS_SOCKET from the environment when set, else the config key ubus.socket."""
    return os.environ.get(UBUS_SOCKET_ENV) or config.get("ubus.socket")


def _ubus_wanted(daemon):
    return daemon.device.backend == "ubus" or bool(os.environ.get(UBUS_SOCKET_ENV))


def _jsonrpc_wanted(daemon):
    # on the host the CLI reaches the daemon through it; on a device uhttpd + rpcd serve /ubus already
    if daemon.config.given("jsonrpc.enabled"):
        return daemon.config.get("jsonrpc.enabled")
    return daemon.device.backend == "host"


def _os3p_wanted(daemon):
    from .config import KEYS

    return "os3p.enabled" in KEYS and bool(daemon.config.get("os3p.enabled"))


def _streetlights_wanted(daemon):
    # the host simulates four contactors; a device drives only `config contactor` sections
    return daemon.device.backend == "host" or any(s.get(".type") == "contactor" for s in daemon.config.sections)


# name -> (the module it lives in, imported only when it runs; whether this configuration runs it).
# The order they are built in is start_components'.
COMPONENTS = {
    "sensors": ("bridge.station.sensors", lambda daemon: True),
    "streetlights": ("bridge.station.streetlights", lambda daemon: _streetlights_wanted(daemon)),
    "model": ("bridge.model.component", lambda daemon: daemon.config.get("model.enabled")),
    "reach": ("bridge.reach.service", lambda daemon: daemon.config.get("reach.enabled")),
}
SURFACES = {
    "os3p": ("bridge.os3p.client", lambda daemon: _os3p_wanted(daemon)),
    "ubus": ("bridge.ubus.surface", lambda daemon: _ubus_wanted(daemon)),
    "jsonrpc": ("bridge.jsonrpc", lambda daemon: _jsonrpc_wanted(daemon)),
    "reach_api": ("bridge.reach.api", lambda daemon: daemon.config.get("reach.enabled")
                  and daemon.config.get("reach.api_enabled")),
}


def _os3p_off():
    return {"enabled": False}


class Root:
    """What components may be given, and the builders that give it to them (the process around it, with
    reload(), stop() and restart(), is daemon.Daemon)."""

    def __init__(self, backend=None, state_dir=None, config_path=None, simulate_reboots=False):
        """simulate_reboots: on the host, a reboot or a flash restarts this process (main() runs it again,
        bridge/device/host.py); a daemon in a test's thread only records them. The tr069 object's reload
        and exit commands and a simulated reboot reach the process's reload(), stop() and restart()."""
        backend = backend or default_backend()
        self.state_dir = os.path.abspath(state_dir or default_state_dir(backend))
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        self.device = open_device(backend, self.state_dir, restart=self.restart if simulate_reboots else None)
        self.missing = self.device.missing()  # found (and logged) once, at start
        if config_path or self.device.uci_is_files:  # read and written as a file, under libuci's lock
            self.config = Config(config_path or self.device.config_path(CONFIG_NAME), lenient=True,
                                 section_checks=SECTION_CHECKS)
        else:  # the device's UCI: its config dir, its writer (rpcd, the uci program, or the file)
            self.config = Config(self.device.config_path(CONFIG_NAME), writer=self._uci_write,
                                 reader=self._uci_read, lenient=True, section_checks=SECTION_CHECKS)
        self.loop = Loop()
        self.clock = Clock(self.loop.time, time.time)
        self.running = {}  # name -> started component, in start order
        self.exit_code = 0
        self.sessions = Sessions(os.path.join(self.state_dir, "sessions.json"))
        self.tr069 = Tr069(
            self.loop, self.sessions,
            acs_url=lambda: self.config.get("acs.url"),
            on_reload=self.reload,
            on_reboot=lambda: self.device.reboot(),
            on_exit=self.stop,
            periodic=lambda: (self.config.get("acs.periodic_inform_enable"),
                              self.config.get("acs.periodic_inform_interval")),
            missing=lambda: sorted(self.missing),
            set_aside=atomic.SET_ASIDE,
            cannot_reboot=lambda: self.device.supports("reboot"),
        )
        self.started = time.time()
        progress.forget_all()  # the state view shows this daemon's transfers
        self.recent_errors = stateview.RecentErrors()  # a log sink while run() runs
        # the state view's sections, in the order shown; each running component adds its own
        self.views = {"daemon": self._daemon_view, "os3p": _os3p_off,
                      # what the start-up readers set aside (bridge/atomic.py): shown only when there is something
                      "set_aside": lambda: [dict(e) for e in atomic.SET_ASIDE] or None,
                      "transfers": lambda: [p.view() for p in progress.current()],
                      "errors": self.recent_errors.view}
        # the ubus objects the surfaces serve (ubusd, JSON-RPC), by name; components add theirs as they are built
        self.objects = {self.tr069.name: self.tr069,
                        stateview.OBJECT_NAME: stateview.StateObject(self.views, lambda: self.tr069.check_output)}

    # --- what the process around the root provides (daemon.Daemon): the tr069 object's reload and exit
    # commands and a simulated reboot reach these
    def reload(self):
        raise NotImplementedError

    def stop(self):
        raise NotImplementedError

    def restart(self):
        raise NotImplementedError

    def _uci_read(self):
        try:
            return self.device.uci_sections(CONFIG_NAME)
        except uci.UciError as e:  # `uci export` gave what does not parse
            raise ConfigError([Problem(self.config.path, e.line, None, e.reason)]) from None
        except DeviceError as e:
            raise OSError("cannot read UCI config %s: %s" % (CONFIG_NAME, e)) from None

    def _uci_write(self, changes):
        try:
            self.device.uci_apply(CONFIG_NAME, changes)
        except DeviceError as e:
            raise OSError("cannot write UCI config %s: %s" % (CONFIG_NAME, e)) from None

    # --- the composition root ---------------------------------------------------------------------
    def start_components(self, only=None):
        """Build, wire and start every component this configuration wants (or those of `only`, a test's
        choice), in this order. Runs on the loop thread, before the loop does or while it runs."""
        sensors = self._start("sensors", only, self.build_sensors)
        streetlights = self._start("streetlights", only, self.build_streetlights, sensors)
        reach = self._start("reach", only, self.build_reach, sensors)
        model = self._start("model", only, self.build_model, sensors, streetlights, reach)
        os3p = self._start("os3p", only, self.build_os3p, sensors, streetlights, reach, model)
        if reach is not None and os3p is not None:  # data needs the central system registered
            from .events import LinkChanged

            reach.follow_os3p(os3p.registered)
            os3p.subscribe(reach.on_link, LinkChanged)
        ubus = self._start("ubus", only, self.build_ubus, reach)
        shim = self._start("jsonrpc", only, self.build_jsonrpc)
        self._start("reach_api", only, self.build_reach_api, reach, shim, ubus)

    def _start(self, name, only, build, *components):
        """build(*components) -> the started component or surface, or None when it could not start (it
        logged why)."""
        kind = "component" if name in COMPONENTS else "surface"
        module, wanted = COMPONENTS[name] if name in COMPONENTS else SURFACES[name]
        if name in self.running:  # started by an earlier call (a test starts them one by one)
            return self.running[name]
        if (only is not None and name not in only) or (only is None and not wanted(self)):
            return None
        try:
            component = build(*components)
        except ModuleNotFoundError as e:
            if e.name != module:  # a missing dependency, not a part this build lacks
                raise
            log.warning("%s %s is not available in this build", kind, name)
            return None
        if component is not None:
            self.running[name] = component
            log.info("%s %s started", kind, name)
        return component

    def build_sensors(self):
        from .station.sensors import Sensors

        def zone():  # imported once a day's extremes are kept: a station without a meter never needs it
            from .station.zone import device_zone

            return device_zone(self.device)

        sensors = Sensors(self.loop, self.config, self.clock, self.state_dir, self.device.backend,
                          ubus_socket=ubus_socket(self.config), zone=zone)
        sensors.start()
        self.views["sensors"] = sensors.state
        return sensors

    def build_streetlights(self, sensors):
        from .events import ContactorFault
        from .station.streetlights import Streetlights
        from .station.zone import device_zone

        lights = Streetlights(self.loop, self.config, self.clock, self.state_dir, lambda: device_zone(self.device),
                              simulate=self.device.backend == "host", ubus_socket=ubus_socket(self.config))
        if sensors is not None:
            lights.subscribe(sensors.contactor_fault, ContactorFault)  # a failing power switch is a station error
        for obj in lights.objects():
            self.objects[obj.name] = obj
        lights.start()
        self.views["streetlights"] = lights.state
        return lights

    def build_model(self, sensors, streetlights, reach):
        from .events import ContactorChanged, FaultChanged, ModeChanged, ProfilesChanged, SampleTaken
        from .model.component import ParameterModel

        model = ParameterModel(self.loop, self.clock, self.config, self.device, self.state_dir,
                               inform=lambda event: self.tr069.start_session([event]), streetlights=streetlights,
                               sensors=sensors, netifd_socket=ubus_socket(self.config), reach=reach)
        # the watched parameters are compared on the news of their sources (docs/notifications.md)
        if streetlights is not None:
            streetlights.subscribe(model.streetlights_changed, ContactorChanged, ModeChanged, ProfilesChanged)
        if sensors is not None:
            sensors.subscribe(model.sensors_changed, FaultChanged, SampleTaken)
        model.config_changed_hook = self._model_wrote  # a key written through the model is applied everywhere
        self.tr069.before_session.append(model.before_session)
        obj = model.object()
        self.objects[obj.name] = obj
        model.start()
        self.views["model"] = model.state
        return model

    def build_reach(self, sensors):
        from .events import SignalChanged
        from .reach.service import Reach

        reach = Reach(self.loop, self.config, self.state_dir, self.device.backend,
                      ubus_socket=ubus_socket(self.config), clock=self.clock.wall)
        if sensors is not None:
            reach.subscribe(sensors.weak_signal, SignalChanged)  # WeakSignal is one of the station's errors
        self.objects[reach.object.name] = reach.object
        reach.start()
        self.views["reach"] = reach.state
        return reach

    def build_os3p(self, sensors, streetlights, reach, model):
        from .os3p.client import Client

        client = Client(self.loop, self.config, self.clock, self.device, self.state_dir, self.tr069,
                        sensors=sensors, streetlights=streetlights, config_changed=self.config_changed,
                        modem=reach.modem_info if reach is not None else None, model=model)
        if model is not None:  # the link's state and the firmware transfer are parameters of the model
            model.link = lambda: {"up": "Up"}.get(client.connection_state(), "Connecting")
            model.firmware = client.context.firmware_status
        self.tr069.attach_driver(client)
        self.tr069.before_reboot.append(client.expect_reboot)
        self.tr069.reboot_failed.append(client.reboot_failed)
        client.start()
        self.views["os3p"] = client.state
        return client

    def build_ubus(self, reach):
        from .ubus import surface

        # netifd's ifup/ifdown refresh the reachability state
        listeners = {"network.interface": reach.on_netifd} if reach is not None else None
        conn = surface.start(self.loop, ubus_socket(self.config), self.objects, listeners)
        if reach is not None:
            reach.use_ubus(conn)  # netifd's dump asked over this connection
        return conn

    def build_jsonrpc(self):
        from . import jsonrpc

        return jsonrpc.start(self.loop, self.config, self.objects, self.state_dir,
                             self.device.config_path("rpcd"), source_acls=self.device.backend == "host")

    def build_reach_api(self, reach, shim, ubus):
        """The CAMARA subscription API. Where the JSON-RPC shim runs (the host; a device with jsonrpc.enabled)
        and neither reach.api_listen nor reach.api_port is set, the shim's server serves its routes: one HTTP
        server and one port for the daemon (make run's PORT). Elsewhere (a device, where uhttpd and rpcd serve
        /ubus and the shim is off) a server of its own at reach.api_listen:reach.api_port. Its tokens:
        reach.api_token, or a session of the device's rpcd asked over the ubus connection (`session access`);
        on the host also one of the shim, which stands in for rpcd."""
        if reach is None:
            return None
        from .reach import BASE

        def api():  # the API's code and its tokens, made when it is first needed
            from .reach.api import Api, Authority

            authority = Authority(lambda: self.config.get("reach.api_token"),
                                  sessions=shim.sessions if shim is not None else None,
                                  ubus=(lambda: ubus) if ubus is not None else None)
            return Api(reach, authority).handle

        if shim is not None and not (self.config.given("reach.api_listen") or self.config.given("reach.api_port")):
            from .reach.api import MAX_BODY, PREFIX, Mounted

            surface = Mounted(shim.url[:-len(shim.PATH)], lambda: shim.mount(PREFIX, api(), MAX_BODY),
                              lambda: shim.unmount(PREFIX))
        else:
            from .jsonrpc.listener import Listener

            def serve(sock):  # at the first connection: the HTTP server and the API (bridge/jsonrpc/listener.py)
                from .jsonrpc.server import HttpServer
                from .reach.api import MAX_BODY

                return HttpServer(self.loop, None, None, api(), lambda req: MAX_BODY, sock=sock)

            where = "%s:%s" % (self.config.get("reach.api_listen"), self.config.get("reach.api_port"))
            try:
                surface = Listener(self.loop, self.config.get("reach.api_listen"), self.config.get("reach.api_port"),
                                   serve, "reach: the CAMARA API", BASE)
            except OSError as e:
                import errno

                if e.errno == errno.EADDRINUSE:
                    log.error("reach: the CAMARA API not started: %s is taken by another program; set "
                              "reach.api_port (uci, or --option reach.api_port=N) to a free port", where)
                else:
                    log.error("reach: the CAMARA API cannot listen on %s: %s", where, e.strerror or e)
                return None
        surface.start()
        reach.api_url = surface.url()
        return surface

    def _model_wrote(self, name):
        """A key a SetParameterValues changed in memory: taken up as ChangeConfiguration's are, and the
        tr069 object's own periodic session (no central system) follows its interval."""
        self.config_changed(name)
        if name.startswith("acs.periodic_inform"):
            self.tr069.schedule_periodic()

    def config_changed(self, name):
        """A key changed in memory (ChangeConfiguration, the central system's interval, a TR-181 set): every
        running component takes it up now, in start order; one that cannot raises (the caller takes the
        value back and calls again)."""
        for component in list(self.running.values()):
            changed = getattr(component, "config_changed", None)
            if changed is not None:
                changed(name)

    def _daemon_view(self):
        return {"version": __version__, "pid": os.getpid(), "backend": self.device.backend,
                "state_dir": self.state_dir, "config": self.config.path, "started": stateview.iso(self.started),
                "uptime": int(time.time() - self.started),
                "components": sorted(n for n in self.running if n in COMPONENTS),
                "surfaces": sorted(n for n in self.running if n in SURFACES)}

    def stop_components(self, only=None):
        """Stop the running components (or those of `only`), in the reverse of their start order."""
        for name in reversed(list(self.running)):
            if only is not None and name not in only:
                continue
            component = self.running.pop(name)
            if name in self.views:
                self.views[name] = _os3p_off if name == "os3p" else (lambda: None)
            try:
                component.stop()
            except Exception:
                log.exception("stopping %s failed", name)
