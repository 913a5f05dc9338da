"""The daemon's state directory: not writable at start (one line, no traceback), and on a real tmpfs that
fills up, not an injected error: the daemon refuses a session it cannot record, answers on, and takes the
event with the next session once there is room again.

The tmpfs is mounted in a mount namespace of its own (`unshare -rm`: a user namespace, so no privileges
are needed where unprivileged user namespaces are allowed); where they are not, the test skips."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from support.paths import TESTS


def can_mount_tmpfs(where):
    if shutil.which("unshare") is None:
        return False
    try:
        r = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs '%s'" % where],
                           capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def test_a_full_tmpfs_refuses_the_session_and_the_event_goes_once_there_is_room(tmp_path):
    mount = tmp_path / "mnt"
    mount.mkdir()
    if not can_mount_tmpfs(str(mount)):
        pytest.skip("no unprivileged mount namespace here (unshare -rm) to mount a tmpfs in")
    r = subprocess.run(["unshare", "-rm", sys.executable, os.path.join(TESTS, "support", "tmpfs_probe.py"), str(mount)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["status_before"] == 0 and out["filled"] > 0
    assert out["inform_full"] == [0, {"status": -1, "info": "Session not started: the state directory is not "
                                                            "writable (full or read-only)"}]
    assert out["status_full"] == 0  # still answering
    assert out["inform_mended"][0] == 0 and out["inform_mended"][1]["status"] == 1
    assert out["exit"] == 0 and out["pending_after"] == []  # nothing waits: the BOOT event went out


def test_finding_17_unwritable_state_directory_at_start_is_one_line(tmp_path, capsys):
    from bridge import daemon

    (tmp_path / "daemon.lock").mkdir()  # the lock file cannot be opened, whoever runs the test
    assert daemon.main(["--backend", "host", "--state-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cannot start: state directory %s is not writable" % tmp_path)
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
