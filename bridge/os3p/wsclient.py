"""websocket-client 1.7, imported lean: the one place that knows the library's private modules.

- Without its package __init__, which also imports WebSocketApp (run_forever, unused here) and with it
  inspect, ast and dis (about 1 MiB). The package module is put in place without running it; the first
  access to anything else runs the real __init__ then, so other users of the package see no difference.
- When the first connection is ws://, with ssl and hashlib's OpenSSL backend hidden: OpenSSL costs
  about 4.4 MiB of RSS that a plain connection does not need (hashlib then uses its built-in SHA-1 for
  the handshake; it also lacks pbkdf2_hmac/scrypt in this process). A later wss:// connection imports
  ssl then and hands it to the library (_enable_tls).
- describe() names a failure without importing ssl: a refused ws:// attempt must not load OpenSSL.
- Without what its modules import for annotations and options the daemon never uses, each stood in for or
  hidden while they are imported (and taken out of sys.modules again, so a later importer gets the real
  one): `typing` (~0.5 MiB; the library's annotations evaluate to a placeholder), the `logging` package
  when nothing loaded it yet (~0.8 MiB with traceback, linecache, tokenize; websocket._logging gets a
  logger of bridge.logger, whose lines reach the same sinks in the same format), `python_socks` (SOCKS
  proxies, never configured here; OpenWrt does not ship it). A host name is resolved as ASCII bytes
  (_Resolver): socket.getaddrinfo encodes a str with the IDNA codec, which loads encodings.idna,
  stringprep and unicodedata (~0.4 MiB) for a name that is ASCII anyway.

TESTED_WITH is the version this was written against (the pin in requirements-dev.txt and the version
OpenWrt 24.10 ships); tests/os3p/test_os3p_wsclient.py fails when the installed library is another one, so
that an upgrade re-checks the private names used here.
"""

import socket
import sys

from .. import logger

log = logger.getLogger(__name__)

TESTED_WITH = "1.7.0"
CLOSE_TOO_BIG = 1009  # RFC 6455 7.4.1: a message too big to process

_ws = None
_MISSING = object()
_TLS_NAMES = ("HAVE_SSL", "ssl", "SSLError", "SSLWantReadError", "SSLWantWriteError")


def load(tls=False):
    """websocket-client's core (WebSocket, ABNF, the exceptions); TLS support when tls (see above)."""
    global _ws
    if _ws is None:
        import importlib
        import types

        hidden = {}
        standins = {"python_socks": None}  # None: import raises ImportError
        if not tls and "ssl" not in sys.modules and "hashlib" not in sys.modules:
            standins.update(ssl=None, _hashlib=None)  # the library runs without TLS
        if "typing" not in sys.modules:
            standins["typing"] = _annotations_module()
        if "logging" not in sys.modules:
            standins["logging"] = _logging_module()
        for name, module in standins.items():
            hidden[name] = sys.modules.get(name, _MISSING)
            sys.modules[name] = module
        try:
            if "websocket" not in sys.modules:
                import importlib.util

                spec = importlib.util.find_spec("websocket")
                pkg = importlib.util.module_from_spec(spec)

                def __getattr__(name):
                    del pkg.__dict__["__getattr__"]
                    spec.loader.exec_module(pkg)
                    return getattr(pkg, name)

                pkg.__getattr__ = __getattr__
                sys.modules["websocket"] = pkg
            core = importlib.import_module("websocket._core")
            abnf = importlib.import_module("websocket._abnf")
            exc = importlib.import_module("websocket._exceptions")
            sys.modules["websocket._http"].socket = _Resolver()
            if "logging" not in standins:
                logger.route_std()  # the library logs through the logging package: to our sinks too
        finally:
            for name, module in hidden.items():
                if module is _MISSING:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = module
        _ws = types.SimpleNamespace(
            WebSocket=core.WebSocket, ABNF=abnf.ABNF, BadStatus=exc.WebSocketBadStatusException,
            Timeout=exc.WebSocketTimeoutException, Closed=exc.WebSocketConnectionClosedException,
            Payload=exc.WebSocketPayloadException,
            tls=getattr(sys.modules.get("websocket._ssl_compat"), "HAVE_SSL", False))
    if tls and not _ws.tls:
        _enable_tls()
    return _ws


class _Resolver:
    """websocket._http's `socket`: the socket module, but an ASCII host name goes to getaddrinfo as bytes
    (a str is encoded with the IDNA codec, whose modules cost ~0.4 MiB; an ASCII name is the same bytes)."""

    def __getattr__(self, name):
        return getattr(socket, name)

    @staticmethod
    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.isascii():
            host = host.encode("ascii")
        return socket.getaddrinfo(host, *args, **kwargs)


def _annotations_module():
    """A stand-in for `typing` while the library is imported: its annotations (Optional[str], Union[...],
    Callable) evaluate to one placeholder; nothing reads them."""
    import types

    class Annotation:
        def __getitem__(self, item):
            return self

    module = types.ModuleType("typing", "stand-in: bridge/os3p/wsclient.py")
    placeholder = Annotation()
    module.__getattr__ = lambda name: placeholder
    return module


def _logging_module():
    """A stand-in for the logging package while the library is imported, as much of it as websocket._logging
    uses: its logger is bridge.logger's (the daemon's sinks, the daemon's format and level)."""
    import types

    class Handler:
        def __init__(self, *args, **kwargs):
            pass

    class LibraryLogger:
        def __init__(self, name):
            self._log = logger.getLogger(name)

        def __getattr__(self, name):  # debug, info, warning, error, isEnabledFor
            return getattr(self._log, name)

        def addHandler(self, handler):
            pass

        def setLevel(self, level):
            pass

    module = types.ModuleType("logging", "stand-in: bridge/os3p/wsclient.py")
    module.getLogger = LibraryLogger
    module.Handler = module.NullHandler = module.StreamHandler = Handler
    module.DEBUG, module.INFO, module.WARNING, module.ERROR, module.CRITICAL = (
        logger.DEBUG, logger.INFO, logger.WARNING, logger.ERROR, logger.CRITICAL)
    return module


def _enable_tls():
    """Give the library the ssl module it was imported without (its modules look these names up per call)."""
    import ssl

    values = (True, ssl, ssl.SSLError, ssl.SSLWantReadError, ssl.SSLWantWriteError)
    for name in ("websocket._ssl_compat", "websocket._http", "websocket._socket", "websocket._core"):
        module = sys.modules.get(name)
        if module is not None:
            for attr, value in zip(_TLS_NAMES, values):
                setattr(module, attr, value)
    _ws.tls = True
    log.info("TLS support loaded")


class TooBig(Exception):
    """A frame or message over the configured limit: the connection is closed with CLOSE_TOO_BIG."""


def limit_message_size(ws, limit):
    """websocket-client allocates whatever length a frame header announces; refuse big ones first."""
    fb = ws.frame_buffer
    recv_length = fb.recv_length

    def bounded_length():
        recv_length()
        if fb.length > limit:
            raise TooBig("a frame of %d bytes exceeds the %d-byte limit" % (fb.length, limit))

    fb.recv_length = bounded_length
    cont = ws.cont_frame
    add = cont.add

    def bounded_add(frame):
        add(frame)
        if cont.cont_data and len(cont.cont_data[1]) > limit:
            raise TooBig("a fragmented message exceeds the %d-byte limit" % limit)

    cont.add = bounded_add


def describe(e):
    """A connection failure in a few words, for the log (never importing ssl: see above)."""
    ssl = sys.modules.get("ssl")  # loaded only when a wss:// connection needed it
    if ssl is not None and isinstance(e, ssl.SSLCertVerificationError):
        return "TLS certificate verification failed: %s" % (e.verify_message or e)
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, socket.timeout):
        return "timed out"
    text = str(e) or e.__class__.__name__
    return "%s: %s" % (e.__class__.__name__, text)
