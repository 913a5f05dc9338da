"""ubus face figures: start-up to registration, `status` calls per second, codec cost.

The bench plays ubusd itself on a Unix socket in a temporary directory (HELLO, the ADD_OBJECT reply,
then sequential INVOKEs, each waiting for the STATUS), so the daemon is measured as a real
subprocess without a ubusd. Peers measured in the same run:
- python-ubus 0.1.3 (libubus) registering the same object, when an interpreter that can
  `import ubus` is given in TR069_PYUBUS_PYTHON (or the current one can);
- the interpreter's bare start-up (`python -c pass`), the floor for the start-up figure;
- json.dumps + json.loads of the same reply, for the codec.
No figure is asserted on; they are printed.
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bridge.ubus import blob  # noqa: E402

STARTS = 5
CALLS = 2000
WAIT = 20.0
OBJID = 0x2A2A2A2A

PYUBUS_PEER = r"""
import sys, ubus
reply = {"cwmp": {"status": "up", "start_time": "2026-11-22T10:00:00+01:00", "acs_url": "ws://127.0.0.1:9000/OS3P"},
         "last_session": {"status": "success", "start_time": "2026-11-22T10:00:00+01:00",
                          "end_time": "2026-11-22T10:00:01+01:00"},
         "next_session": {"status": "waiting", "start_time": "2026-11-22T10:05:00+01:00", "end_time": "N/A"},
         "statistics": {"success_sessions": 1, "failure_sessions": 0, "total_sessions": 1}}
def status(handler, data):
    handler.reply(reply)
def inform(handler, data):
    handler.reply({"status": 1, "info": "Session started"})
ubus.connect(socket_path=sys.argv[1])
ubus.add("tr069", {"status": {"method": status, "signature": {}},
                   "inform": {"method": inform, "signature": {"GetRPCMethods": ubus.BLOBMSG_TYPE_BOOL,
                                                             "event": ubus.BLOBMSG_TYPE_STRING}},
                   "command": {"method": inform, "signature": {"command": ubus.BLOBMSG_TYPE_STRING}}})
while True:
    ubus.loop(1000)
"""


# our face alone, serving the same static reply: separates the face's cost from the tr069 object's
STATIC_FACE = r"""
import sys
from bridge.loop import Loop
from bridge.ubus.connection import ObjectConnection
exec(sys.argv[2])
class Static:
    name = "tr069"
    def signature(self):
        return {"status": {}, "inform": {"GetRPCMethods": 7, "event": 3}, "command": {"command": 3}}
    def call(self, method, args):
        return 0, reply
loop = Loop()
ObjectConnection(loop, sys.argv[1], {"tr069": Static()}).start()
loop.run()
"""


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
    def invoke_loop(conn, method, args, n):
        """n sequential INVOKEs as ubusd forwards them; returns seconds elapsed."""
        msgs = [blob.encode_message(blob.INVOKE, 2, 0x1000 + i, [
            (blob.ATTR_OBJID, OBJID), (blob.ATTR_METHOD, method), (blob.ATTR_USER, "root"),
            (blob.ATTR_GROUP, "root"), (blob.ATTR_DATA, args)]) for i in range(n)]
        deadline = time.monotonic() + WAIT * 3
        t0 = time.perf_counter()
        for m in msgs:
            conn.sendall(m)
            while True:
                reply = _read(conn, deadline)
                if reply.type == blob.STATUS:
                    if reply.get(blob.ATTR_STATUS) != 0:
                        raise RuntimeError("call failed: %r" % reply)
                    break
        return time.perf_counter() - t0

    def close(self):
        self.srv.close()


def _pyubus_python():
    cand = os.environ.get("TR069_PYUBUS_PYTHON") or sys.executable
    try:
        ok = subprocess.run([cand, "-c", "import ubus"], capture_output=True, timeout=WAIT).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return cand if ok else None


def _measure_process(argv, env, sock_path, method="status", args=None, calls=0):
    """Start argv, time until its ADD_OBJECT, optionally run `calls` INVOKEs; returns (start s, calls/s)."""
    srv = BenchUbusd(sock_path)
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        conn, arrived = srv.register()
        rate = None
        if calls:
            BenchUbusd.invoke_loop(conn, method, args or {}, 50)     # warm-up
            rate = calls / BenchUbusd.invoke_loop(conn, method, args or {}, calls)
        conn.close()
        return arrived - t0, rate
    finally:
        proc.terminate()
        try:
            proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        srv.close()
        os.unlink(sock_path)


def run(report):
    tmp = tempfile.mkdtemp(prefix="bench-ubus-")
    sock_path = os.path.join(tmp, "ubus.sock")
    env = dict(os.environ, TR069_UBUS_SOCKET=sock_path, PYTHONPATH=ROOT)
    # a device runs from compiled bytecode: let the subprocesses cache it, and warm the cache once
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    daemon = [sys.executable, "-m", "bridge.daemon", "--backend", "host", "--state-dir", os.path.join(tmp, "state")]
    _measure_process(daemon, env, sock_path)

    # (i) process start -> ADD_OBJECT received
    ours = [_measure_process(daemon, env, sock_path)[0] for _ in range(STARTS)]
    report("ubus: daemon start to object registered", statistics.median(ours) * 1000, "ms",
           "median of %d, subprocess python -m bridge.daemon --backend host" % STARTS)
    floor = []
    for _ in range(STARTS):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, env=env)
        floor.append(time.perf_counter() - t0)
    report("ubus: peer bare interpreter start (python -c pass)", statistics.median(floor) * 1000, "ms",
           "floor for the figure above")
    pyubus = _pyubus_python()
    peer_script = os.path.join(tmp, "pyubus_peer.py")
    with open(peer_script, "w") as f:
        f.write(PYUBUS_PEER)
    if pyubus:
        theirs = [_measure_process([pyubus, peer_script, sock_path], env, sock_path)[0] for _ in range(STARTS)]
        report("ubus: peer python-ubus start to object registered", statistics.median(theirs) * 1000, "ms",
               "ratio ours/python-ubus %.2f" % (statistics.median(ours) / statistics.median(theirs)))
    else:
        report("ubus: peer python-ubus", 0, "", "not measured: no interpreter can import ubus "
               "(set TR069_PYUBUS_PYTHON to one built against libubus)")

    # (ii) sequential status calls through the face (the bench speaks as ubusd forwards INVOKEs)
    _, rate = _measure_process(daemon, env, sock_path, "status", {}, CALLS)
    report("ubus: status calls per second through the face", rate, "calls/s",
           "%d sequential INVOKEs, daemon subprocess, DATA+STATUS each" % CALLS)
    _, irate = _measure_process(daemon, env, sock_path, "inform", {"GetRPCMethods": True, "event": "1 BOOT"}, CALLS)
    report("ubus: inform calls per second through the face", irate, "calls/s", "sessions start and queue")
    static_script = os.path.join(tmp, "static_face.py")
    with open(static_script, "w") as f:
        f.write(STATIC_FACE)
    reply_src = PYUBUS_PEER[PYUBUS_PEER.index("reply ="):PYUBUS_PEER.index("def status")]
    _, srate = _measure_process([sys.executable, static_script, sock_path, reply_src], env, sock_path,
                                "status", {}, CALLS)
    report("ubus: status calls per second, face alone (static reply)", srate, "calls/s",
           "our connection + codec without the tr069 object's validation")
    if pyubus:
        _, prate = _measure_process([pyubus, peer_script, sock_path], env, sock_path, "status", {}, CALLS)
        report("ubus: peer python-ubus status calls per second", prate, "calls/s",
               "same loop, static reply of the same shape; ratios ours/python-ubus %.2f, face alone/python-ubus %.2f"
               % (rate / prate, srate / prate))

    # codec: encode + decode of a status reply vs json
    reply = {"cwmp": {"status": "up", "start_time": "2026-11-22T10:00:00+01:00", "acs_url": "ws://127.0.0.1:9000/OS3P"},
             "last_session": {"status": "success", "start_time": "2026-11-22T10:00:00+01:00",
                              "end_time": "2026-11-22T10:00:01+01:00"},
             "next_session": {"status": "waiting", "start_time": "2026-11-22T10:05:00+01:00", "end_time": "N/A"},
             "statistics": {"success_sessions": 1, "failure_sessions": 0, "total_sessions": 1}}
    n = 5000
    t0 = time.perf_counter()
    for _ in range(n):
        blob.decode_table(blob.encode_table(reply))
    ours_us = (time.perf_counter() - t0) / n * 1e6
    t0 = time.perf_counter()
    for _ in range(n):
        json.loads(json.dumps(reply))
    json_us = (time.perf_counter() - t0) / n * 1e6
    report("ubus: blobmsg encode+decode of a status reply", ours_us, "us", "pure Python")
    report("ubus: peer json.dumps+json.loads of the same reply", json_us, "us",
           "C-accelerated json; ratio blobmsg/json %.1f" % (ours_us / json_us))


if __name__ == "__main__":
    run(lambda label, value, unit, note="": print("%-55s %10.2f %-8s %s" % (label, value, unit, note)))
