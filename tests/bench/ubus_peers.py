"""The peers and the caller the ubus bench measures with.

- PYUBUS_PEER: python-ubus (libubus) registering `tr069` with a static reply of the status shape;
- PLAIN_PEER: the same object written the straightforward way in Python: a blocking socket, every
  message decoded and every reply encoded with the generic codec (bridge.ubus.blob) each time;
- CANNED_PEER: the floor for any object in Python: a blocking read and the one canned answer, patched;
- Caller: one client connection to a real ubusd that looks `tr069` up and times sequential INVOKEs.
  It sends pre-encoded requests and reads only the reply headers, so that the caller's own cost
  (the same for every peer) stays small beside the object's.
"""

import time

from bridge.ubus import blob
from bridge.ubus.client import Client

STATUS_REPLY = (
    '{"cwmp": {"status": "up", "start_time": "2026-11-22T10:00:00+01:00", "acs_url": ""},'
    ' "last_session": {"status": "N/A", "start_time": "N/A", "end_time": "N/A"},'
    ' "next_session": {"status": "waiting", "start_time": "N/A", "end_time": "N/A"},'
    ' "statistics": {"success_sessions": 0, "failure_sessions": 0, "total_sessions": 0}}')

PYUBUS_PEER = r"""
import json, sys, ubus
reply = json.loads(sys.argv[2])
def status(handler, data):
    handler.reply(reply)
def inform(handler, data):
    handler.reply({"status": 1, "info": "Session started"})
ubus.connect(socket_path=sys.argv[1])
ubus.add("tr069", {"status": {"method": status, "signature": {}},
                   "inform": {"method": inform, "signature": {"GetRPCMethods": ubus.BLOBMSG_TYPE_BOOL,
                                                             "event": ubus.BLOBMSG_TYPE_STRING}},
                   "command": {"method": inform, "signature": {"command": ubus.BLOBMSG_TYPE_STRING}}})
while True:
    ubus.loop(1000)
"""

PLAIN_PEER = r"""
import json, socket, sys
from bridge.ubus import blob
from bridge.ubus.client import Client
reply = json.loads(sys.argv[2])
sig = {"status": {}, "inform": {"GetRPCMethods": blob.Typed(blob.INT32, blob.BOOL),
                                "event": blob.Typed(blob.INT32, blob.STRING)},
       "command": {"command": blob.Typed(blob.INT32, blob.STRING)}}
def read(s, buf):
    while True:
        if len(buf) >= blob.FIRST_READ:
            n = blob.message_length(bytes(buf[:blob.FIRST_READ]))
            if len(buf) >= n:
                msg = blob.decode_message(buf)
                del buf[:n]
                return msg
        data = s.recv(65536)
        if not data:
            sys.exit(0)
        buf += data
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
buf = bytearray()
read(s, buf)                                           # HELLO
s.sendall(blob.encode_message(blob.ADD_OBJECT, 1, 0, [(blob.ATTR_OBJPATH, "tr069"), (blob.ATTR_SIGNATURE, sig)]))
while True:
    msg = read(s, buf)
    if msg.type != blob.INVOKE:
        continue
    oid = msg.get(blob.ATTR_OBJID)
    if msg.get(blob.ATTR_METHOD) == "status":
        s.sendall(blob.encode_message(blob.DATA, msg.seq, msg.peer, [(blob.ATTR_OBJID, oid), (blob.ATTR_DATA, reply)]))
        code = 0
    else:
        code = 3
    s.sendall(blob.encode_message(blob.STATUS, msg.seq, msg.peer, [(blob.ATTR_STATUS, code), (blob.ATTR_OBJID, oid)]))
"""


CANNED_PEER = r"""
import json, struct, sys
import _socket as socket
from bridge.ubus import blob
# the least a Python object can do per call: no decoding, no dispatch, no loop; the answer to any
# INVOKE is the status reply encoded once, with the INVOKE's seq and peer put in its two headers
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
def read_msg():
    msg = b""
    while len(msg) < blob.FIRST_READ:
        msg += s.recv(blob.FIRST_READ - len(msg))
    n = blob.message_length(msg[:blob.FIRST_READ])
    while len(msg) < n:
        msg += s.recv(n - len(msg))
    return blob.decode_message(msg)
read_msg()                                             # HELLO
s.sendall(blob.encode_message(blob.ADD_OBJECT, 1, 0, [(blob.ATTR_OBJPATH, "tr069"),
                                                      (blob.ATTR_SIGNATURE, {"status": {}})]))
oid = None
while oid is None:
    m = read_msg()
    if m.type == blob.DATA:
        oid = m.get(blob.ATTR_OBJID)
data_tail = blob.data_tail(oid, blob.encode_table(json.loads(sys.argv[2])))
status_tail = blob.status_tail(0, oid)
header = struct.Struct(">BBHI").pack
buf = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
    out = []
    while len(buf) >= blob.FIRST_READ:
        n = blob.message_length(buf[:blob.FIRST_READ])
        if len(buf) < n:
            break
        if buf[1] == blob.INVOKE:
            seq, peer = int.from_bytes(buf[2:4], "big"), int.from_bytes(buf[4:8], "big")
            out.append(header(0, blob.DATA, seq, peer) + data_tail + header(0, blob.STATUS, seq, peer) + status_tail)
        buf = buf[n:]
    if out:
        s.send(b"".join(out))
"""


class Caller:
    """A client of a real ubusd: look an object up, then time INVOKEs over the same connection."""

    def __init__(self, path, timeout=10.0):
        self.client = Client(path, timeout).connect()
        self.sock = self.client.sock

    def lookup(self, name, wait=10.0, poll=0.002):
        """The object's id, waiting up to `wait` seconds for it to appear (a LOOKUP every `poll` s)."""
        deadline = time.monotonic() + wait
        while True:
            _, oid = self.client.lookup_id(name)
            if oid is not None:
                return oid
            if time.monotonic() > deadline:
                raise TimeoutError("%s not registered on ubusd" % name)
            time.sleep(poll)

    def call(self, oid, method, args=None):
        """One call, fully decoded: (status, data)."""
        return self.client.invoke(oid, method, args)

    @staticmethod
    def requests(oid, method, args, n):
        return [blob.encode_message(blob.INVOKE, i & 0xFFFF, oid, [
            (blob.ATTR_OBJID, oid), (blob.ATTR_METHOD, method), (blob.ATTR_DATA, args or {})]) for i in range(n)]

    def close(self):
        self.client.close()


_OK = b"\x01\x00\x00\x08\x00\x00\x00\x00"    # STATUS attribute, status 0: how every STATUS here starts


def timed(sock, reqs, window=1):
    """Latencies (s) of the calls in reqs (INVOKEs with seq = their index) over sock, `window` of
    them in flight at any time (1: sequential; more: as that many callers at once), each from its
    INVOKE to its STATUS, which must be 0. Only the reply headers are read."""
    n = len(reqs)
    sent = [0.0] * n
    lat = []
    recv, clock = sock.recv, time.perf_counter
    nxt = min(window, n)
    now = clock()
    for i in range(nxt):
        sent[i] = now
    sock.sendall(b"".join(reqs[:nxt]))
    buf = b""
    while len(lat) < n:
        data = recv(262144)
        if not data:
            raise ConnectionError("closed")
        buf = buf + data if buf else data
        pos, end, done = 0, len(buf), 0
        now = clock()
        while end - pos >= blob.FIRST_READ:
            size = blob.HEADER_LEN + (int.from_bytes(buf[pos + 8:pos + 12], "big") & blob.LEN_MASK)
            if end - pos < size:
                break
            if buf[pos + 1] == blob.STATUS:
                if buf[pos + 12:pos + 20] != _OK:
                    raise RuntimeError("call failed: %r" % blob.decode_message(buf, pos))
                lat.append(now - sent[int.from_bytes(buf[pos + 2:pos + 4], "big")])
                done += 1
            pos += size
        buf = buf[pos:]
        if done and nxt < n:
            more = min(done, n - nxt)
            for i in range(nxt, nxt + more):
                sent[i] = now
            sock.sendall(b"".join(reqs[nxt:nxt + more]))
            nxt += more
    return lat
