"""Findings of the attacker's probe against the shim's HTTP side: each test failed before its fix.

Real loopback sockets, the server's loop driven by hand with a fake clock (no sleeps): what is
checked is which connections the server keeps and answers, never how long anything took.
"""

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
