"""The shim's HTTP/1.1 side over real sockets: keep-alive, pipelining, limits, timeouts, the page."""

import json
import os
import socket
import threading
import time

import pytest

from bridge.jsonrpc import http as h
from bridge.jsonrpc import server as server_mod
from bridge.jsonrpc.server import HttpServer
from bridge.loop import Loop
from support.jsonrpc_helpers import Running, StandinTr069, TestObject, raw_exchange

LIST = b'{"jsonrpc":"2.0","id":1,"method":"list"}'


def post(body, extra=b"", path=b"/ubus"):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + extra
            + b"Content-Length: %d\r\n\r\n" % len(body) + body)


def read_responses(sock, count, timeout=5):
    """Parse `count` Content-Length responses from a socket: [(status, headers, body)]."""
    sock.settimeout(timeout)
    buf, out = b"", []
    while len(out) < count:
        while b"\r\n\r\n" not in buf:
            data = sock.recv(65536)
            if not data:
                return out
            buf += data
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        n = int(headers.get("content-length", 0))
        while len(buf) < n:
            data = sock.recv(65536)
            if not data:
                break
            buf += data
        out.append((status, headers, buf[:n]))
        buf = buf[n:]
    return out


@pytest.fixture
def shim(tmp_path):
    r = Running(lambda loop: {"tr069": StandinTr069(), "test": TestObject(loop)}, state_dir=str(tmp_path),
                call_timeout=0.5)
    yield r
    r.close()


def connect(r):
    return socket.create_connection((r.host, r.port), timeout=5)


def test_keep_alive_many_requests_one_connection(shim):
    s = connect(shim)
    try:
        for i in range(50):
            s.sendall(post(LIST))
            [(status, headers, body)] = read_responses(s, 1)
            assert status == 200 and headers["connection"] == "keep-alive"
            assert json.loads(body)["result"] == ["session", "test", "tr069"]
    finally:
        s.close()


def test_server_sockets_have_tcp_nodelay(shim):
    s = connect(shim)
    try:
        s.sendall(post(LIST))
        read_responses(s, 1)
        flags = shim.run_on_loop(lambda: [c.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                                          for c in shim.shim.server.clients])
        assert flags and all(flags)
    finally:
        s.close()


def test_pipelined_requests_are_answered_in_order(shim):
    s = connect(shim)
    try:
        bodies = [json.dumps({"jsonrpc": "2.0", "id": i, "method": "list"}).encode() for i in range(20)]
        s.sendall(b"".join(post(b) for b in bodies))
        answers = read_responses(s, 20)
        assert [json.loads(b)["id"] for _, _, b in answers] == list(range(20))
    finally:
        s.close()


def test_body_over_64k_gets_parse_error_and_close(shim):
    body = b'{"jsonrpc":"2.0","id":1,"method":"list","pad":"' + b"x" * 70000 + b'"}'
    data = raw_exchange(shim.host, shim.port, post(body))
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Connection: close" in head
    assert json.loads(rest) == {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}


def test_declared_length_over_limit_is_answered_without_reading_the_body(shim):
    s = connect(shim)
    try:
        s.sendall(b"POST /ubus HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n")
        [(status, headers, body)] = read_responses(s, 1)
        assert status == 200 and headers["connection"] == "close"
        assert json.loads(body)["error"]["code"] == -32700
        assert s.recv(10) == b""  # then the server closes
    finally:
        s.close()


def test_expect_100_continue(shim):
    s = connect(shim)
    try:
        s.sendall(b"POST /ubus HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(LIST))
        s.settimeout(5)
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(LIST)
        [(status, _, body)] = read_responses(s, 1)
        assert status == 200 and json.loads(body)["id"] == 1
    finally:
        s.close()


@pytest.mark.parametrize("request_bytes,status", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET / HTTP/2.0\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400),
    (b"POST /ubus HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
    (b"POST /ubus HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501),
    (b"GET / HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n", 431),
    (b"GET / HTTP/1.1\r\n" + b"".join(b"X%d: y\r\n" % i for i in range(150)) + b"\r\n", 431),
])
def test_malformed_requests_get_an_http_error_and_close(shim, request_bytes, status):
    data = raw_exchange(shim.host, shim.port, request_bytes)
    assert data.startswith(b"HTTP/1.1 %d " % status)
    assert b"Connection: close" in data


def test_http_10_closes_after_the_answer(shim):
    data = raw_exchange(shim.host, shim.port,
                        b"POST /ubus HTTP/1.0\r\nContent-Length: %d\r\n\r\n" % len(LIST) + LIST)
    assert data.startswith(b"HTTP/1.1 200") and b"Connection: close" in data


def test_connection_close_header_is_honoured(shim):
    data = raw_exchange(shim.host, shim.port, post(LIST, b"Connection: close\r\n"))
    assert b"Connection: close" in data and data.endswith(b"}")


def test_a_whole_request_with_connection_close_is_answered_and_closed_by_the_server(shim):
    # closed when answered, without waiting for the client's close
    s = connect(shim)
    try:
        s.sendall(post(LIST, b"Connection: close\r\n"))
        [(status, headers, body)] = read_responses(s, 1)
        assert status == 200 and headers["connection"] == "close" and json.loads(body)["id"] == 1
        assert s.recv(10) == b""
        # closed in the same loop round as the answer was sent, though our socket is still open
        # (a lingering connection would stay until our close or server.LINGER)
        assert shim.run_on_loop(lambda: len(shim.shim.server.clients)) == 0
    finally:
        s.close()


def test_input_after_a_closing_answer_is_read_to_the_end_not_reset(shim):
    # a second request behind a `Connection: close` one: the answer still arrives whole (linger)
    s = connect(shim)
    try:
        s.sendall(post(LIST, b"Connection: close\r\n") + post(LIST) * 200)
        [(status, _, body)] = read_responses(s, 1)
        assert status == 200 and json.loads(body)["id"] == 1
    finally:
        s.close()


def test_routes(shim):
    s = connect(shim)
    try:
        s.sendall(b"GET / HTTP/1.1\r\n\r\nGET /nosuch HTTP/1.1\r\n\r\nGET /ubus HTTP/1.1\r\n\r\n"
                  b"OPTIONS /ubus HTTP/1.1\r\n\r\nPUT /ubus HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
                  b"DELETE / HTTP/1.1\r\n\r\nHEAD / HTTP/1.1\r\n\r\n")
        answers = read_responses(s, 7)
        assert [a[0] for a in answers] == [200, 404, 404, 200, 400, 405, 200]
        page_status, page_headers, page = answers[0]
        assert page_headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in page_headers["content-security-policy"]
        assert b"<html" in page.lower() and answers[6][2] == b""
    finally:
        s.close()


def test_slow_request_head_is_cut_off(shim, monkeypatch):
    monkeypatch.setattr(server_mod, "HEAD_TIMEOUT", 0.3)
    monkeypatch.setattr(server_mod, "SWEEP_INTERVAL", 0.1)
    s = connect(shim)
    try:
        s.sendall(b"POST /ubus HTTP/1.1\r\n")
        s.settimeout(5)
        t0 = time.monotonic()
        assert s.recv(100) == b""  # closed by the server
        assert time.monotonic() - t0 < 4.5
    finally:
        s.close()


def test_idle_keep_alive_connection_is_closed(shim, monkeypatch):
    monkeypatch.setattr(server_mod, "IDLE_TIMEOUT", 0.3)
    monkeypatch.setattr(server_mod, "SWEEP_INTERVAL", 0.1)
    s = connect(shim)
    try:
        s.sendall(post(LIST))
        read_responses(s, 1)
        assert s.recv(100) == b""
    finally:
        s.close()


def test_client_gone_during_a_pending_call(shim):
    s = connect(shim)
    sid = open(os.path.join(shim.tmp if False else shim.shim.state_dir, "cli.sid")).read().strip()
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "call", "params": [sid, "test", "hang", {}]}).encode()
    s.sendall(post(body))
    s.close()
    time.sleep(0.8)  # the call times out with nobody to answer; the shim stays up
    c = shim.client()
    assert c.post({"jsonrpc": "2.0", "id": 2, "method": "list"})["id"] == 2


def test_client_limit_keeps_extra_clients_waiting():
    # while every slot is answering a request (idle and slow clients would be evicted instead)
    loop = Loop()
    held = []

    def router(req, conn):
        if req.path == "/hang":
            return held.append((req, conn))
        conn.respond(req, 200, b"{}")

    srv = HttpServer(loop, "127.0.0.1", 0, router, lambda req: 1024, max_clients=2)
    t = threading.Thread(target=loop.run, daemon=True)
    t.start()
    try:
        addr = srv.address
        a, b = socket.create_connection(addr, timeout=5), socket.create_connection(addr, timeout=5)
        for s in (a, b):
            s.sendall(b"GET /hang HTTP/1.1\r\n\r\n")
        for _ in range(500):
            if len(held) == 2:
                break
            time.sleep(0.01)
        c = socket.create_connection(addr, timeout=5)
        c.sendall(b"GET / HTTP/1.1\r\n\r\n")
        c.settimeout(0.5)
        with pytest.raises(socket.timeout):
            c.recv(100)
        req, conn = held[0]
        loop.call_soon_threadsafe(conn.respond, req, 200, b"{}")  # a is answered: now idle, evictable
        assert read_responses(a, 1)[0][0] == 200
        assert read_responses(c, 1, timeout=5)[0][0] == 200
        try:
            assert a.recv(100) == b""  # a made room for c
        except ConnectionResetError:
            pass
        for s in (a, b, c):
            s.close()
    finally:
        loop.call_soon_threadsafe(srv.stop)
        loop.call_soon_threadsafe(loop.stop)
        t.join(5)
        loop.close()


def test_parser_limits_unit():
    p = h.RequestParser(lambda req: 10)
    [req] = p.feed(b"POST /ubus HTTP/1.1\r\nContent-Length: 11\r\n\r\n")
    assert req.body_limit_exceeded and not req.keep_alive and p.closed
    p = h.RequestParser(lambda req: 10)
    assert p.feed(b"\r\n\r\nGET /a?b HTTP/1.1\r\n\r\n")[0].path == "/a"


def test_a_listener_builds_its_server_at_the_first_connection_which_it_then_answers():
    from bridge.jsonrpc.listener import Listener

    loop = Loop()
    built = []

    def build(sock):
        built.append(sock)
        return HttpServer(loop, None, None, lambda req, conn: conn.respond(req, 200, b"{}"), lambda req: 1024,
                          sock=sock)

    listener = Listener(loop, "127.0.0.1", 0, build)
    t = threading.Thread(target=loop.run, daemon=True)
    t.start()
    try:
        time.sleep(0.05)
        assert built == []  # nobody came: no server
        for _ in range(2):
            with socket.create_connection(listener.address, timeout=5) as c:
                c.sendall(b"GET / HTTP/1.1\r\n\r\n")
                assert read_responses(c, 1)[0][0] == 200
        assert built == [listener.sock]  # built once, on the listening socket
    finally:
        loop.call_soon_threadsafe(listener.stop)
        loop.call_soon_threadsafe(loop.stop)
        t.join(5)
        loop.close()
