"""The shim assembled: routes, the session store, the CLI's session, the static page.

Routes (as uhttpd with `-u /ubus`):
  POST /ubus            JSON-RPC (call, list), batches; 64 KiB body limit
  OPTIONS /ubus         200, empty (CORS preflight)
  GET /                 the standalone status page
Everything answers 200 with a JSON-RPC error object where uhttpd does.
"""

import os
from collections import deque

from bridge.atomic import write_atomic
from bridge.jsonrpc import rpc
from bridge.jsonrpc.acl import AclFiles
from bridge.jsonrpc.server import HttpServer
from bridge.jsonrpc.session_object import FailedLogins, SessionObject
from bridge.jsonrpc.sessions import SessionStore
from bridge.jsonrpc.users import Users

from ..logger import getLogger

log = getLogger(__name__)

PREFIX = "/ubus"
MAX_BODY = 65536  # uhttpd's UH_UBUS_MAX_POST_SIZE
CLI_SID_FILE = "cli.sid"
CLI_URL_FILE = "cli.url"
PAGE = os.path.join(os.path.dirname(__file__), "www", "index.html")
# ACLs shipped with the package, for runs from a source tree (the host backend)
SOURCE_ACL_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "files", "usr", "share", "rpcd", "acl.d")
PAGE_HEADERS = (
    "Cache-Control: no-store",
    "X-Content-Type-Options: nosniff",
    "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
)


def _setting(config, name, default):
    try:
        return config.get(name)
    except (KeyError, AttributeError):
        return default


class Shim:
    PATH = PREFIX  # where JSON-RPC is served: url is http://host:port + PATH

    def __init__(self, loop, objects, host="127.0.0.1", port=0, users=None, acl_dirs=(),
                 session_timeout=300, call_timeout=60, login_attempts=5, state_dir=None,
                 login_delays=None):
        self.loop = loop
        self.served = objects  # {name: object}, looked up on each call
        self.sessions = SessionStore(loop.time)
        self.acl_files = AclFiles(list(acl_dirs))
        self.session_object = SessionObject(self.sessions, users or Users(os.devnull), self.acl_files,
                                            session_timeout, FailedLogins(loop.time, login_attempts),
                                            loop, *(login_delays or ()))
        self.session_object.setup_default()
        self.recent_calls = deque(maxlen=64)  # (object, method) of dispatched calls, newest last
        self.dispatcher = rpc.Dispatcher(self.objects, self.sessions, loop, call_timeout,
                                         on_call=lambda o, m, s: self.recent_calls.append((o, m)))
        self.server = HttpServer(loop, host, port, self.route, self.body_limit)
        self.address = self.server.address
        self.url = "http://%s:%d%s" % (self._url_host(), self.address[1], PREFIX)
        self.state_dir = state_dir
        self.mounts = []  # (path prefix, handler(request, connection), body limit): other APIs on this server
        self._page = None
        self.cli_sid = None
        if state_dir:
            self.cli_sid = self.local_session()

    @classmethod
    def from_config(cls, loop, cfg, objects, state_dir, rpcd_config, source_acls=False):
        rpcd = _setting(cfg, "jsonrpc.rpcd_config", "") or rpcd_config
        dirs = [_setting(cfg, "jsonrpc.acl_dir", "/usr/share/rpcd/acl.d")]
        if source_acls:
            dirs.append(os.path.normpath(SOURCE_ACL_DIR))
        return cls(
            loop, objects,
            host=_setting(cfg, "jsonrpc.listen", "127.0.0.1"),
            port=_setting(cfg, "jsonrpc.port", 8069),
            users=Users(rpcd, _setting(cfg, "jsonrpc.shadow", "/etc/shadow")),
            acl_dirs=dirs,
            session_timeout=_setting(cfg, "jsonrpc.session_timeout", 300),
            call_timeout=_setting(cfg, "jsonrpc.call_timeout", 60),
            login_attempts=_setting(cfg, "jsonrpc.login_attempts", 5),
            state_dir=state_dir,
        )

    def _url_host(self):
        host = self.address[0]
        if host in ("0.0.0.0", "::", ""):
            return "127.0.0.1"
        return "[%s]" % host if ":" in host else host

    def objects(self):
        objs = dict(self.served)
        objs.setdefault("session", self.session_object)
        return objs

    def local_session(self):
        """A never-expiring session with every right, for the local CLI; its id goes to a 0600 file."""
        ses = self.sessions.create(timeout=0, pinned=True)
        ses.grant("ubus", "*", "*")
        ses.data["username"] = "local-cli"
        write_atomic(os.path.join(self.state_dir, CLI_SID_FILE), ses.sid + "\n", mode=0o600)
        write_atomic(os.path.join(self.state_dir, CLI_URL_FILE), self.url + "\n", mode=0o600)
        return ses.sid

    # --- HTTP ---------------------------------------------------------------------------------
    def mount(self, prefix, handler, body_limit):
        """Serve every path under `prefix` with handler(request, connection) (the CAMARA routes)."""
        self.mounts.append((prefix.rstrip("/") + "/", handler, body_limit))

    def unmount(self, prefix):
        self.mounts = [m for m in self.mounts if m[0] != prefix.rstrip("/") + "/"]

    def body_limit(self, req):
        for prefix, _handler, limit in self.mounts:
            if req.path.startswith(prefix):
                return limit
        return MAX_BODY if req.path.startswith(PREFIX) else 4096

    def route(self, req, conn):
        path = req.path
        for prefix, handler, _limit in self.mounts:
            if path.startswith(prefix):
                return handler(req, conn)
        if path in (PREFIX, PREFIX + "/"):
            return self._ubus(req, conn)
        if path == "/" or path == "/index.html":
            if req.method in ("GET", "HEAD"):
                body = self.page()
                return conn.respond(req, 200, b"" if req.method == "HEAD" else body,
                                    "text/html; charset=utf-8", PAGE_HEADERS)
            return conn.respond(req, 405, b"", None, ("Allow: GET, HEAD",))
        conn.respond(req, 404, b"", None)

    def _ubus(self, req, conn):
        if req.method == "POST":
            if req.body_limit_exceeded:
                # uhttpd stops reading, answers a parse error and closes the connection
                return conn.respond(req, 200, rpc.dumps(rpc.error_response(None, rpc.PARSE)))
            return self.dispatcher.handle(req.body, lambda body: conn.respond(req, 200, body), conn.peer)
        if req.method == "OPTIONS":
            return conn.respond(req, 200, b"", "application/json")
        if req.method == "GET":
            return conn.respond(req, 404, b"", None)
        conn.respond(req, 400, b"", None)

    def page(self):
        if self._page is None:
            with open(PAGE, "rb") as f:
                self._page = f.read()
        return self._page

    def stop(self):
        self.server.stop()
        if self.state_dir and self.cli_sid:
            for name in (CLI_SID_FILE, CLI_URL_FILE):
                try:
                    os.unlink(os.path.join(self.state_dir, name))
                except OSError:
                    pass
