"""Every file and directory the daemon creates in its state directory is private (mode 0600 / 0700)."""

import os
import stat

from support.daemon_process import BASE_CONFIG, DaemonProcess, write_config


def test_every_file_the_daemon_creates_is_private(tmp_path):
    state = tmp_path / "state"
    write_config(str(state), BASE_CONFIG)
    daemon = DaemonProcess(str(state)).start()
    try:
        assert daemon.call("inform", {"event": "1 BOOT"})[0] == 0
    finally:
        daemon.terminate()
    loose = []
    for base, dirs, files in os.walk(str(state)):
        for name in dirs + files:
            path = os.path.join(base, name)
            mode = stat.S_IMODE(os.lstat(path).st_mode)
            if mode & 0o077:
                loose.append("%s %o" % (os.path.relpath(path, str(state)), mode))
    assert loose == []
