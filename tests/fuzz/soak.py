"""`make soak`: the real daemon kept busy on every surface while faults are injected; prints what happened.

    SOAK_SECONDS=120 SOAK_CS_KILLS=10 SOAK_DAEMON_KILLS=10 python tests/fuzz/soak.py

A central system (bridge's development one, over loopback WebSockets), a scripted ubusd on a Unix
socket calling `tr069 status`, a JSON-RPC client calling `tr069 status` and a producer calling
`tr069 inform 4 VALUE CHANGE` (each queues a StatusNotification in the persistent outbox) run for the
whole time. During the first 70 %, the central system is killed and restarted SOAK_CS_KILLS times and
the daemon is SIGKILLed and restarted SOAK_DAEMON_KILLS times, at random moments. The last 30 % runs
without faults; the daemon's RSS and open descriptors are measured at its start and its end.

Then it waits for the outbox to drain and prints: notifications queued / delivered / lost / delivered
twice, reconnects and BootNotifications, calls answered per surface, RSS and descriptors. Exit status 1
when a notification was lost, RSS grew by 2 MiB or more, or descriptors grew, over the quiet part.
"""

import glob
import json
import os
import random
import shutil
import socket
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path[:0] = [HERE, TESTS, os.path.dirname(TESTS)]  # fuzz/, tests/ (support), the repository (bridge)

try:
    from devtools.centralsystem import CentralSystem
except ImportError:  # where the development central system lives outside the package
    from centralsystem import CentralSystem
from support.daemon_process import DaemonProcess  # noqa: E402
from support.os3p_harness import write_config  # noqa: E402
from support.ports import free_port  # noqa: E402
from support.ubusd import FakeUbusd, invoke, register  # noqa: E402

QUEUED_ACTIONS = ("StatusNotification", "FirmwareStatusNotification", "GetFileStatusNotification")


def proc_figures(pid, samples=25):
    """(RSS KiB, open descriptors) of a process; the descriptors at their fewest over half a second, so
    that a load client's connection that happens to be open does not count."""
    fds = []
    for _ in range(samples):
        fds.append(len(os.listdir("/proc/%d/fd" % pid)))
        time.sleep(0.02)
    rss = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, min(fds)


class Soak:
    def __init__(self, seconds, cs_kills, daemon_kills, seed):
        self.seconds, self.cs_kills, self.daemon_kills = seconds, cs_kills, daemon_kills
        self.rand = random.Random(seed)
        self.tmp = tempfile.mkdtemp(prefix="soak-")
        self.state = os.path.join(self.tmp, "state")
        self.stop = threading.Event()  # the load stops
        self.finished = threading.Event()  # the daemon is gone: the scripted ubusd stops accepting
        self.lock = threading.Lock()
        self.counts = {"jsonrpc ok": 0, "jsonrpc failed": 0, "ubus ok": 0, "ubus failed": 0,
                       "informs answered": 0, "cs kills": 0, "daemon kills": 0}
        self.seen = set()  # outbox message ids seen on disk
        self.servers = []  # every central system instance, for its records
        self.cs_port = free_port()
        self.http_port = free_port()
        self.ubusd = FakeUbusd(os.path.join(self.tmp, "ubus.sock"))
        self.cs = self._cs()
        write_config(self.state, self.cs.url, jsonrpc__port=str(self.http_port), os3p__call_timeout="2",
                     os3p__reconnect_min="1", os3p__reconnect_max="2", os3p__download_dir=self.tmp)
        self.daemon = DaemonProcess(self.state, env={"TR069_UBUS_SOCKET": self.ubusd.path})

    def _cs(self):
        cs = CentralSystem(port=self.cs_port, quiet=True).start()
        self.servers.append(cs)
        return cs

    def add(self, key, n=1):
        with self.lock:
            self.counts[key] += n

    # --- load ----------------------------------------------------------------------------------------
    def _post(self, body):
        try:
            with open(os.path.join(self.state, "cli.sid")) as f:
                sid = f.read().strip()
        except OSError:
            return None
        doc = {"jsonrpc": "2.0", "id": 1, "method": "call", "params": [sid] + body}
        req = urllib.request.Request("http://127.0.0.1:%d/ubus" % self.http_port, json.dumps(doc).encode(),
                                     {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return None

    def jsonrpc_client(self):
        while not self.stop.is_set():
            res = self._post(["tr069", "status", {}])
            self.add("jsonrpc ok" if res and res.get("result", [None])[0] == 0 else "jsonrpc failed")
            time.sleep(0.01)

    def producer(self):
        while not self.stop.is_set():
            res = self._post(["tr069", "inform", {"event": "4 VALUE CHANGE"}])
            if res and res.get("result", [None])[0] == 0:
                self.add("informs answered")
            self.stop.wait(0.2)

    def ubus_caller(self):
        """Accepts every connection, each on its own thread: the daemon's object connection is
        called; any other (a one-shot client) is closed at once, so that it fails fast."""
        while not self.finished.is_set():
            try:
                conn = self.ubusd.accept(timeout=0.5)
            except OSError:
                continue
            threading.Thread(target=self._serve_ubus, args=(conn,), daemon=True).start()

    def _serve_ubus(self, conn):
        try:
            register(conn)
            while not self.stop.is_set():
                status = invoke(conn, "status", {})[-1].get(1)
                self.add("ubus ok" if status == 0 else "ubus failed")
                time.sleep(0.01)
        except (OSError, TimeoutError, ConnectionError, AssertionError):
            self.add("ubus failed")
        finally:
            conn.close()

    def outbox_watch(self):
        pattern = os.path.join(self.state, "os3p", "outbox", "*.json")
        while not self.stop.is_set():
            for path in glob.glob(pattern):
                try:
                    with open(path) as f:
                        self.seen.add(json.load(f)["id"])
                except (OSError, ValueError, KeyError):
                    pass
            time.sleep(0.01)

    # --- faults --------------------------------------------------------------------------------------
    def kill_cs(self):
        self.cs.stop()
        time.sleep(self.rand.uniform(0.1, 1.0))
        self.cs = self._cs()
        self.add("cs kills")

    def kill_daemon(self):
        self.daemon.kill()  # SIGKILL, wherever it was
        self.add("daemon kills")
        self.daemon.start()

    # --- the run -------------------------------------------------------------------------------------
    def delivered(self):
        ids = []
        for cs in self.servers:
            ids += [m[1] for m in cs.calls() if m[2] in QUEUED_ACTIONS]
        return ids

    def run(self):
        self.daemon.start()
        threads = [threading.Thread(target=fn, daemon=True) for fn in
                   (self.jsonrpc_client, self.producer, self.ubus_caller, self.outbox_watch)]
        for t in threads:
            t.start()
        t0 = time.monotonic()
        noisy = self.seconds * 0.7
        faults = ["cs"] * self.cs_kills + ["daemon"] * self.daemon_kills
        self.rand.shuffle(faults)
        times = sorted(self.rand.uniform(2, noisy) for _ in faults)
        for when, fault in zip(times, faults):
            time.sleep(max(0.0, t0 + when - time.monotonic()))
            self.kill_cs() if fault == "cs" else self.kill_daemon()
        time.sleep(max(0.0, t0 + noisy - time.monotonic()))
        time.sleep(min(5.0, self.seconds * 0.05))  # warm-up of the last daemon process
        pid = self.daemon.proc.pid
        start_figures = proc_figures(pid)
        quiet_from = time.monotonic()
        time.sleep(self.seconds * 0.25)  # however long the faults took: the quiet part is its own
        end_figures = proc_figures(pid)
        self.quiet = time.monotonic() - quiet_from
        self.stop.set()
        for t in threads[:2] + threads[3:]:
            t.join(10)
        # the rest of the outbox goes out now that nothing is killed
        deadline = time.monotonic() + 60
        while glob.glob(os.path.join(self.state, "os3p", "outbox", "*.json")) and time.monotonic() < deadline:
            time.sleep(0.2)
        res = self._post(["tr069", "status", {}]) or {}
        status = (res.get("result") or [None, {}])[-1] if isinstance(res.get("result"), list) else {}
        try:
            self.daemon.terminate()
            self.stopped_cleanly = True
        except Exception:  # noqa: BLE001 - a daemon that does not stop on SIGTERM is a failure to report
            self.stopped_cleanly = False
            self.daemon.kill()
        self.finished.set()
        for cs in self.servers:
            cs.stop()
        self.ubusd.close()
        return self.report(start_figures, end_figures, status, time.monotonic() - t0)

    def report(self, start, end, status, elapsed):
        delivered = self.delivered()
        unique = set(delivered)
        queued = self.seen | unique
        lost = queued - unique
        left = glob.glob(os.path.join(self.state, "os3p", "outbox", "*.json"))
        c = self.counts
        boots = sum(len(cs.calls("BootNotification")) for cs in self.servers)
        reconnects = sum(cs.count("connect") for cs in self.servers)
        rows = [
            ("run", "%.0f s, %d central-system kills, %d daemon SIGKILLs" % (elapsed, c["cs kills"],
                                                                             c["daemon kills"])),
            ("notifications", "queued %d, delivered %d, lost %d, delivered twice %d, still queued %d" % (
                len(queued), len(unique), len(lost), len(delivered) - len(unique), len(left))),
            ("connections", "%d (reconnects %d), BootNotifications %d, status at the end: %s" % (
                reconnects, max(0, reconnects - 1), boots, status.get("cwmp", {}).get("status"))),
            ("calls answered", "JSON-RPC %d (%d failed), ubus %d (%d failed), informs %d" % (
                c["jsonrpc ok"], c["jsonrpc failed"], c["ubus ok"], c["ubus failed"], c["informs answered"])),
            ("daemon RSS", "%d KiB -> %d KiB (%+d KiB) over the quiet %.0f s" % (
                start[0], end[0], end[0] - start[0], self.quiet)),
            ("daemon fds", "%d -> %d" % (start[1], end[1])),
            ("stop", "clean on SIGTERM" if self.stopped_cleanly else "did NOT stop within 10 s of SIGTERM"),
        ]
        for name, text in rows:
            print("%-15s %s" % (name, text))
        ok = not lost and end[0] - start[0] < 2048 and end[1] <= start[1] and self.stopped_cleanly
        print("soak: %s" % ("passed" if ok else "FAILED"))
        return 0 if ok else 1

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    seconds = float(os.environ.get("SOAK_SECONDS", "120"))
    seed = int(os.environ.get("SOAK_SEED", str(random.getrandbits(32))))
    soak = Soak(seconds, int(os.environ.get("SOAK_CS_KILLS", "10")), int(os.environ.get("SOAK_DAEMON_KILLS", "10")),
                seed)
    print("soak: %.0f s, seed %d (SOAK_SEED=%d repeats the fault schedule)" % (seconds, seed, seed), flush=True)
    try:
        return soak.run()
    finally:
        soak.close()


if __name__ == "__main__":
    socket.setdefaulttimeout(10)
    sys.exit(main())
