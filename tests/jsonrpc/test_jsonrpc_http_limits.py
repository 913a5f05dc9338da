"""The shim's HTTP side against hostile clients: blank lines start the request timer, duplicate framing
headers get 400, a huge batch gets one error, lone surrogates are replaced, and slow or idle clients never
keep others out.

Real loopback sockets, the server's loop driven by hand with a fake clock (no sleeps): what is
checked is which connections the server keeps and answers, never how long anything took.
"""

import json
import os
import socket

import pytest

from bridge.jsonrpc import server as server_mod
from bridge.jsonrpc.server import HttpServer
from bridge.loop import Loop


class Rig:
    """An HttpServer on a Loop whose clock only moves when the test says so."""

    def __init__(self, **kw):
        self.now = 1000.0
        self.loop = Loop()
        self.loop.time = lambda: self.now
        self.srv = HttpServer(self.loop, "127.0.0.1", 0, lambda req, conn: conn.respond(req, 200, b"{}"),
                              lambda req: 1024, **kw)
        self.socks = []

    def connect(self):
        s = socket.create_connection(self.srv.address, timeout=5)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # each send arrives at once
        s.setblocking(False)
        self.socks.append(s)
        self.pump()
        return s

    def pump(self, rounds=6):
        for _ in range(rounds):
            self.loop.run_once(max_timeout=0)

    def advance(self, seconds, step=1.0):
        """Move the clock in steps of the sweeper's period, running the loop after each."""
        end = self.now + seconds
        while self.now < end:
            self.now = min(end, self.now + step)
            self.pump(3)

    def closed_by_server(self, s):
        self.pump()
        try:
            return s.recv(65536) == b""
        except BlockingIOError:
            return False
        except ConnectionResetError:
            return True

    def answered(self, s):
        self.pump()
        try:
            return s.recv(65536).startswith(b"HTTP/1.1 200")
        except BlockingIOError:
            return False

    def close(self):
        for s in self.socks:
            s.close()
        self.srv.stop()
        self.loop.close()


def server_sockets(port):
    """This process's open descriptors of the TCP connections the server accepted on `port` (its side of
    them; the listener is not one). Counted by the socket, not by the number of open descriptors: another
    test's thread in the same worker may open or close files meanwhile."""
    inodes = set()
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] != "0A":  # 0A: LISTEN
                inodes.add("socket:[%s]" % fields[9])
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + fd) in inodes:
                out.append(fd)
        except OSError:
            pass  # closed while we looked
    return out


@pytest.fixture
def rig():
    r = Rig()
    yield r
    r.close()


# --- 2: blank lines must not hold a connection for ever ---------------------------------------------
def closes_within(rig, s, seconds, send):
    for _ in range(int(seconds)):
        if rig.closed_by_server(s):
            return True
        s.send(send)
        rig.advance(1.0)
    return rig.closed_by_server(s)


def test_finding_02_blank_lines_start_the_request_timer(rig):
    s = rig.connect()
    assert closes_within(rig, s, server_mod.HEAD_TIMEOUT + 3, b"\r\n")


def test_finding_02_blank_lines_do_not_reset_the_idle_timer(rig):
    s = rig.connect()
    s.send(b"GET / HTTP/1.1\r\n\r\n")
    assert rig.answered(s)
    assert closes_within(rig, s, server_mod.IDLE_TIMEOUT + server_mod.HEAD_TIMEOUT + 3, b"\r\n\r\n")


def test_finding_02_a_blank_line_before_a_request_is_still_tolerated(rig):
    s = rig.connect()
    s.send(b"\r\nGET / HTTP/1.1\r\n\r\n")
    assert rig.answered(s)


# --- 16: two Content-Length headers ---------------------------------------------------------------
@pytest.mark.parametrize("head", [
    b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 0\r\n\r\n{}",
    b"POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n{}",
    b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
])
def test_finding_16_duplicate_framing_headers_get_400(rig, head):
    s = rig.connect()
    s.send(head)
    rig.pump()
    assert s.recv(65536).startswith(b"HTTP/1.1 400 ")
    assert rig.closed_by_server(s)


# --- 4 and 14: through the whole shim ----------------------------------------------------------------
@pytest.fixture
def shim(tmp_path):
    from support.jsonrpc_helpers import Running, StandinTr069, TestObject

    r = Running(lambda loop: {"tr069": StandinTr069(), "test": TestObject(loop)}, state_dir=str(tmp_path))
    yield r
    r.close()


def cli_sid(shim):
    with open(os.path.join(shim.shim.state_dir, "cli.sid")) as f:
        return f.read().strip()


def test_finding_04_huge_batch_gets_one_error_not_thousands(shim):
    from bridge.jsonrpc.rpc import MAX_BATCH

    c = shim.client()
    status, _, body = c.post_raw(("[" + ",".join(["1"] * 30000) + "]").encode())
    assert status == 200 and len(body) < 200
    assert json.loads(body) == {"jsonrpc": "2.0", "id": None,
                                "error": {"code": -32600, "message": "Invalid request"}}
    # a batch within the limit is answered element by element, as before
    answers = c.post([{"jsonrpc": "2.0", "id": i, "method": "list"} for i in range(MAX_BATCH)])
    assert [a["id"] for a in answers] == list(range(MAX_BATCH))


@pytest.mark.parametrize("body", [
    b'{"jsonrpc":"2.0","id":"\\ud800","method":"list"}',
    b'[{"jsonrpc":"2.0","id":"\\udfff","method":"list"},{"jsonrpc":"2.0","id":2,"method":"list"}]',
    b"{'jsonrpc':'2.0','id':'\\ud800x',/* json-c only */'method':'list'}",
])
def test_finding_14_lone_surrogate_is_replaced_not_a_500(shim, body):
    status, _, raw = shim.client().post_raw(body)
    assert status == 200
    doc = json.loads(raw)
    first = doc[0] if isinstance(doc, list) else doc
    assert first["id"].startswith("\ufffd") and "result" in first
    if isinstance(doc, list):
        assert doc[1]["id"] == 2


def test_finding_14_echoed_lone_surrogate(shim):
    c = shim.client()
    res = c.call(cli_sid(shim), "test", "echo", {"k": "a\ud800b", "pair": "\U0001f600"})
    assert res["result"] == [0, {"k": "a\ufffdb", "pair": "\U0001f600", "ubus_rpc_session": cli_sid(shim)}]


# --- 3: slow-header, idle and many-per-address clients do not keep others out -------------------------
SLOW_HEAD = b"POST /ubus HTTP/1.1\r\nHost: x\r\n"


@pytest.mark.parametrize("kw", [{}, {"max_per_address": 10 ** 6}], ids=["per-address", "global"])
@pytest.mark.parametrize("first", [SLOW_HEAD, b"", b"GET / HTTP/1.1\r\n\r\n"], ids=["slow", "silent", "idle"])
def test_finding_03_200_slow_or_idle_clients_and_a_normal_one(kw, first):
    rig = Rig(**kw)
    try:
        assert server_sockets(rig.srv.address[1]) == []
        attackers = []
        for _ in range(200):
            s = rig.connect()
            if first:
                s.send(first)
            attackers.append(s)
            rig.pump(2)
            rig.advance(0.01, step=0.01)
            if first == SLOW_HEAD:
                s.send(b"X")  # one more byte now and then: the head is never done
        assert len(rig.srv.clients) <= min(kw.get("max_per_address", 32), rig.srv.max_clients)
        normal = rig.connect()
        normal.send(b"GET / HTTP/1.1\r\n\r\n")
        assert rig.answered(normal)
        for s in attackers:
            s.close()
        rig.pump()
        assert [c.sock for c in rig.srv.clients if c.sock is not None] and len(rig.srv.clients) == 1
        normal.close()
        rig.pump()
        rig.socks.clear()
        assert not rig.srv.clients and server_sockets(rig.srv.address[1]) == []  # every one closed
    finally:
        rig.close()


def test_finding_03_busy_connections_are_never_evicted():
    held = []
    rig = Rig(max_clients=2)
    rig.srv.router = lambda req, conn: held.append((req, conn))  # never answered
    try:
        a, b = rig.connect(), rig.connect()
        for s in (a, b):
            s.send(b"GET / HTTP/1.1\r\n\r\n")
        rig.pump()
        assert len(held) == 2
        c = rig.connect()
        c.send(b"GET / HTTP/1.1\r\n\r\n")
        rig.pump()
        assert len(held) == 2 and not rig.closed_by_server(a) and not rig.closed_by_server(b)
        req, conn = held[0]
        conn.respond(req, 200, b"{}")  # a answered: idle now, so c may take its slot
        rig.pump()
        assert len(held) == 3
    finally:
        rig.close()
