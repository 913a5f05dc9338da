"""blob/blobmsg codec against the wire transcripts recorded from a real ubusd + libubus
(tests/data/ubus/*.json; see that directory's README for how they were captured)."""

import json
import math
import os
import struct

import pytest

from bridge.ubus import blob

from support.paths import UBUS_FIXTURES as FIXTURES  # noqa: E402
TRANSCRIPTS = ("object-transcript.json", "caller-transcripts.json", "uci-transcripts.json",
               "event-listener-transcript.json")


def load_messages(name):
    with open(os.path.join(FIXTURES, name)) as f:
        doc = json.load(f)
    if "messages" in doc:
        return [(name, i, m) for i, m in enumerate(doc["messages"])]
    out = []
    for t, entry in enumerate(doc["transcripts"]):
        out += [("%s[%d] %s" % (name, t, " ".join(entry["argv"])), i, m)
                for i, m in enumerate(entry["messages"])]
    return out


def from_fixture(value):
    """The transcripts' reading aid {"int8/bool": n} is what our decoder gives as a bool."""
    if isinstance(value, dict):
        if list(value) == ["int8/bool"]:
            return bool(value["int8/bool"])
        return {k: from_fixture(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_fixture(v) for v in value]
    return value


def fixture_attrs(m):
    out = []
    for name, value in m["attrs"]:
        aid = blob.ATTR_IDS[name]
        if aid in (blob.ATTR_USER, blob.ATTR_GROUP):
            # shown as hex of the NUL-terminated string
            value = bytes.fromhex(value).rstrip(b"\0").decode()
        out.append((aid, from_fixture(value)))
    return out


ALL = [x for name in TRANSCRIPTS for x in load_messages(name)]


def test_fixtures_present():
    assert len(ALL) > 80


@pytest.mark.parametrize("where,index,m", ALL, ids=[f"{w}#{i}" for w, i, _ in ALL])
def test_decode_matches_transcript(where, index, m):
    raw = bytes.fromhex(m["hex"])
    assert blob.message_length(raw[:blob.FIRST_READ]) == len(raw)
    msg = blob.decode_message(raw)
    assert blob.MSG_NAMES[msg.type] == m["type"]
    assert (msg.seq, msg.peer) == (m["seq"], m["peer"])
    assert msg.attrs == fixture_attrs(m)


@pytest.mark.parametrize("where,index,m", ALL, ids=[f"{w}#{i}" for w, i, _ in ALL])
def test_encode_is_byte_identical(where, index, m):
    mtype = blob.MSG_NAMES.index(m["type"])
    assert blob.encode_message(mtype, m["seq"], m["peer"], fixture_attrs(m)).hex() == m["hex"]


def roundtrip(value):
    return blob.decode_table(blob.encode_table(value))


def test_python_types_map_like_blobmsg_add_json():
    enc = blob.encode_table({"a": 1})
    assert enc[0] == 0x80 | blob.INT32
    assert blob.encode_table({"a": 2 ** 31})[0] == 0x80 | blob.INT64
    assert blob.encode_table({"a": -2 ** 31})[0] == 0x80 | blob.INT32
    assert blob.encode_table({"a": -2 ** 31 - 1})[0] == 0x80 | blob.INT64
    assert blob.encode_table({"a": True})[0] == 0x80 | blob.INT8
    assert blob.encode_table({"a": 1.5})[0] == 0x80 | blob.DOUBLE
    assert blob.encode_table({"a": None})[0] == 0x80 | blob.UNSPEC
    assert blob.encode_table({"a": []})[0] == 0x80 | blob.ARRAY
    assert blob.encode_table({"a": {}})[0] == 0x80 | blob.TABLE
    with pytest.raises(blob.BlobError):
        blob.encode_table({"a": 2 ** 63})
    with pytest.raises(blob.BlobError):
        blob.encode_table({"a": object()})
    with pytest.raises(blob.BlobError):
        blob.encode_table({1: "x"})


def test_roundtrip_values():
    v = {"s": "héllo", "e": "", "i": -5, "big": 2 ** 40, "neg": -2 ** 40, "t": True, "f": False,
         "d": -0.25, "n": None, "l": [1, "a", [True], {"x": 1}], "o": {"p": {"q": []}}, "": 3}
    assert roundtrip(v) == v
    assert math.isinf(roundtrip({"x": float("inf")})["x"])


def test_typed_forces_type():
    enc = blob.encode_table({"object": blob.Typed(blob.INT32, 0xF0883EFA)})
    assert enc[0] == 0x80 | blob.INT32
    assert enc[-4:] == struct.pack(">I", 0xF0883EFA)
    assert roundtrip({"x": blob.Typed(blob.INT16, -2)}) == {"x": -2}
    assert roundtrip({"x": blob.Typed(blob.INT64, 7)}) == {"x": 7}
    assert blob.encode_table({"x": blob.Typed(blob.INT64, 7)})[0] == 0x80 | blob.INT64


@pytest.mark.parametrize("data", [
    b"\x83\x00\x00\x05",                          # string too short for its name header
    b"\x83\x00\x00\x09\x00\x01a\x00x\x00\x00\x00",  # string without NUL at the end
    b"\x85\x00\x00\x0c\x00\x01a\x00\x00\x01",     # int32 shorter than 4 bytes / beyond end
    b"\x85\x00\x00\x0a\x00\x01a\x00\x00\x01",     # int32 of 2 bytes
    b"\x8f\x00\x00\x08\x00\x00\x00\x00",          # unknown blobmsg type
    b"\x82\x00\x00\x02",                          # length below header size
    b"\x82\x00\x10\x00",                          # length beyond the buffer
    b"\x82\x00",                                   # truncated header
    b"\x85\x00\x00\x0c\x00\x09abc\x00\x00\x00\x00\x00",  # name longer than the attribute
])
def test_malformed_blobmsg_raises_blob_error(data):
    with pytest.raises(blob.BlobError):
        blob.decode_table(data)


def test_deep_nesting_is_bounded():
    v = []
    for _ in range(blob.MAX_DEPTH + 5):
        v = [v]
    with pytest.raises(blob.BlobError):
        blob.encode_array(v)
    # hand-build a too-deep array on the wire
    data = b""
    for _ in range(blob.MAX_DEPTH + 5):
        raw = 8 + len(data)
        data = struct.pack(">IH", 0x80000000 | (blob.ARRAY << 24) | raw, 0) + b"\0\0" + data
    with pytest.raises(blob.BlobError):
        blob.decode_array(data)


def test_message_framing_checks():
    good = blob.encode_message(blob.STATUS, 3, 7, [(blob.ATTR_STATUS, 2)])
    assert blob.decode_message(good).get(blob.ATTR_STATUS) == 2
    with pytest.raises(blob.BlobError):
        blob.decode_message(good[:-1])
    with pytest.raises(blob.BlobError):
        blob.message_length(b"\x01" + good[1:blob.FIRST_READ])   # version 1
    too_long = good[:blob.HEADER_LEN] + struct.pack(">I", blob.MAX_MSGLEN + 8)
    with pytest.raises(blob.BlobError):
        blob.message_length(too_long)
    with pytest.raises(blob.BlobError):
        blob.decode_message(good[:blob.HEADER_LEN] + struct.pack(">I", 2))


def test_empty_message_is_hello_shape():
    assert blob.encode_message(blob.HELLO, 0, 0xFEE5F9DB).hex() == "00000000fee5f9db00000004"


# --- the known-shape encoder and the INVOKE reader ------------------------------------------------

SHAPE = blob.Shape({"a": {"s": blob.STRING, "n": blob.INT32, "b": blob.INT8},
                    "t": blob.STRING, "deep": {"x": {"y": blob.STRING}}, "empty": {}})


@pytest.mark.parametrize("s", ["", "a", "ab", "abc", "abcd", "abcde", "éè", "x" * 1000])
def test_shape_encodes_as_the_generic_codec(s):
    for n in (0, -1, 2**31 - 1):
        for b in (True, False):
            d = {"a": {"s": s, "n": n, "b": b}, "t": s + "!", "deep": {"x": {"y": s * 2}}, "empty": {}}
            out = SHAPE.encode((s, n, b, s + "!", s * 2))
            assert out == blob.encode_table(d)
            assert blob.decode_table(out) == d


def test_shape_refuses_a_wrong_number_of_values_and_unknown_leaf_types():
    with pytest.raises(blob.BlobError):
        SHAPE.encode(("x",))
    with pytest.raises(blob.BlobError):
        blob.Shape({"f": blob.DOUBLE})


INVOKES = [m for m in ALL if m[2]["type"] == "INVOKE"]


@pytest.mark.parametrize("where,index,m", INVOKES, ids=[f"{w}#{i}" for w, i, _ in INVOKES])
def test_invoke_fields_read_what_decode_message_reads(where, index, m):
    raw = bytes.fromhex(m["hex"])
    msg = blob.decode_message(raw)
    oid, method, ds, de, no_reply = blob.invoke_fields(raw, blob.FIRST_READ, len(raw))
    assert (oid, method, no_reply) == (msg.get(blob.ATTR_OBJID), msg.get(blob.ATTR_METHOD),
                                       bool(msg.get(blob.ATTR_NO_REPLY)))
    assert blob.decode_table(raw, ds, de) == msg.get(blob.ATTR_DATA)


@pytest.mark.parametrize("attrs", [
    blob.encode_attr(blob.ATTR_OBJID, 1)[:6],                               # truncated
    struct.pack(">I", (blob.ATTR_OBJID << 24) | 6) + b"\0\0\0\0",          # int32 of 2 bytes
    struct.pack(">I", (blob.ATTR_METHOD << 24) | 12) + b"abc\0",           # length past the end
    struct.pack(">I", (blob.ATTR_METHOD << 24) | 8) + b"abcd",             # not NUL-terminated
])
def test_invoke_fields_refuse_malformed_attributes(attrs):
    with pytest.raises(blob.BlobError):
        blob.invoke_fields(attrs, 0, len(attrs))
