"""The station's sensors on the daemon's loop: MV fault indicators, the meter, board temperature, the
history and the alarms they raise. This is the shell around the pure parts (indicators.py, alarms.py,
meter.py, history.py): it polls inputs, drives outputs, reads sources in a worker thread (a meter that
does not answer must not hold up the loop) and publishes what happened (bridge/events.py):

    FaultChanged    an error started or ended (alarms.py builds the StatusNotification content)
    SampleTaken     a sample was taken (context: Sample.Periodic, Trigger)

No protocol here: bridge/os3p turns these into OS3P messages. What is published before anyone subscribes
(the first moments after start) is kept, up to 100 events, and handed to the first subscriber.

Hardware comes from UCI (`config indicator`, `config meter` + `config register`, `config threshold`).
With the host backend and none of them configured, one indicator group and a meter are simulated
(backends/simulated.py); on a device nothing is simulated.
"""

import _thread
import os

from .. import logger
from ..clock import utc_iso
from ..events import FaultChanged, Publisher, SampleTaken
from ..timers import Timers
from .alarms import Alarms, Thresholds, limits_from_uci
from .backends import ModbusError
from .indicators import Indicators
from . import finite

log = logger.getLogger(__name__)

SIMULATION_FILE = "simulation.json"
HISTORY_FILE = "meter-history.bin"
MAX_WAITING = 64  # reads asked for while one runs that it answers each (beyond: it answers them anyway)


class Source:
    """A reader of readings and whether its silence is a PowerMeterFailure."""

    def __init__(self, reader, meter):
        self.reader, self.meter = reader, meter
        self.name = reader.describe() if hasattr(reader, "describe") else reader.health.name
        self.failing = False


class Sensors:
    """The sensors component. Offers subscribe() (FaultChanged, SampleTaken), test() / reset() of the
    indicators, read_now(), has_readings(), status_snapshot() (the station's status now), the history,
    contactor_fault() (a failing power switch is one of the station's errors), state() for the state
    view."""

    def __init__(self, loop, config, clock, state_dir, backend="host", sys_root="/sys", gpio_root=None,
                 ubus_socket=None, zone=None):
        """clock: clock.Clock (everything here is on the central system's clock, its now()); zone() -> the
        device's zone (bridge/station/zone.py), asked once a day's extremes are kept."""
        self.loop = loop
        self.zone = zone
        self.day = None  # DayExtremes, once a sample carries a reading they follow
        self.config = config
        self.state_dir = state_dir
        self.now = clock.now
        self.events = Publisher("sensors", backlog=100)
        self.timers = Timers(loop.call_later)
        self.last = None  # (epoch, readings) of the last sample
        self.reading = _thread.allocate_lock()  # threading itself only once a source is read
        self.busy = False  # a read runs in its worker
        self.waiting = []  # [(context, callback)] the read that runs answers
        sections = config.sections
        self.indicator_backend, groups = self._indicators(sections, backend, gpio_root, ubus_socket)
        self.indicators = Indicators(groups, config.get("station.test_timeout_ms") / 1000.0,
                                     config.get("station.pulse_ms") / 1000.0, config.get("station.settle_ms") / 1000.0)
        self.sources = self._sources(sections, backend, sys_root)
        self.alarms = Alarms(utc_iso)
        refused = []
        self.thresholds = Thresholds(limits_from_uci(sections, refused))
        for name in refused:
            log.error("threshold %s: does not hold (tr069-bridge check says why); the default limits stay", name)
        self.history = None
        columns = self._columns(sections)
        if columns:
            from .history import History

            try:
                self.history = History(os.path.join(state_dir, HISTORY_FILE), columns,
                                       config.get("station.history_samples"))
            except OSError as e:
                log.error("meter history %s: %s; samples are not kept", HISTORY_FILE, e)
        log.info("station sensors: %d indicator group(s), sources: %s", len(groups),
                 ", ".join(s.name for s in self.sources) or "none")

    def start(self):
        if self.indicator_backend is not None:
            self._poll()
        self._schedule_sample()

    # --- configuration --------------------------------------------------------------------------------
    def _indicators(self, sections, backend, gpio_root, ubus_socket):
        rows = [s for s in sections if s[".type"] == "indicator"]
        if rows:
            from .backends.gpio_indicators import GpioIndicators

            kwargs = {"root": gpio_root} if gpio_root else {}
            kwargs["socket_path"] = ubus_socket or self.config.get("ubus.socket")
            try:
                hw = GpioIndicators(rows, **kwargs)
            except (OSError, ValueError) as e:
                log.error("MV fault indicators: %s; none in use", e)
                return None, []
            return hw, hw.groups
        if backend == "host":
            from .backends.simulated import SimulatedIndicators
            from .indicators import Group

            sim = SimulatedIndicators(os.path.join(self.state_dir, SIMULATION_FILE))
            return sim, [Group(g) for g in sim.groups]
        return None, []

    def _sources(self, sections, backend, sys_root):
        from .backends.thermal import BoardTemperature, sensor_files

        sources = []
        meter = None
        configured = any(s[".type"] == "meter" for s in sections)
        if configured:
            from .meter import meter_from_uci

            try:
                meter = meter_from_uci(sections)
            except ValueError as e:
                log.error("meter: %s; not read", e)
        if meter is not None:
            sources.append(Source(meter, True))
        elif backend == "host" and not configured:
            from .backends.simulated import SimulatedMeter

            sources.append(Source(SimulatedMeter(self.now), True))
        if sensor_files(sys_root):
            sources.append(Source(BoardTemperature(sys_root), False))
        elif backend == "host":
            from .backends.simulated import SimulatedBoard

            sources.append(Source(SimulatedBoard(self.now), False))
        return sources

    def _columns(self, sections):
        cols = []
        for source in self.sources:
            reader = source.reader
            if hasattr(reader, "registers"):
                cols += [(r.measurand, r.location, r.unit) for r in reader.registers]
            else:
                try:
                    cols += [(m, loc, u) for m, loc, u, _v in reader.read()]  # fixed sets: simulated, thermal
                except ModbusError:
                    cols.append(("BoardTemperature", "", "Celsius"))
        return list(dict.fromkeys(cols))

    def reload(self):
        self._schedule_sample()

    def config_changed(self, name):
        if name.startswith("station."):
            self.reload()  # MeterValueSampleInterval

    # --- events ---------------------------------------------------------------------------------------
    def subscribe(self, fn, *kinds):
        """fn(event) for every FaultChanged and SampleTaken (or those of kinds); the first subscriber
        gets what was published before it (up to 100 events) first."""
        return self.events.subscribe(fn, *kinds)

    def unsubscribe(self, fn):
        self.events.unsubscribe(fn)

    def contactor_fault(self, event):
        """A ContactorFault of the streetlights: a failing power switch is one of the station's errors,
        raised or cleared among the sensors' own, so that the station's status covers them all."""
        self._alarm("PowerSwitchFailure", "contactor %d" % event.contactor, event.active, event.time,
                    info=event.info)

    def weak_signal(self, event):
        """A SignalChanged of the reachability: a weak modem signal is one of the station's errors
        (WeakSignal, the OS3P spec's table of error codes), raised and cleared as a power switch's is."""
        self._alarm("WeakSignal", "modem", event.active, self.now(), info=event.info)

    def _alarm(self, code, source, active, when, info=None, test=False):
        payload = self.alarms.change(code, source, active, when, info=info, test=test)
        if payload is not None:
            log.log(logger.WARNING if active else logger.INFO, "station: %s %s (%s)", code,
                    "raised" if active else "cleared", payload.get("info", ""))
            self.events.publish(FaultChanged(code, source, active, when, payload))

    # --- indicators ---------------------------------------------------------------------------------------
    def _events(self, events):
        for e in events:
            self._alarm(e.code, e.group, e.active, e.time, test=e.test)

    def _commands(self, commands):
        for group, output, on in commands:
            try:
                self.indicator_backend.output(group, output, on)
            except OSError as e:
                log.error("indicator %s: %s output: %s", group, output, e)

    def _poll(self):
        try:
            levels = self.indicator_backend.read()
        except OSError as e:
            log.warning("indicator inputs: %s", e)
            levels = {}
        self._events(self.indicators.inputs(self.now(), levels))
        every = max(self.config.get("station.poll_ms") / 1000.0, getattr(self.indicator_backend, "min_poll", 0.0))
        self.timers.set("poll", every, self._poll)

    def _tick(self):
        events, commands = self.indicators.tick(self.now())
        self._commands(commands)
        self._poll()  # outputs changed: look at the inputs before judging what is due
        self._events(events)
        self._arm_tick()

    def _arm_tick(self):
        deadline = self.indicators.deadline()
        self.timers.set("tick", None if deadline is None else deadline - self.now(), self._tick)

    def test(self):
        """TestMVFaultIndicator: Accepted | RejectedAlreadyFaulted | Rejected."""
        status, commands = self.indicators.test(self.now())
        self._commands(commands)
        self._arm_tick()
        if status == "Accepted":
            log.info("MV fault indicators: test started (%d group(s))", len(self.indicators.groups))
        return status

    def reset(self):
        """ResetMVFaultIndicator: Accepted | Rejected."""
        status, commands = self.indicators.reset(self.now())
        self._commands(commands)
        self._arm_tick()
        if status == "Accepted":
            log.info("MV fault indicators: reset")
        return status

    # --- sampling -------------------------------------------------------------------------------------------
    def has_readings(self):
        return bool(self.sources)

    def _schedule_sample(self):
        """The next periodic sample, on the wall clock's multiples of the interval (a 15-minute interval
        samples at :00, :15, :30, :45, as meters and their history are read)."""
        interval = self.config.get("station.sample_interval")
        if interval <= 0 or not self.sources:
            self.timers.cancel("sample")
            return
        now = self.now()
        delay = interval - (now % interval)
        if delay < min(0.5, interval / 2.0):  # woken a hair early: this boundary is the one just sampled
            delay += interval
        self.timers.set("sample", delay, self._periodic)

    def _periodic(self):
        self._schedule_sample()
        self.read_now("Sample.Periodic")

    def read_now(self, context="Trigger", callback=None):
        """Read every source in a worker; on the loop: alarms, history, subscribers, then callback(sample),
        a SampleTaken. One sampler: a read asked for while one runs joins it (its readings answer both), so a
        silent meter and a burst of TriggerMessage cost one thread and one wait, not one each."""
        if not self.sources:
            return False
        if len(self.waiting) < MAX_WAITING:  # past it, the read that runs answers them all the same
            self.waiting.append((context, callback))
        if self.busy:
            return True
        self.busy = True
        import threading

        threading.Thread(target=self._read, name="station-read", daemon=True).start()
        return True

    def _read(self):
        with self.reading:  # one read at a time: a meter answers one request after the other
            results = []
            for source in self.sources:
                try:
                    # measured values are numbers or absent: whatever a source gives, NaN/inf go here
                    results.append((source, [r for r in source.reader.read() if finite(r[3])], None))
                except ModbusError as e:
                    results.append((source, [], e))
                except Exception as e:  # a bug in a backend must not stop the sampler
                    log.exception("%s: read failed", source.name)
                    results.append((source, [], ModbusError("io", str(e))))
        self.loop.call_soon_threadsafe(self._read_done, results)

    def _read_done(self, results):
        self.busy = False
        waiting, self.waiting = self.waiting, []
        for context in dict.fromkeys(c for c, _cb in waiting):  # each context once, in the order asked
            callbacks = [cb for c, cb in waiting if c == context and cb is not None]
            self._sampled(context, results, lambda sample, cbs=callbacks: [cb(sample) for cb in cbs])

    def _sampled(self, context, results, callback):
        if self.stopped:
            return
        now = self.now()
        readings = []
        for source, values, error in results:
            readings += values
            if source.meter:
                if error is not None and not values:
                    if not source.failing:
                        source.failing = True
                        self._alarm("PowerMeterFailure", source.name, True, now,
                                    info=("%s: %s" % (source.name, error))[:128])
                elif source.failing:
                    source.failing = False
                    self._alarm("PowerMeterFailure", source.name, False, now)
        for code, measurand, active, info in self.thresholds.check(readings):
            self._alarm(code, measurand, active, now, info=info)
        sample = SampleTaken(int(now), readings + self._day_extremes(now, readings) if readings else [], context)
        if readings:
            self.last = (int(now), readings)
            if self.history is not None and context == "Sample.Periodic":
                try:
                    self.history.append(int(now), readings)
                except OSError as e:
                    log.error("meter history: %s", e)
            self.events.publish(sample)
        if callback is not None:
            callback(sample)

    def _day_extremes(self, now, readings):
        """The day's DayMax/DayMin values with this sample's readings in (sent beside them)."""
        from .dayextremes import FOLLOWED

        if self.day is None:
            if not any(r[0] in FOLLOWED for r in readings):
                return []  # no meter reading they follow (a board temperature alone): nothing kept
            self.day = self._start_day()
        self.day.add(now, readings)
        return self.day.values(now)

    def _start_day(self):
        """Today's extremes, from the history's samples so far: a restart keeps them."""
        from .dayextremes import DayExtremes

        zone = self.zone() if self.zone is not None else None
        if zone is None:
            from .zone import from_settings

            zone = from_settings()
        day = DayExtremes(lambda epoch: zone.local(epoch).date())
        if self.history is not None:
            columns = self.history.columns
            try:
                for t, values in self.history.raw(self.now() - 86400):
                    day.add(t, [c + (v,) for c, v in zip(columns, values) if finite(v)])  # NaN: not read
            except OSError as e:
                log.error("meter history: %s; the day's extremes start now", e)
        return day

    # --- views ------------------------------------------------------------------------------------------------
    def status_snapshot(self):
        return self.alarms.snapshot(self.now())

    def series(self, hours=24, limit=96):
        """One measurand's periodic samples of the last `hours` for a chart: the first phase voltage where
        there is one, else the history's first column. None without a history."""
        if self.history is None or not self.history.columns:
            return None
        cols = self.history.columns
        col = next((c for c in cols if c[0].startswith("Voltage.")), cols[0])
        i = cols.index(col)
        points = []
        for t, values in self.history.raw(self.now() - hours * 3600):
            v = values[i]
            if finite(v):  # not NaN: read in that sample
                points.append([t, round(v, 3)])
        return {"measurand": col[0], "location": col[1], "unit": col[2], "points": points[-limit:]}

    def state(self):
        out = {"indicators": self.indicators.state(), "alarms": sorted("%s %s" % k for k in self.alarms.active),
               "sources": {s.name: {"failing": s.failing} for s in self.sources}}
        for s in self.sources:
            health = getattr(s.reader, "health", None)
            if health is not None:
                out["sources"][s.name]["errors"] = dict(health.counts)
        if self.last is not None:
            out["last"] = {"time": utc_iso(self.last[0]),
                           "readings": [[m, loc, u, v] for m, loc, u, v in self.last[1]]}
        chart = self.series()
        if chart is not None:
            out["chart"] = chart
        return out

    @property
    def stopped(self):
        """Once stop() ran: its timers refuse new ones, and what a callback still running would start is not."""
        return self.timers.stopped

    def stop(self):
        self.timers.stop()
        for closer in [s.reader for s in self.sources] + [self.indicator_backend, self.history]:
            if closer is not None:
                try:
                    closer.close()
                except Exception:
                    pass
