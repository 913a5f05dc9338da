"""Fault injection: the state directory full (ENOSPC) or read-only (EROFS) under a running outbox.

The outbox refuses a new entry with one clear log line (put() answers None, nothing raises into the
producer), keeps and still delivers every entry it already holds, and accepts again once the disk mends.
The faults are injected at the system call write_atomic makes, so they hit whoever runs the test (root too).
"""

import logging
import os

import pytest

from bridge.os3p.outbox import Outbox
from support.disk_faults import FAULTS, break_disk

@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_outbox_refuses_new_entries_and_loses_none_it_has(tmp_path, monkeypatch, caplog, fault):
    box = Outbox(str(tmp_path / "q"))
    kept = [box.put("StatusNotification", {"n": n})["id"] for n in range(3)]
    break_disk(monkeypatch, *FAULTS[fault])
    with caplog.at_level(logging.ERROR, logger="bridge.os3p.outbox"):
        assert box.put("StatusNotification", {"n": 3}) is None  # refused, not raised
    assert "not queued" in caplog.text and "StatusNotification" in caplog.text and FAULTS[fault][1] in caplog.text
    assert box.refused == 1
    assert [r["id"] for r in box.records()] == kept  # in memory, in order
    # the head is still delivered and acknowledged; a file that cannot be unlinked is sent again after a
    # restart with its own id (the central system tells the repeat), never lost
    assert box.remove(kept[0])
    assert [r["id"] for r in box.records()] == kept[1:]
    monkeypatch.undo()
    assert not [n for n in os.listdir(str(tmp_path / "q")) if n.endswith(".tmp")]
    again = Outbox(str(tmp_path / "q"))  # a restart sees every entry not yet acknowledged
    assert set(kept[1:]) <= {r["id"] for r in again.records()}
    # mended: accepted again, after the survivors
    new = box.put("StatusNotification", {"n": 4})
    assert new is not None and box.records()[-1] == new
    assert [r["id"] for r in Outbox(str(tmp_path / "q")).records()][-1] == new["id"]


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_protocol_keeps_delivering_what_it_holds_while_the_disk_refuses(tmp_path, monkeypatch, fault):
    from support.os3p_core import Core

    core = Core(tmp_path)
    core.p.start()
    core.connect()
    core.frames()
    payload = {"errorCode": "NoError", "status": "Ok"}
    held = core.p.notify("StatusNotification", dict(payload, info="before"))
    [(first_id, _, _)] = core.calls()
    break_disk(monkeypatch, *FAULTS[fault])
    assert core.p.notify("StatusNotification", dict(payload, info="refused")) is None  # no exception
    core.answer(first_id, {})
    assert held["id"] == first_id and len(core.outbox) == 0
    assert core.calls() == []  # the refused one was never queued, nothing half-queued goes out
    monkeypatch.undo()
    later = core.p.notify("StatusNotification", dict(payload, info="after"))
    assert [c[2]["info"] for c in core.calls()] == ["after"] and later is not None
