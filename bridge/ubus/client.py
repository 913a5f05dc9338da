"""A small blocking ubus client for one-shot use, speaking as the `ubus` command-line tool does.

    with Client(path) as c:
        status, data = c.call("uci", "get", {"config": "tr069"})
        c.send("tr069.session", {"status": "success"})
        objects = c.lookup("tr069")        # [{"path", "id", "type", "signature"}]

Statuses are ubus codes (bridge.ubusmsg); a timeout gives TIMEOUT, a lost connection
CONNECTION_FAILED, as libubus reports them. `python -m bridge.ubus.client call|list|send ...`
prints what the ubus CLI prints.
"""

# _socket, the C module: socket.py's enum conversions cost ~0.5 MiB for wrappers this needs none of
import _socket as socket
import json
import sys
import time

from . import blob
from .. import ubusmsg as st
from .connection import DEFAULT_SOCKET

DEFAULT_TIMEOUT = 30.0   # the ubus CLI's default (-t 30)


class UbusError(Exception):
    def __init__(self, code, what=""):
        self.code = code
        super().__init__("%s%s" % (what + ": " if what else "", st.MESSAGES.get(code, "Unknown error: %s" % code)))


class Client:
    def __init__(self, path=None, timeout=DEFAULT_TIMEOUT):
        self.path = path or DEFAULT_SOCKET
        self.timeout = timeout
        self.sock = None
        self.local_id = None
        self._seq = 0
        self._buf = bytearray()

    # --- connection ----------------------------------------------------------------------------
    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        s.settimeout(self.timeout)
        try:
            s.connect(self.path)
            self.sock = s
            hello = self._read(time.monotonic() + self.timeout)
        except (OSError, blob.BlobError) as e:
            s.close()
            self.sock = None
            raise UbusError(st.CONNECTION_FAILED, "connect to %s (%s)" % (self.path, e)) from None
        if hello is None or hello.type != blob.HELLO or hello.peer <= 1:
            self.close()
            raise UbusError(st.CONNECTION_FAILED, "no HELLO from ubusd at %s" % self.path)
        self.local_id = hello.peer
        return self

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self.connect() if self.sock is None else self

    def __exit__(self, *exc):
        self.close()

    def _read(self, deadline):
        """The next whole message, or None at the deadline. Raises OSError/BlobError on a broken stream."""
        buf = self._buf
        while True:
            if len(buf) >= blob.FIRST_READ:
                total = blob.message_length(bytes(buf[:blob.FIRST_READ]))
                if len(buf) >= total:
                    msg = blob.decode_message(buf)
                    del buf[:total]
                    return msg
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:   # socket.timeout
                return None
            if not data:
                raise ConnectionResetError("ubusd closed the connection")
            buf += data

    def _request(self, mtype, peer, attrs, timeout=None):
        """Send one request; returns (status, [DATA messages]) as libubus's ubus_complete_request."""
        if self.sock is None:
            self.connect()
        self._seq = (self._seq + 1) & 0xFFFF
        seq = self._seq
        datas = []
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        try:
            self.sock.sendall(blob.encode_message(mtype, seq, peer, attrs))
            while True:
                msg = self._read(deadline)
                if msg is None:
                    return st.TIMEOUT, datas
                if msg.seq != seq or msg.peer != peer:
                    continue           # stray INVOKE/NOTIFY or a late reply to something else
                if msg.type == blob.DATA:
                    datas.append(msg)
                elif msg.type == blob.STATUS:
                    return msg.get(blob.ATTR_STATUS, st.INVALID_ARGUMENT), datas
        except (OSError, blob.BlobError):
            self.close()
            return st.CONNECTION_FAILED, datas

    # --- requests ------------------------------------------------------------------------------
    def lookup(self, path=None):
        """[{path, id, type, signature}] for one object path (a trailing * matches a prefix) or all."""
        code, datas = self._request(blob.LOOKUP, 0, [(blob.ATTR_OBJPATH, path)] if path else [])
        if code != st.OK:
            raise UbusError(code, "lookup %s" % (path or "*"))
        out = []
        for m in datas:
            if m.has(blob.ATTR_OBJID) and m.has(blob.ATTR_OBJPATH) and m.has(blob.ATTR_OBJTYPE):
                out.append({"path": m.get(blob.ATTR_OBJPATH), "id": m.get(blob.ATTR_OBJID),
                            "type": m.get(blob.ATTR_OBJTYPE), "signature": m.get(blob.ATTR_SIGNATURE)})
        return out

    def lookup_id(self, path):
        """(status, object id or None), as ubus_lookup_id."""
        code, datas = self._request(blob.LOOKUP, 0, [(blob.ATTR_OBJPATH, path)])
        oid = None
        for m in datas:
            oid = m.get(blob.ATTR_OBJID, oid)
        return code, oid

    def invoke(self, objid, method, args=None, timeout=None):
        """(status, data) of one method call on an object id; data is the last DATA table or None."""
        try:
            payload = blob.encode_table(args or {})
        except blob.BlobError:
            return st.INVALID_ARGUMENT, None
        code, datas = self._request(blob.INVOKE, objid, [
            (blob.ATTR_OBJID, objid), (blob.ATTR_METHOD, method), (blob.ATTR_DATA, payload)], timeout)
        data = None
        for m in datas:
            data = m.get(blob.ATTR_DATA, data)
        return code, data

    def call(self, path, method, args=None, timeout=None):
        """(status, data) like `ubus call path method args`: LOOKUP then INVOKE."""
        code, oid = self.lookup_id(path)
        if code != st.OK:
            return code, None
        if oid is None:
            return st.NOT_FOUND, None
        return self.invoke(oid, method, args, timeout)

    def send(self, event, data=None):
        """Broadcast an event like `ubus send event data`; returns the status."""
        try:
            payload = blob.encode_table({"id": event, "data": data or {}})
        except blob.BlobError:
            return st.INVALID_ARGUMENT
        code, _ = self._request(blob.INVOKE, blob.OBJECT_EVENT, [
            (blob.ATTR_OBJID, blob.OBJECT_EVENT), (blob.ATTR_METHOD, "send"), (blob.ATTR_DATA, payload)])
        return code


def call(path, method, args=None, socket_path=None, timeout=DEFAULT_TIMEOUT):
    """One-shot (status, data) on a fresh connection, as one `ubus call` does."""
    with Client(socket_path, timeout) as c:
        return c.call(path, method, args)


# --- output as the ubus CLI formats it (blobmsg_format_json in libubox's blobmsg_json.c) -----------
_SIG_TYPES = {blob.INT8: '"Boolean"', blob.INT32: '"Integer"', blob.STRING: '"String"',
              blob.ARRAY: '"Array"', blob.TABLE: '"Table"'}


def _json_str(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\b":
            out.append("\\b")
        elif o < 0x20:
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def format_json(value, indent=None, _level=0):
    """blobmsg_format_json[_indent]: indent None gives the one-line form, 0 the CLI's tab form."""
    if isinstance(value, (dict, list)):
        is_list = isinstance(value, list)
        items = value if is_list else list(value.items())
        sep = ("\n" + "\t" * (_level + 1)) if indent is not None else ""
        close_sep = ("\n" + "\t" * _level) if indent is not None else ""
        parts = []
        for item in items:
            if is_list:
                parts.append(format_json(item, indent, _level + 1))
            else:
                k, v = item
                key = (_json_str(k) + (": " if indent is not None else ":")) if k else ""
                parts.append(key + format_json(v, indent, _level + 1))
        return ("[" if is_list else "{") + sep + ("," + sep).join(parts) + close_sep + ("]" if is_list else "}")
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, float):
        return "%f" % value
    if isinstance(value, int):
        return str(value)
    return _json_str(str(value))


def format_list(obj, verbose=True):
    """What `ubus list [-v] path` prints for one object."""
    if not verbose:
        return obj["path"] + "\n"
    lines = ["'%s' @%08x" % (obj["path"], obj["id"])]
    for method, args in (obj["signature"] or {}).items():
        types = ",".join('%s:%s' % (_json_str(a), _SIG_TYPES.get(t, '"(unknown)"'))
                         for a, t in (args or {}).items())
        lines.append("\t%s:{%s}" % (_json_str(method), types))
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Minimal `ubus`-compatible command line: [-s socket] [-t timeout] list [-v] [path] | call | send."""
    argv = list(sys.argv[1:] if argv is None else argv)
    path, timeout = None, DEFAULT_TIMEOUT
    while argv and argv[0] in ("-s", "-t"):
        opt, val = argv.pop(0), argv.pop(0)
        if opt == "-s":
            path = val
        else:
            timeout = float(val)
    if not argv:
        print("usage: python -m bridge.ubus.client [-s socket] [-t timeout] list [-v] [path] | "
              "call path method [json] | send event [json]", file=sys.stderr)
        return 1
    cmd, args = argv[0], argv[1:]
    try:
        with Client(path, timeout) as c:
            if cmd == "list":
                verbose = "-v" in args
                args = [a for a in args if a != "-v"]
                for obj in c.lookup(args[0] if args else None):
                    sys.stdout.write(format_list(obj, verbose))
                return 0
            payload = json.loads(args[-1]) if len(args) in (2, 3) and args[-1].startswith("{") else None
            if cmd == "call" and len(args) >= 2:
                code, data = c.call(args[0], args[1], payload)
                if data is not None:
                    print(format_json(data, 0))
            elif cmd == "send" and args:
                code = c.send(args[0], payload)
            else:
                print("unknown command %s" % cmd, file=sys.stderr)
                return 1
    except UbusError as e:
        print("Command failed: %s" % e, file=sys.stderr)
        return 256 - e.code if e.code else 1
    except ValueError as e:
        print("Command failed: bad JSON (%s)" % e, file=sys.stderr)
        return 256 - st.PARSE_ERROR
    if code:
        print("Command failed: ubus %s %s (%s)" % (cmd, " ".join(args), st.MESSAGES.get(code, code)),
              file=sys.stderr)
        return 256 - code
    return 0


if __name__ == "__main__":
    sys.exit(main())
