"""blob / blobmsg codec and ubus message framing, byte-compatible with libubox and libubus.

Wire format (libubox blob.h): every attribute starts with a be32 word, bit 31 "extended" (a blobmsg
attribute carrying a name), bits 24-30 the id (the blobmsg type), bits 0-23 the length including that
4-byte header but not the padding to the next 4-byte boundary. A blobmsg attribute's payload starts
with be16 name length, the name, a NUL, zero padding to 4 bytes. A container's length includes its
children's padding (libubox's blob_new adds the padded length), so only a leaf's own tail is unpadded.

A ubus message is an 8-byte header (version u8, type u8, seq be16, peer be32) followed by one
non-extended blob attribute with id 0 whose children are the UBUS_ATTR_* attributes.

Python values map like libubox's blobmsg_add_json_element: dict -> TABLE, list/tuple -> ARRAY,
str -> STRING, bool -> INT8, int -> INT32 when it fits in int32 else INT64, float -> DOUBLE,
None -> UNSPEC. Decoding maps INT8 to bool (blobmsg_format_json prints INT8 as true/false).
`Typed(type, value)` forces a blobmsg type (e.g. INT32 for an unsigned 32-bit object id).
"""

import struct

from .. import ubusmsg as _st

# message types (ubusmsg.h enum ubus_msg_type)
HELLO, STATUS, DATA, PING, LOOKUP, INVOKE, ADD_OBJECT, REMOVE_OBJECT = range(8)
SUBSCRIBE, UNSUBSCRIBE, NOTIFY, MONITOR = range(8, 12)
MSG_NAMES = ("HELLO", "STATUS", "DATA", "PING", "LOOKUP", "INVOKE", "ADD_OBJECT", "REMOVE_OBJECT",
             "SUBSCRIBE", "UNSUBSCRIBE", "NOTIFY", "MONITOR")

# top-level attributes (ubusmsg.h enum ubus_msg_attr)
(ATTR_UNSPEC, ATTR_STATUS, ATTR_OBJPATH, ATTR_OBJID, ATTR_METHOD, ATTR_OBJTYPE, ATTR_SIGNATURE,
 ATTR_DATA, ATTR_TARGET, ATTR_ACTIVE, ATTR_NO_REPLY, ATTR_SUBSCRIBERS, ATTR_USER, ATTR_GROUP) = range(14)
ATTR_NAMES = ("UNSPEC", "STATUS", "OBJPATH", "OBJID", "METHOD", "OBJTYPE", "SIGNATURE", "DATA",
              "TARGET", "ACTIVE", "NO_REPLY", "SUBSCRIBERS", "USER", "GROUP")
ATTR_IDS = {name: i for i, name in enumerate(ATTR_NAMES)}

# blobmsg types (blobmsg.h)
UNSPEC = 0
ARRAY = _st.BLOBMSG_ARRAY
TABLE = _st.BLOBMSG_TABLE
STRING = _st.BLOBMSG_STRING
INT64 = _st.BLOBMSG_INT64
INT32 = _st.BLOBMSG_INT32
INT16 = _st.BLOBMSG_INT16
INT8 = _st.BLOBMSG_INT8
BOOL = INT8
DOUBLE = _st.BLOBMSG_DOUBLE

# libubus refuses messages whose padded blob exceeds this (UBUS_MAX_MSGLEN in ubus's CMakeLists.txt)
MAX_MSGLEN = 1048576
HEADER_LEN = 8          # struct ubus_msghdr
FIRST_READ = HEADER_LEN + 4  # header + the top-level blob header, enough to know the message length
# system objects (ubusmsg.h)
OBJECT_EVENT = 1

EXTENDED = 0x80000000
LEN_MASK = 0x00FFFFFF
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
MAX_DEPTH = 64  # nesting bound for decoding untrusted input

_be32 = struct.Struct(">I")
_be32s = struct.Struct(">i")
_be16s = struct.Struct(">h")
_be64s = struct.Struct(">q")
_bedbl = struct.Struct(">d")
_bmhdr = struct.Struct(">IH")     # extended attr header + name length
_msghdr = HEADER = struct.Struct(">BBHI")   # version, type, seq, peer
_PAD = (b"", b"\0\0\0", b"\0\0", b"\0")


class BlobError(ValueError):
    """Malformed blob data or a value that has no blobmsg encoding."""


class Typed:
    """A value with an explicit blobmsg type, for when the Python type would pick another one."""
    __slots__ = ("type", "value")

    def __init__(self, type_, value):
        self.type = type_
        self.value = value

    def __repr__(self):
        return "Typed(%d, %r)" % (self.type, self.value)

    def __eq__(self, other):
        return isinstance(other, Typed) and (self.type, self.value) == (other.type, other.value)


# ---------------------------------------------------------------------------------------------
# blobmsg encoding

_names = {}   # name -> (name length, name + NUL + padding, blobmsg header length); names repeat a lot


def _name_part(name):
    part = _names.get(name)
    if part is None:
        if type(name) is not str:
            raise BlobError("table keys must be strings, not %s" % type(name).__name__)
        b = name.encode()
        nl = len(b)
        hdrlen = (nl + 6) & ~3            # blobmsg_hdrlen: pad4(2 + namelen + 1)
        part = (nl, b + b"\0" * (hdrlen - 2 - nl), hdrlen)
        if len(_names) < 4096:
            _names[name] = part
    return part


def _bm_attr(type_, name, payload):
    """One padded blobmsg attribute."""
    nl, padded, hdrlen = _name_part(name)
    raw = 4 + hdrlen + len(payload)
    if raw > LEN_MASK:
        raise BlobError("attribute too long")
    return _bmhdr.pack(EXTENDED | (type_ << 24) | raw, nl) + padded + payload + _PAD[raw & 3]


def _encode_value(name, value, depth=0):
    if depth > MAX_DEPTH:
        raise BlobError("nesting too deep")
    t = type(value)
    if t is str:
        return _bm_attr(STRING, name, value.encode() + b"\0")
    if t is int:
        if INT32_MIN <= value <= INT32_MAX:
            return _bm_attr(INT32, name, _be32s.pack(value))
        if INT64_MIN <= value <= INT64_MAX:
            return _bm_attr(INT64, name, _be64s.pack(value))
        raise BlobError("integer out of int64 range: %d" % value)
    if t is dict:
        return _bm_attr(TABLE, name, encode_table(value, depth + 1))
    if t is bool:
        return _bm_attr(INT8, name, b"\1" if value else b"\0")
    if t is list or t is tuple:
        return _bm_attr(ARRAY, name, encode_array(value, depth + 1))
    if t is float:
        return _bm_attr(DOUBLE, name, _bedbl.pack(value))
    if value is None:
        return _bm_attr(UNSPEC, name, b"")
    if t is Typed:
        return _encode_typed(name, value.type, value.value, depth)
    # subclasses (IntEnum, OrderedDict, str subclasses...) take their base's encoding
    for base in (bool, int, float, str, dict, list, tuple):
        if isinstance(value, base):
            return _encode_value(name, base(value), depth)
    raise BlobError("no blobmsg encoding for %s" % t.__name__)


def _encode_typed(name, type_, v, depth):
    try:
        if type_ == INT8:
            return _bm_attr(INT8, name, bytes((int(v) & 0xFF,)))
        if type_ == INT16:
            return _bm_attr(INT16, name, struct.pack(">H", int(v) & 0xFFFF))
        if type_ == INT32:
            return _bm_attr(INT32, name, _be32.pack(int(v) & 0xFFFFFFFF))
        if type_ == INT64:
            return _bm_attr(INT64, name, struct.pack(">Q", int(v) & 0xFFFFFFFFFFFFFFFF))
        if type_ == DOUBLE:
            return _bm_attr(DOUBLE, name, _bedbl.pack(float(v)))
        if type_ == STRING:
            return _bm_attr(STRING, name, str(v).encode() + b"\0")
        if type_ == TABLE:
            return _bm_attr(TABLE, name, encode_table(v, depth + 1))
        if type_ == ARRAY:
            return _bm_attr(ARRAY, name, encode_array(v, depth + 1))
        if type_ == UNSPEC:
            return _bm_attr(UNSPEC, name, b"")
    except (TypeError, ValueError, struct.error) as e:
        raise BlobError("cannot encode %r as blobmsg type %d: %s" % (v, type_, e)) from None
    raise BlobError("unknown blobmsg type %r" % (type_,))


def encode_table(d, depth=0):
    """The children of a blobmsg table (what goes inside UBUS_ATTR_DATA)."""
    try:
        items = d.items()
    except AttributeError:
        raise BlobError("a table must be a dict, not %s" % type(d).__name__) from None
    return b"".join([_encode_value(k, v, depth) for k, v in items])


def encode_array(seq, depth=0):
    return b"".join([_encode_value("", v, depth) for v in seq])


class Shape:
    """An encoder for one known table shape: the replies a daemon sends again and again.

    Shape({"cwmp": {"status": STRING, "uptime": INT32}, "ok": INT8}) precomputes every header and
    name part into a flat list of steps; encode(values) takes the leaves in that order (a flat
    sequence) and gives the same bytes as encode_table of the equivalent dict, without a walk over
    types or nesting. STRING, INT32 and INT8 leaves; TABLE nesting.
    """
    __slots__ = ("_steps", "leaves")

    _OPEN, _CLOSE = -1, -2

    def __init__(self, spec):
        self._steps = []
        self._compile(spec)
        self.leaves = sum(1 for st in self._steps if st[0] >= 0)

    def _compile(self, spec):
        for name, kind in spec.items():
            nl, padded, hdrlen = _name_part(name)
            head = struct.pack(">H", nl) + padded           # after the be32 id/length word
            if isinstance(kind, dict):
                self._steps.append((self._OPEN, EXTENDED | (TABLE << 24), 4 + hdrlen, head))
                self._compile(kind)
                self._steps.append((self._CLOSE, 0, 0, b""))
            elif kind in (STRING, INT32, INT8):
                self._steps.append((kind, EXTENDED | (kind << 24), 4 + hdrlen, head))
            else:
                raise BlobError("Shape leaves are STRING, INT32 or INT8, not %r" % (kind,))

    def encode(self, values):
        if len(values) != self.leaves:
            raise BlobError("%d values for a shape of %d leaves" % (len(values), self.leaves))
        out = []
        opened = []           # (index of the table's header in out, size before its children, step)
        size = 0              # padded bytes so far
        vals = iter(values)
        pack = _be32.pack
        for step in self._steps:
            kind, word, fixed, head = step
            if kind == STRING:
                v = next(vals)
                payload = v if type(v) is bytes else v.encode()
                raw = fixed + len(payload) + 1
                out.append(pack(word | raw) + head + payload + _NUL_PAD[raw & 3])
                size += (raw + 3) & ~3
            elif kind == INT32:
                out.append(pack(word | (fixed + 4)) + head + _be32s.pack(next(vals)))
                size += fixed + 4
            elif kind == INT8:
                raw = fixed + 1
                out.append(pack(word | raw) + head + (b"\1\0\0\0" if next(vals) else b"\0\0\0\0"))
                size += raw + 3
            elif kind == self._OPEN:
                opened.append((len(out), size, step))
                out.append(b"")
                size += fixed
            else:
                at, before, (_, word, fixed, head) = opened.pop()
                raw = size - before
                if raw > LEN_MASK:
                    raise BlobError("attribute too long")
                out[at] = pack(word | raw) + head
        return b"".join(out)


# a string leaf's NUL terminator and its padding, by the unpadded length & 3 (NUL included)
_NUL_PAD = (b"\0", b"\0\0\0\0", b"\0\0\0", b"\0\0")


# ---------------------------------------------------------------------------------------------
# blobmsg decoding

def _decode_attrs(buf, start, end, array, depth):
    """Decode the blobmsg attributes in buf[start:end] into a dict (or list when array)."""
    if depth > MAX_DEPTH:
        raise BlobError("nesting too deep")
    out = [] if array else {}
    for id_len, data, aend in _iter_raw(buf, start, end):
        type_ = (id_len >> 24) & 0x7F
        raw = aend - data + 4
        name = ""
        if id_len & EXTENDED:
            if raw < 4 + 2:
                raise BlobError("truncated blobmsg name")
            nl = (buf[data] << 8) | buf[data + 1]
            hdrlen = (nl + 6) & ~3
            if 4 + hdrlen > raw or buf[data + 2 + nl] != 0:
                raise BlobError("bad blobmsg name")
            if not array:
                name = bytes(buf[data + 2:data + 2 + nl]).decode("utf-8", "replace")
            data += hdrlen
        n = aend - data
        if type_ == STRING:
            if n < 1 or buf[aend - 1] != 0:
                raise BlobError("string not NUL-terminated")
            s = bytes(buf[data:aend - 1])
            nul = s.find(b"\0")
            value = (s if nul < 0 else s[:nul]).decode("utf-8", "replace")
        elif type_ == INT32:
            if n != 4:
                raise BlobError("bad int32 length")
            (value,) = _be32s.unpack_from(buf, data)
        elif type_ == TABLE:
            value = _decode_attrs(buf, data, aend, False, depth + 1)
        elif type_ == INT8:
            if n != 1:
                raise BlobError("bad int8 length")
            value = buf[data] != 0
        elif type_ == ARRAY:
            value = _decode_attrs(buf, data, aend, True, depth + 1)
        elif type_ == INT64:
            if n != 8:
                raise BlobError("bad int64 length")
            (value,) = _be64s.unpack_from(buf, data)
        elif type_ == INT16:
            if n != 2:
                raise BlobError("bad int16 length")
            (value,) = _be16s.unpack_from(buf, data)
        elif type_ == DOUBLE:
            if n != 8:
                raise BlobError("bad double length")
            (value,) = _bedbl.unpack_from(buf, data)
        elif type_ == UNSPEC:
            value = None
        else:
            raise BlobError("unknown blobmsg type %d" % type_)
        if array:
            out.append(value)
        else:
            out[name] = value
    return out


def decode_table(buf, start=0, end=None):
    """Decode blobmsg attributes (a table's children) into a dict."""
    return _decode_attrs(buf, start, len(buf) if end is None else end, False, 0)


def decode_array(buf, start=0, end=None):
    return _decode_attrs(buf, start, len(buf) if end is None else end, True, 0)


# ---------------------------------------------------------------------------------------------
# top-level ubus message attributes

_U32_ATTRS = frozenset((ATTR_STATUS, ATTR_OBJID, ATTR_OBJTYPE, ATTR_TARGET))
_STR_ATTRS = frozenset((ATTR_OBJPATH, ATTR_METHOD, ATTR_USER, ATTR_GROUP))
_U8_ATTRS = frozenset((ATTR_ACTIVE, ATTR_NO_REPLY))
_TABLE_ATTRS = frozenset((ATTR_DATA, ATTR_SIGNATURE))


def _blob_attr(id_, payload):
    raw = 4 + len(payload)
    return b"".join((_be32.pack((id_ << 24) | raw), payload, _PAD[raw & 3]))


def encode_attr(id_, value):
    """One top-level UBUS_ATTR_* attribute, typed as libubus puts it."""
    if id_ in _U32_ATTRS:
        return _be32.pack((id_ << 24) | 8) + _be32.pack(value & 0xFFFFFFFF)
    if id_ in _STR_ATTRS:
        if isinstance(value, str):
            value = value.encode()
        return _blob_attr(id_, value + b"\0")
    if id_ in _TABLE_ATTRS:
        if isinstance(value, (bytes, bytearray, memoryview)):   # pre-encoded children
            return _blob_attr(id_, bytes(value))
        return _blob_attr(id_, encode_table(value))
    if id_ in _U8_ATTRS:
        return _blob_attr(id_, b"\1" if value else b"\0")
    if id_ == ATTR_SUBSCRIBERS:
        return _blob_attr(id_, b"".join(_be32.pack(8) + _be32.pack(v & 0xFFFFFFFF) for v in value))
    if isinstance(value, (bytes, bytearray)):
        return _blob_attr(id_, bytes(value))
    raise BlobError("unknown ubus attribute %r" % (id_,))


def encode_message(type_, seq, peer, attrs=()):
    """A whole ubus message. attrs: iterable of (UBUS_ATTR_* id, value) in wire order."""
    body = b"".join([encode_attr(i, v) for i, v in attrs])
    if len(body) + 4 > MAX_MSGLEN:
        raise BlobError("message too long")
    return b"".join((_msghdr.pack(0, type_, seq & 0xFFFF, peer & 0xFFFFFFFF),
                     _be32.pack(4 + len(body)), body))


def decode_attr(id_, buf, start, end):
    n = end - start
    if id_ in _U32_ATTRS:
        if n != 4:
            raise BlobError("bad int32 attribute length")
        return _be32.unpack_from(buf, start)[0]
    if id_ in _STR_ATTRS:
        if n < 1 or buf[end - 1] != 0:
            raise BlobError("string attribute not NUL-terminated")
        s = bytes(buf[start:end - 1])
        nul = s.find(b"\0")
        return (s if nul < 0 else s[:nul]).decode("utf-8", "replace")
    if id_ in _TABLE_ATTRS:
        return _decode_attrs(buf, start, end, False, 0)
    if id_ in _U8_ATTRS:
        if n != 1:
            raise BlobError("bad int8 attribute length")
        return buf[start] != 0
    if id_ == ATTR_SUBSCRIBERS:
        out = []
        for _, s, e in _iter_blob(buf, start, end):
            if e - s == 4:
                out.append(_be32.unpack_from(buf, s)[0])
        return out
    return bytes(buf[start:end])


def _iter_raw(buf, start, end):
    """(id_len header word, data_start, data_end) of each attribute in buf[start:end], checked."""
    pos = start
    while pos < end:
        if end - pos < 4:
            raise BlobError("truncated attribute header")
        (id_len,) = _be32.unpack_from(buf, pos)
        raw = id_len & LEN_MASK
        if raw < 4 or pos + raw > end:
            raise BlobError("bad attribute length %d" % raw)
        yield id_len, pos + 4, pos + raw
        pos += (raw + 3) & ~3


def _iter_blob(buf, start, end):
    """(id, data_start, data_end) of the plain blob attributes in buf[start:end]."""
    for id_len, data, data_end in _iter_raw(buf, start, end):
        yield (id_len >> 24) & 0x7F, data, data_end


def invoke_fields(buf, start, end):
    """The attributes an object needs from an INVOKE, read without building a Message:
    (objid, method, data_start, data_end, no_reply), None for those absent. Every attribute is
    checked as decode_attr checks it; DATA's children are left to decode_table. The last of a
    repeated id wins, as in Message.get."""
    objid = method = ds = de = None
    no_reply = False
    unpack = _be32.unpack_from
    pos = start
    while pos < end:
        if end - pos < 4:
            raise BlobError("truncated attribute header")
        (id_len,) = unpack(buf, pos)
        raw = id_len & LEN_MASK
        e = pos + raw
        if raw < 4 or e > end:
            raise BlobError("bad attribute length %d" % raw)
        id_ = (id_len >> 24) & 0x7F
        if id_ == ATTR_DATA:
            ds, de = pos + 4, e
        elif id_ in _STR_ATTRS:
            if raw < 5 or buf[e - 1] != 0:
                raise BlobError("string attribute not NUL-terminated")
            if id_ == ATTR_METHOD:
                s = buf[pos + 4:e - 1]
                if b"\0" in s:
                    s = s[:s.index(b"\0")]
                method = s.decode("utf-8", "replace")
        elif id_ in _U32_ATTRS:
            if raw != 8:
                raise BlobError("bad int32 attribute length")
            if id_ == ATTR_OBJID:
                (objid,) = unpack(buf, pos + 4)
        elif id_ in _U8_ATTRS:
            if raw != 5:
                raise BlobError("bad int8 attribute length")
            if id_ == ATTR_NO_REPLY:
                no_reply = buf[pos + 4] != 0
        elif id_ == ATTR_SIGNATURE:
            decode_attr(id_, buf, pos + 4, e)     # checked as decode_message would, then not needed
        pos += (raw + 3) & ~3
    return objid, method, ds, de, no_reply


_status_tails = {}   # (code, objid) -> a STATUS message after its 8-byte header


def status_tail(code, objid):
    """The bytes of a STATUS (STATUS code, OBJID) message after its header, as libubus sends it."""
    key = (code, objid)
    tail = _status_tails.get(key)
    if tail is None:
        tail = _be32.pack(4 + 16) + encode_attr(ATTR_STATUS, code) + encode_attr(ATTR_OBJID, objid)
        if len(_status_tails) < 256:
            _status_tails[key] = tail
    return tail


def data_tail(objid, table):
    """The bytes of a DATA (OBJID, DATA=table children) message after its header."""
    body = encode_attr(ATTR_OBJID, objid) + _blob_attr(ATTR_DATA, table)
    if len(body) + 4 > MAX_MSGLEN:
        raise BlobError("message too long")
    return _be32.pack(4 + len(body)) + body


def message_header(type_, seq, peer):
    return _msghdr.pack(0, type_, seq & 0xFFFF, peer & 0xFFFFFFFF)


class Message:
    """A decoded ubus message; attrs keeps wire order, get() returns the last of an id (as libubus)."""
    __slots__ = ("type", "seq", "peer", "attrs", "raw_data")

    def __init__(self, type_, seq, peer, attrs, raw_data=None):
        self.type = type_
        self.seq = seq
        self.peer = peer
        self.attrs = attrs
        self.raw_data = raw_data   # (start, end) of DATA's children in the source buffer, if any

    def get(self, id_, default=None):
        for i, v in reversed(self.attrs):
            if i == id_:
                return v
        return default

    def has(self, id_):
        return any(i == id_ for i, _ in self.attrs)

    def __repr__(self):
        name = MSG_NAMES[self.type] if self.type < len(MSG_NAMES) else str(self.type)
        return "Message(%s seq=%d peer=%d %r)" % (
            name, self.seq, self.peer,
            [(ATTR_NAMES[i] if i < len(ATTR_NAMES) else i, v) for i, v in self.attrs])


def message_length(first):
    """Total length of the message whose first FIRST_READ bytes are given; BlobError if invalid."""
    version, _type, _seq, _peer = _msghdr.unpack_from(first, 0)
    (id_len,) = _be32.unpack_from(first, HEADER_LEN)
    raw = id_len & LEN_MASK
    if version != 0:
        raise BlobError("unsupported ubus message version %d" % version)
    if raw < 4 or ((raw + 3) & ~3) > MAX_MSGLEN:
        raise BlobError("bad ubus message length %d" % raw)
    return HEADER_LEN + raw


def decode_message(buf, start=0):
    """Decode one complete message at buf[start:]; returns a Message. Unknown attrs stay bytes."""
    if len(buf) - start < FIRST_READ:
        raise BlobError("truncated ubus message")
    version, type_, seq, peer = _msghdr.unpack_from(buf, start)
    total = message_length(bytes(buf[start:start + FIRST_READ]))
    end = start + total
    if end > len(buf):
        raise BlobError("truncated ubus message")
    attrs = []
    raw_data = None
    for id_, s, e in _iter_blob(buf, start + FIRST_READ, end):
        attrs.append((id_, decode_attr(id_, buf, s, e)))
        if id_ == ATTR_DATA:
            raw_data = (s, e)
    return Message(type_, seq, peer, attrs, raw_data)
