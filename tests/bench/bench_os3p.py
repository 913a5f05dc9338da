"""OS3P client figures: sequential round trips per second both ways, against the `ocpp` package, and RSS.

One central system (devtools.centralsystem, the `websockets` package) runs in a process of its own; each
client in turn connects to it from this process, alone:

  - this daemon's client: the Daemon object (host backend) with the OS3P client on its loop thread,
    exactly as the daemon runs it;
  - the `ocpp` package's ChargePoint (v1.6 flavour, asyncio over a `websockets` client).

Figures: daemon-initiated Heartbeat round trips/s (next CALL only after the CALLRESULT), central-system-
initiated GetConfiguration round trips/s (measured on the server), the ratios, and the idle RSS of the
real daemon process after its BootNotification was accepted, beside a bare interpreter's.
"""

import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time

from benchpath import ROOT  # first: the repository and tests/ on sys.path

N = int(os.environ.get("OS3P_BENCH_N", "2000"))
ROUNDS = int(os.environ.get("OS3P_BENCH_ROUNDS", "3"))  # interleaved; the median is reported
WARMUP = 50


# --- the server processes --------------------------------------------------------------------------
def serve_lean():
    """A minimal blocking WebSocket server (RFC 6455 by hand, one thread per connection), same commands.

    Both clients are also measured over it: the less time the server takes, the more the figures say about
    the clients themselves."""
    import base64
    import hashlib
    import json
    import queue
    import socket
    import struct
    import threading
    from datetime import datetime, timezone

    guid = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    conns, cond = {}, threading.Condition()
    now = [None, ""]

    def utc():
        t = time.time()
        if now[0] != int(t):
            now[0], now[1] = int(t), datetime.fromtimestamp(int(t), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return now[1]

    class Conn:
        def __init__(self, sock):
            self.sock, self.buf, self.results, self.booted = sock, b"", queue.SimpleQueue(), False
            self.lock = threading.Lock()

        def read(self, n):
            while len(self.buf) < n:
                data = self.sock.recv(65536)
                if not data:
                    raise EOFError
                self.buf += data
            out, self.buf = self.buf[:n], self.buf[n:]
            return out

        def frame(self):
            b1, b2 = self.read(2)
            n = b2 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self.read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self.read(8))[0]
            mask = self.read(4) if b2 & 0x80 else None
            data = self.read(n)
            if mask:
                m = int.from_bytes((mask * (n // 4 + 1))[:n], "little")
                data = (int.from_bytes(data, "little") ^ m).to_bytes(n, "little")
            return b1 & 0x0F, data

        def send(self, opcode, data):
            n = len(data)
            head = bytes([0x80 | opcode]) + (bytes([n]) if n < 126 else b"\x7e" + struct.pack("!H", n)
                                                if n < 65536 else b"\x7f" + struct.pack("!Q", n))
            with self.lock:
                self.sock.sendall(head + data)

    def handle(sock):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(4096)
        lines = head.decode("latin-1").split("\r\n")
        ident = lines[0].split()[1].rsplit("/", 1)[-1]
        headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
        offered = [p.strip() for p in headers.get("sec-websocket-protocol", "").split(",")]
        proto = next((p for p in offered if p in ("OS3P1.0", "ocpp1.6")), None)
        accept = base64.b64encode(hashlib.sha1(headers["sec-websocket-key"].encode() + guid).digest()).decode()
        sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: %s\r\n%s\r\n" % (accept, "Sec-WebSocket-Protocol: %s\r\n" % proto
                                                              if proto else "")).encode())
        c = Conn(sock)
        with cond:
            conns[ident] = c
            cond.notify_all()
        try:
            while True:
                opcode, data = c.frame()
                if opcode == 8:
                    return
                if opcode == 9:
                    c.send(10, data)
                    continue
                if opcode != 1:
                    continue
                msg = json.loads(data)
                if msg[0] == 2:
                    if msg[2] == "BootNotification":
                        reply = {"status": "Accepted", "currentTime": utc(), "interval": 300}
                        with cond:
                            c.booted = True
                            cond.notify_all()
                    elif msg[2] == "Heartbeat":
                        reply = {"currentTime": utc()}
                    else:
                        reply = {}
                    c.send(1, json.dumps([3, msg[1], reply]).encode())
                else:
                    c.results.put(msg)
        except (EOFError, OSError):
            pass
        finally:
            sock.close()

    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)

    def accept():
        while True:
            s, _ = listener.accept()
            threading.Thread(target=handle, args=(s,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        ident = words[1]
        with cond:
            cond.wait_for(lambda: ident in conns and (words[0] != "wait" or words[2] != "boot" or conns[ident].booted),
                          30)
        c = conns[ident]
        if words[0] == "wait":
            print("ok", flush=True)
        elif words[0] == "getconf":
            def one(i):
                c.send(1, json.dumps([2, "cs-%d" % i, "GetConfiguration", {"key": ["HeartbeatInterval"]}]).encode())
                c.results.get(timeout=10)

            for i in range(WARMUP):
                one(i)
            t = time.perf_counter()
            for i in range(int(words[2])):
                one(i)
            print(time.perf_counter() - t, flush=True)


def serve():
    """Run the central system; commands on stdin, one answer line each on stdout."""
    from devtools.centralsystem import CentralSystem

    cs = CentralSystem(subprotocols=("OS3P1.0", "ocpp1.6"), quiet=True).start()
    print(cs.port, flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] == "wait":  # wait until IDENT is connected (and, for OS3P, booted)
            ident, boot = words[1], words[2] == "boot"
            cs.wait_for(lambda c: ident in c.connections and (not boot or c.calls("BootNotification", ident)), 30)
            print("ok", flush=True)
        elif words[0] == "getconf":  # N sequential GetConfiguration round trips; prints the seconds taken
            ident, n = words[1], int(words[2])

            async def loop():
                for _ in range(WARMUP):
                    await cs._call(ident, "GetConfiguration", {"key": ["HeartbeatInterval"]}, 10)
                t = time.perf_counter()
                for _ in range(n):
                    await cs._call(ident, "GetConfiguration", {"key": ["HeartbeatInterval"]}, 10)
                return time.perf_counter() - t

            print(cs._run(loop(), 600), flush=True)
    cs.stop()


class Server:
    def __init__(self, kind="websockets"):
        self.kind = kind
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve-" + kind], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=dict(os.environ, PYTHONPATH=ROOT))
        self.port = int(self.proc.stdout.readline())
        self.url = "ws://127.0.0.1:%d/OS3P" % self.port

    def ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self):
        try:
            self.ask("quit")
        except (BrokenPipeError, ValueError):
            pass
        self.proc.wait(10)


# --- this daemon's client ------------------------------------------------------------------------------
def ours(server):
    from support.os3p_harness import Station

    st = Station(tempfile.mkdtemp(prefix="os3p-bench-"), server.url, identity="BENCH-OURS")
    try:
        server.ask("wait BENCH-OURS boot")
        st.wait(lambda: st.client.connection_state() == "up")
        done = threading.Event()
        box = {}

        def heartbeats(n, then):
            left = [n]

            def one(payload=None, error=None):
                if error is not None:
                    box["error"] = error
                    done.set()
                    return
                if left[0] == 0:
                    then()
                    return
                left[0] -= 1
                st.client.core.call("Heartbeat", {}, one)

            one()

        def start():
            box["t"] = time.perf_counter()
            heartbeats(N, finish)

        def finish():
            box["elapsed"] = time.perf_counter() - box["t"]
            done.set()

        st.daemon.loop.call_soon_threadsafe(heartbeats, WARMUP, start)
        done.wait(600)
        if "error" in box:
            raise RuntimeError("heartbeat failed: %s" % box["error"])
        heartbeat = N / box["elapsed"]
        getconf = N / float(server.ask("getconf BENCH-OURS %d" % N))
        return heartbeat, getconf
    finally:
        st.stop()


# --- the ocpp package's ChargePoint ------------------------------------------------------------------------
def theirs(server):
    import logging

    import websockets
    from ocpp.routing import on
    from ocpp.v16 import ChargePoint, call, call_result

    logging.getLogger("ocpp").setLevel(logging.WARNING)

    class CP(ChargePoint):
        @on("GetConfiguration")
        def on_get_configuration(self, key=None, **_):
            return call_result.GetConfiguration(
                configuration_key=[{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
                unknown_key=[])

    async def main():
        async with websockets.connect(server.url + "/BENCH-OCPP", subprotocols=["ocpp1.6"],
                                      compression=None) as ws:
            cp = CP("BENCH-OCPP", ws)
            task = asyncio.create_task(cp.start())
            for _ in range(WARMUP):
                await cp.call(call.Heartbeat())
            t = time.perf_counter()
            for _ in range(N):
                await cp.call(call.Heartbeat())
            heartbeat = N / (time.perf_counter() - t)
            await asyncio.to_thread(server.ask, "wait BENCH-OCPP any")
            elapsed = float(await asyncio.to_thread(server.ask, "getconf BENCH-OCPP %d" % N))
            task.cancel()
            return heartbeat, N / elapsed

    return asyncio.run(main())


# --- memory ----------------------------------------------------------------------------------------------------
from benchutil import heading, print_row, rss_kib


def _device_like():
    """python -S with the project and the venv's packages on the path: the interpreter as a router starts
    it, without the development install's start-up hooks (the editable-install finder, setuptools' .pth),
    which cost about 2 MiB that a device never pays."""
    import sysconfig

    return [sys.executable, "-S"], dict(os.environ, PYTHONPATH=os.pathsep.join(
        [ROOT, sysconfig.get_paths()["purelib"]]))


def daemon_rss(server):
    from support.os3p_harness import write_config

    state = tempfile.mkdtemp(prefix="os3p-bench-rss-")
    write_config(state, server.url, identity="BENCH-RSS", jsonrpc__enabled="0")
    python, env = _device_like()
    proc = subprocess.Popen(python + ["-m", "bridge.daemon", "--backend", "host", "--state-dir", state],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        server.ask("wait BENCH-RSS boot")
        time.sleep(2.0)  # idle: nothing but the open connection
        return rss_kib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


def bare_rss():
    python, env = _device_like()
    proc = subprocess.Popen(python + ["-c", "import time; time.sleep(30)"], env=env)
    try:
        time.sleep(1.0)
        return rss_kib(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def run(report):
    for kind, what in (("websockets", "the development central system (websockets, asyncio)"),
                       ("lean", "a minimal blocking server (RFC 6455 by hand)")):
        server = Server(kind)
        try:
            runs = []
            for _ in range(ROUNDS):  # interleaved, so that a noisy moment hurts both
                runs.append(ours(server) + theirs(server))
            our_hb, our_gc, their_hb, their_gc = (sorted(column)[len(column) // 2] for column in zip(*runs))
            heading(report, "server: %s" % what, "median of %d rounds" % ROUNDS)
            report("  Heartbeat round trips (daemon-initiated), this client", our_hb, "rt/s", "N=%d sequential" % N)
            report("  Heartbeat round trips, ocpp ChargePoint", their_hb, "rt/s")
            report("    ratio this / ocpp", our_hb / their_hb, "x", "target >= 2")
            report("  GetConfiguration round trips (server-initiated), this client", our_gc, "rt/s")
            report("  GetConfiguration round trips, ocpp ChargePoint", their_gc, "rt/s")
            report("    ratio this / ocpp", our_gc / their_gc, "x", "target >= 2")
            if kind == "websockets":
                rss = daemon_rss(server)
                report("  daemon idle RSS after Boot (os3p surface, ws://, host backend)", rss / 1024.0, "MiB",
                       "target <= 20")
        finally:
            server.close()
    report("bare python interpreter RSS (python -S, as on a device)", bare_rss() / 1024.0, "MiB", "for reference")


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve-websockets"]:
        serve()
    elif sys.argv[1:] == ["--serve-lean"]:
        serve_lean()
    else:
        run(print_row)
