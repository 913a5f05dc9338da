"""Passwords in URLs are never shown: the central system URL in `tr069 status` (over ubus and JSON-RPC)
and any text that names URLs (bridge.redact)."""

import os

import pytest

from bridge.loop import Loop
from bridge.redact import redact
from bridge.sessions import Sessions
from bridge.tr069 import Tr069

SECRET = "s3cr:et"


# --- 6: the central system URL's password in `tr069 status` -----------------------------------------
@pytest.mark.parametrize("url,shown", [
    ("ws://op:%s@cs.example/OS3P" % SECRET, "ws://op:********@cs.example/OS3P"),
    ("wss://op:p@ss@cs.example:443/x?y=1", "wss://op:********@cs.example:443/x?y=1"),
    ("ws://op@cs.example/OS3P", "ws://op@cs.example/OS3P"),  # a user name alone is no secret
    ("ws://cs.example/OS3P", "ws://cs.example/OS3P"),
    ("", ""),
])
def test_finding_06_status_never_shows_the_url_password(tmp_path, url, shown):
    loop = Loop()
    try:
        obj = Tr069(loop, Sessions(str(tmp_path / "sessions.json")), acs_url=lambda: url)
        assert obj.call("status", {})[1]["cwmp"]["acs_url"] == shown

        class Driver:
            acs_url = url

            def connection_state(self):
                return "up"

        obj.attach_driver(Driver())
        assert obj.call("status", {})[1]["cwmp"]["acs_url"] == shown
    finally:
        loop.close()


def test_finding_06_over_json_rpc(tmp_path):
    from support.jsonrpc_helpers import Running

    def objects(loop):
        return {"tr069": Tr069(loop, Sessions(str(tmp_path / "s.json")),
                               acs_url=lambda: "ws://op:%s@cs.example/" % SECRET)}

    r = Running(objects, state_dir=str(tmp_path))
    try:
        sid = open(os.path.join(str(tmp_path), "cli.sid")).read().strip()
        res = r.client().call(sid, "tr069", "status")["result"]
        assert res[1]["cwmp"]["acs_url"] == "ws://op:********@cs.example/" and SECRET not in str(res)
    finally:
        r.close()


def test_redact_text_with_several_urls():
    text = "GET http://a:b@h1/x failed, then ftp://u:%s@h2 (see https://h3/)" % SECRET
    assert redact(text) == "GET http://a:********@h1/x failed, then ftp://u:********@h2 (see https://h3/)"
