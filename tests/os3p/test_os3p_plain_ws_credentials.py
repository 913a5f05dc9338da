"""Basic credentials over plain ws:// are sent as configured and warned about once."""


def test_finding_17_basic_credentials_over_plain_ws_are_warned_about_once(caplog):
    from bridge.os3p import connection

    connection._PLAIN_WARNED.clear()
    with caplog.at_level("WARNING"):
        for _ in range(3):
            headers = connection.Options("ws://cs.example/OS3P/x", "op", "pw").headers()
            assert any(h.startswith("Authorization: Basic ") for h in headers)
        connection.Options("wss://cs.example/OS3P/x", "op", "pw").headers()
        connection.Options("ws://cs.example/OS3P/x").headers()
    warnings = [r for r in caplog.records if "plain ws://" in r.getMessage()]
    assert len(warnings) == 1 and "pw" not in warnings[0].getMessage().replace("password", "")
