"""JSON-RPC 2.0 dispatch in the wire format of uhttpd's /ubus endpoint (uhttpd ubus.c).

Pure logic over a body and a set of objects; the HTTP side lives in server.py. Where uhttpd's
behaviour differs from the JSON-RPC 2.0 text, uhttpd wins, because LuCI and the ubus JSON-RPC
clients are written against it:
  - a request object that is not an object, lacks "jsonrpc":"2.0" or a string "method", or a "call"
    whose params do not hold [sid, object, method, {args}] is answered -32700 (not -32600);
  - params of "call" are matched by type in order, as blobmsg_parse_array does: elements of the
    wrong type are skipped, so ["sid", 1, "tr069", "status", {}] is a valid call;
  - an empty batch is answered [] and a call's result is [status] or [status, data]; data is left
    out when the object answered nothing or an empty table;
  - an unknown or expired session is denied with -32002 (uhttpd never sends -32001: it only asks
    rpcd's session.access, which says no for a session that does not exist);
  - args may not carry "ubus_rpc_session" (-32602); the shim adds it, as uhttpd does.
"""

import json

from bridge import ubusmsg
from bridge.jsonrpc import jsonc

from ..logger import getLogger

log = getLogger(__name__)

PARSE, REQUEST, METHOD, PARAMS, INTERNAL, OBJECT, SESSION, ACCESS, TIMEOUT = range(9)
ERRORS = {
    PARSE: (-32700, "Parse error"),
    REQUEST: (-32600, "Invalid request"),
    METHOD: (-32601, "Method not found"),
    PARAMS: (-32602, "Invalid parameters"),
    INTERNAL: (-32603, "Internal error"),
    OBJECT: (-32000, "Object not found"),
    SESSION: (-32001, "Session not found"),
    ACCESS: (-32002, "Access denied"),
    TIMEOUT: (-32003, "ubus request timed out"),
}

MAX_DEPTH = jsonc.MAX_DEPTH  # json-c's tokener depth; deeper documents are a parse error there
MAX_BATCH = 256  # requests in one batch; a longer batch is answered with one -32600 error

# blobmsg type in a method signature -> the word uhttpd's "list" prints (uh_ubus_list_cb)
SIGNATURE_TYPES = {ubusmsg.BLOBMSG_BOOL: "boolean", ubusmsg.BLOBMSG_INT32: "number", ubusmsg.BLOBMSG_STRING: "string",
                   ubusmsg.BLOBMSG_ARRAY: "array", ubusmsg.BLOBMSG_TABLE: "object"}

# [sid, object, method, args]: the blobmsg types blobmsg_parse_array matches them by
_CALL_PARAM_TYPES = (str, str, str, dict)

def dumps(obj):
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate from an object's answer: U+FFFD, as json-c writes
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode()


def decode_body(body):
    """The parsed document, or None where json-c's tokener would not give an object or array."""
    try:
        doc = jsonc.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, (dict, list)) or _too_deep(doc):
        return None
    return doc


def _too_deep(doc):
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def error_response(req_id, kind):
    code, message = ERRORS[kind]
    return {"jsonrpc": "2.0", "id": req_id, "error": {"code": code, "message": message}}


def result_response(req_id, result):
    return {"jsonrpc": "2.0", "id": req_id, "result": result}


def parse_call_params(params):
    """(sid, object, method, args) or None, matching elements by type as blobmsg_parse_array does."""
    if not isinstance(params, list):
        return None
    found = []
    for value in params:
        want = _CALL_PARAM_TYPES[len(found)]
        # bool is an int subclass in Python, never a str or dict, so isinstance is exact here
        if isinstance(value, want):
            found.append(value)
            if len(found) == 4:
                return tuple(found)
    return None


def signature_words(signature):
    return {m: {a: SIGNATURE_TYPES.get(t, "unknown") for a, t in args.items()}
            for m, args in signature.items()}


class Dispatcher:
    """Answers request bodies.

    objects(): {name: object} the endpoint serves (the daemon's and the session object);
    sessions: the SessionStore (access checks); loop: for call timeouts of deferred answers.
    An object's call() returns (status, data) or a future-like object with add_done_callback()
    whose result() is (status, data); then the answer waits, at most `timeout` seconds.
    """

    def __init__(self, objects, sessions, loop=None, timeout=60.0, on_call=None):
        self.objects = objects
        self.sessions = sessions
        self.loop = loop
        self.timeout = timeout
        self.on_call = on_call  # observer(object, method, sid) for logging and tests

    # --- entry points -----------------------------------------------------------------------
    def handle(self, body, done, peer=None):
        """Answer a POST /ubus body; done(bytes) is called exactly once, maybe before returning."""
        doc = decode_body(body)
        if isinstance(doc, dict):
            self.handle_object(doc, lambda resp: done(dumps(resp)), peer)
        elif isinstance(doc, list):
            if len(doc) > MAX_BATCH:
                # one answer, not thousands: 64 KiB of numbers would otherwise be a 2.5 MB reply
                return done(dumps(error_response(None, REQUEST)))
            _Batch(self, doc, done, peer).next()
        else:
            done(dumps(error_response(None, PARSE)))

    def handle_object(self, obj, done, peer=None):
        if not isinstance(obj, dict):
            return done(error_response(None, PARSE))
        req_id = obj.get("id")
        method = obj.get("method")
        if obj.get("jsonrpc") != "2.0" or not isinstance(method, str):
            return done(error_response(req_id, PARSE))
        if method == "call":
            call = parse_call_params(obj.get("params"))
            if call is None:
                return done(error_response(req_id, PARSE))
            return self.call(req_id, *call, done=done, peer=peer)
        if method == "list":
            return done(result_response(req_id, self.list(obj.get("params"))))
        return done(error_response(req_id, METHOD))

    # --- methods --------------------------------------------------------------------------------
    def list(self, params):
        objects = self.objects()
        if not isinstance(params, list):
            return sorted(objects)
        out = {}
        for pattern in params:
            if not isinstance(pattern, str) or not pattern:
                continue
            if pattern.endswith("*"):
                names = sorted(n for n in objects if n.startswith(pattern[:-1]))
            else:
                names = [pattern] if pattern in objects else []
            for name in names:
                sig = getattr(objects[name], "signature", None)
                if sig is not None:
                    out[name] = signature_words(sig())
        return out

    def call(self, req_id, sid, name, method, args, done, peer=None):
        obj = self.objects().get(name)
        if obj is None:
            return done(error_response(req_id, OBJECT))
        if not self.sessions.access(sid, "ubus", name, method):
            return done(error_response(req_id, ACCESS))
        if "ubus_rpc_session" in args:
            return done(error_response(req_id, PARAMS))
        args = dict(args)
        args["ubus_rpc_session"] = sid
        if self.on_call is not None:
            self.on_call(name, method, sid)
        try:
            call_from = getattr(obj, "call_from", None)
            res = call_from(method, args, peer) if call_from else obj.call(method, args)
        except Exception:
            log.exception("%s.%s failed", name, method)
            return done(error_response(req_id, INTERNAL))
        if hasattr(res, "add_done_callback"):
            return self._await(req_id, res, done)
        self._finish(req_id, res, done)

    def _finish(self, req_id, res, done):
        try:
            status, data = res
            status = int(status)
        except (TypeError, ValueError):
            log.error("object answered %r, not (status, data)", res)
            return done(error_response(req_id, INTERNAL))
        done(result_response(req_id, [status, data] if data else [status]))

    def _await(self, req_id, future, done):
        state = {"done": False}

        def finish(fut=None):
            if state["done"]:
                return
            state["done"] = True
            timer.cancel()
            if fut is None:
                return done(error_response(req_id, TIMEOUT))
            try:
                res = fut.result()
            except Exception:
                log.exception("deferred call failed")
                return done(error_response(req_id, INTERNAL))
            self._finish(req_id, res, done)

        timer = self.loop.call_later(self.timeout, finish)
        future.add_done_callback(lambda fut: self.loop.call_soon_threadsafe(finish, fut))


class _Batch:
    """Answers the elements of a batch in order, like uhttpd: one at a time, joined by commas."""

    def __init__(self, dispatcher, items, done, peer):
        self.d, self.items, self.done, self.peer = dispatcher, items, done, peer
        self.parts = []
        self.index = 0
        self.pending = False
        self.in_call = False

    def next(self):
        # iterative, so a batch of thousands of synchronous calls does not recurse
        while self.index < len(self.items):
            item = self.items[self.index]
            self.index += 1
            self.pending, self.in_call = True, True
            self.d.handle_object(item, self._answered, self.peer)
            self.in_call = False
            if self.pending:
                return  # a deferred answer: _answered resumes the batch
        self.done(b"[" + b",".join(self.parts) + b"]")

    def _answered(self, resp):
        self.parts.append(dumps(resp))
        self.pending = False
        if not self.in_call:
            self.next()
