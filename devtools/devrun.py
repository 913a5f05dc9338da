"""`make run`: the daemon on this machine (host backend, embedded defaults) beside a local central system.

The simulator listens on 127.0.0.1:9000, where the embedded acs.url points, so
a newcomer sees BootNotification, Heartbeat and the rest go by. Ctrl-C stops both.
"""

import argparse
import importlib.util
import os
import socket
import subprocess
import sys
import time


def wait_port(host, port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--state-dir", default=None)
    p.add_argument("--no-simulator", action="store_true")
    args = p.parse_args(argv)
    sim = None
    extra = []
    if not args.no_simulator and importlib.util.find_spec("devtools.centralsystem"):
        sim = subprocess.Popen([sys.executable, "-m", "devtools.centralsystem", "--host", "127.0.0.1", "--port", "9000"])
        if wait_port("127.0.0.1", 9000):
            # the embedded acs.url points at it; the OS3P client is off by default elsewhere
            extra = ["--option", "os3p.enabled=1"]
        else:
            print("central-system simulator did not start; running the daemon alone", file=sys.stderr)
    from bridge.daemon import default_state_dir
    from bridge.daemon import main as daemon_main

    state_dir = args.state_dir or default_state_dir("host")
    opt = "" if args.state_dir is None else " --state-dir %s" % state_dir
    print("state directory: %s\n"
          "in another shell:  .venv/bin/tr069-bridge call%s status\n"
          "status page:       echo \"http://127.0.0.1:8069/#sid=$(cat %s/cli.sid)\"  (then open it)\n"
          % (state_dir, opt, state_dir), file=sys.stderr)
    try:
        return daemon_main(["--backend", "host", "--state-dir", state_dir] + extra)
    finally:
        if sim is not None:
            sim.terminate()
            try:
                sim.wait(5)
            except subprocess.TimeoutExpired:
                sim.kill()


if __name__ == "__main__":
    sys.exit(main())
