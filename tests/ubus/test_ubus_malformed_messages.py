"""Malformed messages from ubusd must not drop the object connection. Each message below has a valid frame (header and outer length) and bad content; a
real ubusd forwards an INVOKE's DATA unchecked, so any local caller allowed `tr069` can send them.
"""

import struct

import pytest

from bridge.ubus import blob
from bridge import ubusmsg as st
from support.ubusd import answer, invoke, read_until_status, register

OID = 0x11223344
be32 = struct.Struct(">I").pack


def frame(type_, seq, peer, body):
    """A message with a valid header and outer length around `body` (top-level attributes)."""
    return struct.pack(">BBHI", 0, type_, seq, peer) + be32(4 + len(body)) + body


def attr(id_, payload, raw_len=None):
    raw = 4 + len(payload) if raw_len is None else raw_len
    return be32((id_ << 24) | raw) + payload + b"\0" * (-len(payload) % 4)


def bm(type_, name, payload, raw_len=None):
    """A blobmsg attribute, its length optionally a lie."""
    nb = name.encode()
    head = struct.pack(">H", len(nb)) + nb + b"\0"
    head += b"\0" * (-(len(head)) % 4)
    raw = 4 + len(head) + len(payload) if raw_len is None else raw_len
    return be32(blob.EXTENDED | (type_ << 24) | raw) + head + payload + b"\0" * (-len(payload) % 4)


def deep(n):
    inner = b""
    for _ in range(n):
        inner = bm(blob.TABLE, "t", inner)
    return inner


OBJID = attr(blob.ATTR_OBJID, be32(OID))
METHOD = attr(blob.ATTR_METHOD, b"status\0")

BAD_DATA = {
    "string without NUL": bm(blob.STRING, "event", b"1 BOOT"),
    "child length past its parent": bm(blob.STRING, "event", b"x\0", raw_len=200),
    "child length below its header": bm(blob.INT32, "n", be32(1), raw_len=3),
    "int32 of 2 bytes": bm(blob.INT32, "n", b"\0\1"),
    "int8 of 4 bytes": bm(blob.INT8, "GetRPCMethods", b"\1\0\0\0"),
    "int64 of 4 bytes": bm(blob.INT64, "n", be32(1)),
    "double of 3 bytes": bm(blob.DOUBLE, "n", b"abc"),
    "unknown blobmsg type": bm(99, "x", b"abcd"),
    "name longer than the attribute": be32(blob.EXTENDED | (blob.STRING << 24) | 8) + struct.pack(">H", 500) + b"ab",
    "name not NUL-terminated": be32(blob.EXTENDED | (blob.STRING << 24) | 12) + struct.pack(">H", 2) + b"abc" + b"x\0\0",
    "truncated child header": b"\x80\x00",
    "tables 200 deep": deep(200),
    "array child with a lying length": bm(blob.ARRAY, "a", bm(blob.STRING, "", b"x\0", raw_len=99)),
}

BAD_TOP = {
    "method without NUL": OBJID + attr(blob.ATTR_METHOD, b"status") + attr(blob.ATTR_DATA, b""),
    "objid of 2 bytes": attr(blob.ATTR_OBJID, b"\0\1") + METHOD + attr(blob.ATTR_DATA, b""),
    "attribute length past the message": OBJID + METHOD + attr(blob.ATTR_DATA, b"", raw_len=4000),
    "attribute length below its header": OBJID + METHOD + be32((blob.ATTR_DATA << 24) | 2),
    "no_reply of 4 bytes": OBJID + METHOD + attr(blob.ATTR_DATA, b"") + attr(blob.ATTR_NO_REPLY, be32(1)),
    "user without NUL": OBJID + METHOD + attr(blob.ATTR_USER, b"root") + attr(blob.ATTR_DATA, b""),
    "signature that does not decode": OBJID + METHOD + attr(blob.ATTR_SIGNATURE, b"\x80\0\0\x40") + attr(blob.ATTR_DATA, b""),
}


def still_serves(conn):
    status, data = answer(invoke(conn, "status", {}, seq=77))
    return status == st.OK and data["cwmp"]["status"] == "up"


@pytest.mark.parametrize("name", sorted(BAD_DATA))
def test_finding_11_bad_invoke_data_gets_invalid_argument_and_the_connection_stays(ubusd, running, name):
    running()
    conn = ubusd.accept()
    register(conn)
    conn.sendall(frame(blob.INVOKE, 9, 0x66, OBJID + METHOD + attr(blob.ATTR_DATA, BAD_DATA[name])))
    msgs = [m for _, m in read_until_status(conn)]
    assert [(m.type, m.seq, m.peer) for m in msgs] == [(blob.STATUS, 9, 0x66)]
    assert msgs[0].get(blob.ATTR_STATUS) == st.INVALID_ARGUMENT
    assert still_serves(conn)


@pytest.mark.parametrize("name", sorted(BAD_TOP))
def test_finding_11_bad_invoke_attributes_get_invalid_argument_and_the_connection_stays(ubusd, running, name):
    running()
    conn = ubusd.accept()
    register(conn)
    conn.sendall(frame(blob.INVOKE, 10, 0x67, BAD_TOP[name]))
    msgs = [m for _, m in read_until_status(conn)]
    assert [(m.type, m.seq, m.peer) for m in msgs] == [(blob.STATUS, 10, 0x67)]
    assert msgs[0].get(blob.ATTR_STATUS) == st.INVALID_ARGUMENT
    assert still_serves(conn)


@pytest.mark.parametrize("type_", [blob.DATA, blob.STATUS, blob.NOTIFY, blob.HELLO])
def test_finding_11_other_bad_messages_are_dropped_not_the_connection(ubusd, running, type_):
    running()
    conn = ubusd.accept()
    register(conn)
    conn.sendall(frame(type_, 11, 0x68, attr(blob.ATTR_STATUS, b"\0")))  # status of 1 byte
    assert still_serves(conn)


def test_finding_11_a_lost_frame_still_drops_the_connection(ubusd, running):
    running()
    conn = ubusd.accept()
    register(conn)
    conn.sendall(struct.pack(">BBHI", 0, blob.INVOKE, 1, 1) + be32(2))  # outer length below 4
    conn2 = ubusd.accept()  # the surface reconnects: a new stream, in step again
    assert register(conn2).get(blob.ATTR_OBJPATH) == "tr069"
