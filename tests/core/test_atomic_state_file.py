"""atomic.StateFile: how every state file its owner rewrites whole (sessions, the OS3P state, the streetlights)
meets a state directory that is missing, full or read-only: one error line until it mends, one line when it
does, never an exception into the caller."""

import json
import logging
import os

from bridge.atomic import StateFile


def test_a_missing_directory_is_one_error_line_until_it_mends_then_one_line(tmp_path, caplog):
    where = tmp_path / "state"
    f = StateFile(str(where / "x.json"), "test state", logging.getLogger("bridge.test"))
    with caplog.at_level(logging.WARNING):
        assert f.write({"a": 1}) is False
        assert f.write({"a": 2}) is False
        assert [r.levelname for r in caplog.records] == ["ERROR"]
        assert caplog.records[0].getMessage().startswith("test state not saved to %s" % (where / "x.json"))
        os.mkdir(where)
        assert f.write({"a": 3}) is True
        assert f.write({"a": 4}) is True
    assert [r.levelname for r in caplog.records] == ["ERROR", "WARNING"]
    assert caplog.records[1].getMessage() == "test state saved to %s again" % (where / "x.json")
    assert json.loads((where / "x.json").read_text()) == {"a": 4}
    assert oct(os.stat(where / "x.json").st_mode & 0o777) == "0o600"
