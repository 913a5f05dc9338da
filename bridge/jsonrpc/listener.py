"""A listening TCP socket now, its HTTP server at the first connection.

A server nobody calls (the CAMARA API on a router whose subscribers never come) then costs its socket, not
the server's code and its routes' (bridge/jsonrpc/server.py, the request parser, the API: ~0.1 MiB of a
process that serves only ubus). The first client waits in the listen backlog while the server is built,
which accepts it on its first look.
"""

# _socket, the C module: socket.py (its enums, selectors, math, array) costs ~0.6 MiB
import _socket as socket

from ..logger import getLogger

log = getLogger(__name__)

BACKLOG = 128


def ascii_host(host):
    """A host name or address as getaddrinfo takes it without the IDNA codec: bytes when it is ASCII (a str
    is encoded with "idna", which loads encodings.idna, stringprep and unicodedata: ~0.4 MiB)."""
    return host.encode("ascii") if isinstance(host, str) and host.isascii() else host


def listening_socket(host, port):
    """A non-blocking TCP socket listening at host:port (port 0: any free one); OSError when it cannot."""
    family, _, _, _, addr = socket.getaddrinfo(ascii_host(host), port, type=socket.SOCK_STREAM,
                                               flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


class Listener:
    """Listens at host:port from now on; build(sock) -> the server (with stop()) that takes the socket over,
    called on the loop when the first connection arrives. As a component of the daemon: start() says where it
    listens (as `name`), url() and state() give its address with `path`, stop() closes it."""

    def __init__(self, loop, host, port, build, name="an HTTP server", path=""):
        self.loop = loop
        self.build = build
        self.name = name
        self.path = path
        self.sock = listening_socket(host, port)
        self.address = self.sock.getsockname()[:2]
        self.server = None
        loop.add_reader(self.sock.fileno(), self._first)

    def start(self):
        log.info("%s listens on %s:%d", self.name, *self.address)

    def url(self):
        host, port = self.address
        return "http://%s:%d%s" % ("[%s]" % host if ":" in host else host, port, self.path)

    def state(self):
        return {"url": self.url()}

    def _first(self):
        self.loop.remove_reader(self.sock.fileno())
        try:
            self.server = self.build(self.sock)
        except Exception:  # a server that cannot be built must not leave clients waiting in the backlog
            log.exception("the server at %s:%d cannot be built", *self.address)
            self.sock.close()

    def stop(self):
        if self.server is not None:
            self.server.stop()
        else:
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()
