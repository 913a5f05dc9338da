"""The shim's `call` path over real HTTP on 127.0.0.1: the local CLI session, tr069 methods,
ubus_rpc_session added to the args, status codes passed through."""

import json
import os
import stat

import pytest

from bridge import schema
from support.jsonrpc_helpers import Running, TestObject, ZERO_SID, real_tr069


@pytest.fixture
def shim(tmp_path):
    def objects(loop):
        return {"tr069": real_tr069(loop, str(tmp_path)), "test": TestObject(loop)}

    r = Running(objects, state_dir=str(tmp_path))
    yield r
    r.close()


def cli_sid(state_dir):
    with open(os.path.join(state_dir, "cli.sid")) as f:
        return f.read().strip()


def test_cli_session_file_is_private_and_grants_everything(shim, tmp_path):
    path = tmp_path / "cli.sid"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    sid = cli_sid(str(tmp_path))
    assert len(sid) == 32 and int(sid, 16) >= 0
    assert (tmp_path / "cli.url").read_text().strip() == "http://127.0.0.1:%d/ubus" % shim.port
    c = shim.client()
    answer = c.call(sid, "tr069", "status", req_id=7)
    assert list(answer) == ["jsonrpc", "id", "result"]
    assert answer["id"] == 7 and answer["result"][0] == 0
    tr069 = schema.load("tr069")
    assert schema.errors_at(tr069, "#/properties/status/properties/output", answer["result"][1]) == []
    # the session never expires and is dropped with the shim
    dump = c.call(sid, "session", "list")["result"][1]
    assert dump["timeout"] == 0 and dump["acls"] == {"ubus": {"*": ["*"]}}


def test_status_codes_pass_through(shim, tmp_path):
    sid = cli_sid(str(tmp_path))
    c = shim.client()
    for code in range(0, 14):
        assert c.call(sid, "test", "fail", {"code": code})["result"] == [code]
        assert c.call(sid, "test", "fail", {"code": code, "data": True})["result"] == [code, {"code": code}]
    assert c.call(sid, "tr069", "command", {"command": 5})["result"] == [2]  # INVALID_ARGUMENT
    assert c.call(sid, "tr069", "nosuchmethod")["result"] == [3]  # METHOD_NOT_FOUND
    assert c.call(sid, "test", "empty")["result"] == [0]


def test_ubus_rpc_session_is_added_like_uhttpd(shim, tmp_path):
    sid = cli_sid(str(tmp_path))
    c = shim.client()
    assert c.call(sid, "test", "echo", {"a": 1, "b": [True, None]})["result"] == \
        [0, {"a": 1, "b": [True, None], "ubus_rpc_session": sid}]
    # a caller may not name the session itself
    err = c.call(sid, "test", "echo", {"ubus_rpc_session": ZERO_SID})
    assert err["error"] == {"code": -32602, "message": "Invalid parameters"}


def test_unknown_object_and_default_session(shim, tmp_path):
    c = shim.client()
    assert c.call(cli_sid(str(tmp_path)), "nope", "status")["error"]["code"] == -32000
    assert c.call(ZERO_SID, "tr069", "status")["error"] == {"code": -32002, "message": "Access denied"}
    assert c.call("f" * 32, "tr069", "status")["error"]["code"] == -32002


def test_call_timeout_answers_32003(tmp_path):
    r = Running(lambda loop: {"test": TestObject(loop)}, state_dir=str(tmp_path), call_timeout=0.3)
    try:
        c = r.client()
        sid = cli_sid(str(tmp_path))
        assert c.call(sid, "test", "hang")["error"] == {"code": -32003, "message": "ubus request timed out"}
        # the connection is still usable afterwards
        assert c.call(sid, "test", "empty")["result"] == [0]
    finally:
        r.close()


def test_local_session_file_removed_on_stop(tmp_path):
    r = Running(lambda loop: {}, state_dir=str(tmp_path))
    assert (tmp_path / "cli.sid").exists()
    r.close()
    assert not (tmp_path / "cli.sid").exists()


def test_inform_through_the_shim_starts_a_session(shim, tmp_path):
    c = shim.client()
    sid = cli_sid(str(tmp_path))
    before = c.call(sid, "tr069", "status")["result"][1]["statistics"]["total_sessions"]
    res = c.call(sid, "tr069", "inform", {"event": "6 CONNECTION REQUEST"})["result"]
    assert res[0] == 0
    after = c.call(sid, "tr069", "status")["result"][1]["statistics"]["total_sessions"]
    assert after == before + 1
    assert json.dumps(res)  # serialisable
