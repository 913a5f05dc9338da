"""What components tell each other: named event types, and the one way to subscribe to them.

A component that has news offers subscribe(fn, *kinds): fn(event) is called on the loop thread, in order,
for every event it publishes (or only those of the given types). The composition root (wiring.py) makes
the subscriptions; a component never reaches into another to add itself. Every event is a small frozen
record whose fields are named: read them by name, never by position.

Times are epoch seconds on the central system's clock (clock.Clock.now()), as every message carries them.

The events (who publishes them):
  ContactorChanged   streetlights: a contactor's light went on or off
  ModeChanged        streetlights: a contactor's mode (Schedule, RemoteOverride, LocalOverride) changed
  ContactorFault     streetlights: a contactor's feedback contact did not follow a switch, or follows again
  ProfilesChanged    streetlights: a contactor's streetlight profiles were set or cleared
  FaultChanged       sensors: one of the station's errors started or ended (its status, tables 4-6)
  SampleTaken        sensors: the meter and the board were read
  LinkChanged        os3p: the link to the central system is registered (BootNotification Accepted) or not
  ReachabilityChanged  reach: the station's reachability (data, sms, disconnected) changed, and lasted
  SignalChanged      reach: the modem's signal fell below its threshold (active) or is back above it
  ParameterChanged   parameter model: a watched TR-181 parameter changed value

No dataclasses here: importing them costs 1.3 MiB (inspect and what it pulls in), more than a tenth of
what the ubus surface alone runs in.
"""

from collections import deque

from .logger import getLogger

log = getLogger(__name__)


class Event:
    """A frozen record of the fields named in __slots__, given by name or in that order."""

    __slots__ = ()
    DEFAULTS = {}

    def __init__(self, *args, **fields):
        names = self.__slots__
        if len(args) > len(names):
            raise TypeError("%s takes %d fields" % (type(self).__name__, len(names)))
        values = dict(self.DEFAULTS)
        values.update(zip(names, args))
        for name, value in fields.items():
            if name not in names or name in names[:len(args)]:
                raise TypeError("%s: unknown or repeated field %s" % (type(self).__name__, name))
            values[name] = value
        for name in names:
            if name not in values:
                raise TypeError("%s: field %s is missing" % (type(self).__name__, name))
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name, value):
        raise AttributeError("%s is frozen" % type(self).__name__)

    __delattr__ = __setattr__

    def _values(self):
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other):
        return type(other) is type(self) and other._values() == self._values()

    def __hash__(self):
        return hash((type(self).__name__,) + self._values())

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % (n, getattr(self, n)) for n in self.__slots__))


# --- the streetlights (bridge/station/contactors.py) -----------------------------------------------------
class ContactorChanged(Event):
    """A contactor's light went `on` (True) or off: switched by us, or, `unexpected`, by itself (the feedback
    contact says so) or not as we switched it."""

    __slots__ = ("contactor", "on", "time", "unexpected")
    DEFAULTS = {"unexpected": False}


class ModeChanged(Event):
    """`contactor` (None: every one of them, the spec's station-wide form) is now in `mode`."""

    __slots__ = ("contactor", "mode", "time")


class ContactorFault(Event):
    """`contactor`'s feedback contact did not follow a switch (active, `info` says how), or follows again."""

    __slots__ = ("contactor", "active", "time", "info")
    DEFAULTS = {"info": None}


class ProfilesChanged(Event):
    """The streetlight profiles of `contactors` (a tuple of ids) were set or cleared (SetStreetlightProfile,
    ClearSingleStreetlightProfile / ClearStreetlightProfile, the parameter model's writes) and saved."""

    __slots__ = ("contactors", "time")


# --- the sensors (bridge/station/sensors.py) --------------------------------------------------------------
class FaultChanged(Event):
    """One of the station's errors started (active) or ended: `code` (the spec's errorCode: GroundFailure,
    PowerMeterFailure, PowerSwitchFailure, OverVoltage, ...) from `source` (an indicator group, a meter, a
    measurand, a contactor). `notification`: the StatusNotification content it makes (station/alarms.py)."""

    __slots__ = ("code", "source", "active", "time", "notification")


class SampleTaken(Event):
    """The sources were read: `readings` [(measurand, location, unit, value)] (the day's extremes included),
    `context` Sample.Periodic or Trigger."""

    __slots__ = ("time", "readings", "context")


# --- the OS3P client (bridge/os3p/client.py) ---------------------------------------------------------------
class LinkChanged(Event):
    """The link to the central system is now `registered` (open and BootNotification Accepted) or not;
    `link` says how it stands (None: no connection, connecting, open)."""

    __slots__ = ("registered", "link", "time")


class ReachabilityChanged(Event):
    """The reachability state changed from `old` to `new` (bridge/reach/state.py), first observed at `time`
    (host epoch seconds)."""

    __slots__ = ("old", "new", "time")


class SignalChanged(Event):
    """The modem's signal is weak (active) or no longer; info names the measure and its threshold."""

    __slots__ = ("active", "time", "info")


class Publisher:
    """The subscriptions to one component's events.

    subscribe(fn, *kinds): fn(event) for each event published from now on (of those types, or all). With a
    backlog, what is published while nobody subscribes is kept (the last `backlog` events) and handed to
    the next subscriber, those of its kinds, before anything newer. A subscriber that raises is logged; the
    others still get the event."""

    def __init__(self, owner, backlog=0):
        self.owner = owner  # named in the log line of a failing subscriber
        self._subscribers = []
        self._missed = deque(maxlen=backlog) if backlog else None

    def subscribe(self, fn, *kinds):
        self._subscribers.append((fn, kinds))
        if self._missed:
            missed = list(self._missed)
            self._missed.clear()
            for event in missed:
                if not kinds or isinstance(event, kinds):
                    self._deliver(fn, event)
        return fn

    def unsubscribe(self, fn):
        self._subscribers = [(f, k) for f, k in self._subscribers if f != fn]

    def publish(self, event):
        if not self._subscribers and self._missed is not None:
            self._missed.append(event)
            return
        for fn, kinds in list(self._subscribers):
            if not kinds or isinstance(event, kinds):
                self._deliver(fn, event)

    def _deliver(self, fn, event):
        try:
            fn(event)
        except Exception:
            log.exception("a subscriber to the %s failed on %r", self.owner, event)


# --- the parameter model (bridge/model/component.py) --------------------------------------------------------
class ParameterChanged(Event):
    """A watched TR-181 parameter at `path` has a new `value` (typed as GetParameterValues answers it) of
    xsd `type`; `active`: its Notification asks for a session now (2, 5, 6, or forced)."""

    __slots__ = ("path", "value", "type", "active", "time")
