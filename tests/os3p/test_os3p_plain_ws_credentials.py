"""Basic credentials over plain ws:// are not sent unless os3p.allow_insecure_auth says so (issue 23; issue
15's finding 17 sent them with a warning); either way it is said once per endpoint, without the password."""

import base64
import os
import time

import pytest

from support.daemon_process import PATIENCE, DaemonProcess
from support.os3p_harness import write_config


@pytest.mark.parametrize("allowed", [False, True])
def test_basic_credentials_over_plain_ws_only_where_allow_insecure_auth_says_so(caplog, allowed):
    from bridge.os3p import connection

    connection._PLAIN_WARNED.clear()
    with caplog.at_level("WARNING"):
        for _ in range(3):
            headers = connection.Options("ws://cs.example/OS3P/x", "op", "pw", allow_insecure_auth=allowed).headers()
            assert any(h.startswith("Authorization: Basic ") for h in headers) is allowed
        tls = connection.Options("wss://cs.example/OS3P/x", "op", "pw").headers()
        assert any(h.startswith("Authorization: Basic ") for h in tls)  # wss:// protects them: always sent
        assert not any(h.startswith("Authorization") for h in connection.Options("ws://cs.example/OS3P/x").headers())
    warnings = [r for r in caplog.records if "plain ws://" in r.getMessage()]
    assert len(warnings) == 1 and "pw" not in warnings[0].getMessage().replace("password", "")
    assert ("not sending" in warnings[0].getMessage()) is not allowed


PASSWORD = "pl41n-s3cret"
SAID = {  # what daemon.log says about the credentials, by os3p.allow_insecure_auth
    None: "not sending the central system's user name and password over plain ws://",
    "1": "sending the central system's user name and password over plain ws:// (os3p.allow_insecure_auth is on",
}


@pytest.mark.parametrize("allow_insecure_auth", [None, "1"], ids=["shipped-default", "allow_insecure_auth-1"])
def test_the_daemon_sends_basic_credentials_over_plain_ws_only_when_allow_insecure_auth_is_set(
        cs, tmp_path, allow_insecure_auth):
    """The real daemon, its config as an operator writes it (acs.username, acs.password and a ws:// URL; the
    option left out is the shipped default), against a real central system on loopback that records the
    WebSocket upgrade request as it came."""
    state = str(tmp_path / "state")
    options = {"acs__username": "operator", "acs__password": PASSWORD, "jsonrpc__port": "0"}
    if allow_insecure_auth is not None:
        options["os3p__allow_insecure_auth"] = allow_insecure_auth
    write_config(state, cs.url, **options)
    assert cs.url.startswith("ws://127.0.0.1:")
    log = os.path.join(state, "daemon.log")
    d = DaemonProcess(state).start()
    try:
        # the central system asks for no credentials: the connection goes on either way
        cs.wait_for(lambda c: "SUBS001" in c.connections and c.calls("BootNotification"), PATIENCE)
        authorization = [h.get("Authorization") for h in cs.handshakes]
        if allow_insecure_auth is None:
            assert authorization == [None] * len(cs.handshakes)
        else:
            token = base64.b64encode(("operator:" + PASSWORD).encode()).decode()
            assert authorization and set(authorization) == {"Basic " + token}
        deadline = time.monotonic() + PATIENCE
        while SAID[allow_insecure_auth] not in (text := open(log).read() if os.path.exists(log) else ""):
            assert time.monotonic() < deadline, "daemon.log never said: %s\n%s" % (SAID[allow_insecure_auth], text)
            time.sleep(0.05)
        said = [line for line in text.splitlines() if "plain ws://" in line]
        assert len(said) == 1  # once per endpoint, however often it connects
        assert PASSWORD not in text
    finally:
        d.terminate()
    assert PASSWORD not in d.stderr_text()
