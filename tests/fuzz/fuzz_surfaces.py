"""Generated inputs for every surface the daemon reads, and what each surface must answer.

Each surface reads its bytes where the daemon reads them: OS3P text frames into the protocol core, ubusd
messages into the object connection (a real Unix socket), HTTP requests and JSON-RPC bodies into the
shim (real loopback TCP), the HTTP parser alone, tr069 arguments into the object, UCI files from
disk. A surface's check() raises Unexpected for an answer the protocol does not allow and Hang when no
answer comes; any other exception, and any traceback the daemon logs, is a crash.

Used by tests/fuzz/fuzz_run.py (`make fuzz`) and, with a fixed seed and few inputs, by tests/fuzz/test_fuzz.py.
"""

import json
import logging
import os
import shutil
import socket
import struct
import tempfile
from pathlib import Path

from hypothesis import strategies as st

from bridge.ubus import blob
from bridge import ubusmsg as ubus_status
from support.paths import ROOT

ZERO_SID = "0" * 32


class Unexpected(AssertionError):
    """The surface answered, but not as its protocol allows."""


class Hang(Exception):
    """No answer within the time allowed."""


def expect(condition, what, *detail):
    if not condition:
        raise Unexpected("%s: %r" % (what, detail))


class Tracebacks(logging.Handler):
    """Counts what the daemon logs with a traceback: a handler that raised is a crash, even when the
    loop caught it and served on."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        if record.exc_info and record.name.startswith("bridge"):
            self.records.append(record)

    def take(self):
        out, self.records = self.records, []
        return out


# --- value strategies ------------------------------------------------------------------------------
def _text(n=24):
    return st.text(max_size=n)


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                      st.floats(allow_nan=True, allow_infinity=True), _text())
json_value = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_text(12), inner, max_size=4)), max_leaves=12)
# what blobmsg can carry: no integers beyond 64 bits
blob_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 63, 2 ** 63 - 1), st.floats(), _text())
blob_value = st.recursive(blob_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_text(12), inner, max_size=4)), max_leaves=12)


_DATES = st.datetimes(min_value=__import__("datetime").datetime(2020, 1, 1),
                      max_value=__import__("datetime").datetime(2035, 12, 31)).map(
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S") + ("Z" if d.second % 2 else ""))
_LOCATIONS = st.sampled_from(["http://127.0.0.1:1/fw.bin", "https://127.0.0.1:1/x", "ftp://127.0.0.1:1/up",
                              "http://u:p@127.0.0.1:1/x", "file:///etc/passwd", "x"])


def from_schema(node, root=None):
    """Values that mostly satisfy a draft-04/07 schema of the subset schemas/os3p uses, so that the
    handlers behind validation get inputs too (streetlight profiles, transfers, configuration)."""
    root = root or node
    if "$ref" in node:
        target = root
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return from_schema(target, root)
    if "enum" in node:
        return st.sampled_from(node["enum"])
    t = node.get("type")
    if t == "object":
        props = node.get("properties", {})
        required = [k for k in node.get("required", []) if k in props]
        return st.fixed_dictionaries({k: from_schema(props[k], root) for k in required},
                                     optional={k: from_schema(v, root) for k, v in props.items() if k not in required})
    if t == "array":
        return st.lists(from_schema(node.get("items", {}), root), min_size=node.get("minItems", 0),
                        max_size=max(node.get("minItems", 0), min(node.get("maxItems", 4), 4)))
    if t == "integer":
        return st.integers(node.get("minimum", -2 ** 31), node.get("maximum", 2 ** 31 - 1))
    if t == "number":
        return st.floats(node.get("minimum"), node.get("maximum"), allow_nan=False, allow_infinity=False)
    if t == "boolean":
        return st.booleans()
    if t == "string":
        if node.get("format") == "date-time" or node.get("pattern", "").startswith("^[0-9]{4}"):
            return _DATES
        if node.get("format") == "uri":
            return _LOCATIONS
        return st.one_of(st.sampled_from(["18:30", "06:00:00", "24:00", "Syslog", "HeartbeatInterval", "300"]),
                         st.text(max_size=min(node.get("maxLength", 20), 20)))
    return json_value


def _schema(action):
    with open(os.path.join(ROOT, "schemas", "os3p", action + ".req.json")) as f:
        return json.load(f)


def _schema_keys(action):
    try:
        with open(os.path.join(ROOT, "schemas", "os3p", action + ".req.json")) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return []
    return sorted(doc.get("properties", {}))


def _shaped_payload(keys):
    """Dicts with the schema's own keys (and some others) holding anything."""
    names = st.sampled_from(keys) if keys else _text(12)
    return st.dictionaries(st.one_of(names, _text(8)), st.one_of(json_value, _text(40)), max_size=5)


# --- OS3P frames into the protocol core ----------------------------------------------------------------
class Os3pFace:
    name = "os3p"

    def __init__(self):
        from bridge.os3p import actions
        from bridge.os3p.messages import QUEUED

        names = sorted(actions.ACTIONS) + ["Heartbeat", "BootNotification", "Nope", ""]
        payload = st.one_of(*[_shaped_payload(_schema_keys(a)) for a in sorted(actions.ACTIONS)],
                            json_value)
        # CALLs whose payload follows the action's schema: they reach the handlers
        valid = st.one_of(*[st.tuples(st.just(a), from_schema(_schema(a))) for a in sorted(actions.ACTIONS)]).map(
            lambda t: json.dumps([2, "v1", t[0], t[1]]))
        ids = st.one_of(_text(40), st.integers(), st.none(), st.just(""), st.text(min_size=37, max_size=60))
        frame = st.tuples(st.sampled_from([2, 3, 4, 0, 5, -1, "2", True, 2.0]), ids,
                          st.sampled_from(names) | _text(20), payload, json_value,
                          st.integers(0, 6)).map(lambda t: json.dumps(list(t[:5])[:t[5]]))
        deep = st.tuples(st.sampled_from(["[", "{\"a\":"]), st.integers(1, 3000)).map(
            lambda t: '[2,"deep","Reset",' + t[0] * t[1] + ("1" if t[0] != "[" else "")
            + ("]" if t[0] == "[" else "}") * t[1] + "]")
        self.strategy = st.one_of(valid, valid, frame, frame, frame, _text(200), deep,
                                  st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
                                  frame.map(lambda s: s[:len(s) // 2]))
        self.queued = QUEUED

    def start(self):
        return _Os3pRig()


class _Os3pRig:
    def __init__(self):
        from bridge.config import Config
        from bridge.os3p.context import Context
        from bridge.os3p.outbox import Outbox
        from bridge.os3p.protocol import Protocol
        from bridge.os3p.settings import Settings
        from bridge.os3p.state import State

        self.tmp = tempfile.mkdtemp(prefix="fuzz-os3p-")
        config = Config(os.path.join(self.tmp, "tr069"))
        for item in ("os3p.call_timeout=10", "os3p.ping_interval=0"):
            config.override(item)
        from support.clock import FakeClock

        self.clock = FakeClock()
        fields = {"vendor": "Acme", "model": "R1", "stationNumber": "", "serialNumber": "42",
                  "firmwareVersion": "1.0", "iccid": "", "imsi": ""}
        self.p = Protocol(Settings(config), self.clock.daemon_clock(), State(os.path.join(self.tmp, "state.json")),
                          Outbox(os.path.join(self.tmp, "outbox")), lambda: dict(fields), rand=lambda: 1.0)
        from bridge.daemon import Daemon
        from bridge.os3p.streetlights import subscriber

        self.daemon = Daemon("host", os.path.join(self.tmp, "daemon"))  # the streetlights' home (simulated)
        self.daemon.start_components(only={"streetlights", "model"})  # the model: DataModel and TR-181 paths
        self.control = self.daemon.running["streetlights"]
        self.p.context = Context(self.p, config, self.daemon.device, _NoLoop(), self.tmp, streetlights=self.control,
                                 model=self.daemon.running["model"])
        self.control.subscribe(subscriber(self.p.context))
        self._turn()
        self.p.start()
        self.p.take()
        self.p.opened()
        boot = [json.loads(o.text) for o in self.p.take() if type(o).__name__ == "Send"]
        self.p.received(json.dumps([3, boot[0][1], {"status": "Accepted", "interval": 300,
                                                  "currentTime": "2027-01-15T08:00:00Z"}]))
        self.p.take()

    def check(self, text):
        from bridge.os3p import errors, framing

        self.p.received(text)
        outs = self.p.take()
        for o in list(outs):  # what waits for the answer to be written (a reboot, triggered messages)
            if type(o).__name__ == "Send" and o.after is not None:
                o.after()
                outs += self.p.take()
        frames = [json.loads(o.text) for o in outs if type(o).__name__ == "Send"]
        try:
            parsed = framing.parse(text)
        except framing.FrameError as e:
            parsed = e
        if isinstance(parsed, (framing.Call, framing.FrameError)):
            answers = [f for f in frames if f[0] in (3, 4) and f[1] == parsed.id]
            expect(len(answers) == 1, "a CALL gets exactly one answer", text[:200], frames)
        for f in frames:
            expect(isinstance(f, list) and f and f[0] in (2, 3, 4), "frames are OS3P messages", f)
            if f[0] == 4:
                expect(f[2] in errors.CODES and f[2] != errors.INTERNAL_ERROR, "CALLERROR code", f, text[:200])
        self._turn()
        # the calls the core sends (triggered messages) are answered, so the next one may go
        for f in frames:
            if f[0] == 2:
                self.p.received(json.dumps([3, f[1], {}]))
        self.p.take()

    def _turn(self):
        for _ in range(3):
            self.daemon.loop.run_once(0)

    def close(self):
        self.daemon.loop.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class _NoLoop:
    """Transfers post their progress here; the fuzz does not run them to the end."""

    def call_soon_threadsafe(self, *a):
        pass

    def call_later(self, *a):
        return _Never()

    call_soon = call_soon_threadsafe


class _Never:
    def cancel(self):
        pass


# --- ubusd messages into the object connection ---------------------------------------------------------
OID = 0x11223344
PROBE_SEQ = 0xFFFF
ALLOWED_UBUS = {ubus_status.OK, ubus_status.INVALID_ARGUMENT, ubus_status.METHOD_NOT_FOUND, ubus_status.NOT_FOUND}


def _frame(type_, seq, peer, body):
    return struct.pack(">BBHI", 0, type_, seq, peer) + struct.pack(">I", 4 + len(body)) + body


def _invoke(seq, method, data, objid=OID, extra=b""):
    body = blob.encode_attr(blob.ATTR_OBJID, objid) + blob.encode_attr(blob.ATTR_METHOD, method) + extra
    return _frame(blob.INVOKE, seq, 0x5555, body + blob._blob_attr(blob.ATTR_DATA, data))


def _encodable(d):
    try:
        return blob.encode_table(d)
    except blob.BlobError:
        return b""


class UbusFace:
    name = "ubus"

    def __init__(self):
        seq = st.integers(0, PROBE_SEQ - 1)
        methods = st.sampled_from(["status", "inform", "command", "nosuch", ""]) | _text(10)
        args = st.dictionaries(st.sampled_from(["event", "GetRPCMethods", "command", "ubus_rpc_session"]) | _text(8),
                               st.one_of(blob_value, st.sampled_from(["1 BOOT", "6 connection request", "reload",
                                                                     "reboot_end_session", "exit", "x"])),
                               max_size=4)
        good = st.builds(lambda s, m, a: _invoke(s, m, _encodable(a)), seq, methods, args)
        raw_data = st.builds(lambda s, m, d: _invoke(s, m, d), seq, methods, st.binary(max_size=120))
        wrong_obj = st.builds(lambda s, o: _invoke(s, "status", b"", objid=o), seq, st.integers(0, 2 ** 32 - 1))
        raw_attrs = st.builds(lambda t, s, b: _frame(t, s, 0x77, b), st.integers(0, 15), seq, st.binary(max_size=120))
        deep = st.builds(lambda s, n: _invoke(s, "status", _nested(n)), seq, st.integers(1, 200))
        self.strategy = st.one_of(good, good, raw_data, wrong_obj, raw_attrs, deep)

    def start(self):
        return _UbusRig()


def _nested(n):
    inner = b""
    for _ in range(n):
        inner = blob._bm_attr(blob.TABLE, "t", inner)
    return inner


class _UbusRig:
    def __init__(self):
        from support.ubusd import FakeUbusd, Running, register

        self.tmp = Path(tempfile.mkdtemp(prefix="fuzz-ubus-"))
        self.ubusd = FakeUbusd(self.tmp / "ubus.sock")
        self.running = Running(self.tmp, self.ubusd.path, backoff=0.01)
        self.running.daemon.tr069.on_exit = lambda: None  # `command exit` must not end the rig
        self.conn = self.ubusd.accept()
        register(self.conn)

    def check(self, msg):
        from support.ubusd import read_message

        type_, seq = msg[1], struct.unpack(">H", msg[2:4])[0]
        self.conn.sendall(msg + _invoke(PROBE_SEQ, "status", b""))
        statuses = {}
        try:
            while PROBE_SEQ not in statuses:
                _, m = read_message(self.conn, timeout=5)
                if m.type == blob.STATUS:
                    statuses.setdefault(m.seq, []).append(m.get(blob.ATTR_STATUS))
        except TimeoutError:
            raise Hang("no answer to the probe after %r" % msg[:64]) from None
        except ConnectionError:
            raise Unexpected("the connection was dropped for a message with a sound frame: %r" % msg[:64]) from None
        expect(statuses[PROBE_SEQ] == [ubus_status.OK], "the probe is answered OK", statuses)
        if type_ == blob.INVOKE:
            codes = statuses.get(seq, [])
            ids = _top_ids(msg)
            # unanswered: NO_REPLY asked for it; without an OBJID libubus ignores an INVOKE too
            silent_ok = blob.ATTR_NO_REPLY in ids or blob.ATTR_OBJID not in ids
            expect(len(codes) == 1 or (silent_ok and not codes), "an INVOKE gets one STATUS", msg[:64], statuses)
            expect(all(c in ALLOWED_UBUS for c in codes), "INVOKE status code", codes, msg[:64])

    def close(self):
        self.running.close()
        self.ubusd.close()
        shutil.rmtree(str(self.tmp), ignore_errors=True)


def _top_ids(msg):
    ids, pos, end = set(), blob.FIRST_READ, len(msg)
    while end - pos >= 4:
        (word,) = struct.unpack_from(">I", msg, pos)
        raw = word & blob.LEN_MASK
        if raw < 4 or pos + raw > end:
            break
        ids.add((word >> 24) & 0x7F)
        pos += (raw + 3) & ~3
    return ids


# --- HTTP requests and JSON-RPC bodies into the shim --------------------------------------------------
ALLOWED_HTTP = {200, 400, 404, 405, 411, 413, 431, 501}
JSONRPC_CODES = {-32700, -32600, -32601, -32602, -32603, -32000, -32002, -32003}


class HttpFace:
    name = "http"

    def __init__(self):
        sid = st.sampled_from([ZERO_SID, "$cli", "f" * 32, ""]) | _text(33)
        obj = st.sampled_from(["tr069", "session", "test"]) | _text(8)
        meth = st.sampled_from(["status", "inform", "command", "login", "list", "access", "destroy", "echo",
                                "fail", "empty"]) | _text(8)
        args = st.dictionaries(st.sampled_from(["event", "command", "username", "password", "timeout", "code",
                                                "scope", "object", "function"]) | _text(8),
                               json_value, max_size=4)
        params = st.one_of(st.tuples(sid, obj, meth, args).map(list), json_value,
                           st.lists(st.one_of(sid, obj, meth, args, json_value), max_size=6))
        request = st.fixed_dictionaries({}, optional={
            "jsonrpc": st.sampled_from(["2.0", "1.0", 2]) | json_leaf, "id": json_value,
            "method": st.sampled_from(["call", "list"]) | _text(6), "params": params})
        body = st.one_of(request, st.lists(request, max_size=5), json_value).map(
            lambda d: json.dumps(d).encode())
        body = st.one_of(body, body, st.binary(max_size=200),
                         body.map(lambda b: b[:len(b) // 2]),
                         st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n))
        header = st.tuples(st.sampled_from(["Host", "Content-Length", "Transfer-Encoding", "Expect", "Connection",
                                            "Content-Type", "X", "content-length"]) | _text(10),
                           st.sampled_from(["0", "5", "99999999", "-1", "chunked", "100-continue", "close",
                                            "keep-alive", ""]) | _text(10))
        post = st.builds(_request, st.sampled_from(["POST", "GET", "OPTIONS", "PUT", "HEAD"]) | _text(6),
                         st.sampled_from(["/ubus", "/ubus/", "/", "/index.html", "/x", "/ubus?x"]) | _text(12),
                         st.lists(header, max_size=4), body, st.booleans())
        self.strategy = st.one_of(post, post, post, st.binary(max_size=300),
                                  st.lists(post, min_size=2, max_size=3).map(b"".join))

    def start(self):
        return _HttpRig()


def _request(method, path, headers, body, right_length):
    lines = ["%s %s HTTP/1.1" % (method, path)]
    lines += ["%s: %s" % h for h in headers]
    if right_length:
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogatepass") + body


class _HttpRig:
    def __init__(self):
        from support.jsonrpc_helpers import Running, TestObject, real_tr069

        self.tmp = tempfile.mkdtemp(prefix="fuzz-http-")
        self.r = Running(lambda loop: {"tr069": real_tr069(loop, self.tmp), "test": TestObject(loop)},
                         state_dir=self.tmp, call_timeout=1)
        with open(os.path.join(self.tmp, "cli.sid")) as f:
            self.cli = f.read().strip().encode()

    def check(self, data):
        data = data.replace(b"$cli", self.cli)
        s = socket.create_connection((self.r.host, self.r.port), timeout=5)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            got = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except socket.timeout:
            raise Hang("no end of answer for %r" % data[:100]) from None
        except ConnectionResetError:
            got = b""  # the server closed on unread input (a body it refused to read)
        finally:
            s.close()
        for status, body in _responses(got):
            expect(status in ALLOWED_HTTP or status == 100, "HTTP status", status, data[:200])
            if status == 200 and body[:1] in (b"{", b"["):
                _check_jsonrpc(json.loads(body), data)

    def close(self):
        self.r.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _responses(data):
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        expect(sep, "a complete response head", data[:200])
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        out.append((status, rest[:length]))
        data = rest[length:]
    return out


def _check_jsonrpc(doc, request):
    for item in doc if isinstance(doc, list) else [doc]:
        expect(isinstance(item, dict) and item.get("jsonrpc") == "2.0", "a JSON-RPC answer", item)
        if "error" in item:
            expect(item["error"].get("code") in JSONRPC_CODES, "JSON-RPC error code", item, request[:200])
        else:
            res = item.get("result")
            if isinstance(res, list) and res and isinstance(res[0], int):
                expect(res[0] != ubus_status.UNKNOWN_ERROR, "no handler failed", item, request[:200])


# --- the HTTP parser alone -------------------------------------------------------------------------------
class HttpParserFace:
    name = "http-parser"

    def __init__(self):
        chunk = st.one_of(st.binary(max_size=60), st.sampled_from([
            b"\r\n", b"POST /ubus HTTP/1.1\r\n", b"GET / HTTP/1.0\r\n", b"Content-Length: 4\r\n",
            b"Content-Length: 4\r\nContent-Length: 5\r\n", b"Transfer-Encoding: chunked\r\n", b"Host: x\r\n",
            b"Expect: 100-continue\r\n", b"Connection: close\r\n", b"\r\n\r\n", b"abcd", b" : \r\n"]))
        self.strategy = st.lists(chunk, max_size=12)

    def start(self):
        return self

    def check(self, chunks):
        from bridge.jsonrpc import http

        p = http.RequestParser(lambda req: 16)
        for c in chunks:
            try:
                for req in p.feed(c):
                    expect(len(req.body) <= 16, "body within its limit", req.body)
            except http.HttpError as e:
                expect(e.status in (400, 413, 431, 501), "parser error status", e.status)
                expect(p.closed, "the parser stops after an error")
                break

    def close(self):
        pass


# --- tr069 arguments into the object -------------------------------------------------------------------
class Tr069Face:
    name = "tr069"

    def __init__(self):
        keys = st.sampled_from(["event", "GetRPCMethods", "command", "ubus_rpc_session"]) | _text(10)
        values = st.one_of(json_value, st.sampled_from(["1 BOOT", "2 periodic", "6", "8 DIAGNOSTICS COMPLETE",
                                                        "6 BOOT", "", " ", "reload", "reload_end_session",
                                                        "reboot_end_session", "action_end_session", "exit"]))
        args = st.one_of(st.dictionaries(keys, values, max_size=4), json_value)
        self.strategy = st.tuples(st.sampled_from(["status", "inform", "command"]) | _text(8), args)

    def start(self):
        return _Tr069Rig()


class _Tr069Rig:
    def __init__(self):
        from bridge.loop import Loop
        from bridge.sessions import Sessions
        from bridge.tr069 import Tr069

        self.tmp = tempfile.mkdtemp(prefix="fuzz-tr069-")
        self.loop = Loop()
        self.obj = Tr069(self.loop, Sessions(os.path.join(self.tmp, "sessions.json")),
                         acs_url=lambda: "ws://op:secret@cs.example/", retry_base=0.0, retry_max=0.0)
        self.obj.check_output = True  # an invalid reply is UNKNOWN_ERROR: counted as unexpected

    def check(self, call):
        method, args = call
        code, data = self.obj.call(method, args)
        expect(code in (ubus_status.OK, ubus_status.INVALID_ARGUMENT, ubus_status.METHOD_NOT_FOUND),
               "tr069 status code", code, call)
        expect(code != ubus_status.OK or isinstance(data, dict), "OK carries a reply", data)
        expect("secret" not in json.dumps(data), "no password in a reply", data)
        for _ in range(3):
            self.loop.run_once(0)

    def close(self):
        self.loop.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


# --- UCI files from disk ---------------------------------------------------------------------------------
class UciFace:
    name = "uci"

    def __init__(self):
        word = st.one_of(st.sampled_from(["config", "option", "list", "package", "tr069", "acs", "os3p", "url",
                                          "'ws://a/'", '"x y"', "'", '"', "\\", "#", "jsonrpc", "port", "'8069'",
                                          "enabled", "'1'", "periodic_inform_interval", "'-5'", "''"]),
                         st.text(max_size=10))
        line = st.lists(word, max_size=5).map(" ".join)
        self.strategy = st.one_of(st.lists(line, max_size=12).map("\n".join),
                                  st.binary(max_size=200).map(lambda b: b.decode("latin-1")))

    def start(self):
        return _UciRig()


class _UciRig:
    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="fuzz-uci-")
        self.path = os.path.join(self.tmp, "tr069")

    def check(self, text):
        from bridge import uci
        from bridge.config import Config, ConfigError

        with open(self.path, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(text)
        try:
            sections = uci.load(self.path)
            expect(isinstance(sections, list), "sections", sections)
        except ValueError:
            pass  # a file that does not parse: UciError names the line
        try:
            Config(self.path)
        except ConfigError as e:
            expect(e.problems, "a refused config says why")

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


# --- Modbus replies into the meter's read path ---------------------------------------------------------
# the map the meter reads: one batch of 3 input registers at 100 (a uint16 and an int32), unit 7
METER_UNIT, METER_FUNCTION, METER_ADDRESS, METER_COUNT = 7, 4, 100, 3
MODBUS_KINDS = {"timeout", "exception", "frame", "unit", "io"}


def _words():
    return st.lists(st.integers(0, 0xFFFF), min_size=METER_COUNT, max_size=METER_COUNT)


# a reply is (how it is built, arguments); the transaction id is known only when it is sent
_MODBUS_REPLY = st.one_of(
    st.tuples(st.just("valid"), _words()),
    st.tuples(st.just("trailing"), _words(), st.binary(min_size=1, max_size=20)),  # a valid frame, then noise
    st.tuples(st.just("truncated"), _words(), st.integers(0, 14)),
    st.tuples(st.just("long"), _words(), st.binary(min_size=1, max_size=20)),  # the PDU carries more
    st.tuples(st.just("function"), _words(), st.integers(0, 255).filter(lambda f: f != METER_FUNCTION)),
    st.tuples(st.just("exception"), st.integers(0, 255)),
    st.tuples(st.just("unit"), _words(), st.integers(0, 255).filter(lambda u: u != METER_UNIT)),
    st.tuples(st.just("transaction"), _words(), st.integers(1, 0xFFFF)),
    st.tuples(st.just("count"), _words(), st.integers(0, 255).filter(lambda c: c != 2 * METER_COUNT)),
    st.tuples(st.just("mbap"), _words(), st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)),  # protocol, length
    st.tuples(st.just("crc"), _words(), st.integers(1, 0xFFFF)),  # RTU: the CRC xor'ed with this
    st.tuples(st.just("random"), st.binary(max_size=300)),
)


def _pdu(case):
    from bridge.station.backends.modbus import READ_INPUT
    import struct as _s

    kind = case[0]
    if kind == "exception":
        return bytes([READ_INPUT | 0x80, case[1]])
    data = _s.pack(">%dH" % METER_COUNT, *case[1])
    if kind == "function":
        return bytes([case[2], len(data)]) + data
    if kind == "count":
        return bytes([READ_INPUT, case[2]]) + data
    if kind == "long":
        return bytes([READ_INPUT, len(data) + len(case[2]) & 0xFF]) + data + case[2]
    return bytes([READ_INPUT, len(data)]) + data


def _expected(case, transport):
    """The registers a reply must decode to, or None when it must be refused (whatever a random one does).
    RTU has no transaction id or MBAP header, TCP no CRC: those cases are valid replies on the other."""
    if case[0] in ("valid", "trailing"):
        return case[1]
    if case[0] in {"tcp": ("crc",), "rtu": ("transaction", "mbap")}[transport]:
        return case[1]
    return None


def _tcp_reply(case, transaction):
    from bridge.station.backends.modbus import tcp_request

    kind = case[0]
    if kind == "random":
        return case[1]
    unit = case[2] if kind == "unit" else METER_UNIT
    if kind == "transaction":
        transaction ^= case[2]
    frame = tcp_request(transaction, unit, _pdu(case))
    if kind == "mbap":
        frame = struct.pack(">HHH", transaction, case[2], case[3]) + frame[6:]
    if kind == "truncated":
        frame = frame[:min(case[2], len(frame) - 1)]
    if kind == "trailing":
        frame += case[2]
    return frame


def _rtu_reply(case):
    from bridge.station.backends.modbus import crc16

    kind = case[0]
    if kind == "random":
        return case[1]
    frame = bytes([case[2] if kind == "unit" else METER_UNIT]) + _pdu(case)
    crc = crc16(frame) ^ (case[2] if kind == "crc" else 0)
    frame += struct.pack("<H", crc)
    if kind == "truncated":
        frame = frame[:min(case[2], len(frame) - 1)]
    if kind == "trailing":
        frame += case[2]
    return frame


class ModbusFace:
    """Meter replies: over a real loopback connection into TcpTransport and the meter (ModbusMeter.read), and
    as RTU bytes into RtuReader and the PDU parser, split at a generated point. Each reply decodes to its
    registers or gives a ModbusError of a counted kind; nothing else escapes and nothing waits for more."""

    name = "modbus"

    def __init__(self):
        self.strategy = st.tuples(st.sampled_from(["tcp", "rtu"]), _MODBUS_REPLY, st.integers(0, 300))

    def start(self):
        return _ModbusRig()


class _ModbusRig:
    def __init__(self):
        import threading

        from bridge.station.backends.modbus import TcpTransport
        from bridge.station.meter import ModbusMeter, Register

        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.reply = b""
        self.stopping = False
        self.served = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        regs = [Register(METER_ADDRESS, "Voltage", "uint16", METER_FUNCTION),
                Register(METER_ADDRESS + 1, "Energy.Active.Import.Register", "int32", METER_FUNCTION)]
        self.transport = TcpTransport("127.0.0.1", self.listener.getsockname()[1], timeout=2.0)
        self.meter = ModbusMeter(self.transport, METER_UNIT, regs, name="fuzz meter")

    def _serve(self):
        while not self.stopping:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(2)
                    conn.recv(260)  # the request
                    conn.sendall(self.reply)
                    conn.shutdown(socket.SHUT_WR)  # then the end: a short reply is an error, not a wait
                except OSError:
                    pass
            self.served.set()

    def check(self, x):
        transport, case, split = x
        if transport == "tcp":
            self._tcp(case)
        else:
            self._rtu(case, split)

    def _tcp(self, case):
        from bridge.station.backends.modbus import ModbusError
        from bridge.station.meter import decode

        self.reply = _tcp_reply(case, (self.transport.transaction + 1) & 0xFFFF)
        before = sum(self.meter.health.counts.values())
        self.transport.close()  # a new connection per reply: the server closes after each
        try:
            readings = self.meter.read()
        except ModbusError as e:
            expect(e.kind in MODBUS_KINDS, "a counted error kind", e.kind)
            readings = None
        errors = sum(self.meter.health.counts.values()) - before
        want = _expected(case, "tcp")
        if want is not None:
            expect(readings is not None and errors == 0, "a valid reply is read", case, readings,
                   self.meter.health.counts)
            expect([r[3] for r in readings] == [decode(want[:1], "uint16"), decode(want[1:], "int32")],
                   "the registers' values", readings, want)
        elif case[0] != "random":
            expect(errors == 1 and not readings, "a bad reply is one counted error", case, readings,
                   self.meter.health.counts)
        else:
            expect(errors == 1 or len(readings) == 2, "a random reply is read or counted", case, readings)

    def _rtu(self, case, split):
        from bridge.station.backends.modbus import ModbusError, RtuReader, parse_read_pdu

        data = _rtu_reply(case)
        reader = RtuReader()
        got = None
        try:
            for part in (data[:split], data[split:]):
                reader.feed(part)
                frame = reader.frame()
                if frame is not None:
                    unit, pdu = frame
                    if unit != METER_UNIT:
                        raise ModbusError("unit", "unit %d" % unit)
                    got = parse_read_pdu(pdu, METER_FUNCTION, METER_COUNT)
                    break
        except ModbusError as e:
            expect(e.kind in MODBUS_KINDS, "a counted error kind", e.kind)
            got = e
        want = _expected(case, "rtu")
        if want is not None:
            expect(got == want, "a valid RTU reply decodes to its registers", case, got)
        elif case[0] != "random":
            expect(not isinstance(got, list), "a bad RTU reply is refused", case, got)
        # None: incomplete; the transport calls that a short reply when its deadline passes

    def close(self):
        self.stopping = True
        self.listener.close()
        self.transport.close()


# --- schema-valid streetlight profiles into the handlers and the schedule engine ---------------------------
_CLOCK_TIMES = st.one_of(st.builds(lambda h, m, s: "%02d:%02d:%02d" % (h, m, s), st.integers(0, 23),
                                   st.integers(0, 59), st.integers(0, 59)),
    st.sampled_from(["24:00:00", "00:00:00", "23:59:59", "18:30", "06:00", "24:00", "25:00:00", "12:60:00",
                     "", "x", "1:2:3", "-01:00:00"]), st.text(max_size=10))
_OFFSETS = st.one_of(st.integers(-86400, 86400), st.sampled_from([-86400, 0, 86400, 3600, -3600]))


_GOOD_TIMES = st.builds(lambda h, m, s: "%02d:%02d:%02d" % (h, m, s), st.integers(0, 23), st.integers(0, 59),
                        st.integers(0, 59))


def _boundary():
    """Mostly what the schedule engine takes (Absolute with a time, Sunset/Sunrise with an offset), so most
    profiles are stored and run; sometimes any mix the schema allows, for the engine's own refusals."""
    sound = st.one_of(st.fixed_dictionaries({"kind": st.just("Absolute"), "time": _GOOD_TIMES}),
                      st.fixed_dictionaries({"kind": st.sampled_from(["Sunset", "Sunrise"]), "offset": _OFFSETS}))
    loose = st.fixed_dictionaries({"kind": st.sampled_from(["Absolute", "Sunset", "Sunrise"])},
                                  optional={"offset": _OFFSETS, "time": _CLOCK_TIMES})
    return st.integers(0, 19).flatmap(lambda i: loose if i == 13 else sound)


# near the rig's clock (2027-01-15) mostly, so that profiles, days asked for and today meet
_SL_DATES = st.one_of(st.builds(lambda d, h, z: "2027-01-%02dT%02d:00:00%s" % (d, h, z), st.integers(10, 20),
                                st.integers(0, 23), st.sampled_from(["", "Z", "+01:00", ".5-03:00"])), _DATES)
_PROFILE_KEYS = {"profileId": st.integers(0, 6), "stackLevel": st.integers(0, 4),
                 "recurrencyKind": st.sampled_from(["None", "Daily", "Weekly"]),
                 "daySchedule": st.lists(st.fixed_dictionaries({"start": _boundary(), "end": _boundary()}),
                                         min_size=1, max_size=4)}
# None and Weekly profiles need validFrom (it names their day): most carry one
_PROFILE = st.one_of(st.fixed_dictionaries(dict(_PROFILE_KEYS, validFrom=_SL_DATES), optional={"validTo": _SL_DATES}),
                     st.fixed_dictionaries(dict(_PROFILE_KEYS, validFrom=_SL_DATES), optional={"validTo": _SL_DATES}),
                     st.fixed_dictionaries(_PROFILE_KEYS, optional={"validFrom": _SL_DATES, "validTo": _SL_DATES}))
_CONTACTOR = st.integers(1, 4)
_STREETLIGHT_CALLS = st.one_of(
    st.tuples(st.just("SetStreetlightProfile"), st.fixed_dictionaries(
        {"contactorId": _CONTACTOR, "streetlightProfiles": st.lists(_PROFILE, min_size=1, max_size=3)},
        optional={"clearAllSchedules": st.booleans(), "clearSchedule": st.booleans()})),
    st.tuples(st.just("ClearSingleStreetlightProfile"), st.one_of(  # profileId and stackLevel exclude each other
        st.fixed_dictionaries({"profileId": st.integers(0, 6)}, optional={"contactorId": _CONTACTOR}),
        st.fixed_dictionaries({"stackLevel": st.integers(0, 4)}, optional={"contactorId": _CONTACTOR}),
        st.fixed_dictionaries({}, optional={"profileId": st.integers(0, 6), "contactorId": _CONTACTOR,
                                            "stackLevel": st.integers(0, 4)}))),
    st.tuples(st.just("GetEffectiveStreetlightDaySchedule"),
              st.fixed_dictionaries({"contactorId": _CONTACTOR, "at": _SL_DATES})))
STREETLIGHT_STATUS = {"SetStreetlightProfile": {"Accepted", "Rejected"},
                      "ClearSingleStreetlightProfile": {"Accepted", "Rejected", "Unknown"}}


class StreetlightFace:
    """SetStreetlightProfile / ClearSingleStreetlightProfile / GetEffectiveStreetlightDaySchedule payloads
    that pass their schema (checked here), so each reaches its handler and the schedule engine; between calls
    the daemon's loop turns, so the schedules are applied to the simulated contactors. Each must be Accepted,
    Rejected (Unknown for a clear) or a CALLERROR other than InternalError; a day schedule must follow its
    response schema."""

    name = "streetlight"
    slice = 60  # inputs in make test's slice: each is up to four calls

    def __init__(self):
        self.strategy = st.lists(_STREETLIGHT_CALLS, min_size=1, max_size=4)

    def start(self):
        return _StreetlightRig()


class _StreetlightRig(_Os3pRig):
    def __init__(self):
        import jsonschema

        super().__init__()
        self.validators = {}
        for action in list(STREETLIGHT_STATUS) + ["GetEffectiveStreetlightDaySchedule"]:
            for kind in ("req", "resp"):
                with open(os.path.join(ROOT, "schemas", "os3p", "%s.%s.json" % (action, kind))) as f:
                    self.validators[action, kind] = jsonschema.Draft4Validator(json.load(f))
        self.n = 0

    def check(self, calls):
        for action, payload in calls:
            errors = [e.message for e in self.validators[action, "req"].iter_errors(payload)]
            expect(not errors, "the generated payload follows the schema", action, payload, errors)
            self.n += 1
            call_id = "s%d" % self.n
            self.p.received(json.dumps([2, call_id, action, payload]))
            frames = [json.loads(o.text) for o in self.p.take() if type(o).__name__ == "Send"]
            answers = [f for f in frames if f[0] in (3, 4) and f[1] == call_id]
            expect(len(answers) == 1, "a CALL gets exactly one answer", action, payload, frames)
            answer = answers[0]
            if answer[0] == 4:
                from bridge.os3p import errors as os3p_errors

                expect(answer[2] in os3p_errors.CODES and answer[2] != os3p_errors.INTERNAL_ERROR,
                       "CALLERROR code", answer, action, payload)
            else:
                bad = [e.message for e in self.validators[action, "resp"].iter_errors(answer[2])]
                expect(not bad, "the answer follows its schema", answer, action, payload, bad)
                if action in STREETLIGHT_STATUS:
                    expect(answer[2]["status"] in STREETLIGHT_STATUS[action], "status", answer, payload)
            for f in frames:  # notifications the change triggered are answered, so the next one may go
                if f[0] == 2:
                    self.p.received(json.dumps([3, f[1], {}]))
            self.p.take()
            self._turn()


SURFACES = [Os3pFace, UbusFace, HttpFace, HttpParserFace, Tr069Face, UciFace, ModbusFace, StreetlightFace]
