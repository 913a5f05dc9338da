"""What each component offers the others: the declared interfaces the composition root wires together.

A component is built by the root (bridge/wiring.py) with explicit constructor arguments, among them the
other components it uses, typed by the interfaces below: it may call what the interface lists and nothing
else. The root makes the event subscriptions (bridge/events.py) and closes the one cycle there is (the tr069
object and its session driver). Nothing here is a registry: no component looks another up.

Structural, as typing.Protocol is, but without typing (0.4 MiB of the ubus-only process) and without
being imported at run time at all: the classes here would cost that process ~60 KiB to do nothing. No
component inherits them; tests/daemon/test_components.py holds who implements each and checks that every
implementation has what its interface REQUIRES, and that none is built with the daemon. The methods not in
REQUIRED are the root's to call where a component has them.

    Component          start(), stop(), reload(), config_changed(name), state(): what the root does
    EventSource        subscribe(fn, *kinds) / unsubscribe(fn): named events, bridge/events.py
    UbusObject         bridge/ubusmsg.py's: name, methods, signature(), call() (the one dispatcher), answer()
    SessionDriver      what the tr069 object drives a session through (the OS3P client)
    StationSensors     the sensors (bridge/station/sensors.py), as the OS3P surface and the root use them
    StationLights      the streetlights (bridge/station/streetlights.py), likewise
    ParameterModel     the TR-181 parameter model (bridge/model/component.py): the one store, value changes
    ParameterModel     the TR-181 parameter model (bridge/model/component.py), as the OS3P surface, the
                       tr069 object and the root use it
    Reachability       the modem and the uplinks (bridge/reach/service.py), as the root and the surfaces use it

A new component (the parameter model, a CAMARA route) declares its interface here, adds its class to the
test's table, is built by a builder method of the root and gets what it uses through its constructor.
"""


class Component:
    """What the root does with every component, in its start order (stop: the reverse)."""

    REQUIRES = ("stop",)

    def start(self):
        """Timers, threads, subscriptions to others: called once every component it uses was built."""

    def stop(self):
        """Cancel its timers, end its threads, close what it opened; unsubscribe from others."""

    def reload(self):
        """The configuration was read again (a reload, SIGHUP, procd's trigger): take up what changed."""

    def config_changed(self, name):
        """Key `name` changed in memory (ChangeConfiguration, SetParameterValues, the central system's
        heartbeat interval), before it is written: take it up now, or raise to refuse it (the caller then
        takes the value back and calls again with the previous one)."""

    def state(self):
        """Its section of the state view (a JSON value), or None to leave it out."""
        return None


class EventSource:
    """A component that publishes events (bridge/events.py)."""

    REQUIRES = ("subscribe", "unsubscribe")

    def subscribe(self, fn, *kinds):
        """fn(event) on the loop thread for each event it publishes from now on (of those types, or all)."""

    def unsubscribe(self, fn):
        """No more events to fn."""


class SessionDriver:
    """What the tr069 object drives its sessions through: the OS3P client (none: local sessions). A
    driver also keeps the periodic session's deadline (the OS3P heartbeat): it asks the tr069 object for
    the session (start_session) when it is due and tells it when the next is (next_session(at))."""

    REQUIRES = ("connection_state", "start_session", "expect_reboot", "reboot_failed")

    acs_url = ""

    def connection_state(self):
        """"up" once connected and registered, "init" otherwise (the status reply's cwmp.status)."""

    def start_session(self, events, get_rpc_methods=False):
        """A session for these inform events; the driver answers with tr069.session_finished(success)."""

    def expect_reboot(self):
        """A reboot we cause is coming: the next start must not report it as unexpected."""

    def reboot_failed(self, reason):
        """That reboot failed."""


class StationSensors(Component, EventSource):
    """The sensors: MV fault indicators, the meter and board temperature, the history and the station's
    status. Events: FaultChanged, SampleTaken."""

    REQUIRES = ("test", "reset", "has_readings", "read_now", "status_snapshot", "contactor_fault", "weak_signal")

    history = None  # station/history.History, None when no sample is kept

    def test(self):
        """TestMVFaultIndicator: Accepted | RejectedAlreadyFaulted | Rejected."""

    def reset(self):
        """ResetMVFaultIndicator: Accepted | Rejected."""

    def has_readings(self):
        """Whether anything can be read (a meter, a board temperature)."""

    def read_now(self, context="Trigger", callback=None):
        """Read every source in a worker; callback(SampleTaken) on the loop."""

    def status_snapshot(self):
        """The station's current StatusNotification content."""

    def contactor_fault(self, event):
        """A ContactorFault: a failing power switch is one of the station's errors."""

    def weak_signal(self, event):
        """A SignalChanged: a weak modem signal is one of the station's errors (WeakSignal)."""


class StationLights(Component, EventSource):
    """The streetlights: the contactors and their Control (contactors.py), the local zone and the sun.
    Events: ContactorChanged, ModeChanged, ContactorFault, ProfilesChanged."""

    REQUIRES = ("sun_today", "objects")

    control = None  # contactors.Control: what the OS3P actions drive
    zone = None  # the device's zone (zone.py)

    def sun_today(self):
        """(sunrise, sunset) instants of today's local date, or None without a Geolocation."""

    def objects(self):
        """The UbusObjects it serves."""


class ParameterModel(Component, EventSource):
    """The TR-181 parameter model: the one store every surface reads and writes by TR-181 path, and the
    watcher of value changes. Events: ParameterChanged."""

    REQUIRES = ("model", "object", "config_changed", "streetlights_changed", "sensors_changed", "before_session",
                "value_changes", "restore")

    def model(self):
        """The model's core (bridge/model/core.Model), built on first use."""

    def object(self):
        """The UbusObject tr069.model serving it."""

    def config_changed(self, name):
        """A key was written (ChangeConfiguration): compare the watched parameters of the config."""

    def streetlights_changed(self, event):
        """The streetlights' news (ContactorChanged, ModeChanged, ProfilesChanged): compare their parameters."""

    def sensors_changed(self, event):
        """The sensors' news (FaultChanged, SampleTaken): compare their parameters."""

    def before_session(self, events):
        """A tr069 session is about to start for these events (4 VALUE CHANGE: look at everything first)."""

    def value_changes(self):
        """The changes waiting to be sent, taken out ([{"name", "value", "type"}]), or None."""

    def restore(self, params):
        """Changes value_changes() gave that could not be queued: they wait again."""


class Reachability(Component, EventSource):
    """The reachability state, the modem, the CAMARA subscriptions (bridge/reach). Events:
    ReachabilityChanged, SignalChanged."""

    REQUIRES = ("modem_info", "follow_os3p", "on_link", "on_netifd", "create", "list", "get", "delete")

    object = None  # its UbusObject (tr069.reach)

    def modem_info(self):
        """What the modem said last (bridge/reach/modem.ModemInfo; every field absent without a modem)."""

    def follow_os3p(self, registered):
        """registered() -> whether the OS3P link is registered: `data` needs it from now on."""

    def on_link(self, event):
        """LinkChanged (bridge/events.py) from the OS3P client: judge the state again."""

    def on_netifd(self, event, data):
        """A netifd `network.interface` event from ubusd."""

    def create(self, body):
        """The CAMARA create: the subscription as answered, or camara.ApiError."""

    def list(self):
        """Every subscription, as the API answers it."""

    def get(self, sid):
        """One subscription, or camara.ApiError 404."""

    def delete(self, sid):
        """End one (subscription-ends SUBSCRIPTION_DELETED), or camara.ApiError 404."""
