"""`make run`: the daemon on this machine (host backend, embedded defaults) beside a local central system.

The simulator listens on 127.0.0.1:9000 (--cs-port; acs.url follows), so a newcomer sees
BootNotification, Heartbeat and the rest go by; the status page is on 127.0.0.1:8069 (--port), with a
`dev` login made for this run. One run per state directory; Ctrl-C stops both.
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


def free_port(host="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def port_taken(port, host="127.0.0.1"):
    """True when something listens on host:port already (bound as our servers bind: SO_REUSEADDR)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        return False
    except OSError:
        return True
    finally:
        s.close()


SAMPLE_CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "files", "etc", "config",
                             "tr069")


def sample_config(state_dir):
    """<state>/config/tr069, a copy of the package's /etc/config/tr069 (every default, commented) when there
    is none yet: a host config to edit. An existing file is left as it is."""
    path = os.path.join(state_dir, "config", "tr069")
    if not os.path.exists(path) and os.path.exists(SAMPLE_CONFIG):
        from bridge.atomic import write_atomic

        with open(SAMPLE_CONFIG, encoding="utf-8") as f:
            write_atomic(path, f.read(), mode=0o600)
    return path


# what each port is for, and the make variable / option that moves it
PORTS = (("port", "the daemon's JSON-RPC endpoint and status page", "PORT", "--port"),
         ("cs_port", "the central-system simulator", "CS_PORT", "--cs-port"))


def main(argv=None):
    p = argparse.ArgumentParser(prog="make run (python -m devtools.devrun)", description=__doc__.splitlines()[0])
    p.add_argument("--state-dir", default=None, help="default: ~/.local/state/tr069-bridge (make run STATE_DIR=...)")
    p.add_argument("--port", type=int, default=8069, help="JSON-RPC endpoint and status page (make run PORT=...)")
    p.add_argument("--cs-port", type=int, default=9000, help="the simulator; acs.url follows (make run CS_PORT=...)")
    p.add_argument("--api-port", type=int, default=None,
                   help="the simulator's DMS REST API (docs/dms-api.md); default CS port + 80, or a free one "
                        "(make run API_PORT=...)")
    p.add_argument("--no-simulator", action="store_true")
    args = p.parse_args(argv)
    from bridge import statelock
    from bridge.daemon import default_state_dir
    from bridge.daemon import main as daemon_main
    from bridge.jsonrpc import devuser

    state_dir = os.path.abspath(args.state_dir or default_state_dir("host"))
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    try:
        # before anything starts: a second `make run` here stops at once
        statelock.acquire(state_dir, "run another one beside it: make run STATE_DIR=<another dir> PORT=%d CS_PORT=%d"
                          % (args.port + 1, args.cs_port + 1))
    except statelock.Busy as e:
        print("make run: %s" % e, file=sys.stderr)
        return 1
    simulator = not args.no_simulator and importlib.util.find_spec("devtools.centralsystem") is not None
    for attr, what, var, flag in PORTS:
        port = getattr(args, attr)
        if attr == "cs_port" and not simulator:
            continue
        if not 0 < port < 65536:
            print("make run: %s %d is not a port number (1-65535)" % (flag, port), file=sys.stderr)
            return 1
        if port_taken(port):
            print("make run: port %d (%s) is taken by another program; choose another one: make run %s=%d "
                  "(or %s %d)" % (port, what, var, port + 1, flag, port + 1), file=sys.stderr)
            return 1
    api_port = args.api_port or args.cs_port + 80
    if simulator and args.api_port is not None and port_taken(api_port):
        print("make run: port %d (the DMS REST API) is taken by another program; choose another one: make run "
              "API_PORT=%d (or --api-port %d)" % (api_port, api_port + 1, api_port + 1), file=sys.stderr)
        return 1
    if simulator and args.api_port is None and port_taken(api_port):
        api_port = free_port()  # only the default: a second run beside the first needs no fourth variable
    sim = None
    url = "ws://127.0.0.1:%d/OS3P" % args.cs_port
    extra = ["--option", "jsonrpc.port=%d" % args.port, "--option", "acs.url=" + url]
    if simulator:
        sim = subprocess.Popen([sys.executable, "-m", "devtools.centralsystem", "--host", "127.0.0.1",
                                "--port", str(args.cs_port), "--api-port", str(api_port)])
        if wait_port("127.0.0.1", args.cs_port):
            extra += ["--option", "os3p.enabled=1"]  # the OS3P client is off by default elsewhere
        else:
            print("central-system simulator did not start; running the daemon alone", file=sys.stderr)
    password = devuser.create(os.path.join(state_dir, "config", "rpcd"))
    config = sample_config(state_dir)
    opt = " --state-dir %s" % state_dir
    print("state directory:   %s\n"
          "config:            %s  (edit it: the daemon re-reads it; tr069-bridge check --config %s)\n"
          "status page:       http://127.0.0.1:%d/   log in as %s, password %s (new on every make run)\n"
          "central system:    %s\n"
          "DMS REST API:      %s\n"
          "in another shell:  .venv/bin/tr069-bridge call%s status\n"
          "                   .venv/bin/tr069-bridge state%s\n"
          % (state_dir, config, config, args.port, devuser.DEV_USER, password, url if sim else "none",
             "http://127.0.0.1:%d/v1  (docs/dms-api.md; cpe_id: the station's serial number)" % api_port
             if sim else "none", opt, opt),
          file=sys.stderr, flush=True)
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
