"""Test helpers for the OS3P client: the daemon core in this process, TLS material, a TCP proxy, HTTP peers.

Station runs the real Daemon object (host backend, state in a temporary directory) with its loop on a
thread of its own and the OS3P client started on it by the daemon's composition root, as the daemon
starts it (other components only when a test starts them: Station.start()); the tests talk to it
through a real central system (devtools.centralsystem) over loopback WebSockets.
"""

import http.server
import os
import shutil
import socket
import subprocess
import threading
import time

from bridge import uci
from bridge.daemon import Daemon

# short intervals, so that tests take seconds; every one of them is an ordinary UCI option
FAST = {
    "acs.periodic_inform_enable": "0",
    "os3p.enabled": "1",
    "os3p.call_timeout": "2",
    "os3p.connect_timeout": "2",
    "os3p.reconnect_min": "1",
    "os3p.reconnect_max": "2",
    "os3p.stable_after": "30",
    "os3p.ping_interval": "0",
    "reach.api_port": "0",  # where the CAMARA API has a server of its own: a port of the system's choice
}


def queued(state_dir):
    """The records in the daemon's persistent outbox, oldest first."""
    import glob
    import json

    out = []
    for path in sorted(glob.glob(os.path.join(state_dir, "os3p", "outbox", "*.json"))):
        try:
            with open(path) as f:
                out.append(json.load(f))
        except FileNotFoundError:
            pass  # acknowledged (and removed) while we looked
    return out


def write_config(state_dir, url, identity="SUBS001", **options):
    values = dict(FAST, **{"acs.url": url, "acs.identity": identity})
    values.update({k.replace("__", "."): str(v) for k, v in options.items()})
    sections = {}
    for name, value in values.items():
        section, option = name.split(".", 1)
        sections.setdefault(section, {".type": section, ".name": section, ".anonymous": False})[option] = value
    os.makedirs(os.path.join(state_dir, "config"), mode=0o700, exist_ok=True)
    uci.save(os.path.join(state_dir, "config", "tr069"), list(sections.values()))


class Station:
    def __init__(self, state_dir, url, identity="SUBS001", device=None, **options):
        self.state_dir = str(state_dir)
        write_config(self.state_dir, url, identity, **options)
        self.daemon = Daemon("host", self.state_dir)
        if device is not None:
            self.daemon.device = device
            self.daemon.missing = device.missing()  # as Daemon() finds it at start
        self.thread = threading.Thread(target=self.daemon.loop.run, name="loop", daemon=True)
        self.thread.start()
        [self.client] = self.start("os3p")

    def start(self, *names):
        """Build and start these components (bridge.daemon's names) through the daemon's root -> them."""
        self.run(lambda: self.daemon.start_components(only=set(names)))
        return [self.daemon.running.get(name) for name in names]

    def run(self, fn, timeout=5.0):
        """Run fn on the loop thread (the only thread that may touch the core) and return its result."""
        if threading.current_thread() is self.thread:
            return fn()  # already there (a wait() predicate that calls tr069())
        done = threading.Event()
        box = {}

        def call():
            try:
                box["value"] = fn()
            except BaseException as e:  # handed to the test thread
                box["error"] = e
            done.set()

        self.daemon.loop.call_soon_threadsafe(call)
        if not done.wait(timeout):
            raise TimeoutError("the loop did not run the call")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def wait(self, predicate, timeout=10.0, interval=0.02):
        """Poll predicate() on the loop thread until it is true; returns its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.run(predicate)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met within %.1f s" % timeout)
            time.sleep(interval)

    def tr069(self, method, args=None):
        return self.run(lambda: self.daemon.tr069.call(method, args or {}))

    def state(self):
        return self.run(lambda: (self.client.connection_state(), self.client.core.registration))

    def outbox(self):
        return self.run(lambda: self.client.outbox.records())

    def stop(self):
        try:
            self.run(self.daemon.stop_components)
        finally:
            self.daemon.loop.call_soon_threadsafe(self.daemon.loop.stop)
            self.thread.join(5)


# --- TLS material -----------------------------------------------------------------------------------
def make_pki(directory):
    """A throw-away CA, a server certificate for 127.0.0.1 and a client certificate (openssl argv)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    d = str(directory)

    def run(*args):
        subprocess.run([openssl] + list(args), cwd=d, check=True, capture_output=True, timeout=60)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=OS3P test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    for name, cn, ext in (("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"),
                          ("client", "SUBS001", "extendedKeyUsage=clientAuth\n")):
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext)
        run("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn)
        run("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", name + ".pem", "-days", "2", "-extfile", name + ".ext")
    return {k: os.path.join(d, v) for k, v in (("ca", "ca.pem"), ("cert", "server.pem"), ("key", "server.key"),
                                                ("client_cert", "client.pem"), ("client_key", "client.key"))}


# --- a TCP proxy that can turn into a black hole (half-open connection, dead peer) ----------------------
class Proxy:
    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.blackhole = False
        self.accepted = 0
        self.socks = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            try:
                upstream = socket.create_connection(self.target, 5)
            except OSError:
                client.close()
                continue
            self.socks += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if not self.blackhole:  # a black hole swallows everything and keeps the sockets open
                    dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.listener.close()
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass


# --- HTTP peers for firmware downloads and log uploads ---------------------------------------------------
class FilePeer:
    """GET /<name> serves files[name]; POST stores the body in uploads; all on 127.0.0.1."""

    def __init__(self):
        self.files = {}
        self.uploads = []
        peer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = peer.files.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                peer.uploads.append((self.path, self.headers.get("Content-Type", ""), self.rfile.read(length)))
                self.send_response(201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
