"""Findings of the attacker's probe against the core (tr069 object, state, start-up): each test
failed before its fix."""

import logging
import os

import pytest

from bridge import logsetup
from bridge.loop import Loop
from bridge.redact import redact
from bridge.sessions import Sessions
from bridge.tr069 import Tr069
from bridge import ubusmsg as ubus

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
    from jsonrpc_helpers import Running

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


# --- 17 (part): a state directory without a writable log file at start --------------------------------
def test_finding_17_unwritable_log_file_is_one_warning_not_a_traceback(tmp_path, capsys):
    blocked = tmp_path / "daemon.log"
    blocked.mkdir()  # cannot be opened for writing, whoever runs the test
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        logsetup.setup("host", log_file=str(blocked))
        logging.getLogger("x").warning("still logging")
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
    err = capsys.readouterr().err
    assert "log file %s not written" % blocked in err and "still logging" in err
    assert "Traceback" not in err


def test_finding_17_unwritable_state_directory_at_start_is_one_line(tmp_path, capsys):
    from bridge import daemon

    (tmp_path / "daemon.lock").mkdir()  # the lock file cannot be opened, whoever runs the test
    assert daemon.main(["--backend", "host", "--state-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cannot start: state directory %s is not writable" % tmp_path)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
