"""ubusd's side for the tests: the recorded transcripts, a listening socket the test drives (FakeUbusd), a
player of ubusd's side of one transcript (ScriptedUbusd), a small ubusd + rpcd + procd answering through a
table (MiniUbusd), and a host daemon whose ubus surface talks to them (Running; the `ubusd` and `running`
fixtures of conftest.py build on these).

The transcripts are recorded from a real ubusd (tests/data/ubus/, provenance in its README).
"""

import json
import os
import socket
import threading
import time

from bridge.daemon import Daemon
from bridge.ubus import blob
from bridge import ubusmsg as st
from bridge.ubus.connection import ObjectConnection
from support.paths import ROOT, UBUS_FIXTURES as FIXTURES

SCHEMA_PATH = os.path.join(ROOT, "schemas", "tr069.json")
WAIT = 5.0


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


def read_message(sock, timeout=WAIT):
    """One whole message from a blocking socket: (raw bytes, Message)."""
    deadline = time.monotonic() + timeout
    buf = b""
    need = blob.FIRST_READ
    while len(buf) < need:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no message within %.1f s (have %r)" % (timeout, buf))
        sock.settimeout(left)
        chunk = sock.recv(need - len(buf))
        if not chunk:
            raise ConnectionError("peer closed")
        buf += chunk
        if len(buf) == blob.FIRST_READ and need == blob.FIRST_READ:
            need = blob.message_length(buf)
    return buf, blob.decode_message(buf)


def nothing_arrives(sock, delay=0.2):
    sock.settimeout(delay)
    try:
        data = sock.recv(1)
    except socket.timeout:
        return True
    return data == b""


class FakeUbusd:
    """A listening ubusd socket; each accepted connection is driven by the test."""

    def __init__(self, path):
        self.path = str(path)
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        self.srv.listen(4)
        self.conns = []

    def accept(self, timeout=WAIT):
        self.srv.settimeout(timeout)
        c, _ = self.srv.accept()
        self.conns.append(c)
        return c

    def close(self):
        for c in self.conns:
            c.close()
        self.srv.close()


def tr069_output_schema(method):
    with open(SCHEMA_PATH) as f:
        root = json.load(f)
    sub = dict(root["properties"][method]["properties"]["output"])
    sub["definitions"] = root["definitions"]
    return sub


class Running:
    """A host daemon whose loop runs in a thread, its ubus surface pointed at `path`."""

    def __init__(self, tmp_path, path, objects=None, **conn_options):
        self.daemon = Daemon("host", str(tmp_path / "state"))
        # the transcripts were recorded with the tr069 object alone (tr069.bridge: test_face_start_..._registers_both_objects)
        objects = objects if objects is not None else {"tr069": self.daemon.tr069}
        self.loop = self.daemon.loop
        self.conn = ObjectConnection(self.loop, str(path), objects, **conn_options)
        self.thread = threading.Thread(target=self.loop.run, daemon=True)
        self.thread.start()
        self.on_loop(self.conn.start)

    def on_loop(self, fn, *args):
        """Run fn on the loop thread and wait for its result."""
        done = threading.Event()
        box = {}

        def run():
            try:
                box["value"] = fn(*args)
            except BaseException as e:  # handed back to the test thread
                box["error"] = e
            done.set()

        self.loop.call_soon_threadsafe(run)
        assert done.wait(WAIT), "loop did not run the call"
        if "error" in box:
            raise box["error"]
        return box.get("value")

    def stop_face_async(self):
        done = threading.Event()
        self.loop.call_soon_threadsafe(lambda: (self.conn.stop(), done.set()))
        return done

    def close(self, stop_timeout=0.1):
        # cleanup after the test: a scripted ubusd that no longer reads would hold stop() for its full
        # STOP_TIMEOUT; the tests of the shutdown itself go through stop_face_async, with the daemon's bound
        self.loop.call_soon_threadsafe(self.conn.stop, stop_timeout)
        self.loop.stop()
        self.thread.join(WAIT)
        self.loop.close()


def read_until_status(conn):
    got = []
    while True:
        raw, msg = read_message(conn)
        got.append((raw, msg))
        if msg.type in (blob.STATUS, blob.ADD_OBJECT, blob.REMOVE_OBJECT):
            return got


def register(conn, objid=0x11223344, seq_check=True):
    """Play ubusd's side of HELLO + ADD_OBJECT; returns the ADD_OBJECT message."""
    conn.sendall(blob.encode_message(blob.HELLO, 0, 0x0A0B0C0D))
    raw, add = read_message(conn)
    assert add.type == blob.ADD_OBJECT
    conn.sendall(blob.encode_message(blob.DATA, add.seq, 0, [(blob.ATTR_OBJID, objid), (blob.ATTR_OBJTYPE, 77)]))
    conn.sendall(blob.encode_message(blob.STATUS, add.seq, 0, [(blob.ATTR_STATUS, 0)]))
    return add


def invoke(conn, method, args, objid=0x11223344, peer=0x5555, seq=2, extra=()):
    conn.sendall(blob.encode_message(blob.INVOKE, seq, peer, [
        (blob.ATTR_OBJID, objid), (blob.ATTR_METHOD, method), (blob.ATTR_USER, "root"),
        (blob.ATTR_GROUP, "root"), (blob.ATTR_DATA, args), *extra]))
    return [msg for _, msg in read_until_status(conn)]


def answer(msgs):
    status = msgs[-1].get(blob.ATTR_STATUS)
    data = [m.get(blob.ATTR_DATA) for m in msgs if m.type == blob.DATA]
    return status, (data[-1] if data else None)


class ScriptedUbusd(threading.Thread):
    """Plays the ubusd side of one client transcript: sends its "recv" messages, records the client's."""

    def __init__(self, fake, messages):
        super().__init__(daemon=True)
        self.fake = fake
        self.messages = messages
        self.got = []
        self.error = None

    def run(self):
        try:
            conn = self.fake.accept()
            for m in self.messages:
                if m["dir"] == "recv":
                    conn.sendall(bytes.fromhex(m["hex"]))
                else:
                    self.got.append(read_message(conn)[0].hex())
            nothing_arrives(conn, 0.05)
            conn.close()
        except Exception as e:  # reported by the test thread
            self.error = e


class MiniUbusd(threading.Thread):
    """Enough of ubusd + rpcd + procd for the backend: LOOKUP by path and INVOKE through a table."""

    def __init__(self, path, objects):
        super().__init__(daemon=True)
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(8)
        self.srv.settimeout(0.2)
        self.objects = objects          # name -> (id, {method: handler(args) -> (status, data)})
        self.calls = []
        self.stopping = False

    def run(self):
        while not self.stopping:
            try:
                conn, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                self.serve(conn)

    def serve(self, conn):
        conn.sendall(blob.encode_message(blob.HELLO, 0, 0x7000))
        while True:
            try:
                _, m = read_message(conn, WAIT)
            except (ConnectionError, TimeoutError, OSError):
                return
            if m.type == blob.LOOKUP:
                path = m.get(blob.ATTR_OBJPATH)
                if path in self.objects or path is None:   # no path: every object, as ubusd lists them
                    for name in ([path] if path else list(self.objects)):
                        oid, methods = self.objects[name]
                        conn.sendall(blob.encode_message(blob.DATA, m.seq, m.peer, [
                            (blob.ATTR_OBJPATH, name), (blob.ATTR_OBJID, oid), (blob.ATTR_OBJTYPE, oid + 1),
                            (blob.ATTR_SIGNATURE, {k: {} for k in methods})]))
                    code = st.OK
                else:
                    code = st.NOT_FOUND
                conn.sendall(blob.encode_message(blob.STATUS, m.seq, m.peer, [(blob.ATTR_STATUS, code)]))
            elif m.type == blob.INVOKE:
                oid = m.get(blob.ATTR_OBJID)
                name, methods = next(((n, ms) for n, (i, ms) in self.objects.items() if i == oid), (None, {}))
                handler = methods.get(m.get(blob.ATTR_METHOD))
                self.calls.append((name, m.get(blob.ATTR_METHOD), m.get(blob.ATTR_DATA)))
                code, data = handler(m.get(blob.ATTR_DATA)) if handler else (st.METHOD_NOT_FOUND, None)
                if data is not None:
                    conn.sendall(blob.encode_message(blob.DATA, m.seq, m.peer,
                                                     [(blob.ATTR_OBJID, oid), (blob.ATTR_DATA, data)]))
                conn.sendall(blob.encode_message(blob.STATUS, m.seq, m.peer,
                                                 [(blob.ATTR_STATUS, code), (blob.ATTR_OBJID, oid)]))

    def stop(self):
        self.stopping = True
        self.join(WAIT)
        self.srv.close()
