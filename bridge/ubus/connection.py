"""A non-blocking libubus client connection that serves local objects, driven by bridge.loop.

Behaves on the wire as libubus does (libubus.c, libubus-io.c, libubus-obj.c, libubus-req.c):
HELLO from ubusd gives our client id; each object is registered with ADD_OBJECT (OBJPATH +
SIGNATURE) and gets its id from ubusd's DATA reply; an INVOKE is answered with DATA (OBJID, DATA)
when the handler returns data, then STATUS (STATUS, OBJID), both echoing the INVOKE's seq and peer;
a method the object does not have gets METHOD_NOT_FOUND, a handler that raises UNKNOWN_ERROR.
Unlike libubus, the answer to an INVOKE for an unknown object or without a METHOD carries the
INVOKE's seq/peer (libubus sends seq 0 there and the caller waits until its timeout).

The connection comes back by itself when ubusd goes away (restart): reconnect with backoff,
re-register every object (ubusd hands out new ids). stop() removes the objects cleanly.
"""

# _socket, the C module: socket.py's enum conversions of every constant cost ~0.5 MiB of a router's
# RAM, and this connection needs none of its wrappers
import _socket as socket
import errno
import select
import time

from .. import ubusmsg as st
from ..backoff import Backoff
from ..logger import getLogger
from . import blob
from .replies import Replies

log = getLogger(__name__)

DEFAULT_SOCKET = "/var/run/ubus/ubus.sock"
READ_CHUNK = 65536
MAX_OUTBUF = 4 * blob.MAX_MSGLEN   # ubusd not reading for this long: drop and reconnect
PAUSE_READING = 256 * 1024         # replies waiting beyond this: read no more INVOKEs until they drain
HELLO_TIMEOUT = 5.0
STOP_TIMEOUT = 1.0                 # bound on the wait for REMOVE_OBJECT replies at shutdown


def encode_signature(sig):
    """An object's signature as ADD_OBJECT carries it: {method: {argument: blobmsg type}}, each type an
    INT32 (libubus' ubus_push_method_data). ValueError for a type blobmsg does not have."""
    table = {}
    for method, args in sig.items():
        for arg, type_ in args.items():
            if type(type_) is not int or not st.BLOBMSG_ARRAY <= type_ <= st.BLOBMSG_DOUBLE:
                raise ValueError("%s(%s): %r is not a blobmsg type" % (method, arg, type_))
        table[method] = {a: blob.Typed(blob.INT32, t) for a, t in args.items()}
    return blob.encode_table(table)


class ObjectConnection:
    """Registers `objects` ({name: obj}; obj.signature(), obj.call(method, args)) on ubusd at `path`, and
    listens for events: listen(pattern, callback) registers an anonymous object and asks ubusd's event
    object (id 1) to `register` it for the pattern, as `ubus listen` does (libubus-obj.c and
    ubus_register_event_handler); each event is callback(event name, data), on the loop."""

    def __init__(self, loop, path, objects, backoff=0.5, backoff_max=30.0):
        self.loop = loop
        self.path = path or DEFAULT_SOCKET
        self.objects = dict(objects)
        self.backoff = Backoff(backoff, backoff_max)  # reconnects and refused registrations
        self.sock = None
        self.local_id = None
        self.object_ids = {}      # name -> id on the current connection
        self.connects = 0         # completed HELLOs, for observers and tests
        self._by_id = {}          # id -> (name, obj, method names)
        self._pending = {}        # our request seq -> (kind, name)
        self._seq = 0
        self._inbuf = bytearray()
        self._outbuf = bytearray()
        self._state = "idle"      # idle | connecting | hello | ready
        self._timer = None
        self._stopping = False
        self._batch = None        # messages queued while one read is handled, sent together
        self._paused = False      # reading stopped: replies wait for ubusd (INVOKEs wait in the socket)
        self._tail = (None, None, None)   # (objid, encoded reply, DATA message tail): the last reply
        self.listeners = {}       # event pattern -> callback(event, data)
        self.ready_callbacks = []  # fn() after each HELLO (a first connection, a reconnect), objects on their way
        self._listener_ids = {}   # anonymous object id -> (pattern, callback), on the current connection

    # --- public -------------------------------------------------------------------------
    def start(self):
        self._stopping = False
        self._connect()
        return self

    def listen(self, pattern, callback):
        """Events matching `pattern` (ubus listen's patterns: a name, or a prefix with *) go to
        callback(event, data) from now on, and again after every reconnect."""
        self.listeners[pattern] = callback
        if self._state == "ready":
            self._add_listener(pattern)

    def call(self, path, method, args, callback, timeout=5.0):
        """`ubus call path method args` over this connection, without blocking the loop: LOOKUP, then INVOKE;
        callback(status, data) once, on the loop (status 10, connection failed, when ubusd is not there or
        the connection goes; 7, timeout, when no answer comes within `timeout`)."""
        if self._state != "ready":
            self.loop.call_soon(callback, st.CONNECTION_FAILED, None)
            return
        seq = self._next_seq()
        req = {"callback": callback, "data": None, "method": method, "args": args, "oid": None}
        req["timer"] = self.loop.call_later(timeout, self._call_timeout, seq, req)
        self._pending[seq] = ("lookup", req)
        self._send(blob.encode_message(blob.LOOKUP, seq, 0, [(blob.ATTR_OBJPATH, path)]))

    def _call_timeout(self, seq, req):
        for s, entry in list(self._pending.items()):
            if entry[0] in ("lookup", "call") and entry[1] is req:
                del self._pending[s]
        self._call_done(req, st.TIMEOUT)

    @staticmethod
    def _call_done(req, code):
        callback, req["callback"] = req["callback"], None
        if callback is not None:
            req["timer"].cancel()
            callback(code, req["data"] if code == st.OK else None)

    @property
    def connected(self):
        """HELLO done: calls can be made (call()), whether or not every object is registered yet."""
        return self._state == "ready"

    @property
    def registered(self):
        return self._state == "ready" and len(self.object_ids) == len(self.objects)

    def stop(self, timeout=STOP_TIMEOUT):
        """Remove our objects (bounded wait for ubusd's replies), then close. Loop thread only."""
        self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.sock is None:
            return
        if self._state == "ready" and self.object_ids:
            waiting = set()
            for name, oid in list(self.object_ids.items()):
                seq = self._next_seq()
                self._pending[seq] = ("remove", name)
                waiting.add(seq)
                self._send(blob.encode_message(blob.REMOVE_OBJECT, seq, 0, [(blob.ATTR_OBJID, oid)]))
            self._drain_blocking(waiting, timeout)
        self._close()

    # --- connecting -----------------------------------------------------------------------
    def _connect(self):
        self._timer = None
        if self._stopping:
            return
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)
        try:
            s.connect(self.path)
        except (BlockingIOError, InterruptedError):
            self.sock = s
            self._state = "connecting"
            self.loop.add_writer(s.fileno(), self._connected)
            self._arm_hello_timer()
            return
        except OSError as e:
            s.close()
            self._retry("cannot connect to %s: %s" % (self.path, e.strerror or e))
            return
        self.sock = s
        self._state = "hello"
        self.loop.add_reader(s.fileno(), self._on_readable)
        self._arm_hello_timer()

    def _connected(self):
        err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        self.loop.remove_writer(self.sock.fileno())
        if err:
            self._lost("cannot connect to %s: %s" % (self.path, errno.errorcode.get(err, err)))
            return
        self._state = "hello"
        self.loop.add_reader(self.sock.fileno(), self._on_readable)

    def _arm_hello_timer(self):
        self._timer = self.loop.call_later(HELLO_TIMEOUT, self._hello_timeout)

    def _hello_timeout(self):
        self._timer = None
        if self._state in ("connecting", "hello"):
            self._lost("no HELLO from ubusd")

    def _retry(self, why):
        delay = self.backoff.next()
        log.warning("ubus: %s; retrying in %.1f s", why, delay)
        self._timer = self.loop.call_later(delay, self._connect)

    def _close(self):
        s, self.sock = self.sock, None
        if s is not None:
            fd = s.fileno()
            self.loop.remove_reader(fd)
            self.loop.remove_writer(fd)
            s.close()
        self._state = "idle"
        self._inbuf.clear()
        self._outbuf.clear()
        self._batch = None
        self._paused = False
        calls = [entry[1] for entry in self._pending.values() if entry[0] in ("lookup", "call")]
        self._pending.clear()
        for req in calls:
            self.loop.call_soon(self._call_done, req, st.CONNECTION_FAILED)
        self._by_id.clear()
        self._listener_ids.clear()
        self.object_ids.clear()
        self.local_id = None

    def _lost(self, why):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._close()
        if not self._stopping:
            self._retry(why)

    # --- I/O --------------------------------------------------------------------------------
    def _next_seq(self):
        self._seq = (self._seq + 1) & 0xFFFF   # libubus: ++ctx->request_seq (uint16)
        return self._seq

    def _send(self, data):
        if self._batch is not None:        # inside _on_readable: one send for all its answers
            self._batch.append(data)
            return
        if self.sock is None:
            return
        if not self._outbuf:
            try:
                n = self.sock.send(data)
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError as e:
                self._lost("send failed: %s" % e)
                return
            if n == len(data):
                return
            data = data[n:]
            self.loop.add_writer(self.sock.fileno(), self._on_writable)
        self._outbuf += data
        if len(self._outbuf) > MAX_OUTBUF:
            self._lost("ubusd is not reading")

    def _on_writable(self):
        try:
            n = self.sock.send(self._outbuf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self._lost("send failed: %s" % e)
            return
        del self._outbuf[:n]
        if not self._outbuf:
            self.loop.remove_writer(self.sock.fileno())
        if self._paused and len(self._outbuf) < PAUSE_READING // 2:
            self._paused = False
            self.loop.add_reader(self.sock.fileno(), self._on_readable)

    def _on_readable(self):
        sock = self.sock
        try:
            data = sock.recv(READ_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self._lost("receive failed: %s" % e)
            return
        if not data:
            self._lost("ubusd closed the connection")
            return
        buf = self._inbuf
        if buf:                   # a message was cut by the previous read: complete it
            buf += data
            data = buf
        pos, end = 0, len(data)
        self._batch = []
        try:
            while end - pos >= blob.FIRST_READ:
                total = blob.message_length(data[pos:pos + blob.FIRST_READ])
                if end - pos < total:
                    break
                try:
                    if data[pos + 1] == blob.INVOKE and self._state == "ready":
                        self._on_invoke(data, pos, pos + total)
                    else:
                        self._dispatch(blob.decode_message(data, pos))
                except blob.BlobError as e:
                    if self._state != "ready":
                        raise
                    # the framing holds (the length was valid): only this message is lost
                    self._bad_message(data, pos, e)
                pos += total
                if self.sock is not sock:   # the handler closed or replaced the connection
                    return
        except blob.BlobError as e:
            self._lost("bad message from ubusd: %s" % e)
            return
        finally:
            batch, self._batch = self._batch, None
            if batch and self.sock is sock:
                self._send(batch[0] if len(batch) == 1 else b"".join(batch))
        if data is buf:
            del buf[:pos]
        elif pos < end:
            buf += data[pos:]
        if len(self._outbuf) > PAUSE_READING and self.sock is sock and not self._paused:
            # invocations are bounded by backpressure: the callers wait, the daemon's memory does not grow
            self._paused = True
            self.loop.remove_reader(sock.fileno())

    def _drain_blocking(self, waiting, timeout):
        """Shutdown only: flush and read until the replies in `waiting` arrived or time is up."""
        deadline = time.monotonic() + timeout
        sock = self.sock
        while sock is not None and self.sock is sock and (waiting & set(self._pending) or self._outbuf):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, w, _ = select.select([sock], [sock] if self._outbuf else [], [], left)
            if w:
                self._on_writable()
            if r and self.sock is sock:
                self._on_readable()

    # --- messages ------------------------------------------------------------------------------
    def _dispatch(self, msg):
        t = msg.type
        if self._state == "hello":
            if t != blob.HELLO or msg.peer <= 1:
                raise blob.BlobError("expected HELLO, got type %d" % t)
            self._on_hello(msg)
        elif t == blob.DATA or t == blob.STATUS:
            self._on_reply(msg)
        # NOTIFY (subscriber count changes), UNSUBSCRIBE, MONITOR: nothing to do for our objects

    def _on_hello(self, msg):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.local_id = msg.peer
        self._state = "ready"
        self.backoff.reset()
        self.connects += 1
        log.info("ubus: connected to %s as %08x", self.path, msg.peer)
        for name in self.objects:
            self._add_object(name)
        for pattern in self.listeners:
            self._add_listener(pattern)
        for fn in list(self.ready_callbacks):
            self.loop.call_soon(fn)

    def _add_listener(self, pattern):
        seq = self._next_seq()
        self._pending[seq] = ("listener", pattern)
        self._send(blob.encode_message(blob.ADD_OBJECT, seq, 0, []))

    def _add_object(self, name):
        self._timer = None
        if self._state != "ready" or name in self.object_ids:
            return
        obj = self.objects[name]
        try:
            sig = obj.signature()
            attrs = [(blob.ATTR_OBJPATH, name), (blob.ATTR_SIGNATURE, encode_signature(sig))]
        except Exception:
            log.exception("ubus: object %s has no usable signature", name)
            return
        seq = self._next_seq()
        self._pending[seq] = ("add", name, sig)
        self._send(blob.encode_message(blob.ADD_OBJECT, seq, 0, attrs))

    def _on_reply(self, msg):
        req = self._pending.get(msg.seq)
        if req is None:
            return
        kind = req[0]
        if kind in ("lookup", "call"):
            return self._on_call_reply(msg, req)
        if msg.type == blob.DATA:
            oid = msg.get(blob.ATTR_OBJID)
            if kind == "listener" and oid is not None:
                self._listener_ids[oid] = (req[1], self.listeners[req[1]])
            elif kind == "add" and oid is not None:
                name, sig = req[1], req[2]
                self.object_ids[name] = oid
                obj = self.objects[name]
                kept = Replies(obj).encoded if hasattr(obj, "cached_reply") else None
                self._by_id[oid] = (name, obj, frozenset(sig), kept)
            return
        del self._pending[msg.seq]
        code = msg.get(blob.ATTR_STATUS, st.INVALID_ARGUMENT)
        if kind == "add":
            name = req[1]
            if code == st.OK and name in self.object_ids:
                log.info("ubus: object %s registered as %08x", name, self.object_ids[name])
            else:
                # e.g. the name is still held by a previous instance that ubusd has not dropped yet
                log.error("ubus: registering %s failed: %s", name, st.MESSAGES.get(code, code))
                delay = self.backoff.next()
                self._timer = self.loop.call_later(delay, self._add_object, name)
        elif kind == "remove":
            oid = self.object_ids.pop(req[1], None)
            self._by_id.pop(oid, None)
        elif kind == "listener":
            pattern = req[1]
            oid = next((o for o, (p, _cb) in self._listener_ids.items() if p == pattern), None)
            if code != st.OK or oid is None:
                log.error("ubus: listening for %s failed: %s", pattern, st.MESSAGES.get(code, code))
                return
            seq = self._next_seq()
            self._pending[seq] = ("register", pattern)
            self._send(blob.encode_message(blob.INVOKE, seq, blob.OBJECT_EVENT, [
                (blob.ATTR_OBJID, blob.OBJECT_EVENT), (blob.ATTR_METHOD, "register"),
                (blob.ATTR_DATA, blob.encode_table({"object": oid, "pattern": pattern}))]))
        elif kind == "register":
            if code == st.OK:
                log.info("ubus: listening for %s events", req[1])
            else:
                log.error("ubus: listening for %s events refused: %s", req[1], st.MESSAGES.get(code, code))

    def _on_call_reply(self, msg, entry):
        kind, req = entry
        if msg.type == blob.DATA:
            if kind == "lookup":
                req["oid"] = msg.get(blob.ATTR_OBJID, req["oid"])
            else:
                req["data"] = msg.get(blob.ATTR_DATA, req["data"])
            return
        del self._pending[msg.seq]
        code = msg.get(blob.ATTR_STATUS, st.INVALID_ARGUMENT)
        if kind == "lookup" and code == st.OK and req["oid"] is not None:
            seq = self._next_seq()
            self._pending[seq] = ("call", req)
            self._send(blob.encode_message(blob.INVOKE, seq, req["oid"], [
                (blob.ATTR_OBJID, req["oid"]), (blob.ATTR_METHOD, req["method"]),
                (blob.ATTR_DATA, blob.encode_table(req["args"] or {}))]))
            return
        self._call_done(req, st.NOT_FOUND if kind == "lookup" and code == st.OK else code)

    def _bad_message(self, buf, start, error):
        """A message that does not decode inside a valid frame: an INVOKE is answered
        INVALID_ARGUMENT (its caller is not left waiting), anything else is dropped."""
        _, type_, seq, peer = blob.HEADER.unpack_from(buf, start)
        log.info("ubus: bad %s from %08x ignored: %s",
                 blob.MSG_NAMES[type_] if type_ < len(blob.MSG_NAMES) else type_, peer, error)
        if type_ == blob.INVOKE:
            self._send(blob.message_header(blob.STATUS, seq, peer) + blob.status_tail(st.INVALID_ARGUMENT, 0))

    def _on_invoke(self, buf, start, end):
        """One INVOKE at buf[start:end], answered with DATA (when there is data) and STATUS.

        An object may offer cached_reply(method, args): a reply it keeps while nothing it shows changes
        (tr069 status), sent as the bytes replies.Replies keeps, without building or encoding a dict. DATA that does not
        decode is answered INVALID_ARGUMENT; the connection stays.
        """
        _, _, seq, peer = blob.HEADER.unpack_from(buf, start)
        oid, method, ds, de, no_reply = blob.invoke_fields(buf, start + blob.FIRST_READ, end)
        if oid is None:
            return                       # libubus ignores it as well
        if oid in self._listener_ids:
            return self._on_event(oid, method, buf, ds, de, seq, peer, no_reply)
        entry = self._by_id.get(oid)
        data = None
        if entry is None:
            code, oid = st.NOT_FOUND, 0
        else:
            name, obj, methods, encoded_reply = entry
            if method is None:
                code = st.INVALID_ARGUMENT
            elif method not in methods:
                code = st.METHOD_NOT_FOUND
            elif ds is None:
                code = st.INVALID_ARGUMENT
            else:
                try:
                    args = blob.decode_table(buf, ds, de) if de > ds else {}
                except blob.BlobError as e:
                    log.info("ubus: %s.%s from %08x: arguments do not decode: %s", name, method, peer, e)
                    args, code = None, st.INVALID_ARGUMENT
                if args is not None:
                    try:
                        data = encoded_reply(method, args) if encoded_reply is not None else None
                        if data is not None:
                            code = st.OK
                        else:
                            code, data = obj.call(method, args)
                            if data is not None:
                                data = blob.encode_table(data)
                    except Exception:
                        log.exception("ubus: %s.%s failed", name, method)
                        code, data = st.UNKNOWN_ERROR, None
                if no_reply:
                    return
        status = blob.message_header(blob.STATUS, seq, peer) + blob.status_tail(code, oid)
        if data is None:
            self._send(status)
            return
        t_oid, t_data, tail = self._tail
        if t_data is not data or t_oid != oid:
            tail = blob.data_tail(oid, data)
            self._tail = (oid, data, tail)
        self._send(b"".join((blob.message_header(blob.DATA, seq, peer), tail, status)))

    def _on_event(self, oid, event, buf, ds, de, seq, peer, no_reply):
        """An event for one of our listeners: handed to its callback, answered STATUS 0 as libubus does."""
        _pattern, callback = self._listener_ids[oid]
        try:
            data = blob.decode_table(buf, ds, de) if ds is not None and de > ds else {}
        except blob.BlobError as e:
            log.info("ubus: event %s does not decode: %s", event, e)
            data = None
        if data is not None and event is not None:
            try:
                callback(event, data)
            except Exception:
                log.exception("ubus: the listener of %s failed", event)
        if not no_reply:
            self._send(blob.message_header(blob.STATUS, seq, peer) + blob.status_tail(st.OK, oid))
