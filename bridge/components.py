"""What each component offers the others: the declared interfaces the composition root wires together.

A component is built by the root (bridge/daemon.py) with explicit constructor arguments, among them the
other components it uses, typed by the interfaces below: it may call what the interface lists and nothing
else. The root makes the event subscriptions (bridge/events.py) and closes the one cycle there is (the tr069
object and its session driver). Nothing here is a registry: no component looks another up.

Plain base classes whose methods say what they do: typing.Protocol would cost the ubus-only process about
0.4 MiB (typing), ABCs another 20 KiB of ABCMeta caches. A method a component must have raises
NotImplementedError here; tests/test_components.py checks that every component overrides each of those.

    Component          start(), stop(), reload(), state(): what the root does with every one of them
    EventSource        subscribe(fn, *kinds) / unsubscribe(fn): named events, bridge/events.py
    UbusObject         name, signature(), call(method, args): what the ubus and JSON-RPC surfaces serve
    SessionDriver      what the tr069 object drives a session through (the OS3P client)
    StationSensors     the sensors (bridge/station/sensors.py), as the OS3P surface and the root use them
    StationLights      the streetlights (bridge/station/streetlights.py), likewise
    Reachability       the modem and the uplinks (bridge/reach/service.py), as the root and the surfaces use it

A new component (the parameter model, reachability, a CAMARA route) declares its interface here, is built
by a builder method of the root and gets what it uses through its constructor.
"""

from . import ubusmsg


def _required(method):
    """A method every implementation must override (tests/test_components.py checks that it does)."""

    def missing(self, *args, **kwargs):
        raise NotImplementedError("%s.%s" % (type(self).__name__, method.__name__))

    missing.__name__, missing.__doc__, missing.required = method.__name__, method.__doc__, True
    return missing


class Component:
    """What the root does with every component, in its start order (stop: the reverse)."""

    def start(self):
        """Timers, threads, subscriptions to others: called once every component it uses was built."""

    @_required
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

    @_required
    def subscribe(self, fn, *kinds):
        """fn(event) on the loop thread for each event it publishes from now on (of those types, or all)."""

    @_required
    def unsubscribe(self, fn):
        """No more events to fn."""


SESSION_ARG = "ubus_rpc_session"  # uhttpd adds it to every call it forwards: it names the caller's session


class UbusObject:
    """An object the ubus surface registers on ubusd and the JSON-RPC surface serves by name: a table of
    methods (name -> handler) behind the one dispatcher, call()."""

    name = None  # e.g. "tr069"
    methods = {}  # method -> handler(args); answer() says what becomes of what it returns

    @_required
    def signature(self):
        """{method: {argument: blobmsg type}} as `ubus -v list` shows it."""

    def call(self, method, args):
        """(ubus status, reply dict or None), on the loop thread; args as the caller sent them. First what
        libubus checks (the method exists, the arguments are a table), uhttpd's ubus_rpc_session left out,
        then answer()."""
        handler = self.methods.get(method)
        if handler is None:
            return ubusmsg.METHOD_NOT_FOUND, None
        if args is None:
            args = {}
        if not isinstance(args, dict):
            return ubusmsg.INVALID_ARGUMENT, None
        return self.answer(method, handler, {k: v for k, v in args.items() if k != SESSION_ARG})

    def answer(self, method, handler, args):
        """(status, reply) of a call that passed the checks: by default what handler(args) returns. An
        object that validates its arguments or its replies against a schema does it here."""
        return handler(args)


class SessionDriver:
    """What the tr069 object drives its sessions through: the OS3P client (none: local sessions). A
    driver also keeps the periodic session's deadline (the OS3P heartbeat): it asks the tr069 object for
    the session (start_session) when it is due and tells it when the next is (next_session(at))."""

    acs_url = ""

    @_required
    def connection_state(self):
        """"up" once connected and registered, "init" otherwise (the status reply's cwmp.status)."""

    @_required
    def start_session(self, events, get_rpc_methods=False):
        """A session for these inform events; the driver answers with tr069.session_finished(success)."""

    @_required
    def expect_reboot(self):
        """A reboot we cause is coming: the next start must not report it as unexpected."""

    @_required
    def reboot_failed(self, reason):
        """That reboot failed."""


class StationSensors(Component, EventSource):
    """The sensors: MV fault indicators, the meter and board temperature, the history and the station's
    status. Events: FaultChanged, SampleTaken."""

    history = None  # station/history.History, None when no sample is kept

    @_required
    def test(self):
        """TestMVFaultIndicator: Accepted | RejectedAlreadyFaulted | Rejected."""

    @_required
    def reset(self):
        """ResetMVFaultIndicator: Accepted | Rejected."""

    @_required
    def has_readings(self):
        """Whether anything can be read (a meter, a board temperature)."""

    @_required
    def read_now(self, context="Trigger", callback=None):
        """Read every source in a worker; callback(SampleTaken) on the loop."""

    @_required
    def status_snapshot(self):
        """The station's current StatusNotification content."""

    @_required
    def contactor_fault(self, event):
        """A ContactorFault: a failing power switch is one of the station's errors."""

    @_required
    def weak_signal(self, event):
        """A SignalChanged: a weak modem signal is one of the station's errors (WeakSignal)."""


class StationLights(Component, EventSource):
    """The streetlights: the contactors and their Station (contactors.py), the local zone and the sun.
    Events: ContactorChanged, ModeChanged, ContactorFault."""

    station = None  # contactors.Station: what the OS3P actions drive
    zone = None  # the device's zone (zone.py)

    @_required
    def sun_today(self):
        """(sunrise, sunset) instants of today's local date, or None without a Geolocation."""


    @_required
    def objects(self):
        """The UbusObjects it serves."""


class Reachability(Component, EventSource):
    """The reachability state, the modem, the CAMARA subscriptions (bridge/reach). Events:
    ReachabilityChanged, SignalChanged."""

    object = None  # its UbusObject (tr069.reach)

    @_required
    def modem_info(self):
        """What the modem said last (bridge/reach/modem.ModemInfo; every field absent without a modem)."""

    @_required
    def follow_os3p(self, registered):
        """registered() -> whether the OS3P link is registered: `data` needs it from now on."""

    @_required
    def on_netifd(self, event, data):
        """A netifd `network.interface` event from ubusd."""

    @_required
    def create(self, body):
        """The CAMARA create: the subscription as answered, or camara.ApiError."""

    @_required
    def list(self):
        """Every subscription, as the API answers it."""

    @_required
    def get(self, sid):
        """One subscription, or camara.ApiError 404."""

    @_required
    def delete(self, sid):
        """End one (subscription-ends SUBSCRIPTION_DELETED), or camara.ApiError 404."""
