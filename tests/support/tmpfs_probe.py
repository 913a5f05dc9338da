"""Run inside `unshare -rm` by tests/daemon/test_daemon_state_dir.py: a real tmpfs of 1 MiB as the state directory,
filled to the last block while the daemon runs; prints what the daemon answered, as JSON."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/

from support.daemon_process import BASE_CONFIG, DaemonProcess, write_config  # noqa: E402


def fill(path):
    """Write until the file system refuses (ENOSPC): the disk is full."""
    n = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            n += os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return n


def main(mount):
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", mount], check=True)
    state = os.path.join(mount, "state")
    write_config(state, BASE_CONFIG)
    d = DaemonProcess(state).start()
    out = {}
    try:
        out["status_before"] = d.call("status")[0]
        out["filled"] = fill(os.path.join(mount, "filler"))
        out["inform_full"] = d.call("inform", {"event": "1 BOOT"})
        out["status_full"] = d.call("status")[0]
        os.unlink(os.path.join(mount, "filler"))
        out["inform_mended"] = d.call("inform", {"event": "1 BOOT"})
        out["exit"] = d.terminate()
    finally:
        d.kill()
    with open(os.path.join(state, "sessions.json")) as f:
        out["pending_after"] = json.load(f).get("pending_events")
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
