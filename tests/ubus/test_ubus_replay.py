"""The ubus surface and the blocking client against a scripted ubusd on a real Unix socket.

The scripts are the wire transcripts recorded from a real ubusd with python-ubus and the ubus CLI
(tests/data/ubus/, see its README). Where our behaviour is meant to be libubus's, the
bytes must be identical; where it intentionally differs from python-ubus (inform with missing
optional keys), the new behaviour is asserted explicitly.
"""

import json
import struct
import threading
import time

import jsonschema
import pytest

from bridge import wiring
from bridge.daemon import Daemon
from bridge.ubus import blob, client
from bridge import ubusmsg as st
from support.ubusd import (WAIT, FakeUbusd, Running, ScriptedUbusd, answer, fixture, invoke, read_message,
                           read_until_status, register, tr069_output_schema)


# --- the daemon's surface -----------------------------------------------------------------------------

def groups(messages):
    """Split a transcript into (what ubusd sent, what the client answered) steps."""
    out = []
    for m in messages:
        if m["dir"] == "recv":
            if not out or out[-1][1]:
                out.append(([], []))
            out[-1][0].append(m)
        else:
            if not out or m["type"] == "REMOVE_OBJECT":   # sent on shutdown, not as an answer
                out.append(([], []))
            out[-1][1].append(m)
    return out


# inform calls whose python-ubus answer (status 2) we change on purpose: the schema makes both
# keys optional, so these start a session and answer status 0 with {"status": 1, ...}
CHANGED = {"inform"}


def test_object_transcript_replay(ubusd, running):
    doc = fixture("object-transcript.json")
    r = running()
    conn = ubusd.accept()
    steps = groups(doc["messages"])
    objid = None
    for sent, expected in steps:
        for m in sent:
            conn.sendall(bytes.fromhex(m["hex"]))
        if not expected:
            continue
        invoke = blob.decode_message(bytes.fromhex(sent[-1]["hex"])) if sent else None
        if expected[0]["type"] == "REMOVE_OBJECT":
            stopped = r.stop_face_async()
            raw, msg = read_message(conn)
            assert raw.hex() == expected[0]["hex"]
            continue
        got = read_until_status(conn)
        if expected[0]["type"] == "ADD_OBJECT":
            # the signature comes from schemas/tr069.json and must be icwmp's, byte for byte
            assert [raw.hex() for raw, _ in got] == [expected[0]["hex"]]
            continue
        assert invoke is not None and invoke.type == blob.INVOKE
        objid = invoke.get(blob.ATTR_OBJID)
        method, args = invoke.get(blob.ATTR_METHOD), invoke.get(blob.ATTR_DATA)
        exp_status = blob.decode_message(bytes.fromhex(expected[-1]["hex"])).get(blob.ATTR_STATUS)
        status_raw, status_msg = got[-1]
        assert status_msg.type == blob.STATUS
        assert (status_msg.seq, status_msg.peer) == (invoke.seq, invoke.peer)
        if method in CHANGED and exp_status == st.INVALID_ARGUMENT:
            # python-ubus refused {"event": ...} alone and {}; we start the session
            assert len(got) == 2, (args, got)
            assert status_msg.attrs == [(blob.ATTR_STATUS, st.OK), (blob.ATTR_OBJID, objid)]
            data = got[0][1]
            assert data.type == blob.DATA and (data.seq, data.peer) == (invoke.seq, invoke.peer)
            reply = data.get(blob.ATTR_DATA)
            assert reply["status"] == 1, reply
            jsonschema.validate(reply, tr069_output_schema("inform"))
            continue
        # same behaviour as python-ubus: the STATUS frame is byte-identical
        assert status_raw.hex() == expected[-1]["hex"]
        exp_data = [m for m in expected if m["type"] == "DATA"]
        got_data = [msg for _, msg in got if msg.type == blob.DATA]
        assert len(got_data) == len(exp_data)
        for d in got_data:
            assert (d.seq, d.peer) == (invoke.seq, invoke.peer)
            assert [a for a, _ in d.attrs] == [blob.ATTR_OBJID, blob.ATTR_DATA]
            assert d.get(blob.ATTR_OBJID) == objid
            reply = d.get(blob.ATTR_DATA)
            jsonschema.validate(reply, tr069_output_schema(method))
            if method == "inform":
                assert reply["status"] == 1
            if method == "command":
                assert reply["status"] == 0
    assert objid == 2861785557
    assert stopped.wait(WAIT)
    assert not r.conn.object_ids


def test_missing_optional_keys_and_rpc_session_are_accepted(ubusd, running):
    running()
    conn = ubusd.accept()
    register(conn)
    status, data = answer(invoke(conn, "inform", {"event": "6 connection request",
                                                  "ubus_rpc_session": "0123456789abcdef"}))
    assert status == st.OK and data["status"] == 1
    status, data = answer(invoke(conn, "inform", {"GetRPCMethods": True}))
    assert status == st.OK and data["status"] == 1
    status, data = answer(invoke(conn, "status", {"ubus_rpc_session": "x"}))
    assert status == st.OK
    jsonschema.validate(data, tr069_output_schema("status"))
    assert data["statistics"]["total_sessions"] >= 1


def test_bad_arguments_get_invalid_argument(ubusd, running):
    running()
    conn = ubusd.accept()
    register(conn)
    assert answer(invoke(conn, "inform", {"GetRPCMethods": "yes"})) == (st.INVALID_ARGUMENT, None)
    assert answer(invoke(conn, "command", {})) == (st.INVALID_ARGUMENT, None)
    assert answer(invoke(conn, "status", {"bogus": 1})) == (st.INVALID_ARGUMENT, None)
    # an INVOKE without DATA is refused as libubus does
    conn.sendall(blob.encode_message(blob.INVOKE, 9, 0x77, [(blob.ATTR_OBJID, 0x11223344),
                                                           (blob.ATTR_METHOD, "status")]))
    msgs = [m for _, m in read_until_status(conn)]
    assert [(m.type, m.seq, m.peer) for m in msgs] == [(blob.STATUS, 9, 0x77)]
    assert msgs[0].attrs == [(blob.ATTR_STATUS, st.INVALID_ARGUMENT), (blob.ATTR_OBJID, 0x11223344)]


class Flaky:
    name = "flaky"

    def __init__(self):
        self.calls = 0

    def signature(self):
        return {"boom": {}, "ok": {"n": blob.INT32}, "big": {}, "quiet": {}}

    def call(self, method, args):
        self.calls += 1
        if method == "boom":
            raise RuntimeError("handler bug")
        if method == "big":
            return st.OK, {"blob": "x" * 600000}
        if method == "quiet":
            return st.OK, None
        return st.OK, {"n": args.get("n"), "args": args}


def test_handler_exception_unknown_method_and_unknown_object(ubusd, running):
    obj = Flaky()
    running({"flaky": obj})
    conn = ubusd.accept()
    add = register(conn)
    sig = add.get(blob.ATTR_SIGNATURE)
    assert sig == {"boom": {}, "ok": {"n": blob.INT32}, "big": {}, "quiet": {}}
    assert answer(invoke(conn, "boom", {})) == (st.UNKNOWN_ERROR, None)
    assert answer(invoke(conn, "ok", {"n": 5})) == (st.OK, {"n": 5, "args": {"n": 5}})
    assert answer(invoke(conn, "nosuch", {})) == (st.METHOD_NOT_FOUND, None)
    assert answer(invoke(conn, "quiet", {})) == (st.OK, None)
    msgs = invoke(conn, "ok", {}, objid=0x99)
    assert [(m.type, m.seq, m.peer) for m in msgs] == [(blob.STATUS, 2, 0x5555)]
    assert msgs[0].attrs == [(blob.ATTR_STATUS, st.NOT_FOUND), (blob.ATTR_OBJID, 0)]
    assert obj.calls == 3            # boom, ok, quiet: nosuch and the unknown object never reach it


def test_no_reply_invoke_is_served_silently(ubusd, running):
    obj = Flaky()
    running({"flaky": obj})
    conn = ubusd.accept()
    register(conn)
    conn.sendall(blob.encode_message(blob.INVOKE, 3, 0x42, [
        (blob.ATTR_OBJID, 0x11223344), (blob.ATTR_METHOD, "ok"), (blob.ATTR_DATA, {}),
        (blob.ATTR_NO_REPLY, True)]))
    msgs = invoke(conn, "ok", {"n": 1}, seq=4)
    assert [(m.type, m.seq) for m in msgs] == [(blob.DATA, 4), (blob.STATUS, 4)]
    assert obj.calls == 2


def test_split_and_coalesced_reads(ubusd, running):
    running({"flaky": Flaky()})
    conn = ubusd.accept()
    register(conn)
    one = blob.encode_message(blob.INVOKE, 5, 0x10, [
        (blob.ATTR_OBJID, 0x11223344), (blob.ATTR_METHOD, "ok"), (blob.ATTR_DATA, {"n": 1})])
    two = blob.encode_message(blob.INVOKE, 6, 0x11, [
        (blob.ATTR_OBJID, 0x11223344), (blob.ATTR_METHOD, "ok"), (blob.ATTR_DATA, {"n": 2})])
    for i in range(len(one)):            # one byte at a time
        conn.sendall(one[i:i + 1])
        time.sleep(0.001)
    conn.sendall(two + one[:3])          # a whole message and the start of the next
    time.sleep(0.05)
    conn.sendall(one[3:])
    seen = []
    for _ in range(3):
        msgs = [m for _, m in read_until_status(conn)]
        seen.append((msgs[-1].seq, answer(msgs)[1]["n"]))
    assert seen == [(5, 1), (6, 2), (5, 1)]


def test_undecodable_arguments_get_invalid_argument_and_the_connection_stays(ubusd, running):
    running()
    conn = ubusd.accept()
    register(conn)
    bad = struct.pack(">IH", blob.EXTENDED | (blob.STRING << 24) | 10, 1) + b"k\0\0xyz\0\0"  # no NUL in value
    conn.sendall(blob.encode_message(blob.INVOKE, 8, 0x66, [
        (blob.ATTR_OBJID, 0x11223344), (blob.ATTR_METHOD, "status"), (blob.ATTR_DATA, bad)]))
    msgs = [m for _, m in read_until_status(conn)]
    assert [(m.type, m.seq, m.peer) for m in msgs] == [(blob.STATUS, 8, 0x66)]
    assert msgs[0].get(blob.ATTR_STATUS) == st.INVALID_ARGUMENT
    status, data = answer(invoke(conn, "status", {}))
    assert status == st.OK and data["cwmp"]["status"] == "up"


def test_status_calls_in_one_read_are_answered_in_order_and_in_full(ubusd, running):
    running()
    conn = ubusd.accept()
    register(conn)
    calls = [blob.encode_message(blob.INVOKE, 100 + i, 0x70 + i, [
        (blob.ATTR_OBJID, 0x11223344), (blob.ATTR_METHOD, "status"), (blob.ATTR_DATA, {})]) for i in range(5)]
    conn.sendall(b"".join(calls))
    replies = [[m for _, m in read_until_status(conn)] for _ in calls]
    assert [[(m.type, m.seq, m.peer) for m in r] for r in replies] == [
        [(blob.DATA, 100 + i, 0x70 + i), (blob.STATUS, 100 + i, 0x70 + i)] for i in range(5)]
    for r in replies:
        assert r[0].attrs[0] == (blob.ATTR_OBJID, 0x11223344)
        jsonschema.validate(r[0].get(blob.ATTR_DATA), tr069_output_schema("status"))
        assert r[1].attrs == [(blob.ATTR_STATUS, st.OK), (blob.ATTR_OBJID, 0x11223344)]


def test_large_reply_is_written_in_pieces(ubusd, running):
    running({"flaky": Flaky()})
    conn = ubusd.accept()
    register(conn)
    conn.sendall(blob.encode_message(blob.INVOKE, 7, 0x20, [
        (blob.ATTR_OBJID, 0x11223344), (blob.ATTR_METHOD, "big"), (blob.ATTR_DATA, {})]))
    time.sleep(0.2)                      # the reply exceeds the socket buffer: the surface must queue the rest
    conn.sendall(blob.encode_message(blob.INVOKE, 8, 0x21, [
        (blob.ATTR_OBJID, 0x11223344), (blob.ATTR_METHOD, "ok"), (blob.ATTR_DATA, {"n": 3})]))
    big = [m for _, m in read_until_status(conn)]
    assert [(m.type, m.seq) for m in big] == [(blob.DATA, 7), (blob.STATUS, 7)]
    assert answer(big)[1]["blob"] == "x" * 600000
    small = [m for _, m in read_until_status(conn)]   # answered after the big reply, in order
    assert [(m.type, m.seq) for m in small] == [(blob.DATA, 8), (blob.STATUS, 8)]


def test_reconnects_and_registers_again_after_ubusd_restart(tmp_path, ubusd, running):
    r = running()
    conn = ubusd.accept()
    add1 = register(conn, objid=0x1000)
    assert answer(invoke(conn, "status", {}, objid=0x1000))[0] == st.OK
    conn.close()                                          # ubusd went away
    conn2 = ubusd.accept()
    add2 = register(conn2, objid=0x2000)
    assert add2.get(blob.ATTR_SIGNATURE) == add1.get(blob.ATTR_SIGNATURE)
    assert add2.get(blob.ATTR_OBJPATH) == "tr069"
    assert add2.seq != add1.seq                           # libubus keeps counting across reconnects
    assert answer(invoke(conn2, "status", {}, objid=0x2000))[0] == st.OK
    # the old id is gone with the old connection
    assert answer(invoke(conn2, "status", {}, objid=0x1000))[0] == st.NOT_FOUND
    assert r.on_loop(lambda: dict(r.conn.object_ids)) == {"tr069": 0x2000}


def test_no_ubusd_yet_then_it_appears(tmp_path, running):
    path = tmp_path / "late.sock"
    r = Running(tmp_path, path, backoff=0.05)
    try:
        time.sleep(0.2)                                   # a few failed attempts
        fake = FakeUbusd(path)
        try:
            conn = fake.accept()
            add = register(conn)
            assert add.get(blob.ATTR_OBJPATH) == "tr069"
        finally:
            fake.close()
    finally:
        r.close()


def test_garbage_from_ubusd_drops_the_connection(ubusd, running):
    running()
    conn = ubusd.accept()
    register(conn)
    conn.sendall(b"\x07" + b"\0" * 11)                    # version 7: not a ubus message
    conn2 = ubusd.accept()
    assert register(conn2).get(blob.ATTR_OBJPATH) == "tr069"


def test_registration_refused_is_retried(ubusd, running):
    running()
    conn = ubusd.accept()
    conn.sendall(blob.encode_message(blob.HELLO, 0, 0x0A0B0C0D))
    _, add = read_message(conn)
    conn.sendall(blob.encode_message(blob.STATUS, add.seq, 0, [(blob.ATTR_STATUS, st.INVALID_ARGUMENT)]))
    _, again = read_message(conn)
    assert again.type == blob.ADD_OBJECT and again.seq == add.seq + 1


def test_face_start_takes_the_socket_from_env_or_config_and_registers_both_objects(tmp_path, ubusd, monkeypatch):
    d = Daemon("host", str(tmp_path / "state2"))
    monkeypatch.setenv(wiring.UBUS_SOCKET_ENV, ubusd.path)
    assert wiring.ubus_socket(d.config) == ubusd.path
    monkeypatch.delenv(wiring.UBUS_SOCKET_ENV)
    assert wiring.ubus_socket(d.config) == "/var/run/ubus/ubus.sock"
    monkeypatch.setenv(wiring.UBUS_SOCKET_ENV, ubusd.path)
    t = threading.Thread(target=d.loop.run, daemon=True)
    t.start()
    started = threading.Event()
    box = {}
    d.loop.call_soon_threadsafe(lambda: (d.start_components(only={"ubus"}), box.setdefault("surface", d.running["ubus"]),
                                         started.set()))
    assert started.wait(WAIT)
    conn = ubusd.accept()
    add = register(conn)
    assert add.get(blob.ATTR_OBJPATH) == "tr069"
    # the daemon's second object, the state view
    _, add2 = read_message(conn)
    assert add2.type == blob.ADD_OBJECT and add2.get(blob.ATTR_OBJPATH) == "tr069.bridge"
    assert add2.get(blob.ATTR_SIGNATURE) == {"state": {}}
    conn.sendall(blob.encode_message(blob.DATA, add2.seq, 0, [(blob.ATTR_OBJID, 0x55667788), (blob.ATTR_OBJTYPE, 78)]))
    conn.sendall(blob.encode_message(blob.STATUS, add2.seq, 0, [(blob.ATTR_STATUS, 0)]))
    status, data = answer(invoke(conn, "state", {}, objid=0x55667788, seq=3))
    assert status == 0 and data["daemon"]["backend"] == "host" and data["os3p"] == {"enabled": False}
    assert answer(invoke(conn, "state", {"verbose": True}, objid=0x55667788, seq=4)) == (st.INVALID_ARGUMENT, None)
    assert answer(invoke(conn, "nosuch", {}, objid=0x55667788, seq=5)) == (st.METHOD_NOT_FOUND, None)
    stopped = threading.Event()
    d.loop.call_soon_threadsafe(lambda: (box["surface"].stop(), stopped.set()))
    removed = set()
    for _ in range(2):
        _, rm = read_message(conn)
        assert rm.type == blob.REMOVE_OBJECT
        removed.add(rm.get(blob.ATTR_OBJID))
        conn.sendall(blob.encode_message(blob.STATUS, rm.seq, 0, [(blob.ATTR_STATUS, 0)]))
    assert removed == {0x11223344, 0x55667788}
    assert stopped.wait(WAIT)
    d.loop.stop()
    t.join(WAIT)


# --- the blocking client against ubusd's side of the caller transcripts ---------------------------

def run_cli_transcript(ubusd, entry):
    """Do what the transcript's `ubus` command did, with our client; returns (exit code, output)."""
    player = ScriptedUbusd(ubusd, entry["messages"])
    player.start()
    argv = entry["argv"][1:]
    out = ""
    with client.Client(ubusd.path, timeout=WAIT) as c:
        if argv[0] == "list":
            out = "".join(client.format_list(o, "-v" in argv) for o in c.lookup(argv[-1]))
            code = 0
        elif argv[0] == "call":
            args = json.loads(argv[3]) if len(argv) > 3 else None
            code, data = c.call(argv[1], argv[2], args)
            if data is not None:
                out = client.format_json(data, 0) + "\n"
            if code:
                out = "Command failed: ubus %s (%s)\n" % (" ".join(argv), st.MESSAGES[code])
        else:
            code = c.send(argv[1], json.loads(argv[2]) if len(argv) > 2 else None)
    player.join(WAIT)
    assert player.error is None, player.error
    expected_sent = [m["hex"] for m in entry["messages"] if m["dir"] == "send"]
    return (256 - code) % 256, out, player.got, expected_sent


CALLERS = fixture("caller-transcripts.json")["transcripts"] + fixture("uci-transcripts.json")["transcripts"]


@pytest.mark.parametrize("entry", CALLERS, ids=[" ".join(e["argv"][1:4]) for e in CALLERS])
def test_client_speaks_like_the_ubus_cli(ubusd, entry):
    code, out, sent, expected_sent = run_cli_transcript(ubusd, entry)
    assert sent == expected_sent              # LOOKUP / INVOKE byte for byte
    assert code == entry["exit_code"]
    assert out == entry["output"]


def test_client_reports_timeout_and_lost_connection(ubusd):
    def serve(mode):
        conn = ubusd.accept()
        conn.sendall(blob.encode_message(blob.HELLO, 0, 0x1234))
        read_message(conn)
        if mode == "close":
            conn.close()
        else:
            time.sleep(0.5)

    for mode, expected in (("silent", st.TIMEOUT), ("close", st.CONNECTION_FAILED)):
        t = threading.Thread(target=serve, args=(mode,), daemon=True)
        t.start()
        with client.Client(ubusd.path, timeout=0.3) as c:
            assert c.call("tr069", "status") == (expected, None)
        t.join(WAIT)


def test_client_without_ubusd_fails_cleanly(tmp_path):
    with pytest.raises(client.UbusError) as e:
        client.Client(str(tmp_path / "none.sock"), timeout=1).connect()
    assert e.value.code == st.CONNECTION_FAILED
