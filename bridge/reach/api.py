"""The CAMARA routes on the daemon's HTTP server (bridge/jsonrpc/server.py, mounted by the shim):

    POST   /device-reachability-status-subscriptions/v0.7/subscriptions        create (201)
    GET    /device-reachability-status-subscriptions/v0.7/subscriptions        list (200)
    GET    /device-reachability-status-subscriptions/v0.7/subscriptions/{id}   get (200)
    DELETE /device-reachability-status-subscriptions/v0.7/subscriptions/{id}   delete (204)

Authenticated as the shim's callers are: `Authorization: Bearer <token>`, where the token is a session of
the shim (session login) whose ACLs grant ubus object `tr069.reach` `subscriptions` (list, get) or
`subscribe` (create, delete, and list/get as write implies read), or reach.api_token from UCI (every
operation). No token, or one that is neither: 401 UNAUTHENTICATED; a session without the grant: 403
PERMISSION_DENIED. Every answer carries the request's x-correlator; errors are the API's ErrorInfo.
"""

import json
# hmac's compare_digest without hmac: importing hmac loads hashlib and OpenSSL's libcrypto (~1 MiB)
from _operator import _compare_digest as compare_digest

from . import camara

PREFIX = camara.BASE
COLLECTION = PREFIX + "/subscriptions"
MAX_BODY = 16384
ACL_OBJECT = "tr069.reach"


class Api:
    def __init__(self, reach, sessions, api_token=lambda: ""):
        """sessions: the shim's SessionStore (or None); api_token() -> reach.api_token ("" : none)."""
        self.reach = reach
        self.sessions = sessions
        self.api_token = api_token

    def handle(self, req, conn):
        xcor = req.headers.get("x-correlator")
        extra = ()
        try:
            xcor = camara.correlator(xcor)
            if xcor:
                extra = ("x-correlator: " + xcor,)
            status, body = self._route(req)
        except camara.ApiError as e:
            status, body = e.status, e.body()
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        conn.respond(req, status, payload, "application/json" if body is not None else None,
                     extra + (("Cache-Control: no-store",) if status < 300 else ()))

    def _route(self, req):
        path = req.path.rstrip("/") if req.path != COLLECTION + "/" else req.path
        if path == COLLECTION:
            if req.method == "POST":
                self._authorize(req, "subscribe")
                if req.body_limit_exceeded:
                    raise camara.invalid("The request body is larger than %d bytes" % MAX_BODY)
                try:
                    body = json.loads(req.body)
                except ValueError:
                    raise camara.invalid("The request body is not JSON") from None
                return 201, self.reach.create(body)
            if req.method == "GET":
                self._authorize(req, "subscriptions")
                return 200, self.reach.list()
            raise camara.ApiError(405, "METHOD_NOT_ALLOWED", "The method is not allowed on this resource.")
        if req.path == COLLECTION + "/":
            raise camara.missing("subscriptionId")
        if path.startswith(COLLECTION + "/"):
            sid = path[len(COLLECTION) + 1:]
            if "/" in sid:
                raise camara.ApiError(404, "NOT_FOUND", "The specified resource is not found.")
            if req.method == "GET":
                self._authorize(req, "subscriptions")
                return 200, self.reach.get(sid)
            if req.method == "DELETE":
                self._authorize(req, "subscribe")
                self.reach.delete(sid)
                return 204, None
            raise camara.ApiError(405, "METHOD_NOT_ALLOWED", "The method is not allowed on this resource.")
        raise camara.ApiError(404, "NOT_FOUND", "The specified resource is not found.")

    def _authorize(self, req, function):
        value = req.headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise camara.ApiError(401, *camara.UNAUTHENTICATED)
        configured = self.api_token()
        if configured and compare_digest(token.encode(), configured.encode()):
            return
        session = self.sessions.get(token) if self.sessions is not None else None
        if session is None:
            raise camara.ApiError(401, *camara.UNAUTHENTICATED)
        if session.allowed("ubus", ACL_OBJECT, function) or (
                function == "subscriptions" and session.allowed("ubus", ACL_OBJECT, "subscribe")):
            return
        raise camara.ApiError(403, *camara.PERMISSION_DENIED)
