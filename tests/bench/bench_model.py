"""The TR-181 parameter model's figures, each beside its peer measured in the same run.

  - GetParameterValues of `Device.` (every parameter) and of one leaf, SetParameterValues of 10
    parameters: the model (one snapshot per request, one backend read per getter group) against the same
    model written the plain way (tests/bench/model_plain.py: one getter call per parameter, one write per
    parameter), in-process, on the host backend with the station simulated (four contactors, an indicator
    group, a meter) and this machine's /proc and /sys/class/net;
  - the model's memory: what building the table and answering `Device.` allocates (tracemalloc), and the
    daemon's RSS before and after its table is loaded;
  - the time from an event (a contactor's feedback contact closing) to the central system's receipt of the
    DataModelNotification, for an active notification, the daemon as a process over loopback OS3P;
  - the daemon's idle RSS with every surface on (ubus, JSON-RPC, OS3P, the station, reachability with a
    CAMARA subscription, the model), the model loaded and watching (target <= 20 MiB).

Nothing here asserts on timing: the figures are printed.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

from benchpath import HERE, ROOT  # first: the repository and tests/ on sys.path

from benchutil import heading, rss_kib

ROUNDS = 5
LEAF = "Device.ManagementServer.PeriodicInformInterval"
V = "X_TR069-BRIDGE_"
TEN = [  # ten writable parameters of every binding kind the model has: UCI keys and a contactor's override
    ("Device.ManagementServer.URL", ["ws://127.0.0.1:9/OS3P", "ws://127.0.0.1:10/OS3P"]),
    ("Device.ManagementServer.Username", ["op1", "op2"]),
    ("Device.ManagementServer.Password", ["pw1", "pw2"]),
    ("Device.ManagementServer.PeriodicInformEnable", [False, True]),
    ("Device.ManagementServer.PeriodicInformInterval", [600, 900]),
    ("Device.ManagementServer.%sWebsocketPingInterval" % V, [30, 60]),
    ("Device.%sStreetlight.Geolocation" % V, ["[52.37, 4.9]", "[48.85, 2.35]"]),
    ("Device.%sStreetlight.ProfileMaxStackLevel" % V, [8, 16]),
    ("Device.%sMeterSampleInterval" % V, [600, 900]),
    ("Device.%sStreetlight.Contactor.1.Override" % V, ["On", ""]),
]


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def side_by_side(ours, theirs, seconds=0.6, least=3):
    """((wall, cpu) of ours, (wall, cpu) of theirs): median seconds per call over ROUNDS rounds, the two
    taking turns round by round, so that a noisy moment of the shared machine hurts both."""
    ours()  # warm: caches, instance numbers, imports
    theirs()
    rounds = {ours: [], theirs: []}
    for _ in range(ROUNDS):
        for fn in (ours, theirs):
            n, t0, c0 = 0, time.perf_counter(), time.process_time()
            while n < least or time.perf_counter() - t0 < seconds / ROUNDS:
                fn()
                n += 1
            rounds[fn].append(((time.perf_counter() - t0) / n, (time.process_time() - c0) / n))
    return tuple((median([w for w, _c in rounds[fn]]), median([c for _w, c in rounds[fn]])) for fn in (ours, theirs))


def in_process(report, tmp):
    from support.os3p_harness import write_config

    from bridge.daemon import Daemon
    from model_plain import PlainModel

    write_config(tmp, "ws://127.0.0.1:9/OS3P", jsonrpc__enabled="0", os3p__enabled="0")
    daemon = Daemon("host", tmp)
    daemon.start_components(only={"sensors", "streetlights", "model"})
    try:
        component = daemon.running["model"]
        model = component.model()
        plain = PlainModel(model.registry, model.backend, model.instances, lambda: model._read("model"))
        ours_all = {p: v for p, _r, v in model.get_parameter_values(["Device."])}
        theirs_all = {p: v for p, _r, v in plain.get_parameter_values(["Device."])}
        volatile = {p for p, r, _v in model.get_parameter_values(["Device."]) if r.volatile}
        assert set(ours_all) == set(theirs_all), set(ours_all) ^ set(theirs_all)
        assert {p: v for p, v in ours_all.items() if p not in volatile} == \
            {p: v for p, v in theirs_all.items() if p not in volatile}
        reads = model.reads
        model.get_parameter_values(["Device."])
        groups = model.reads - reads

        heading(report, "GetParameterValues (in-process, host backend, the station simulated)",
                "%d parameters under Device.; median of %d rounds" % (len(ours_all), ROUNDS))
        (ours, ours_cpu), (theirs, theirs_cpu) = side_by_side(lambda: model.get_parameter_values(["Device."]),
                                                              lambda: plain.get_parameter_values(["Device."]))
        report("  Device. (every parameter), the model", ours * 1e3, "ms", "%d backend reads (one per getter group); "
               "CPU %.2f ms" % (groups, ours_cpu * 1e3))
        report("  Device., plain (one getter call per parameter)", theirs * 1e3, "ms", "CPU %.2f ms" % (theirs_cpu * 1e3))
        report("    ratio plain / model", theirs / ours, "x", "target >= 5")
        (ours, _c), (theirs, _c) = side_by_side(lambda: model.get_parameter_values([LEAF]),
                                                lambda: plain.get_parameter_values([LEAF]))
        report("  one leaf (%s), the model" % LEAF.rpartition(".")[2], ours * 1e6, "us")
        report("  one leaf, plain", theirs * 1e6, "us", "ratio plain / model %.2f" % (theirs / ours))

        flip = [0]

        def ten(setter):
            flip[0] ^= 1
            return setter([(path, values[flip[0]], None) for path, values in TEN])

        (ours, ours_cpu), (theirs, theirs_cpu) = side_by_side(
            lambda: ten(lambda e: model.set_parameter_values(e, "bench")), lambda: ten(plain.set_parameter_values),
            seconds=3.0)
        heading(report, "SetParameterValues of 10 parameters (9 UCI keys, a contactor's override)",
                "each a change; the UCI file fsync'd on every commit (the disk is shared: read the CPU too)")
        report("  the model (all or nothing, one UCI commit)", ours * 1e3, "ms", "CPU %.2f ms" % (ours_cpu * 1e3))
        report("  plain (one write per parameter)", theirs * 1e3, "ms", "CPU %.2f ms; ratio plain / model %.2f "
               "(CPU %.2f)" % (theirs_cpu * 1e3, theirs / ours, theirs_cpu / ours_cpu))
    finally:
        daemon.stop_components()
    memory(report, tmp)


def memory(report, tmp):
    """tracemalloc of the model's table and of answering Device. (ours, then plain), in a fresh interpreter."""
    code = r"""
import json, sys, tracemalloc
sys.path[:0] = [%r, %r]
from support.os3p_harness import write_config
from bridge.daemon import Daemon
write_config(%r, "ws://127.0.0.1:9/OS3P", jsonrpc__enabled="0", os3p__enabled="0")
d = Daemon("host", %r)
d.start_components(only={"sensors", "streetlights", "model"})
import bridge.model.core, bridge.model.bindings, bridge.model.rows  # the code: imported before counting
tracemalloc.start()
m = d.running["model"].model()
table = tracemalloc.get_traced_memory()[0]
from model_plain import PlainModel
p = PlainModel(m.registry, m.backend, m.instances, lambda: m._read("model"))
m.get_parameter_values(["Device."])  # both once first: what a first answer imports is not the answer's
p.get_parameter_values(["Device."])
tracemalloc.reset_peak()
base = tracemalloc.get_traced_memory()[0]
m.get_parameter_values(["Device."])
ours = tracemalloc.get_traced_memory()[1] - base
tracemalloc.reset_peak()
base = tracemalloc.get_traced_memory()[0]
p.get_parameter_values(["Device."])
theirs = tracemalloc.get_traced_memory()[1] - base
d.stop_components()
print(json.dumps([table, ours, theirs]))
""" % (os.path.join(ROOT, "tests"), HERE, os.path.join(tmp, "mem"), os.path.join(tmp, "mem"))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    table, ours, theirs = json.loads(out.stdout.strip().splitlines()[-1])
    heading(report, "the model's memory (tracemalloc, a fresh interpreter)")
    report("  the table, its tree and the model (rows, registry, core)", table / 1024.0, "KiB")
    report("  answering Device., peak, the model (one snapshot)", ours / 1024.0, "KiB")
    report("  answering Device., peak, plain", theirs / 1024.0, "KiB")


class RegisteringUbusd(threading.Thread):
    """Without TR069_UBUSD: enough of ubusd for the ubus surface to register its objects (HELLO, then every
    ADD_OBJECT answered), so that the surface is on as on a device."""

    def __init__(self, path):
        super().__init__(daemon=True)
        from bridge.ubus import blob

        self.blob = blob
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(2)
        self.registered = []

    def run(self):
        blob = self.blob
        from support.ubusd import read_message

        try:
            conn, _ = self.srv.accept()
        except OSError:
            return
        conn.sendall(blob.encode_message(blob.HELLO, 0, 0x7000))
        n = 0x100
        while True:
            try:
                _, m = read_message(conn, 3600)
            except Exception:
                return
            if m.type == blob.ADD_OBJECT:
                n += 1
                self.registered.append(m.get(blob.ATTR_OBJPATH))
                conn.sendall(blob.encode_message(blob.DATA, m.seq, 0, [(blob.ATTR_OBJID, n), (blob.ATTR_OBJTYPE, n)]))
                conn.sendall(blob.encode_message(blob.STATUS, m.seq, 0, [(blob.ATTR_STATUS, 0)]))

    def close(self):
        self.srv.close()


def _device_like():
    """python -S with the project and the venv's packages on the path, as bench_os3p starts the daemon."""
    import sysconfig

    return [sys.executable, "-S"], dict(os.environ, PYTHONPATH=os.pathsep.join(
        [ROOT, sysconfig.get_paths()["purelib"]]))


def process(report, tmp):
    """The daemon with every surface on, over a real central system: the event-to-central-system time of an
    active notification, and the idle RSS before and after the model's table is loaded."""
    from devtools.centralsystem import CentralSystem
    from support.os3p_harness import write_config

    cs = CentralSystem(quiet=True).start()
    state = os.path.join(tmp, "process")
    os.makedirs(state)
    sock = os.path.join(tmp, "ubus.sock")
    ubusd_bin = os.environ.get("TR069_UBUSD")
    ubusd = None
    if ubusd_bin:
        ubusd = subprocess.Popen([ubusd_bin, "-s", sock], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(sock):
                break
            time.sleep(0.01)
        via = "a real ubusd (TR069_UBUSD)"
    else:
        ubusd = RegisteringUbusd(sock)
        ubusd.start()
        via = "the bench playing ubusd"
    from bench_reach import TOKEN, subscribe
    from support.http_sink import Sink
    from support.ports import free_port

    api_port = free_port()
    write_config(state, cs.url, identity="BENCH-MODEL", jsonrpc__port="0", model__poll_interval="3600",
                 os3p__ping_interval="0", reach__api_port=str(api_port), reach__api_token=TOKEN)
    sink = Sink()  # a CAMARA subscription's sink: every surface on, reachability with a subscription
    python, env = _device_like()
    env = dict(env, TR069_UBUS_SOCKET=sock)
    proc = subprocess.Popen(python + ["-m", "bridge.daemon", "--backend", "host", "--state-dir", state], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        cs.wait_for(lambda c: c.calls("BootNotification") and "BENCH-MODEL" in c.connections, 30)
        while not os.path.exists(os.path.join(state, "cli.url")):
            time.sleep(0.05)
        assert subscribe(("127.0.0.1", api_port), sink, "reachability-sms") == 201
        time.sleep(2.0)
        idle_unloaded = rss_kib(proc.pid)
        path = "Device.%sStreetlight.Contactor.2.Light" % V
        answer = cs.call("BENCH-MODEL", "DataModel", {"method": "SetParameterAttributes", "parameters": [
            {"Name": path, "NotificationChange": True, "Notification": 2}]})
        assert answer[2]["code"] == 200, answer
        cs.call("BENCH-MODEL", "DataModel", {"method": "GetParameterValues", "parameters": ["Device."]})
        feedback = os.path.join(state, "station", "contactor2", "feedback")
        times = []
        for i in range(7):
            mark = len(cs.calls("DataModelNotification"))
            value = "On" if i % 2 == 0 else "Off"
            t0 = time.monotonic()
            with open(feedback, "r+") as f:
                f.write("1\n" if value == "On" else "0\n")
            cs.wait_for(lambda c: any(p["name"] == path and p["value"] == value for m in
                                      c.calls("DataModelNotification")[mark:] for p in m[3]["parameterList"]), 30)
            times.append(time.monotonic() - t0)
            time.sleep(0.3)
        time.sleep(2.0)
        idle_loaded = rss_kib(proc.pid)
        heading(report, "value change to the central system (the daemon as a process, loopback OS3P)",
                "model.poll_interval 3600: no poll is the cause")
        report("  active notification: a contactor's feedback closes -> DataModelNotification received",
               median(times) * 1e3, "ms", "median of %d; max %.0f ms (includes the station seeing its input)"
               % (len(times), max(times) * 1e3))
        heading(report, "daemon idle RSS, every surface on (ubus via %s, JSON-RPC, OS3P ws://, the station "
                "simulated, reachability with a CAMARA subscription, the model)" % via)
        report("  before the model's table is loaded", idle_unloaded / 1024.0, "MiB")
        report("  the model loaded and watching a parameter", idle_loaded / 1024.0, "MiB",
               "target <= 20; the model's share %+.2f MiB" % ((idle_loaded - idle_unloaded) / 1024.0))
    finally:
        proc.terminate()
        proc.wait(10)
        sink.shutdown()
        if isinstance(ubusd, subprocess.Popen):
            ubusd.terminate()
            ubusd.wait(5)
        else:
            ubusd.close()
        cs.stop()


def run(report):
    with tempfile.TemporaryDirectory(prefix="model-bench-") as tmp:
        in_process(report, tmp)
        process(report, tmp)


if __name__ == "__main__":
    from benchutil import print_row

    run(print_row)
