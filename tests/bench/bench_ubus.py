"""ubus surface figures: start-up to registration, imports, `status` calls/s and p99, RSS, codec cost.

The targets' calls/s figure is the one under load (WINDOW calls in flight) with the caller, ubusd
and the object on one CPU; the other placements and one call at a time are printed beside it, with
the CPU each process spends per call and the ceiling any object could reach (see docs/figures.md).

Peers measured in the same run, each serving `tr069` with a status reply of the same shape:
- python-ubus (libubus), when an interpreter that can `import ubus` is given in TR069_PYUBUS_PYTHON
  (or the current one can);
- "plain": the object written the straightforward way in Python, the generic blobmsg codec on every
  message (tests/bench/ubus_peers.py); it always runs, so a ratio is printed on every machine;
- "canned", for the calls only: the least a Python object can do (one canned answer, patched), the
  floor that shows how far any Python object could go;
- the interpreter's bare start-up (`python -c pass`), the floor for the start-up figure.
Calls go through a real ubusd when TR069_UBUSD names a ubusd binary (the bench starts it on a socket
of its own); otherwise the bench speaks as ubusd itself (HELLO, the ADD_OBJECT reply, then INVOKEs
as ubusd forwards them). Start-up is always timed against the bench's own ubusd side: from the
process start to its ADD_OBJECT. The daemon runs with the ubus surface only (jsonrpc.enabled=0, as on a
device). No figure is asserted on; they are printed.
"""

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from benchpath import ROOT  # first: the repository and tests/ on sys.path

from benchutil import print_row, rss_kib, skipped
from bridge.ubus import blob
from ubus_peers import CANNED_PEER, PLAIN_PEER, PYUBUS_PEER, STATUS_REPLY, Caller, timed

STARTS = 5
ROUNDS = 7
ROUND = 1500       # calls per round and peer
WINDOW = 8         # calls in flight for the figure under load (the targets' figure): ubusd's
                   # clients on a router (rpcd for LuCI, netifd, hotplug scripts) call at once
WARMUP = 200
WAIT = 20.0
OBJID = 0x2A2A2A2A


def pct(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p / 100.0))]


def _read(conn, deadline):
    buf = b""
    need = blob.FIRST_READ
    while len(buf) < need:
        conn.settimeout(max(0.001, deadline - time.monotonic()))
        chunk = conn.recv(need - len(buf))
        if not chunk:
            raise ConnectionError("peer closed")
        buf += chunk
        if need == blob.FIRST_READ and len(buf) >= blob.FIRST_READ:
            need = blob.message_length(buf[:blob.FIRST_READ])
    return blob.decode_message(buf)


class BenchUbusd:
    """ubusd's side of one object connection, enough to register an object and invoke it."""

    def __init__(self, path):
        self.path = path
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(4)

    def register(self):
        """Accept, HELLO, answer ADD_OBJECT; returns (connection, time the ADD_OBJECT arrived)."""
        self.srv.settimeout(WAIT)
        conn, _ = self.srv.accept()
        conn.sendall(blob.encode_message(blob.HELLO, 0, 0x51515151))
        add = _read(conn, time.monotonic() + WAIT)
        arrived = time.perf_counter()
        if add.type != blob.ADD_OBJECT or add.get(blob.ATTR_OBJPATH) != "tr069":
            raise RuntimeError("expected ADD_OBJECT tr069, got %r" % add)
        conn.sendall(blob.encode_message(blob.DATA, add.seq, 0, [(blob.ATTR_OBJID, OBJID), (blob.ATTR_OBJTYPE, 7)]))
        conn.sendall(blob.encode_message(blob.STATUS, add.seq, 0, [(blob.ATTR_STATUS, 0)]))
        return conn, arrived

    @staticmethod
    def requests(method, args, n):
        """n INVOKEs as ubusd forwards them (caller's seq and id, USER and GROUP), seq = index."""
        return [blob.encode_message(blob.INVOKE, i & 0xFFFF, 0x1000, [
            (blob.ATTR_OBJID, OBJID), (blob.ATTR_METHOD, method), (blob.ATTR_USER, "root"),
            (blob.ATTR_GROUP, "root"), (blob.ATTR_DATA, args)]) for i in range(n)]

    def close(self):
        self.srv.close()


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(2)     # libubus's uloop catches SIGTERM and python-ubus's loop goes on
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _pyubus_python():
    cand = os.environ.get("TR069_PYUBUS_PYTHON") or sys.executable
    try:
        ok = subprocess.run([cand, "-c", "import ubus"], capture_output=True, timeout=WAIT).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return cand if ok else None


def _start_time(argv, env, sock_path, stderr=subprocess.DEVNULL):
    """Seconds from the process start to its ADD_OBJECT on the bench's ubusd side."""
    srv = BenchUbusd(sock_path)
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        conn, arrived = srv.register()
        conn.close()
        return arrived - t0
    finally:
        _stop(proc)
        srv.close()
        os.unlink(sock_path)


def _start_time_ubusd(argv, env, sock_path, stderr=subprocess.DEVNULL):
    """Seconds from the process start until `tr069` is found on the real ubusd at sock_path
    (LOOKUPs polled every millisecond); the object is gone again when this returns."""
    caller = Caller(sock_path)
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=dict(env, TR069_UBUS_SOCKET=sock_path), cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            caller.lookup("tr069", WAIT, poll=0.001)
            return time.perf_counter() - t0
        finally:
            _stop(proc)
            deadline = time.monotonic() + WAIT
            while caller.client.lookup_id("tr069")[1] is not None and time.monotonic() < deadline:
                time.sleep(0.01)
    finally:
        caller.close()


class Served:
    """One object process and the socket its calls go through: a real ubusd of its own
    (TR069_UBUSD) with a caller connection, or the bench's ubusd side itself."""

    def __init__(self, name, argv, env, tmp, ubusd):
        self.name = name
        self.procs = []
        sock = os.path.join(tmp, "%s.sock" % name)
        if ubusd:
            self.procs.append(subprocess.Popen([ubusd, "-s", sock], stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL))
            _wait_for(sock)
        else:
            fake = BenchUbusd(sock)
        env = dict(env, TR069_UBUS_SOCKET=sock)
        self.proc = subprocess.Popen([a.replace("{sock}", sock) for a in argv], env=env, cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(self.proc)
        if ubusd:
            self.caller = Caller(sock)
            self.oid = self.caller.lookup("tr069", WAIT)
            code, data = self.caller.call(self.oid, "status")
            if code != 0 or set(data) != set(json.loads(STATUS_REPLY)):
                raise RuntimeError("%s: status through ubusd gave %r, %r" % (name, code, data))
            self.sock = self.caller.sock
        else:
            self.sock, _ = fake.register()
            fake.close()

    def requests(self, method, args, n):
        if hasattr(self, "caller"):
            return Caller.requests(self.oid, method, args, n)
        return BenchUbusd.requests(method, args, n)

    def stop(self):
        self.sock.close()
        for p in reversed(self.procs):
            _stop(p)


def _imports(start_time, argv, env, sock_path):
    """`python -X importtime` of the daemon until its object is registered: [(cumulative us, level, module)]."""
    with tempfile.TemporaryFile() as err:
        start_time(argv[:1] + ["-X", "importtime"] + argv[1:], env, sock_path, stderr=err)
        err.seek(0)
        text = err.read().decode(errors="replace")
    rows = []
    for line in text.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self, cum, name = line.split("|", 2)
        name = name.rstrip()[1:]
        level = (len(name) - len(name.lstrip())) // 2
        rows.append((int(cum.strip()), level, name.strip()))
    return rows


def cpu_seconds(pid):
    """CPU time a process has used so far, seconds: the scheduler's nanosecond count
    (/proc/PID/schedstat), else user + system in clock ticks (/proc/PID/stat, 10 ms steps)."""
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        pass
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_cpu():
    """The CPU the pinned rounds run on: the last one this process may use (on a small VM the
    first takes the interrupts), or None where affinity cannot be set."""
    try:
        return max(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def pin(pids, cpu):
    """Put pids on the CPU set cpu (a set; None: leave them where they are); the old sets, to restore."""
    old = {}
    if cpu is None:
        return old
    for pid in pids:
        try:
            old[pid] = os.sched_getaffinity(pid)
            os.sched_setaffinity(pid, cpu)
        except OSError:
            pass
    return old


def unpin(old):
    for pid, cpus in old.items():
        try:
            os.sched_setaffinity(pid, cpus)
        except OSError:
            pass


def _calls_rows(report, via, how, rates, lats, cpu, target=False):
    """The rows of one (placement, window) measurement; cpu: {name: {"object", "ubusd", "caller"}}
    in seconds over all its calls; target: the measurement the targets in docs/figures.md are read from."""
    names = list(rates)
    fig = {n: (statistics.median(rates[n]), pct(lats[n], 50) * 1000, pct(lats[n], 99) * 1000) for n in names}
    rate, p50, p99 = fig["tr069-bridge"]
    report("ubus: status calls/s, %s" % how, rate, "calls/s", "%s; median of %d rounds of %d; %s%s" % (
        via, ROUNDS, ROUND, ", ".join("x%.2f vs %s" % (rate / fig[n][0], n) for n in names[1:]),
        "; target >= x1.5 vs python-ubus" if target else ""))
    report("ubus:   p50 / p99 (%s)" % how, p50, "ms", "p99 %.3f ms%s; %s" % (
        p99, " (target <= 0.4)" if target else "", ", ".join(
            "%s p50 %.3f p99 %.3f" % (n, fig[n][1], fig[n][2]) for n in names[1:])))
    for n in names[1:]:
        report("ubus:   peer %s (%s)" % (n, how), fig[n][0], "calls/s", "p99 %.3f ms" % fig[n][2])
    if "canned" in fig and "python-ubus" in fig:
        report("ubus:   the canned floor vs python-ubus", fig["canned"][0] / fig["python-ubus"][0], "x",
               "what the least a Python object can do reaches here")
    calls = ROUNDS * ROUND
    us = {n: {k: v / calls * 1e6 for k, v in c.items()} for n, c in cpu.items()}
    ours = us["tr069-bridge"]
    report("ubus:   CPU per call: object process", ours["object"], "us", ", ".join(
        "%s %.1f us" % (n, u["object"]) for n, u in us.items() if n != "tr069-bridge"))
    if "ubusd" in ours:
        report("ubus:   CPU per call: ubusd + caller", ours["ubusd"] + ours["caller"], "us", ", ".join(
            "with %s %.1f us" % (n, u["ubusd"] + u["caller"]) for n, u in us.items() if n != "tr069-bridge"))
        if "python-ubus" in us:
            # an object that cost nothing would still leave ubusd's and the caller's part of each call
            free = sum(us["python-ubus"].values()) / (ours["ubusd"] + ours["caller"])
            report("ubus:   ceiling for any object", free, "x",
                   "vs python-ubus: the ratio an object costing 0 us would reach, by CPU per call "
                   "(what ubusd and the caller spend stays)")


def run(report):
    tmp = tempfile.mkdtemp(prefix="bench-ubus-")
    procs = []
    try:
        _run(report, tmp, procs)
    finally:
        for p in procs:
            _stop(p)
        shutil.rmtree(tmp, ignore_errors=True)


def _wait_for(path):
    deadline = time.monotonic() + 5
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.01)


def _run(report, tmp, procs):
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("TR069_CHECK_OUTPUT", None)
    # a device runs from compiled bytecode: let the subprocesses cache it, and warm the cache once
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    state = os.path.join(tmp, "state")
    os.makedirs(os.path.join(state, "config"))
    with open(os.path.join(state, "config", "tr069"), "w") as f:
        f.write("config jsonrpc 'jsonrpc'\n\toption enabled '0'\n")     # the ubus surface only, as on a device
    # the daemon and the plain peer run from a bare venv: site, but no packages, as python3 on a device
    # with the feed packages only (the development venv's editable-install finder alone costs
    # ~10 ms and ~2 MiB at start-up; the ubus surface needs nothing beyond the standard library)
    bare = os.path.join(tmp, "venv")
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", bare],
                   check=True)
    python = os.path.join(bare, "bin", "python")
    ubusd = os.environ.get("TR069_UBUSD")
    if ubusd:
        # as on a device: the ubus backend (its facilities probed on ubusd at start), no contactors
        daemon = [python, "-m", "bridge.daemon", "--backend", "ubus", "--state-dir", state,
                  "--config", os.path.join(state, "config", "tr069")]
        start_sock = os.path.join(tmp, "start.sock")
        procs.append(subprocess.Popen([ubusd, "-s", start_sock], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        _wait_for(start_sock)
        start_time, how = _start_time_ubusd, "until found on a real ubusd, ubus backend"
    else:
        # the host backend simulates four contactors: the streetlights component runs as well
        daemon = [python, "-m", "bridge.daemon", "--backend", "host", "--state-dir", state]
        start_sock = os.path.join(tmp, "fake.sock")
        start_time, how = _start_time, "until its ADD_OBJECT (bench as ubusd), host backend"
    plain = os.path.join(tmp, "plain_peer.py")
    with open(plain, "w") as f:
        f.write(PLAIN_PEER)
    peer_script = os.path.join(tmp, "pyubus_peer.py")
    with open(peer_script, "w") as f:
        f.write(PYUBUS_PEER)
    canned = os.path.join(tmp, "canned_peer.py")
    with open(canned, "w") as f:
        f.write(CANNED_PEER)
    pyubus = _pyubus_python()

    def servers(sock, calls=False):
        out = [("tr069-bridge", daemon), ("plain", [python, plain, sock, STATUS_REPLY])]
        if pyubus:
            out.append(("python-ubus", [pyubus, peer_script, sock, STATUS_REPLY]))
        if calls:  # the floor for a Python object: its calls only, not its start
            out.append(("canned", [python, canned, sock, STATUS_REPLY]))
        return out

    start_env = dict(env, TR069_UBUS_SOCKET=start_sock)
    start_time(daemon, start_env, start_sock)

    # (i) process start -> object registered
    starts = {}
    for name, argv in servers(start_sock):
        starts[name] = statistics.median(start_time(argv, start_env, start_sock) for _ in range(STARTS))
    floor = []
    for _ in range(STARTS):
        t0 = time.perf_counter()
        subprocess.run([python, "-c", "pass"], check=True, env=env)
        floor.append(time.perf_counter() - t0)
    ours = starts["tr069-bridge"]
    report("ubus: start to object registered", ours * 1000, "ms",
           "median of %d, %s; target <= 80 ms; ratios ours/peer: %s" % (STARTS, how, ", ".join(
               "%s %.2f" % (n, ours / t) for n, t in starts.items() if n != "tr069-bridge")))
    for name, t in starts.items():
        if name != "tr069-bridge":
            report("ubus: peer %s start to object registered" % name, t * 1000, "ms", "median of %d" % STARTS)
    report("ubus: peer bare interpreter start (python -c pass)", statistics.median(floor) * 1000, "ms",
           "the floor for the figures above")
    if not pyubus:
        skipped(report, "ubus: peer python-ubus", "no interpreter can import ubus "
                "(set TR069_PYUBUS_PYTHON to one built against libubus)")

    # (ii) what the daemon imports before its object is registered
    rows = _imports(start_time, daemon, start_env, start_sock)
    report("ubus: imports before registration (python -X importtime)", len(rows), "modules",
           "%.1f ms in all; top level, >= 0.3 ms:" % (sum(c for c, lvl, _ in rows if lvl == 1) / 1000))
    for cum, level, name in rows:
        if level == 1 and cum >= 300:
            report("    import %s" % name, cum / 1000, "ms", "cumulative")

    # (iii) status calls: every peer runs at once, measured in alternating rounds (drift hits all alike).
    # First with the caller, ubusd and the object on one CPU, as on a single-core router and as any
    # router whose CPU is busy: the calls/s then follow what each call costs in CPU, whatever else the
    # machine runs. Then where the scheduler puts them: on a shared 2-vCPU machine that figure is as
    # much the hypervisor's wake-up latency for an idle vCPU as the object's cost (a faster object
    # idles more and is woken more), and swings between runs.
    via = "through a real ubusd" if ubusd else "the bench as ubusd (TR069_UBUSD: a real one)"
    cpu_one = one_cpu()
    placements = ([("one CPU", {cpu_one})] if cpu_one is not None else []) + [("unpinned", None)]
    served = []
    try:
        for name, argv in servers("{sock}", calls=True):
            served.append(Served(name, argv, env, tmp, ubusd))
        reqs = {s.name: s.requests("status", {}, ROUND) for s in served}
        for s in served:
            timed(s.sock, reqs[s.name][:WARMUP])
        me = os.getpid()
        for where, cpus in placements:
            old = pin([me] + [p.pid for s in served for p in s.procs], cpus)
            try:
                for window in (WINDOW, 1):
                    how = "%s, %s" % ("1 in flight" if window == 1 else "%d in flight" % window, where)
                    rates = {s.name: [] for s in served}
                    lats = {s.name: [] for s in served}
                    cpu = {s.name: {"object": 0.0} for s in served}
                    for _ in range(ROUNDS):
                        for s in served:
                            pids = {"object": s.proc.pid, "caller": me}
                            if ubusd:
                                pids["ubusd"] = s.procs[0].pid
                            c0 = {k: cpu_seconds(pid) for k, pid in pids.items()}
                            t0 = time.perf_counter()
                            lat = timed(s.sock, reqs[s.name], window)
                            rates[s.name].append(len(lat) / (time.perf_counter() - t0))
                            for k, pid in pids.items():
                                cpu[s.name][k] = cpu[s.name].get(k, 0.0) + cpu_seconds(pid) - c0[k]
                            lats[s.name] += lat
                    _calls_rows(report, via, how, rates, lats, cpu,
                                target=window == WINDOW and where == placements[0][0])
            finally:
                unpin(old)
        rss = {s.name: rss_kib(s.proc.pid) / 1024 for s in served}
        report("ubus: object process RSS after the calls (ubus surface only)", rss["tr069-bridge"], "MiB",
               "%s; %s" % (
                   "ubus backend, target <= 12" if ubusd else "host backend, simulated streetlights and sensors "
                   "(the target is the ubus backend's: TR069_UBUSD)",
                   ", ".join("%s %.1f MiB" % (n, v) for n, v in rss.items() if n != "tr069-bridge")))
        ours = served[0]
        lat = timed(ours.sock, ours.requests("inform", {"GetRPCMethods": True, "event": "1 BOOT"}, 500))
        report("ubus: inform calls/s (sessions start and queue, state fsync'd)", len(lat) / sum(lat), "calls/s",
               "p99 %.3f ms" % (pct(lat, 99) * 1000))
    finally:
        for s in served:
            s.stop()

    # (iv) codec: the generic encode + decode of a status reply, the status encoder, json
    reply = json.loads(STATUS_REPLY)
    n = 5000
    t0 = time.perf_counter()
    for _ in range(n):
        blob.decode_table(blob.encode_table(reply))
    ours_us = (time.perf_counter() - t0) / n * 1e6
    t0 = time.perf_counter()
    for _ in range(n):
        json.loads(json.dumps(reply))
    json_us = (time.perf_counter() - t0) / n * 1e6
    report("ubus: blobmsg generic encode+decode of a status reply", ours_us, "us",
           "pure Python; ratio blobmsg/json %.1f" % (ours_us / json_us))
    report("ubus: peer json.dumps+json.loads of the same reply", json_us, "us", "C-accelerated json")


if __name__ == "__main__":
    run(print_row)
