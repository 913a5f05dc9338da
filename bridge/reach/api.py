"""The CAMARA routes. The root (bridge/wiring.py build_reach_api) serves them on the JSON-RPC shim's server
where the shim runs (the host) and reach.api_listen / reach.api_port are not set (Mounted), else on an HTTP
server of their own (bridge/jsonrpc/server.py, on the loop) at reach.api_listen:reach.api_port
(127.0.0.1:8070 unless configured), as on a device, where uhttpd and rpcd serve /ubus. That server listens
from the start but is built, with this module, at its first connection (bridge/jsonrpc/listener.py):

    POST   /device-reachability-status-subscriptions/v0.7/subscriptions        create (201)
    GET    /device-reachability-status-subscriptions/v0.7/subscriptions        list (200)
    GET    /device-reachability-status-subscriptions/v0.7/subscriptions/{id}   get (200)
    DELETE /device-reachability-status-subscriptions/v0.7/subscriptions/{id}   delete (204)

`Authorization: Bearer <token>`, where the token is reach.api_token (every operation) or a session of the
device's own rpcd, the one a LuCI user already holds (`ubus call session access` over the daemon's ubus
connection, not blocking the loop, bounded); on the host, a session of the JSON-RPC shim that stands in for
rpcd. What a session may do is its ACL on ubus object `tr069.reach` (ACL_FUNCTIONS). Every answer carries
the request's x-correlator; errors are the API's ErrorInfo (docs/reachability.md lists them).
"""

import json
# hmac's compare_digest without hmac: importing hmac loads hashlib and OpenSSL's libcrypto (~1 MiB)
from _operator import _compare_digest as compare_digest
from collections import deque

from ..logger import getLogger
from . import camara

log = getLogger(__name__)

PREFIX = camara.BASE
COLLECTION = PREFIX + "/subscriptions"
MAX_BODY = 16384
ACL_OBJECT = "tr069.reach"
# rpcd's session ACL functions on tr069.reach: `subscriptions` reads (list, get); `subscribe` creates and
# deletes subscriptions of every type (and reads); `subscribe.<type>` (e.g. subscribe.reachability-sms)
# only those of that type, as CAMARA's per-event-type scopes do
READ, WRITE = "subscriptions", "subscribe"
SHORT = {t: t.rsplit(".", 1)[1] for t in camara.TYPES}  # event type -> reachability-data, ...
NULL_SESSION = "0" * 32  # rpcd's unauthenticated session: no one's login
ACCESS_TIMEOUT = 2.0  # seconds for rpcd to answer `session access`
KNOWN_SESSIONS = 64  # sessions remembered as once valid: one gone since is AUTHENTICATION_REQUIRED

UNAUTHENTICATED = (401, "UNAUTHENTICATED", "Request not authenticated due to missing, invalid, or expired credentials.")
AUTHENTICATION_REQUIRED = (401, "AUTHENTICATION_REQUIRED", "New authentication is required.")
PERMISSION_DENIED = (403, "PERMISSION_DENIED", "Client does not have sufficient permissions to perform this action.")
SUBSCRIPTION_MISMATCH = (403, "SUBSCRIPTION_MISMATCH", "Inconsistent access token for requested events subscription")
UNAVAILABLE = (503, "UNAVAILABLE", "The station cannot check the access token now.")


class Authority:
    """Who holds which of the API's ACL functions: check(token, functions, done) calls done(verdict,
    granted) once, on the loop: verdict None (granted: the functions among `functions` the token holds) or
    one of the errors above (UNAUTHENTICATED, AUTHENTICATION_REQUIRED, UNAVAILABLE)."""

    def __init__(self, api_token, sessions=None, ubus=None, timeout=ACCESS_TIMEOUT):
        """api_token() -> reach.api_token ("": none); sessions: the shim's SessionStore (the host), or None;
        ubus() -> the daemon's ubus connection (rpcd's sessions), or None."""
        self.api_token = api_token
        self.sessions = sessions
        self.ubus = ubus
        self.timeout = timeout
        self.known = deque(maxlen=KNOWN_SESSIONS)  # hash() of sessions seen valid (never the ids themselves)

    def check(self, token, functions, done):
        configured = self.api_token()
        if configured and compare_digest(token.encode(), configured.encode()):
            return done(None, set(functions))
        if token == NULL_SESSION:
            return done(UNAUTHENTICATED, set())
        session = self.sessions.get(token) if self.sessions is not None else None
        if session is not None:
            self._seen(token)
            return done(None, {f for f in functions if session.allowed("ubus", ACL_OBJECT, f)})
        conn = self.ubus() if self.ubus is not None else None
        if conn is None or not conn.connected:
            return done(self._unknown(token) if conn is None else UNAVAILABLE, set())
        answers = {}

        def answered(function, code, data):
            if function in answers:
                return
            answers[function] = (code, data)
            if len(answers) < len(functions):
                return
            codes = {c for c, _ in answers.values()}
            if codes == {0}:
                self._seen(token)
                return done(None, {f for f, (_, d) in answers.items() if isinstance(d, dict) and d.get("access") is True})
            if 4 in codes:  # rpcd: no such session (never was, logged out, or expired)
                return done(self._unknown(token), set())
            log.warning("reach: rpcd's session access answered %s", sorted(codes))
            return done(UNAVAILABLE, set())

        for function in functions:
            conn.call("session", "access", {"ubus_rpc_session": token, "scope": "ubus", "object": ACL_OBJECT,
                                            "function": function},
                      lambda code, data, f=function: answered(f, code, data), timeout=self.timeout)

    def _seen(self, token):
        h = hash(token)
        if h not in self.known:
            self.known.append(h)

    def _unknown(self, token):
        return AUTHENTICATION_REQUIRED if hash(token) in self.known else UNAUTHENTICATED


class Api:
    def __init__(self, reach, authority):
        self.reach = reach
        self.authority = authority

    def handle(self, req, conn):
        xcor = req.headers.get("x-correlator")
        extra = []
        try:
            xcor = camara.correlator(xcor)
            if xcor:
                extra.append("x-correlator: " + xcor)
            self._route(req, lambda status, body: self._answer(req, conn, extra, status, body))
        except camara.ApiError as e:
            self._answer(req, conn, extra, e.status, e.body())

    @staticmethod
    def _answer(req, conn, extra, status, body):
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = tuple(extra) + (("Cache-Control: no-store",) if status < 300 else ())
        if status == 401:
            headers += ('WWW-Authenticate: Bearer realm="tr069-bridge"',)
        conn.respond(req, status, payload, "application/json" if body is not None else None, headers)

    def _route(self, req, answer):
        path = req.path.rstrip("/") if req.path != COLLECTION + "/" else req.path
        if path == COLLECTION:
            if req.method == "POST":
                if req.body_limit_exceeded:
                    raise camara.invalid("The request body is larger than %d bytes" % MAX_BODY)
                try:
                    body = json.loads(req.body)
                except ValueError:
                    raise camara.invalid("The request body is not JSON") from None
                types = body.get("types") if isinstance(body, dict) else None
                kind = types[0] if isinstance(types, list) and types and types[0] in camara.TYPES else None
                return self._authorized(req, answer, lambda g: _writes(g, kind),
                                        lambda g: (201, self.reach.create(body)))
            if req.method == "GET":
                return self._authorized(req, answer, lambda g: READ in g or WRITE in g or _any_type(g),
                                        lambda g: (200, self._listed(g)))
            raise camara.ApiError(405, "METHOD_NOT_ALLOWED", "The method is not allowed on this resource.")
        if req.path == COLLECTION + "/":
            raise camara.missing("subscriptionId")
        if path.startswith(COLLECTION + "/"):
            sid = path[len(COLLECTION) + 1:]
            if "/" in sid:
                raise camara.ApiError(404, "NOT_FOUND", "The specified resource is not found.")
            kind = self.reach.type_of(sid)  # None when there is no such subscription: 404 once authorized
            if req.method == "GET":
                return self._authorized(req, answer, lambda g: READ in g or _writes(g, kind),
                                        lambda g: (200, self.reach.get(sid)))
            if req.method == "DELETE":
                return self._authorized(req, answer, lambda g: _writes(g, kind),
                                        lambda g: (204, self.reach.delete(sid)))
            raise camara.ApiError(405, "METHOD_NOT_ALLOWED", "The method is not allowed on this resource.")
        raise camara.ApiError(404, "NOT_FOUND", "The specified resource is not found.")

    def _listed(self, granted):
        if READ in granted or WRITE in granted:
            return self.reach.list()
        return [s for s in self.reach.list() if _mine(s["types"][0]) in granted]

    def _authorized(self, req, answer, allowed, act):
        """act(granted) -> (status, body) once the token's grants pass allowed(granted); the API's 401, 403
        or 503 otherwise. 403 SUBSCRIPTION_MISMATCH where the token holds other event types than this one's."""
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > camara.MAX_TOKEN:
            return answer(*_error(UNAUTHENTICATED))

        def decided(verdict, granted):
            if verdict is not None:
                return answer(*_error(verdict))
            if not allowed(granted):
                return answer(*_error(SUBSCRIPTION_MISMATCH if _any_type(granted) else PERMISSION_DENIED))
            try:
                return answer(*act(granted))
            except camara.ApiError as e:
                return answer(e.status, e.body())

        self.authority.check(token, FUNCTIONS, decided)


def _mine(kind):
    return "%s.%s" % (WRITE, SHORT[kind])


PER_TYPE = tuple(_mine(t) for t in camara.TYPES)
FUNCTIONS = (READ, WRITE) + PER_TYPE  # what is asked of rpcd for every request (one call each, at once)


def _any_type(granted):
    return any(f in granted for f in PER_TYPE)


def _writes(granted, kind):
    """Create or delete a subscription of `kind` (None: a type not known yet, or no such subscription)."""
    return WRITE in granted or (_mine(kind) in granted if kind else _any_type(granted))


def _error(triple):
    status, code, message = triple
    return status, {"status": status, "code": code, "message": message}
class Mounted:
    """The API's routes on another server of the daemon (the JSON-RPC shim's, the root mounts them) as a
    surface: start mounts, stop unmounts. base: that server's http://host:port."""

    def __init__(self, base, mount, unmount):
        self.base = base
        self.mount = mount
        self.unmount = unmount

    def start(self):
        self.mount()
        log.info("reach: the CAMARA API is served at %s (the JSON-RPC shim's server)", self.url())

    def url(self):
        return self.base + PREFIX

    def state(self):
        return {"url": self.url()}

    def stop(self):
        self.unmount()
