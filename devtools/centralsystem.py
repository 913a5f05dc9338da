"""A development OS3P central system (the server side), built on the `websockets` package.

    python -m devtools.centralsystem [--port 9000] [--path /OS3P] [--boot Accepted] [--interval 300]

It accepts substations at ws://HOST:PORT/PATH/<identity>, answers their CALLs (BootNotification with the
configured status and interval, Heartbeat with the time, {} for notifications), logs every message, and
reads commands on stdin to send any server-initiated action:

    GetConfiguration {"key": ["HeartbeatInterval"]}
    SUBS001 Reset {"type": "Hard"}        (the identity is needed only when several are connected)
    help UpdateFirmware                   (an example payload, ready to send: devtools/examples.py)
    list | help | quit

On the same port it serves firmware images over plain HTTP: GET /firmware/<name> answers a small file whose
first line is <name>, which a host daemon's simulated flash takes as the new firmware version. With
--api-port N --upload-dir DIR (make run gives both) port N also takes GetFile's uploads at POST /upload/.

Tests use the same class in-process (CentralSystem(...).start()), with hooks to misbehave: refuse the
subprotocol, answer 404/401, close right after the handshake, send garbage, answer late or never.
For development and tests only: it needs `websockets` (asyncio), which the device does not ship.
"""

import argparse
import asyncio
import base64
import itertools
import json
import sys
import threading
import time
from datetime import datetime, timezone
from http import HTTPStatus
from urllib.parse import unquote

OS3P = "OS3P1.0"
CLIENT_ACTIONS = ("BootNotification", "DataModelNotification", "GetFileStatusNotification",
                  "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StatusNotification",
                  "StreetlightModeStatusNotification", "StreetlightStatusNotification")
SERVER_ACTIONS = ("ChangeConfiguration", "ClearSingleStreetlightProfile", "DataModel", "GetConfiguration",
                  "GetEffectiveStreetlightDaySchedule", "GetFile", "OverrideStreetlight", "ResumeStreetlight",
                  "Reset", "ResetMVFaultIndicator", "SetStreetlightProfile", "TestMVFaultIndicator",
                  "TriggerMessage", "UpdateFirmware")
NO_ANSWER = object()  # a responder returning this leaves the CALL unanswered


_now_cache = [None, ""]


def utc_now():
    """The time in RFC 3339 with milliseconds (formatting once per second: the bench goes through here)."""
    t = time.time()
    sec = int(t)
    if _now_cache[0] != sec:
        _now_cache[0], _now_cache[1] = sec, datetime.fromtimestamp(sec, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return "%s.%03dZ" % (_now_cache[1], int((t - sec) * 1000))


FIRMWARE_PREFIX = "/firmware/"


def firmware_image(path):
    """The body GET /firmware/<name> answers (its first line is <name>: the version a host flash installs),
    or None for any other path. Names are letters, digits, '.', '_', '-', at most 64."""
    if not path.startswith(FIRMWARE_PREFIX):
        return None
    name = unquote(path[len(FIRMWARE_PREFIX):].split("?", 1)[0])
    if not name or len(name) > 64 or not all(c.isascii() and (c.isalnum() or c in "._-") for c in name):
        return None
    return "%s\nA firmware image from the development central system: a host daemon's simulated flash " \
           "installs the version on the first line.\n" % name


class CallErrorReply(Exception):
    """Raised by a responder to answer a CALL with a CALLERROR."""

    def __init__(self, code, description="", details=None):
        super().__init__(code)
        self.code, self.description, self.details = code, description, details or {}


class CentralSystem:
    def __init__(self, host="127.0.0.1", port=0, path="/OS3P", subprotocols=(OS3P,), ssl_context=None,
                 basic_auth=None, identities=None, boot_status="Accepted", boot_interval=300, out=None,
                 quiet=False):
        self.host, self.port, self.path = host, port, path.rstrip("/")
        self.subprotocols = list(subprotocols)
        self.ssl_context = ssl_context
        self.basic_auth = basic_auth  # (user, password) or None
        self.identities = identities  # None: accept any identity; else a set (others get 404)
        self.boot_status, self.boot_interval = boot_status, boot_interval
        self.responders = {}  # action -> fn(identity, payload) -> payload | NO_ANSWER; may raise CallErrorReply
        self.on_connect = None  # async fn(identity, ws) -> False to drop the connection at once
        self.out = out if out is not None else sys.stdout
        self.quiet = quiet
        self.upload_address = None  # host:port of the upload receiver (a Northbound with uploads sets it): help
        self.received = []  # (identity, message list) of every message from a substation, in order
        self.events = []  # ("connect" | "refused" | "disconnect", identity, detail, time)
        self.connections = {}
        self.paths = []  # the request path of every handshake, as sent (percent-encoded)
        self.handshakes = []  # the request headers of every handshake (websockets' Headers), as sent
        self._pending = {}
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._loop = None
        self._server = None
        self._thread = None

    # --- life cycle --------------------------------------------------------------------------
    def start(self):
        ready = threading.Event()
        failure = []

        def run():
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(self._start_server())
            except Exception as e:
                failure.append(e)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="centralsystem", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise failure[0]
        return self

    async def _start_server(self):
        from websockets.asyncio.server import serve

        self._server = await serve(self._handler, self.host, self.port, ssl=self.ssl_context,
                                   process_request=self._process_request, select_subprotocol=self._select,
                                   compression=None, ping_interval=None, max_size=1 << 20, server_header=None)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self):
        """Close every connection and the listening socket (as a server that dies would)."""
        if self._loop is None:
            return

        async def shutdown():
            self._server.close()
            for ws in list(self.connections.values()):
                ws.transport.abort()
            await asyncio.wait_for(self._server.wait_closed(), 5)

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    @property
    def url(self):
        return "%s://%s:%d%s" % ("wss" if self.ssl_context else "ws", self.host, self.port, self.path)

    # --- handshake -------------------------------------------------------------------------------
    def _identity(self, path):
        path = path.split("?", 1)[0]
        if not path.startswith(self.path + "/"):
            return None
        ident = unquote(path[len(self.path) + 1:])
        return ident if ident and "/" not in ident else None

    def _process_request(self, ws, request):
        with self._cond:
            self.paths.append(request.path)
            self.handshakes.append(request.headers)
        image = firmware_image(request.path)
        if image is not None:  # plain HTTP, for UpdateFirmware's example (devtools/examples.py)
            self._event("download", request.path, "%d bytes" % len(image))
            response = ws.respond(HTTPStatus.OK, image)
            response.headers["Content-Type"] = "application/octet-stream"
            return response
        ident = self._identity(request.path)
        if ident is None or (self.identities is not None and ident not in self.identities):
            self._event("refused", ident or request.path, "404")
            return ws.respond(HTTPStatus.NOT_FOUND, "unknown substation\n")
        if self.basic_auth is not None:
            expected = "Basic " + base64.b64encode(("%s:%s" % self.basic_auth).encode()).decode()
            if request.headers.get("Authorization") != expected:
                self._event("refused", ident, "401")
                response = ws.respond(HTTPStatus.UNAUTHORIZED, "authentication required\n")
                response.headers["WWW-Authenticate"] = 'Basic realm="OS3P"'
                return response
        return None

    def _select(self, ws, offered):
        for proto in offered:
            if proto in self.subprotocols:
                return proto
        return None  # spec 3.2: complete the handshake without a subprotocol (then close)

    # --- the connection ------------------------------------------------------------------------------
    async def _handler(self, ws):
        ident = self._identity(ws.request.path)
        if ws.subprotocol is None:
            self._event("connect", ident, "no subprotocol agreed: closing")
            await ws.close(1002, "no subprotocol")
            return
        self._event("connect", ident, ws.subprotocol)
        if self.on_connect is not None and await self.on_connect(ident, ws) is False:
            ws.transport.abort()
            self._event("disconnect", ident, "dropped by the on_connect hook")
            return
        old = self.connections.get(ident)
        self.connections[ident] = ws
        if old is not None:
            old.transport.abort()
        try:
            async for text in ws:
                self._log(ident, "<-", text)
                await self._dispatch(ident, ws, text)
        except Exception as e:  # a connection that breaks is an event, not a crash
            self._event("disconnect", ident, "%s %s" % (e.__class__.__name__, ws.close_code))
        else:
            self._event("disconnect", ident, "closed %s" % (ws.close_code,))  # the substation's close code
        finally:
            if self.connections.get(ident) is ws:
                del self.connections[ident]
            for key, fut in list(self._pending.items()):
                if key[0] == ident and not fut.done():
                    fut.set_exception(ConnectionError("connection closed"))

    async def _dispatch(self, ident, ws, text):
        try:
            msg = json.loads(text)
        except ValueError:
            self._record(ident, ["unparsable", text])
            return
        self._record(ident, msg)
        if not isinstance(msg, list) or len(msg) < 3:
            return
        if msg[0] == 2 and len(msg) == 4:
            reply = self._answer(ident, msg[1], msg[2], msg[3])
            if reply is not None:
                await self._send(ident, ws, reply)
        elif msg[0] in (3, 4):
            fut = self._pending.pop((ident, msg[1]), None)
            if fut is not None and not fut.done():
                fut.set_result(msg)

    def _answer(self, ident, msg_id, action, payload):
        responder = self.responders.get(action)
        try:
            result = responder(ident, payload) if responder else self._default_responder(ident, action, payload)
        except CallErrorReply as e:
            return json.dumps([4, msg_id, e.code, e.description, e.details])
        if result is NO_ANSWER:
            return None
        if isinstance(result, str):
            return result  # raw text, for tests that answer with something broken
        return json.dumps([3, msg_id, result])

    def _default_responder(self, ident, action, payload):
        if action == "BootNotification":
            return {"status": self.boot_status, "currentTime": utc_now(), "interval": self.boot_interval}
        if action == "Heartbeat":
            return {"currentTime": utc_now()}
        if action in CLIENT_ACTIONS:
            return {}
        raise CallErrorReply("NotImplemented", "unknown action %s" % action)

    async def _send(self, ident, ws, text):
        self._log(ident, "->", text)
        await ws.send(text)

    # --- thread-safe API (tests, the command line) --------------------------------------------------
    def call(self, identity, action, payload=None, timeout=10.0):
        """Send a CALL; returns the answer as the message list ([3, id, payload] or [4, id, code, ...])."""
        return self._run(self._call(identity, action, {} if payload is None else payload, timeout), timeout + 1)

    async def _call(self, identity, action, payload, timeout):
        ws = self.connections[identity]
        msg_id = "cs-%d" % next(self._ids)
        fut = self._loop.create_future()
        self._pending[(identity, msg_id)] = fut
        # a plain timer rather than asyncio.wait_for: the bench measures round trips through here
        timer = self._loop.call_later(timeout, lambda: fut.done() or fut.set_exception(TimeoutError(action)))
        await self._send(identity, ws, json.dumps([2, msg_id, action, payload]))
        try:
            return await fut
        finally:
            timer.cancel()
            self._pending.pop((identity, msg_id), None)

    def send_raw(self, identity, text, timeout=5.0):
        self._run(self._send(identity, self.connections[identity], text), timeout)

    def close_connection(self, identity, abort=True):
        async def close():
            ws = self.connections.get(identity)
            if ws is not None:
                if abort:
                    ws.transport.abort()
                else:
                    await ws.close()

        self._run(close(), 5)

    def _run(self, coro, timeout):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def wait_for(self, predicate, timeout=10.0):
        """Block until predicate(self) is true; returns its value, or raises TimeoutError."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(self)
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("condition not met within %.1f s" % timeout)
                self._cond.wait(min(left, 0.5))

    def calls(self, action=None, identity=None):
        """CALLs received from substations, as [2, id, action, payload], optionally of one action."""
        with self._cond:
            return [m for i, m in self.received if isinstance(m, list) and len(m) == 4 and m[0] == 2
                    and (action is None or m[2] == action) and (identity is None or i == identity)]

    def calls_by(self, action):
        """(identity, [2, id, action, payload]) of every CALL of one action received, in order."""
        with self._cond:
            return [(i, m) for i, m in self.received if isinstance(m, list) and len(m) == 4 and m[0] == 2
                    and m[2] == action]

    def count(self, kind, identity=None):
        with self._cond:
            return sum(1 for e in self.events if e[0] == kind and (identity is None or e[1] == identity))

    # --- bookkeeping and log ---------------------------------------------------------------------------
    def _record(self, ident, msg):
        with self._cond:
            self.received.append((ident, msg))
            self._cond.notify_all()

    def _event(self, kind, ident, detail):
        with self._cond:
            self.events.append((kind, ident, detail, time.monotonic()))
            self._cond.notify_all()
        self._write("%s %s %s %s" % (utc_now(), ident, kind, detail))

    def _log(self, ident, direction, text):
        if not self.quiet:
            self._write("%s %s %s %s" % (utc_now(), ident, direction, text))

    def _write(self, line):
        if not self.quiet:
            try:
                self.out.write(line + "\n")
                self.out.flush()
            except ValueError:
                pass  # the stream was closed under us (end of a test)


# --- the command line ---------------------------------------------------------------------------------
HELP = """  ACTION [JSON]              send a server-initiated action to the connected substation
  IDENTITY ACTION [JSON]     ... to that one, when several are connected
  help ACTION                an example payload, ready to send (one of %s)
  list                       the connected substations
  quit"""


def _say(line):
    print("  %s" % line, flush=True)


def _close_match(word, words):
    import difflib

    close = difflib.get_close_matches(word, list(words), n=1)
    return " (did you mean %s?)" % close[0] if close else ""


def _help(cs, words):
    from .examples import DEFAULT_UPLOAD, EXAMPLES, example

    if len(words) == 1:
        _say(HELP.strip() % ", ".join(SERVER_ACTIONS))
        return
    action = words[1]
    if action not in EXAMPLES:
        _say("no action %s%s; help lists them" % (action, _close_match(action, EXAMPLES)))
        return
    upload = cs.upload_address
    payload, note = example(action, "%s:%d" % (cs.host, cs.port), upload or DEFAULT_UPLOAD)
    if action == "GetFile" and upload is None:
        note += " (make run serves one; here: --api-port N --upload-dir DIR)"
    _say("%s: %s" % (action, note))
    _say("%s %s" % (action, json.dumps(payload)))


def _parse(cs, words):
    """-> (identity, action, payload) or None after saying what is wrong with the line."""
    connected = sorted(cs.connections)
    if words[0] in SERVER_ACTIONS:
        identity, action, rest = None, words[0], " ".join(words[1:])
    elif len(words) > 1 and words[1].split(None, 1)[0] in SERVER_ACTIONS:
        identity, (action, _, rest) = words[0], " ".join(words[1:]).partition(" ")
        if identity not in cs.connections:
            _say("%s is not connected (connected: %s)" % (identity, ", ".join(connected) or "none"))
            return None
    else:
        _say("no action %s%s; help lists them" % (words[0], _close_match(words[0], SERVER_ACTIONS)))
        return None
    if identity is None:
        if not connected:
            _say("no substation is connected yet")
            return None
        if len(connected) > 1:
            _say("several are connected: name one (IDENTITY %s ...): %s" % (action, ", ".join(connected)))
            return None
        identity = connected[0]
    try:
        payload = json.loads(rest) if rest.strip() else {}
    except ValueError as e:
        _say("the payload of %s is not JSON (%s); help %s prints one that works" % (action, e, action))
        return None
    if not isinstance(payload, dict):
        _say("the payload of %s is a JSON object, {...}; help %s prints one that works" % (action, action))
        return None
    return identity, action, payload


def _answer_text(reply):
    """[3, id, payload] or [4, id, code, description, details] as one line."""
    if reply and reply[0] == 3:
        return "answer: %s" % json.dumps(reply[2])
    if reply and reply[0] == 4:
        code, description = reply[2], reply[3] if len(reply) > 3 else ""
        return "refused: CALLERROR %s%s" % (code, ": %s" % description if description else "")
    return "answer: %s" % json.dumps(reply)


def _command(cs, line, timeout=10.0):
    words = line.strip().split(None, 2)
    if not words:
        return True
    if words[0] in ("quit", "exit"):
        return False
    if words[0] == "help":
        _help(cs, words)
        return True
    if words[0] == "list":
        _say("connected: %s" % (", ".join(sorted(cs.connections)) or "none"))
        return True
    parsed = _parse(cs, line.strip().split(None, 1))
    if parsed is None:
        return True
    identity, action, payload = parsed
    try:
        _say(_answer_text(cs.call(identity, action, payload, timeout=timeout)))
    except (TimeoutError, ConnectionError) as e:
        _say("no answer from %s to %s within %g s%s" % (
            identity, action, timeout, "" if isinstance(e, TimeoutError) else ": the connection closed"))
    except KeyError:
        _say("%s is not connected any more (connected: %s)" % (identity, ", ".join(sorted(cs.connections)) or "none"))
    return True


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m devtools.centralsystem", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--path", default="/OS3P")
    p.add_argument("--boot", default="Accepted", choices=("Accepted", "Pending", "Rejected"))
    p.add_argument("--interval", type=int, default=300, help="heartbeat interval given in BootNotification")
    p.add_argument("--cert", help="serve wss:// with this certificate (PEM, may include the key)")
    p.add_argument("--key", help="the certificate's private key (PEM)")
    p.add_argument("--user", help="require HTTP Basic auth with this user (password from --password)")
    p.add_argument("--password", default="")
    p.add_argument("--api-port", type=int, default=0,
                   help="serve the northbound REST API (docs/dms-api.md) on this port (0: not served)")
    p.add_argument("--upload-dir", default=None,
                   help="with --api-port: take GetFile's uploads at POST /upload/ on that port, into this "
                        "directory (devtools/uploads.py)")
    args = p.parse_args(argv)
    ctx = None
    if args.cert:
        import ssl

        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
    cs = CentralSystem(args.host, args.port, args.path, ssl_context=ctx,
                       basic_auth=(args.user, args.password) if args.user else None,
                       boot_status=args.boot, boot_interval=args.interval).start()
    print("central system listening on %s/<identity> (firmware images: http://%s:%d/firmware/<name>); type help, "
          "or help ACTION for an example" % (cs.url, cs.host, cs.port), flush=True)
    api = None
    if args.api_port:
        from devtools.northbound import Northbound  # its own module: the REST API of docs/dms-api.md

        api = Northbound(cs, args.host, args.api_port, uploads=args.upload_dir).start()
        print("northbound REST API on %s (docs/dms-api.md)" % api.url, flush=True)
        if args.upload_dir:
            print("uploads (GetFile) taken at %s into %s" % (api.upload_url, args.upload_dir), flush=True)
    try:
        for line in sys.stdin:
            if not _command(cs, line):
                break
        else:
            threading.Event().wait()  # stdin closed (run in the background): keep serving
    except KeyboardInterrupt:
        pass
    finally:
        if api is not None:
            api.stop()
        cs.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
