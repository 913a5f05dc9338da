"""Basic credentials over plain ws:// are not sent unless os3p.allow_insecure_auth says so (issue 23; issue
15's finding 17 sent them with a warning); either way it is said once per endpoint, without the password."""

import pytest


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
