"""A third-party ubus JSON-RPC client from PyPI against the shim: openwrt-ubus-rpc (`openwrt.ubus`,
the client Home Assistant's ubus device tracker uses), written for uhttpd's /ubus."""

import os

import pytest

from bridge import schema
from support.jsonrpc_helpers import DATA, Running, real_tr069

ubus_rpc = pytest.importorskip("openwrt.ubus", reason="openwrt-ubus-rpc is in requirements-dev.txt")


@pytest.fixture
def shim(tmp_path):
    r = Running(lambda loop: {"tr069": real_tr069(loop, str(tmp_path))},
                users_file=os.path.join(DATA, "rpcd"), state_dir=str(tmp_path))
    yield r
    r.close()


def test_login_and_tr069_status(shim):
    client = ubus_rpc.Ubus("http://%s:%d/ubus" % (shim.host, shim.port), "viewer", "viewer-pw", timeout=5)
    sid = client.connect()
    assert sid and len(sid) == 32
    status = client.api_call("call", "tr069", "status")
    tr069 = schema.load("tr069")
    assert schema.errors_at(tr069, "#/properties/status/properties/output", status) == []
    assert status["cwmp"]["acs_url"] == "http://acs.example:7547/"
    # the client's list sends [sid, pattern]: the sid names no object, the pattern lists tr069
    listing = client.api_call("list", "tr*")
    assert listing == {"tr069": {"status": {}, "inform": {"GetRPCMethods": "boolean", "event": "string"},
                                 "command": {"command": "string"}}}
    # a read-only user may not start an inform: the client raises what uhttpd's answer means
    with pytest.raises(PermissionError):
        client.api_call("call", "tr069", "inform", {"event": "1 BOOT"})


def test_operator_informs_through_the_client(shim):
    client = ubus_rpc.Ubus("http://%s:%d/ubus" % (shim.host, shim.port), "operator", "operator-pw", timeout=5)
    assert client.connect()
    before = client.api_call("call", "tr069", "status")["statistics"]["total_sessions"]
    reply = client.api_call("call", "tr069", "inform", {"event": "6 CONNECTION REQUEST"})
    assert isinstance(reply, dict) and "status" in reply
    assert client.api_call("call", "tr069", "status")["statistics"]["total_sessions"] == before + 1


def test_wrong_password(shim):
    client = ubus_rpc.Ubus("http://%s:%d/ubus" % (shim.host, shim.port), "viewer", "nope", timeout=5)
    # rpcd answers [6] without data; this client then finds no session id
    with pytest.raises(TypeError):
        client.connect()
