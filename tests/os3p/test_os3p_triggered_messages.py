"""A central system that triggers without end and never answers: the core's direct calls stay bounded."""


def test_finding_09_triggered_messages_do_not_pile_up(tmp_path):
    import json

    from bridge.os3p import calls
    from support.os3p_core import Core

    core = Core(tmp_path)
    core.p.start()
    core.connect()
    core.take()
    sent = []
    for i in range(5000):
        core.p.received(json.dumps([2, "t%d" % i, "TriggerMessage", {"requestedMessage": "Heartbeat"}]))
        for out in core.p.take():
            frame = json.loads(out.text)
            if frame[0] == 3:
                assert frame[2] == {"status": "Accepted"}
                out.after()
            else:
                sent.append(frame)
    assert [f[2] for f in sent] == ["Heartbeat"]  # on the wire, never answered
    assert len(core.p.direct) <= 1  # the rest are one waiting Heartbeat, not 4999
    core.answer(sent[0][1], {"currentTime": "2027-01-15T08:00:00Z"})
    assert [c[1] for c in core.calls()] == ["Heartbeat"] and not core.p.direct
    # other direct calls are bounded too (a session's Heartbeat, say)
    for _ in range(calls.MAX_DIRECT + 50):
        core.p.call("Heartbeat", {})
    assert len(core.p.direct) == calls.MAX_DIRECT
