"""JSON-RPC shim figures: sequential `tr069 status` calls per second and latency percentiles.

Measured in one run, on 127.0.0.1, against the daemon's real tr069 object:
- the shim over one keep-alive connection, and with a new connection per call;
- peer: Python's http.server (HTTP/1.1, keep-alive) with the same dispatcher, so the difference
  is the HTTP layer alone;
- via ubus (bridge.ubus.client -> ubusd -> the daemon's ubus face), when a ubusd binary is
  available (TR069_UBUSD, or `ubusd` on PATH);
- peer: a real uhttpd (TR069_UHTTPD: a uhttpd binary with the ubus plugin; run with -a, no ACL
  check) in front of the same ubusd and object, when both binaries are available. Its keep-alive
  replies go out in several small writes, so each call waits for the client's delayed ACK.
Targets for the shim: p99 <= 2 ms and >= 2,000 calls/s keep-alive. Nothing is asserted.
"""

import http.client
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
for _p in (HERE, ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from benchutil import print_row, skipped  # noqa: E402
from bridge.jsonrpc import rpc  # noqa: E402
from bridge.jsonrpc.app import Shim  # noqa: E402
from bridge.jsonrpc.sessions import SessionStore  # noqa: E402
from bridge.loop import Loop  # noqa: E402
from bridge.sessions import Sessions  # noqa: E402
from bridge.tr069 import Tr069  # noqa: E402

KEEPALIVE_CALLS = 3000
NEW_CONN_CALLS = 1000
UBUS_CALLS = 3000
DELAYED_ACK_CALLS = 60  # peers that wait ~40 ms per keep-alive call get fewer calls
WARMUP = 100


def pct(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p / 100.0))]


def body_for(sid):
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": "call",
                       "params": [sid, "tr069", "status", {}]}).encode()


def check(data):
    res = json.loads(data)["result"]
    if res[0] != 0:
        raise RuntimeError("status call failed: %r" % res)


def keepalive(host, port, path, body, calls):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    headers = {"Content-Type": "application/json"}
    lat = []
    warmup = min(WARMUP, calls // 5)
    try:
        for i in range(calls + warmup):
            t = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if i >= warmup:
                lat.append(time.perf_counter() - t)
        check(data)
    finally:
        conn.close()
    return lat


def new_connection(host, port, path, body, calls):
    lat = []
    for i in range(calls + WARMUP // 10):
        t = time.perf_counter()
        conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json",
                                                       "Connection": "close"})
        data = conn.getresponse().read()
        conn.close()
        if i >= WARMUP // 10:
            lat.append(time.perf_counter() - t)
    check(data)
    return lat


def figures(report, label, lat, peer=None):
    rate = len(lat) / sum(lat)
    p99 = pct(lat, 99) * 1000
    note = ""
    if peer:
        note = "x%.2f vs %s" % (rate / peer[1], peer[0])
    report(label + ": calls/s", rate, "calls/s", note)
    report(label + ": p50", pct(lat, 50) * 1000, "ms")
    report(label + ": p99", p99, "ms")
    return rate, p99


class LoopThread:
    def __init__(self):
        self.loop = Loop()
        self.thread = threading.Thread(target=self.loop.run, daemon=True)
        self.thread.start()

    def run(self, fn):
        done, box = threading.Event(), {}

        def job():
            try:
                box["v"] = fn()
            finally:
                done.set()

        self.loop.call_soon_threadsafe(job)
        done.wait(10)
        return box.get("v")

    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def http_server_peer(tr069):
    """http.server (HTTP/1.1, keep-alive) with the shim's dispatcher, in a thread."""
    sessions = SessionStore(time.monotonic)
    ses = sessions.create(timeout=0)
    ses.grant("ubus", "*", "*")
    dispatcher = rpc.Dispatcher(lambda: {"tr069": tr069}, sessions)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            out = []
            dispatcher.handle(body, out.append)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out[0])))
            self.end_headers()
            self.wfile.write(out[0])

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, ses.sid


def wait_for_socket(path, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.02)
    return False


def wait_for_port(port, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.02)
    return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(report):
    tmp = tempfile.mkdtemp(prefix="bench-jsonrpc-")
    procs = []
    conn = None
    lt = LoopThread()
    try:
        tr069 = lt.run(lambda: Tr069(lt.loop, Sessions(os.path.join(tmp, "sessions.json"))))
        shim = lt.run(lambda: Shim(lt.loop, {"tr069": tr069}, port=0, state_dir=tmp))
        host, port = shim.address
        body = body_for(shim.cli_sid)

        # peer first: python's http.server with the same dispatcher (its own tr069 object)
        peer_tr069 = Tr069(Loop(), Sessions(os.path.join(tmp, "peer-sessions.json")))
        srv, peer_sid = http_server_peer(peer_tr069)
        peer_lat = keepalive("127.0.0.1", srv.server_address[1], "/ubus", body_for(peer_sid), DELAYED_ACK_CALLS)
        peer = ("http.server", len(peer_lat) / sum(peer_lat))
        figures(report, "http.server + same dispatcher, keep-alive", peer_lat)
        srv.shutdown()
        srv.server_close()

        rate, p99 = figures(report, "shim keep-alive", keepalive(host, port, "/ubus", body, KEEPALIVE_CALLS), peer)
        met = p99 <= 2 and rate >= 2000
        report("shim keep-alive targets met (p99 <= 2 ms, >= 2000/s)", 1.0 if met else 0.0, "yes=1")
        figures(report, "shim new connection per call", new_connection(host, port, "/ubus", body, NEW_CONN_CALLS))

        ubusd = os.environ.get("TR069_UBUSD") or shutil.which("ubusd")
        if not ubusd:
            skipped(report, "via ubus", "no ubusd (set TR069_UBUSD)")
            skipped(report, "real uhttpd", "it needs a ubusd (set TR069_UBUSD, and TR069_UHTTPD)")
            return
        sock = os.path.join(tmp, "ubus.sock")
        procs.append(subprocess.Popen([ubusd, "-s", sock], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        if not wait_for_socket(sock):
            skipped(report, "via ubus", "ubusd did not start")
            skipped(report, "real uhttpd", "it needs a ubusd, which did not start")
            return
        from bridge.ubus.client import Client
        from bridge.ubus.connection import ObjectConnection

        conn = lt.run(lambda: ObjectConnection(lt.loop, sock, {"tr069": tr069}))
        lt.run(conn.start)
        deadline = time.monotonic() + 5
        while not lt.run(lambda: conn.registered) and time.monotonic() < deadline:
            time.sleep(0.01)
        if not lt.run(lambda: conn.registered):
            skipped(report, "via ubus", "tr069 not registered on ubusd")
            return
        lat = []
        with Client(sock) as c:
            _, objid = c.lookup_id("tr069")
            for i in range(UBUS_CALLS + WARMUP):
                t = time.perf_counter()
                status, _ = c.invoke(objid, "status", {})
                if i >= WARMUP:
                    lat.append(time.perf_counter() - t)
            if status != 0:
                raise RuntimeError("ubus status call failed: %d" % status)
        figures(report, "via ubus (bridge.ubus.client, ubusd, ubus face)", lat)

        uhttpd = os.environ.get("TR069_UHTTPD")
        if not uhttpd:
            skipped(report, "real uhttpd", "set TR069_UHTTPD to a uhttpd with the ubus plugin")
            return
        uport = free_port()
        www = os.path.join(tmp, "www")
        os.makedirs(www)
        procs.append(subprocess.Popen([uhttpd, "-f", "-a", "-p", "127.0.0.1:%d" % uport, "-h", www, "-u", "/ubus",
                                       "-U", sock], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        if not wait_for_port(uport):
            skipped(report, "real uhttpd", "uhttpd did not start")
            return
        ubody = body_for("0" * 32)
        figures(report, "real uhttpd -a (no ACL) keep-alive", keepalive("127.0.0.1", uport, "/ubus", ubody, DELAYED_ACK_CALLS))
        figures(report, "real uhttpd -a new connection per call",
                new_connection("127.0.0.1", uport, "/ubus", ubody, NEW_CONN_CALLS))
    finally:
        if conn is not None:
            lt.run(conn.stop)
        for p in procs:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        lt.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run(print_row)
