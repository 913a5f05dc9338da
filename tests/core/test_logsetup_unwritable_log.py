"""A log file that cannot be written at start: one warning on stderr, and logging goes on."""

import logging

from bridge import logsetup


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
