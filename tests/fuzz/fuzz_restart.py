"""Stateful fuzzing (issue 23): sequences of what a central system, a meter and a damaged disk do to a
station, each ended by a restart of the daemon, with hypothesis's rule-based state machines.

A sequence is a few of these, in any order, against the real daemon (host backend: four simulated contactors,
a Modbus TCP meter that is a real pymodbus server on loopback) with a real central system over loopback
WebSockets:

    ChangeConfiguration      a writable key (and some that are not) with a value of any shape: in and out of
                             its range, 400 digits, other scripts' digits, signs, spaces, line breaks
    SetStreetlightProfile    profiles that pass the schema, on a contactor or one that does not exist
    ClearSingleStreetlightProfile
    UpdateFirmware           locations the station refuses or cannot reach, retries and intervals of any size
    meter replies            the meter's float32 answers normal, NaN, +-inf or huge, then TriggerMessage MeterValues;
                             or a meter that never answers, and up to 30 TriggerMessage MeterValues at it
                             (it stays silent until a later step makes it answer)
    state-file damage        one of the files the daemon reads at start replaced by garbage, JSON of the wrong
                             shape, an empty file or a directory
    restart                  the daemon stopped and started again on the same state directory

and always a restart at its end. The properties, checked at every restart:

    it starts                the new daemon comes up, registers with the central system and answers status
    what was Accepted        GetConfiguration returns every value ChangeConfiguration Accepted (as UCI keeps
                             it), and every streetlight profile Accepted is on disk and held after the restart
                             (unless the sequence damaged that very file: then it was set aside and said so,
                             or, where the damage removed it, none is held)
    RSS and threads          every thread the daemon started has ended once it stopped; and, on the sampled
                             restarts that are a real process, its RSS and thread count once the sequence's
                             work is done are back at the idle figures of a warmed-up daemon
    and on the way           every answer is one the protocol allows (never InternalError), every MeterValues
                             passes the spec's printed schema with finite values

How 2,000 restarts fit on 2 cores: a restart is about the state on disk and what a start makes of it, so most
sequences restart the daemon in this process through its real start path (daemon.Daemon: the composition
root reads every file, every component starts, the OS3P client connects and registers), about 0.1 s; every
SUBPROCESS_EVERY-th sequence runs against the daemon as a real process instead (python -m bridge.daemon,
about 1 s), where RSS and threads are the process's own.
"""

import json
import os
import shutil
import struct
import tempfile
import threading
import time

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from support.modbus_server import uci_meter
from support.paths import DATA, ROOT

WAIT = 20.0  # seconds a restart, a registration, an answer may take on a loaded machine: a bound, not a figure
RSS_SLACK_KIB = 3072  # what the RSS may stay above its warmed-up idle figure after a sequence (allocator noise)
CONFIG = """
config acs 'acs'
\toption url '%(url)s'
\toption identity 'SUBS001'
\toption periodic_inform_enable '0'
config os3p 'os3p'
\toption enabled '1'
\toption call_timeout '3'
\toption connect_timeout '3'
\toption reconnect_min '1'
\toption reconnect_max '2'
\toption ping_interval '0'
\toption download_dir '%(dl)s'
\toption upload_retries '1'
config jsonrpc 'jsonrpc'
\toption port '0'
config station 'station'
\toption sample_interval '0'
"""
METER = uci_meter("""
config register
\toption address '2'
\toption type 'float32'
\toption measurand 'Current.L1'
\toption unit 'A'
""")  # the voltage at register 0 and the current at 2, float32 both: what the meter replies poke
INT_KEYS = {"HeartbeatInterval": (1, 604800), "MeterValueSampleInterval": (0, 86400),
            "websocketPingInterval": (0, 86400), "StreetlightProfileMaxStackLevel": (0, 64)}
STATE_FILES = ["sessions.json", "os3p/state.json", "os3p/firmware.json", "station/streetlights.json",
               "os3p/outbox/000000000077.json", "meter-history.bin", "station", "os3p/outbox"]
METER_NORMAL = (0x4366_8000, 0x4120_0000)  # 230.5 V, 10 A
DAMAGE = {"garbage": b"\x00\xff not json \xfe", "list": b"[1]", "shape": b'{"profiles": [1], "success": "many", '
          b'"clock_offset": "x", "status": 7, "id": 3}', "empty": b"", "directory": None}


class Failed(AssertionError):
    """A property does not hold (the message says which, and what happened)."""


FIRST = []  # the first failure of a run, as it happened (hypothesis's replay of a restart may not repeat it)


def recorded(fn):
    """A rule (or teardown) whose first failure in the run is kept as it happened, with its steps so far."""
    import functools

    @functools.wraps(fn)
    def step(self, *args, **kwargs):
        self.steps.append("%s(%s)" % (fn.__name__, ", ".join(
            ["%r" % (a,) for a in args] + ["%s=%r" % kv for kv in kwargs.items()])[:300]))
        try:
            return fn(self, *args, **kwargs)
        except BaseException as e:
            if not FIRST:
                FIRST.append("%s: %s\nsteps: %s" % (type(e).__name__, str(e)[:1500], "; ".join(self.steps)))
            raise
    return step


def expect(ok, what, *context):
    if not ok:
        raise Failed("%s: %s" % (what, " | ".join(repr(c)[:600] for c in context)))


# --- generated inputs ----------------------------------------------------------------------------------------
_DIGITS = st.integers(0, 10 ** 7).map(str)
_VALUE = st.one_of(
    _DIGITS, st.integers(-5, 70).map(str), st.integers(0, 700000).map(str), st.just("9" * 401),
    st.sampled_from(["1_000", "\u0661\u0662\u0663", " 300 ", "+300", "0x10", "", "1e3", "300\n", "\n[1, 2]\n",
                     "[52.37, 4.9]", " [ -33.9 , 151.2 ] ", "[91, 0]", "[1, 2, 3]", "[\u0661, 2]", "\x00"]),
    st.text(max_size=12))
_SPACE = st.sampled_from(["", " ", "  ", "\n", "\t", "\r\n"])
_KEYS = st.sampled_from(list(INT_KEYS) + ["Geolocation", "Sunrise", "KVCBX_LANG"])
_TIME = st.builds(lambda h, m: "%02d:%02d:00" % (h, m), st.integers(0, 23), st.integers(0, 59))
_EDGE = st.one_of(st.fixed_dictionaries({"kind": st.just("Absolute"), "time": _TIME}),
                  st.fixed_dictionaries({"kind": st.sampled_from(["Sunset", "Sunrise"]),
                                         "offset": st.integers(-7200, 7200)}))
_PROFILE = st.fixed_dictionaries({
    "profileId": st.integers(1, 12), "stackLevel": st.one_of(st.integers(0, 16), st.integers(17, 70)),
    "recurrencyKind": st.just("Daily"),
    "daySchedule": st.lists(st.fixed_dictionaries({"start": _EDGE, "end": _EDGE}), min_size=1, max_size=3)})
_FLOAT32 = st.one_of(st.sampled_from([0x7FC00000, 0xFFFFFFFF, 0x7F800000, 0xFF800000, 0x7F7FFFFF]),
                     st.floats(-1000, 1000, allow_nan=False, width=32).map(
                         lambda f: struct.unpack(">I", struct.pack(">f", f))[0]))
_LOCATION = st.one_of(st.builds(lambda s, p: "%s://127.0.0.1:%d/fw.img" % (s, p), st.sampled_from(["http", "ftp"]),
                                st.integers(1, 3)),
                      st.sampled_from(["gopher://h/fw", "ftp://127.0.0.1:1/fw%0d%0aDELE%20x", "http://h:99999/x",
                                       "ftp://a:b@127.0.0.1:1/fw", "http://127.0.0.1:1/\u00e9"]))


def refused_for_the_disk(answer):
    """InternalError is the protocol's word for a request the station cannot keep (its state file cannot be
    written: a directory where it belongs, a full disk): allowed with that cause said, never as a crash's
    bare "internal error"."""
    return answer[0] == 4 and answer[2] == "InternalError" and (
        "cannot be written" in answer[3] or "refuses" in answer[3])


class Restarts(RuleBasedStateMachine):
    """One sequence; the rig (the central system, the meter, the daemon) is the module's, see Rig."""

    rig = None  # set by run()

    def __init__(self):
        super().__init__()
        self.steps = []

    @initialize()
    @recorded
    def fresh(self):
        self.accepted = {}  # OS3P key -> value as GetConfiguration gives it
        self.damaged = set()  # state files damaged since the last restart
        self.rig.new_sequence()

    # --- what happens to a station --------------------------------------------------------------------------
    @rule(key=_KEYS, value=_VALUE)
    @recorded
    def change_configuration(self, key, value):
        answer = self.rig.call("ChangeConfiguration", {"key": key, "value": value})
        expect(answer[0] == 3 and answer[2]["status"] in ("Accepted", "Rejected"), "ChangeConfiguration answer",
               key, value, answer)
        if answer[2]["status"] == "Accepted":
            expect(key in INT_KEYS or key == "Geolocation", "only writable keys are Accepted", key, value)
            self.accepted[key] = str(int(value)) if key in INT_KEYS else value

    @rule(value=st.builds(lambda a, lat, b, lon, c: "%s[%s,%s%s]%s" % (a, lat, b, lon, c), _SPACE,
                           st.floats(-95, 95).map(lambda f: "%.2f" % f), _SPACE,
                           st.floats(-185, 185).map(lambda f: "%.2f" % f), _SPACE))
    @recorded
    def change_geolocation(self, value):
        """Geolocation, whose check once took line breaks for spaces."""
        self.change_configuration("Geolocation", value)

    @rule(contactor=st.integers(1, 5), profiles=st.lists(_PROFILE, min_size=1, max_size=3), clear=st.booleans())
    @recorded
    def set_profile(self, contactor, profiles, clear):
        payload = {"contactorId": contactor, "streetlightProfiles": profiles, "clearAllSchedules": clear}
        answer = self.rig.call("SetStreetlightProfile", payload)
        expect(answer[0] == 3 or answer[2] != "InternalError", "SetStreetlightProfile answer", payload, answer)
        if answer[0] == 3 and answer[2]["status"] == "Accepted":
            on_disk = self.rig.profiles_on_disk()
            for p in profiles:  # Accepted means on flash before the answer
                expect(p["profileId"] in on_disk.get(contactor, set()), "an Accepted profile is on disk",
                       payload, on_disk)

    @rule(which=st.one_of(st.fixed_dictionaries({"profileId": st.integers(1, 12)}),
                          st.fixed_dictionaries({"contactorId": st.integers(1, 4), "stackLevel": st.integers(0, 70)})))
    @recorded
    def clear_profile(self, which):
        answer = self.rig.call("ClearSingleStreetlightProfile", which)
        expect(answer[0] == 3 or answer[2] != "InternalError" or refused_for_the_disk(answer),
               "ClearSingleStreetlightProfile answer", which, answer)

    @rule(location=_LOCATION, retries=st.one_of(st.integers(0, 3), st.just(10 ** 9)),
          interval=st.one_of(st.integers(0, 2), st.just(10 ** 20)))
    @recorded
    def update_firmware(self, location, retries, interval):
        payload = {"retrieveDate": "2020-01-01T00:00:00Z", "location": location, "retries": retries,
                   "retryInterval": interval, "requestId": "fw"}
        answer = self.rig.call("UpdateFirmware", payload)
        expect(answer[0] == 3 or answer[2] in ("NotSupported", "PropertyConstraintViolation", "SecurityError")
               or refused_for_the_disk(answer), "UpdateFirmware answer", payload, answer)

    @rule(voltage=_FLOAT32, current=_FLOAT32)
    @recorded
    def meter_reply(self, voltage, current):
        self.rig.meter_answers(voltage, current)
        mark = len(self.rig.cs.calls("MeterValues"))
        answer = self.rig.call("TriggerMessage", {"requestedMessage": "MeterValues"})
        expect(answer[0] == 3 and answer[2]["status"] == "Accepted", "TriggerMessage MeterValues", answer)
        sent = self.rig.wait(lambda c: c.calls("MeterValues")[mark:], "the triggered MeterValues arrives")
        self.rig.check_meter_values([m[3] for m in sent])

    @rule(triggers=st.integers(1, 30))
    @recorded
    def silent_meter(self, triggers):
        """The meter accepts and never answers; the central system triggers MeterValues again and again. The
        meter stays silent until a later step makes it answer (or the next sequence): what the burst left
        running meets the restart's figures, as on a station whose meter died."""
        self.rig.meter_silent()
        for _ in range(triggers):
            answer = self.rig.call("TriggerMessage", {"requestedMessage": "MeterValues"})
            expect(answer[0] == 3 and answer[2]["status"] == "Accepted", "TriggerMessage MeterValues", answer)

    @rule(name=st.one_of(st.sampled_from(STATE_FILES), st.just("station")), kind=st.sampled_from(sorted(DAMAGE)))
    @recorded
    def damage(self, name, kind):
        self.rig.damage(name, kind)
        self.damaged.add(name)

    @rule()
    @recorded
    def restart(self):
        self._restart()

    @recorded
    def teardown(self):
        if self.rig.daemon is not None:
            self._restart()  # every sequence ends in a restart
            self.rig.end_sequence()

    # --- the properties -------------------------------------------------------------------------------------
    def _restart(self):
        before = self.rig.profiles_held()
        # an empty directory put where the station's was took the file with it: nothing to set aside
        gone = not os.path.lexists(os.path.join(self.rig.state, "station", "streetlights.json"))
        self.rig.restart()  # it starts: registered with the central system, status answered
        after = self.rig.profiles_held()
        hit = [n for n in ("station", "station/streetlights.json") if n in self.damaged]
        if not hit:
            expect(after == before, "the streetlight profiles held before the restart are held after it",
                   before, after)
        else:  # what the damage took is set aside and said so; a file it removed leaves none held
            expect(any(self.rig.set_aside_said(n) for n in hit) or after == before or (gone and after == {}),
                   "a damaged streetlight state is set aside and said so", before, after)
        self.damaged.clear()
        if self.accepted:
            values = self.rig.configuration(self.accepted)
            expect(values == self.accepted, "GetConfiguration returns what was Accepted", self.accepted, values)


class Rig:
    """The central system, the meter and the daemon, for a run of many sequences."""

    def __init__(self, subprocess_every=20):
        from devtools.centralsystem import CentralSystem
        from support.modbus_server import ModbusServer

        self.tmp = tempfile.mkdtemp(prefix="fuzz-restart-")
        self.cs = CentralSystem(quiet=True, boot_interval=0).start()  # interval 0: the heartbeat stays ours
        self.meter_port = None
        self.meter = ModbusServer(holding=_holding(*METER_NORMAL)).start()
        self.answering = METER_NORMAL  # (voltage, current) as float32 bits; None: silent
        self.meter_port = self.meter.port
        self.subprocess_every = subprocess_every
        self.sequences = self.restarts = self.subprocess_restarts = 0
        self.daemon = None
        self.state = None
        self.registered = False
        self.baseline_threads = None
        self.idle = None  # (RSS KiB, threads) of a warmed-up daemon process
        import jsonschema

        with open(os.path.join(DATA, "os3p-printed", "MeterValues.req.json")) as f:
            self.printed = jsonschema.Draft4Validator(json.load(f)["schema"])

    def close(self):
        self._stop()
        self.meter.stop()
        self.cs.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- a sequence --------------------------------------------------------------------------------------
    def warm_up(self):
        """The idle figures a sampled sequence's daemon process is held to: a daemon process that did each
        kind of thing once (what a first transfer, a first meter reading, a first profile load into memory
        stays), its work done."""
        self.process = True
        self.state = os.path.join(self.tmp, "warm-up")
        self._write_config()
        self._start()
        self.call("ChangeConfiguration", {"key": "Geolocation", "value": "[52.37, 4.9]"})
        self.call("SetStreetlightProfile", {"contactorId": 1, "streetlightProfiles": [
            {"profileId": 1, "stackLevel": 0, "recurrencyKind": "Daily", "daySchedule": [
                {"start": {"kind": "Sunset", "offset": 0}, "end": {"kind": "Sunrise", "offset": 0}}]}]})
        self.call("ClearSingleStreetlightProfile", {"profileId": 1})
        mark = len(self.cs.calls("MeterValues"))
        self.call("TriggerMessage", {"requestedMessage": "MeterValues"})
        self.wait(lambda c: c.calls("MeterValues")[mark:], "the warm-up's MeterValues")
        for _ in range(2):  # the second time round, what the first transfers of each kind loaded is all there
            self.idle = None
            self._settle_and_measure()
        self._stop()

    def _write_config(self):
        """The station's UCI file in this sequence's state directory: the central system, the meter."""
        os.makedirs(os.path.join(self.state, "config"))
        with open(os.path.join(self.state, "config", "tr069"), "w") as f:
            f.write(CONFIG % {"url": self.cs.url, "dl": self.tmp} + METER % self.meter_port)

    def new_sequence(self):
        self._stop()
        if self.answering != METER_NORMAL:  # each sequence starts with the meter answering normal values
            self.meter_answers(*METER_NORMAL)
        self.sequences += 1
        self.state = os.path.join(self.tmp, "s%d" % self.sequences)
        self._write_config()
        self.process = self.subprocess_every and self.sequences % self.subprocess_every == 0
        if self.process and self.idle is None:
            self.warm_up()
        self._start()

    def wait(self, predicate, what):
        """The central system's view until predicate holds; Failed(what) when it does not within WAIT."""
        try:
            return self.cs.wait_for(predicate, WAIT)
        except TimeoutError:
            raise Failed("%s: not within %d s" % (what, WAIT)) from None

    def end_sequence(self):
        self._stop()

    def call(self, action, payload):
        expect(self.registered, "the central system reaches the station", action)
        return self.cs.call("SUBS001", action, payload, timeout=WAIT)

    def state_view(self):
        import subprocess
        import sys

        r = subprocess.run([sys.executable, "-m", "bridge.cli", "state", "--json", "--state-dir", self.state],
                           cwd=ROOT, env=self.daemon.env, capture_output=True, text=True, timeout=WAIT)
        if r.returncode != 0 or not r.stdout.strip():
            return None
        try:
            return json.loads(r.stdout)
        except ValueError as e:  # an answer the operator's tools cannot read is a finding, not the fuzzer's crash
            at = getattr(e, "pos", 0)
            raise Failed("the state view answers JSON: %s | %r" % (e, r.stdout[max(0, at - 200):at + 100])) from None

    def meter_answers(self, voltage, current):
        from support.modbus_server import ModbusServer

        self.meter.stop()
        self.meter = ModbusServer(holding=_holding(voltage, current), port=self.meter_port).start()
        self.answering = (voltage, current)
        if self.baseline_threads is not None and self.meter.thread is not None:  # the meter's, not the daemon's
            self.baseline_threads.add(self.meter.thread)

    def meter_silent(self):
        """A listener on the meter's port that accepts (the kernel does) and says nothing."""
        import socket

        self.meter.stop()
        silent = socket.socket()
        silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        silent.bind(("127.0.0.1", self.meter_port))
        silent.listen(64)
        self.meter = _Silent(silent)
        self.answering = None

    def check_meter_values(self, payloads):
        for payload in payloads:
            errors = [e.message for e in self.printed.iter_errors(payload)]
            expect(not errors, "MeterValues pass the printed schema", payload, errors)
            for mv in payload["meterValue"]:
                for v in mv["sampledValue"]:
                    number = float(v["value"])
                    expect(number - number == 0, "measured values are numbers", v)

    def damage(self, name, kind):
        """The file replaced while the daemon runs (which may write it meanwhile: tried until it holds)."""
        path = os.path.join(self.state, name)
        for _ in range(20):
            parent = os.path.dirname(path)
            if os.path.lexists(parent) and not os.path.isdir(parent):
                os.unlink(parent)  # an earlier damage put a file where this file's directory is
            os.makedirs(parent, exist_ok=True)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.lexists(path):
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
            try:
                if DAMAGE[kind] is None:
                    os.mkdir(path)
                else:
                    with open(path + ".damage", "wb") as f:
                        f.write(DAMAGE[kind])
                    os.replace(path + ".damage", path)
                return
            except (FileExistsError, IsADirectoryError, NotADirectoryError, FileNotFoundError):
                continue  # the daemon wrote it (or its directory) between the two: again

    def profiles_on_disk(self):
        """{contactor: {profileId}} in the streetlight state file as it is now."""
        try:
            with open(os.path.join(self.state, "station", "streetlights.json")) as f:
                data = json.load(f)
        except (OSError, ValueError):
            return {}
        profiles = data.get("profiles") if isinstance(data, dict) else None
        if not isinstance(profiles, dict):
            return {}
        return {int(c): {p.get("profileId") for p in ps if isinstance(p, dict)} for c, ps in profiles.items()
                if c.isdigit() and isinstance(ps, list) and ps}  # a contactor without profiles holds none

    def profiles_held(self):
        """What the running daemon holds: its streetlights' profiles (in-process), or what it keeps on disk."""
        if self.process:
            return self.profiles_on_disk()
        lights = self.daemon.run(lambda: self.daemon.daemon.running.get("streetlights"))
        if lights is None:
            return {}
        held = self.daemon.run(lambda: {c: {p.profile_id for p in ps}
                                        for c, ps in lights.control.profiles.by_contactor.items() if ps})
        return held

    def set_aside_said(self, name):
        path = os.path.join(self.state, name)
        return os.path.lexists(path + ".bad")

    # --- the daemon, in this process or as one --------------------------------------------------------------
    def _start(self):
        """It starts: the daemon comes up on the state directory and answers `status`, and registers with the
        central system when the configuration it runs on has OS3P on; anything else (an exception, no
        answer, no registration) is this property failing."""
        try:
            if self.process:
                from support.daemon_process import DaemonProcess

                self.daemon = DaemonProcess(self.state).start(timeout=WAIT)
            else:
                if self.baseline_threads is None:
                    self.baseline_threads = set(threading.enumerate())
                self.daemon = InProcess(self.state)
            status = self._status()
            expect(status is not None, "it starts: status answered")
            self.registered = bool(self.config().get("os3p.enabled"))
            if self.registered:
                self.cs.wait_for(lambda c: "SUBS001" in c.connections and self._registered(), WAIT)
                status = self._status(up=True)
                expect(status["cwmp"]["status"] == "up", "it starts: registered with the central system", status)
        except Failed:
            raise
        except Exception as e:  # noqa: BLE001 - whatever stopped the start is the finding
            raise Failed("it starts: %s: %s" % (type(e).__name__, str(e)[:400])) from None

    def config(self):
        """The configuration the running daemon answers from (its own, or read as its start-up reader reads it)."""
        if not self.process:
            return self.daemon.daemon.config
        from bridge.config import Config

        return Config(os.path.join(self.state, "config", "tr069"), lenient=True)

    def configuration(self, keys):
        """{key: value} as GetConfiguration answers: through the central system when registered, else what the
        daemon's configuration holds, as the handler would give it."""
        if self.registered:
            got = self.call("GetConfiguration", {"key": sorted(keys)})[2]
            return {k["key"]: k.get("value") for k in got["configurationKey"]}
        from bridge.config import Config
        from bridge.os3p.actions import _text

        config = self.config()
        return {k: _text(config.get(Config.by_os3p(k).name)) for k in keys}

    def _registered(self):
        if self.process:
            return True  # the central system saw it connect; status says up (checked next)
        return self.daemon.run(lambda: (self.daemon.daemon.running.get("os3p") or _Never).registered())

    def _status(self, up=False):
        deadline = time.monotonic() + WAIT
        while True:
            if self.process:
                code, status = self.daemon.call("status")
                status = status if code == 0 else None
            else:
                status = self.daemon.run(lambda: self.daemon.daemon.tr069.call("status", {})[1])
            if status and (not up or status["cwmp"]["status"] == "up") or time.monotonic() > deadline:
                return status
            time.sleep(0.05)

    def restart(self):
        self.restarts += 1
        if self.process:
            self.subprocess_restarts += 1
            self._settle_and_measure()
        self._stop()
        self._start()

    def _stop(self):
        if self.daemon is None:
            return
        d, self.daemon = self.daemon, None
        if self.process:
            expect(d.terminate() == 0, "the daemon stops cleanly on SIGTERM")
            return
        d.stop()
        # every thread the daemon started ends once it stopped (a worker waiting for a retry is cancelled)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            left = [t for t in threading.enumerate() if t not in self.baseline_threads and t.is_alive()
                    and not t.name.startswith(("ThreadPoolExecutor", "asyncio"))]
            if not left:
                break
            time.sleep(0.05)
        expect(not left, "threads return to their idle figures: every daemon thread ended", [t.name for t in left])
        self.wait(lambda c: "SUBS001" not in c.connections, "the stopped daemon's connection closes")

    def _settle_and_measure(self):
        """The daemon process, its work done (transfers ended), against the idle figures of a warmed-up one."""
        # a new UpdateFirmware with one attempt to a refused port cancels any download waiting for a retry; one
        # over each scheme, so that the warm-up has paid what a first transfer loads (requests, the TLS
        # context FTP makes before it connects, with the system's CA store) and the figures compare like
        # with like
        for location in ("ftp://127.0.0.1:1/fw.img", "http://127.0.0.1:1/fw.img"):
            self.call("UpdateFirmware", {"retrieveDate": "2020-01-01T00:00:00Z", "retries": 1,
                                         "location": location, "requestId": "settle"})
            deadline = time.monotonic() + WAIT  # each one to its end: a first transfer pays what it loads
            while time.monotonic() < deadline:
                state = self.state_view()
                if state is not None and not [t for t in state.get("transfers", []) if t["state"] == "running"]:
                    break
                time.sleep(0.1)
        time.sleep(0.5)
        rss, threads = _proc_figures(self.daemon.proc.pid)
        if self.idle is None:  # the warm-up (warm_up()) measures the idle figures
            self.idle = (rss, threads)
            return
        expect(threads <= self.idle[1], "threads return to their idle figures", threads, self.idle)
        expect(rss <= self.idle[0] + RSS_SLACK_KIB, "RSS returns to its idle figure", rss, self.idle)


def _holding(voltage, current):
    """The meter's holding registers for a voltage and a current given as float32 bits."""
    return {0: voltage >> 16, 1: voltage & 0xFFFF, 2: current >> 16, 3: current & 0xFFFF}


class _Silent:
    """The meter that says nothing: its socket, closed when the meter answers again."""

    thread = None

    def __init__(self, sock):
        self.sock = sock

    def stop(self):
        self.sock.close()


class _Never:
    @staticmethod
    def registered():
        return False


class InProcess:
    """daemon.Daemon in this process: its loop on a thread of its own, started and stopped as main() does
    (without the signal handlers, which only the main thread may install)."""

    def __init__(self, state_dir):
        from bridge import atomic
        from bridge.daemon import Daemon

        del atomic.SET_ASIDE[:]  # what this start sets aside (a process's list: here, this daemon's)
        self.daemon = Daemon("host", state_dir)
        self.thread = threading.Thread(target=self.daemon.loop.run, name="daemon-loop", daemon=True)
        self.thread.start()
        try:
            self.run(self.daemon.start_components)
        except BaseException:
            self.stop()  # what did start is stopped: its threads are not the next sequence's
            raise

    def run(self, fn, timeout=WAIT):
        if threading.current_thread() is self.thread:
            return fn()
        done, box = threading.Event(), {}

        def call():
            try:
                box["value"] = fn()
            except BaseException as e:  # handed to the fuzzer's thread: a start that raised is a failure
                box["error"] = e
            done.set()

        self.daemon.loop.call_soon_threadsafe(call)
        expect(done.wait(timeout), "the daemon's loop answers")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def stop(self):
        try:
            self.run(self.daemon.shutdown)
        finally:
            self.daemon.loop.call_soon_threadsafe(self.daemon.loop.stop)
            self.thread.join(WAIT)


def _proc_figures(pid):
    with open("/proc/%d/status" % pid) as f:
        fields = dict(line.split(":", 1) for line in f)
    return int(fields["VmRSS"].split()[0]), int(fields["Threads"])


def run(sequences, seed=None, subprocess_every=20, steps=8, shrink=False):
    """Run `sequences` sequences (hypothesis examples), each ended by a restart; -> report dict."""
    import random

    from hypothesis import seed as with_seed
    from hypothesis.stateful import run_state_machine_as_test

    rig = Rig(subprocess_every)
    Restarts.rig = rig
    del FIRST[:]
    report = {"surface": "restarts", "inputs": 0, "restarts": 0, "subprocess": 0, "crashes": 0, "hangs": 0,
              "unexpected": 0, "failure": None}
    started = time.monotonic()
    try:
        def test():
            from hypothesis import Phase

            run_state_machine_as_test(Restarts, settings=settings(
                max_examples=sequences, stateful_step_count=steps, deadline=None, database=None,
                phases=[Phase.generate] + ([Phase.shrink] if shrink else []),
                suppress_health_check=list(HealthCheck), report_multiple_bugs=False, print_blob=False))
        with_seed(seed if seed is not None else random.getrandbits(32))(test)()
    except Exception as e:  # noqa: BLE001 - whatever escaped is the report
        # hypothesis replays a failing sequence to confirm it; a restart is not repeatable to the byte (a new
        # state directory, the clock), so a confirmed-then-not failure comes wrapped (FlakyFailure): the
        # failure is the first one inside, with the steps hypothesis noted
        inner = e
        while getattr(inner, "exceptions", None):
            inner = inner.exceptions[0]
        steps = "\n".join(getattr(inner, "__notes__", []) or getattr(e, "__notes__", []))
        kind = "unexpected" if isinstance(inner, Failed) or (FIRST and FIRST[0].startswith("Failed")) else "crashes"
        report[kind] = 1
        report["failure"] = FIRST[0] if FIRST else "%s: %s%s" % (type(inner).__name__, inner,
                                                                 "\n" + steps if steps else "")
    finally:
        report["inputs"], report["restarts"] = rig.sequences, rig.restarts
        report["subprocess"] = rig.subprocess_restarts
        report["seconds"] = time.monotonic() - started
        rig.close()
    return report


