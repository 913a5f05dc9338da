"""The tr069 object with its state directory full or read-only while running: an inform that cannot be
recorded starts no session, a session whose end cannot be recorded still ends, and a failed write leaves
no temporary file."""

import logging
import os

import pytest

from bridge.loop import Loop
from bridge.sessions import Sessions
from bridge.tr069 import Tr069
from bridge import ubusmsg as ubus


# --- 8: a full or read-only state directory while running -----------------------------------------
class Harness:
    def __init__(self, tmp_path):
        self.loop = Loop()
        self.path = tmp_path / "sessions.json"
        self.sessions = Sessions(str(self.path))
        self.obj = Tr069(self.loop, self.sessions, retry_base=0.0, retry_max=0.0)

    def settle(self):
        for _ in range(5):
            self.loop.run_once(0)

    def break_disk(self):
        # the temporary file write_atomic writes is a directory: every save fails (EISDIR), as
        # with a full or read-only directory, whoever runs the test
        os.mkdir(str(self.path.parent / (".%s.tmp" % self.path.name)))

    def mend_disk(self):
        os.rmdir(str(self.path.parent / (".%s.tmp" % self.path.name)))


def test_finding_08_inform_with_the_state_unwritable_starts_no_session_that_never_ends(tmp_path, caplog):
    h = Harness(tmp_path)
    try:
        h.break_disk()
        with caplog.at_level(logging.WARNING):
            code, data = h.obj.call("inform", {"event": "1 BOOT"})
        assert code == ubus.OK and data["status"] == -1 and "not writable" in data["info"]
        assert not h.sessions.running
        assert "session state not saved" in caplog.text
        h.settle()
        code, data = h.obj.call("inform", {})
        assert data["status"] == -1  # still refused, not "Session already running"
        h.mend_disk()
        code, data = h.obj.call("inform", {})
        assert data == {"status": 1, "info": "Session started"}
        h.settle()
        assert h.sessions.last_status == "success" and not h.sessions.running
        # nothing was lost: the refused events went out with the session that could start
        assert Sessions(str(h.path)).pending_events == []
    finally:
        h.loop.close()


def test_finding_08_a_session_that_cannot_record_its_end_still_ends(tmp_path):
    h = Harness(tmp_path)
    try:
        assert h.obj.call("inform", {})[1]["status"] == 1
        h.break_disk()
        h.settle()  # the session ends: its end is not saved, but it is not "running" any more
        assert not h.sessions.running and h.sessions.last_status == "success"
        h.mend_disk()
        assert h.obj.call("inform", {})[1] == {"status": 1, "info": "Session started"}
    finally:
        h.loop.close()


def test_finding_08_no_temporary_file_is_left_when_a_write_fails(tmp_path, monkeypatch):
    from bridge import atomic

    def full(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "write", full)
    with pytest.raises(OSError):
        atomic.write_json(str(tmp_path / "x.json"), {"a": 1})
    monkeypatch.undo()
    assert os.listdir(str(tmp_path)) == []
