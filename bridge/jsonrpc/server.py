"""The HTTP/1.1 server of the JSON-RPC shim, on the daemon's event loop.

Non-blocking sockets, keep-alive, pipelined requests answered in order, TCP_NODELAY and one send
per response (a keep-alive reply never waits for the peer's delayed ACK), and limits: clients,
request head and body size, time to send a request, idle time.
"""

# _socket, the C module, as the ubus connection uses it: socket.py (its enums, selectors, math, array) costs
# ~0.6 MiB
import _socket as socket
import errno
import select
from collections import deque

from bridge.jsonrpc import http
from bridge.jsonrpc.listener import listening_socket

from ..logger import getLogger

log = getLogger(__name__)

SWEEP_INTERVAL = 1.0  # how often expired connections (HEAD_TIMEOUT, IDLE_TIMEOUT) are looked for
MAX_CLIENTS = 64  # uhttpd's UH_LIMIT_CLIENTS
HEAD_TIMEOUT = 10.0  # a request must arrive whole within this (slow-loris)
IDLE_TIMEOUT = 20.0  # keep-alive connections idle this long are closed (uhttpd: 20 s)
LINGER = 2.0  # after a closing answer, read and discard for at most this long, then close
MAX_OUTPUT = 256 * 1024  # stop reading a client that does not read its answers
MAX_PER_ADDRESS = 32  # connections from one address; half the slots, so one address cannot hold them all


class Connection:
    __slots__ = ("server", "sock", "fd", "peer", "address", "parser", "queue", "out", "busy", "closing",
                 "draining", "started", "last", "reading", "writing", "continue_sent", "answered")

    def __init__(self, server, sock, peer):
        self.server = server
        self.sock = sock
        self.fd = sock.fileno()
        self.peer = peer
        self.address = peer[0] if isinstance(peer, tuple) else ""
        self.parser = http.RequestParser(server.body_limit)
        self.queue = deque()
        self.out = bytearray()
        self.busy = False  # a request is being answered (maybe asynchronously)
        self.closing = False  # close once the output is flushed
        self.draining = False  # output flushed, write side shut, discarding input until EOF
        self.started = None  # when the request being received began
        self.last = server.loop.time()
        self.reading = True
        self.writing = False
        self.continue_sent = False
        self.answered = False  # the closing answer is to a whole request, read to its end

    # --- input ----------------------------------------------------------------------------------
    def on_readable(self):
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return self.close()
        now = self.server.loop.time()
        self.last = now
        if not data:
            if self.draining or not (self.busy or self.queue or self.out):
                return self.close()
            # the client half-closed: answer what it sent, then close
            self.closing = True
            self._stop_reading()
            return self._process()
        if self.draining:
            return
        try:
            reqs = self.parser.feed(data)
        except http.HttpError as e:
            self.queue.append(e)
            reqs = ()
        if not self.parser.busy:
            self.started = None
        elif self.started is None or reqs:
            self.started = now  # (a pipelined request began after the last one ended)
        if self.parser.continue_wanted and not self.continue_sent:
            self.continue_sent = True
            self._write(http.CONTINUE)
        if reqs:
            self.continue_sent = False
            self.queue.extend(reqs)
        if self.parser.closed:
            self._stop_reading()
        self._process()

    def _process(self):
        while self.queue and not self.busy and not self.draining:
            req = self.queue.popleft()
            self.busy = True
            if isinstance(req, http.HttpError):
                self._respond(None, http.response(req.status, b"", keep_alive=False))
            else:
                self.server.route(req, self)
        if self.closing and not self.busy and not self.queue:
            self._flush()

    def respond(self, req, status, body=b"", content_type="application/json", extra=()):
        keep = req.keep_alive and not self.closing and not self.server.stopping
        self._respond(req, http.response(status, body, content_type, keep, extra))

    def _respond(self, req, data):
        if self.sock is None:
            return  # the client went away while a deferred answer was pending
        self.busy = False
        if not self.server.accepting:
            self.server._accept_on()  # this connection may now make room for one in the backlog
        if req is None or not req.keep_alive or self.server.stopping:
            self.closing = True
            self.answered = req is not None and not req.body_limit_exceeded
        self._write(data)
        if len(self.out) > MAX_OUTPUT:
            self._stop_reading()
        if self.queue:
            self.server.loop.call_soon(self._process)

    # --- output ---------------------------------------------------------------------------------
    def _write(self, data):
        if self.sock is None:
            return
        if self.out:
            self.out += data
        else:
            try:
                n = self.sock.send(data)
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError:
                return self.close()
            if n < len(data):
                self.out += data[n:]
        self._flush()

    def _flush(self):
        if self.sock is None:
            return
        if self.out:
            try:
                n = self.sock.send(self.out)
                del self.out[:n]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                return self.close()
        if self.out:
            if not self.writing:
                self.writing = True
                self.server.loop.add_writer(self.fd, self._flush)
            return
        if self.writing:
            self.writing = False
            self.server.loop.remove_writer(self.fd)
        if self.closing and not self.busy:
            self._linger()
        elif not self.reading and not self.parser.closed:
            self.reading = True
            self.server.loop.add_reader(self.fd, self.on_readable)

    def _linger(self):
        # Shut the write side and read until EOF so the answer is not lost to a TCP reset caused
        # by unread input (e.g. the rest of a body that was too large to read). A whole request
        # answered with nothing after it (the usual `Connection: close`) is closed at once: a
        # close with nothing unread sends no reset, and the connection costs no more loop rounds.
        if self.draining:
            return
        if self.answered and not self.parser.busy and not self._unread():
            return self.close()
        self.draining = True
        self.last = self.server.loop.time()
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            return self.close()
        if not self.reading:
            self.reading = True
            self.server.loop.add_reader(self.fd, self.on_readable)

    def _unread(self):
        """Input is waiting in the socket (or cannot be told)."""
        try:
            return bool(self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True

    def _stop_reading(self):
        if self.reading:
            self.reading = False
            self.server.loop.remove_reader(self.fd)

    def close(self):
        if self.sock is None:
            return
        loop = self.server.loop
        if self.reading:
            loop.remove_reader(self.fd)
        if self.writing:
            loop.remove_writer(self.fd)
        self.reading = self.writing = False
        try:
            self.sock.close()
        except OSError:
            pass
        self.sock = None
        self.server.closed(self)

    def eviction_rank(self):
        """None while a request is being answered (never evicted); else lower goes first: a
        connection lingering after its answer, then the longest idle, then the slowest request."""
        if self.draining:
            return (0, self.last)
        if self.busy or self.out or self.queue:
            return None
        if self.started is None:
            return (1, self.last)
        return (2, self.started)

    def expired(self, now):
        if self.draining:
            return now - self.last > LINGER
        if self.busy or self.out:
            return False  # the answer is on its way (the call has its own timeout)
        if self.started is not None:
            return now - self.started > HEAD_TIMEOUT
        return now - self.last > IDLE_TIMEOUT


class HttpServer:
    """Accepts connections and hands each complete request to `router(request, connection)`,
    which answers with connection.respond(...) now or later."""

    def __init__(self, loop, host, port, router, body_limit, max_clients=MAX_CLIENTS,
                 max_per_address=MAX_PER_ADDRESS, sock=None):
        """sock: a listening socket to take over (bridge/jsonrpc/listener.py), else one made at host:port."""
        self.loop = loop
        self.router = router
        self.body_limit = body_limit
        self.max_clients = max_clients
        self.max_per_address = max_per_address
        self.clients = set()
        self.per_address = {}  # peer address -> open connections
        self.stopping = False
        self._sweeper = None
        self.sock = sock if sock is not None else listening_socket(host, port)
        self.address = self.sock.getsockname()[:2]
        self.accepting = False
        self._accept_on()

    def route(self, req, conn):
        try:
            self.router(req, conn)
        except Exception:
            log.exception("request %s %s failed", req.method, req.path)
            if conn.busy:
                conn.respond(req, 500, b"", "text/plain")

    def _accept_on(self):
        if not self.accepting and not self.stopping:
            self.accepting = True
            self.loop.add_reader(self.sock.fileno(), self._accept)

    def _accept_off(self):
        if self.accepting:
            self.accepting = False
            self.loop.remove_reader(self.sock.fileno())

    def _accept(self):
        for _ in range(16):
            if len(self.clients) >= self.max_clients:
                victim = self._victim(None)
                if victim is None:
                    # every slot is answering a request: leave further clients in the listen
                    # backlog until one is answered or leaves (as uhttpd does)
                    return self._accept_off()
                if not self._waiting():
                    return
                victim.close()
            try:
                fd, peer = self.sock._accept()  # accept4 with SOCK_CLOEXEC, as socket.py's accept()
                sock = socket.socket(fileno=fd)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    log.warning("accept: %s", e)
                    return self._accept_off_for_a_while()
                return
            address = peer[0] if isinstance(peer, tuple) else ""
            if self.per_address.get(address, 0) >= self.max_per_address:
                victim = self._victim(address)
                if victim is None:
                    sock.close()  # this address's connections are all answering requests
                    continue
                victim.close()
            sock.setblocking(False)
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = Connection(self, sock, peer)
            self.clients.add(conn)
            self.per_address[address] = self.per_address.get(address, 0) + 1
            self.loop.add_reader(conn.fd, conn.on_readable)
            if self._sweeper is None:
                self._sweeper = self.loop.call_later(SWEEP_INTERVAL, self._sweep)

    def _waiting(self):
        """A connection waits in the listen backlog."""
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        return bool(poller.poll(0))

    def _victim(self, address):
        """The connection (of `address`, or any) that serves nobody now and goes first to make
        room for a new one: idle and slow clients cannot keep others out by holding every slot."""
        victim, best = None, None
        for conn in self.clients:
            if address is not None and conn.address != address:
                continue
            rank = conn.eviction_rank()
            if rank is not None and (best is None or rank < best):
                victim, best = conn, rank
        return victim

    def _accept_off_for_a_while(self):
        self._accept_off()
        self.loop.call_later(1.0, self._accept_on)

    def _sweep(self):
        self._sweeper = None
        now = self.loop.time()
        for conn in [c for c in self.clients if c.expired(now)]:
            conn.close()
        if self.clients:
            self._sweeper = self.loop.call_later(SWEEP_INTERVAL, self._sweep)

    def closed(self, conn):
        if conn in self.clients:
            self.clients.discard(conn)
            left = self.per_address[conn.address] - 1
            if left:
                self.per_address[conn.address] = left
            else:
                del self.per_address[conn.address]
        if len(self.clients) < self.max_clients:
            self._accept_on()

    def stop(self):
        self.stopping = True
        self._accept_off()
        try:
            self.sock.close()
        except OSError:
            pass
        for conn in list(self.clients):
            conn.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
