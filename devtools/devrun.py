"""`make run`: the daemon on this machine (host backend, embedded defaults) beside a local central system.

    make run [STATE_DIR=dir] [PORT=8069] [CS_PORT=9000] [OPTS="--option cpe.log_level=debug ..."]

The simulator listens on 127.0.0.1:9000 (--cs-port; acs.url follows), so a newcomer sees
BootNotification, Heartbeat and the rest go by; its DMS REST API on the CS port + 80 (--api-port) also
takes GetFile's uploads into <state>/uploads/; the status page is on 127.0.0.1:8069 (--port), with a
`dev` login made for this run, beside the daemon's JSON-RPC and CAMARA API (one port for the daemon). What `make run` sets for its ports (acs.url, os3p.enabled, jsonrpc.port)
it writes into the host config file, marked, so that the file holds the values in use; anything else
after the options (OPTS) goes to the daemon (`--option KEY=VALUE`: a key for this run only).

Two processes beside this one: the simulator and the daemon (`python -m bridge.daemon`). A simulated
reboot or firmware flash restarts the daemon in its process (bridge/device/host.py); Ctrl-C stops both.
One run per state directory.
"""

import argparse
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


SAMPLE_CONFIG = os.path.join(ROOT, "files", "etc", "config", "tr069")
MARK = "# make run sets this"  # the comment on each line make run writes


def sample_config(state_dir):
    """<state>/config/tr069, a copy of the package's /etc/config/tr069 (every default, commented) when there
    is none yet: a host config to edit. An existing file is left as it is."""
    path = os.path.join(state_dir, "config", "tr069")
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    if not os.path.exists(path) and os.path.exists(SAMPLE_CONFIG):
        from bridge.atomic import write_atomic

        with open(SAMPLE_CONFIG, encoding="utf-8") as f:
            write_atomic(path, f.read(), mode=0o600)
    return path


def set_options(path, values):
    """Write {(section, option): (value, why)} into the UCI file at `path` as text: an option line that is
    there gets the value, one that is not is added at the end of its section (a section that is not there,
    at the end of the file); the user's other lines and comments stay. Each line written says so."""
    from bridge import uci
    from bridge.atomic import write_atomic

    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        lines = []
    for (section, option), (value, why) in values.items():
        line = "\toption %s %s  %s (%s)" % (option, uci._quote(value), MARK, why)
        head = next((i for i, l in enumerate(lines)
                     if re.match(r"config\s+\S+\s+'?%s'?\s*(#.*)?$" % re.escape(section), l)), None)
        if head is None:
            lines += ["", "config %s '%s'" % (section, section), line]
            continue
        end = next((i for i in range(head + 1, len(lines)) if lines[i].startswith("config")), len(lines))
        body = [i for i in range(head + 1, end) if re.match(r"\s+(option|list)\s", lines[i])]
        same = [i for i in body if re.match(r"\s+option\s+%s\s" % re.escape(option), lines[i])]
        if same:
            lines[same[0]] = line
        else:
            lines.insert((body[-1] if body else head) + 1, line)
    text = "\n".join(lines) + "\n"
    uci.parse(text)  # what is written parses, or nothing is
    write_atomic(path, text, mode=0o600)


# what each port is for, and the make variable / option that moves it
PORTS = (("port", "the daemon's JSON-RPC endpoint and status page", "PORT", "--port"),
         ("cs_port", "the central-system simulator", "CS_PORT", "--cs-port"))


def stop_process(proc, timeout=10):
    """SIGTERM, then SIGKILL if it does not go within timeout (None, or one that ended: nothing to do)."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def main(argv=None):
    p = argparse.ArgumentParser(prog="make run (python -m devtools.devrun)", description=__doc__.splitlines()[0],
                                epilog="Anything after these options goes to the daemon, e.g. --option "
                                       "cpe.log_level=debug (make run OPTS=\"...\").")
    p.add_argument("--state-dir", default=None, help="default: ~/.local/state/tr069-bridge (make run STATE_DIR=...)")
    p.add_argument("--port", type=int, default=8069, help="JSON-RPC endpoint and status page (make run PORT=...)")
    p.add_argument("--cs-port", type=int, default=9000, help="the simulator; acs.url follows (make run CS_PORT=...)")
    p.add_argument("--api-port", type=int, default=None,
                   help="the simulator's DMS REST API (docs/dms-api.md); default CS port + 80, or a free one "
                        "(make run API_PORT=...)")
    p.add_argument("--no-simulator", action="store_true")
    args, daemon_args = p.parse_known_args(argv)
    from bridge import statelock
    from bridge.daemon import default_state_dir, parse_args
    from bridge.jsonrpc import devuser

    try:
        parse_args(daemon_args)  # OPTS that the daemon would refuse: said now, before anything starts
    except SystemExit as e:
        print("make run: OPTS: %s" % str(e).splitlines()[0], file=sys.stderr)
        return 1
    state_dir = os.path.abspath(args.state_dir or default_state_dir("host"))
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    try:
        # before anything starts: a second `make run` here stops at once (the daemon takes the lock next)
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
    config = sample_config(state_dir)
    url = "ws://127.0.0.1:%d/OS3P" % args.cs_port
    settings = {("jsonrpc", "port"): (str(args.port), "PORT")}
    sim = daemon = None
    stopping = []

    def on_term(*_):
        stopping.append(True)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        if simulator:
            sim = subprocess.Popen([sys.executable, "-m", "devtools.centralsystem", "--host", "127.0.0.1",
                                    "--port", str(args.cs_port), "--api-port", str(api_port),
                                    "--upload-dir", os.path.join(state_dir, "uploads")], cwd=ROOT)
            if wait_port("127.0.0.1", args.cs_port):
                settings[("acs", "url")] = (url, "CS_PORT")
                settings[("os3p", "enabled")] = ("1", "the simulator runs")  # off by default elsewhere
            else:
                print("central-system simulator did not start; running the daemon alone", file=sys.stderr)
                stop_process(sim)
                sim = None
        set_options(config, settings)
        password = devuser.create(os.path.join(state_dir, "config", "rpcd"))
        opt = " --state-dir %s" % state_dir
        print("state directory:   %s\n"
              "config:            %s  (make run wrote %s in it; edit the rest: the daemon re-reads it; "
              "tr069-bridge check --config %s)\n"
              "status page:       http://127.0.0.1:%d/   log in as %s, password %s (new on every make run)\n"
              "central system:    %s\n"
              "DMS REST API:      %s\n"
              "uploads:           %s\n"
              "in another shell:  .venv/bin/tr069-bridge call%s status\n"
              "                   .venv/bin/tr069-bridge state%s\n"
              % (state_dir, config, ", ".join("%s.%s" % k for k in sorted(settings)), config, args.port,
                 devuser.DEV_USER, password, url if sim else "none",
                 "http://127.0.0.1:%d/v1  (docs/dms-api.md; cpe_id: the station's serial number)" % api_port
                 if sim else "none",
                 "http://127.0.0.1:%d/upload/ into %s  (GetFile: help GetFile)"
                 % (api_port, os.path.join(state_dir, "uploads")) if sim else "none", opt, opt),
              file=sys.stderr, flush=True)
        statelock.release(state_dir)
        daemon = subprocess.Popen([sys.executable, "-m", "bridge.daemon", "--backend", "host", "--state-dir",
                                   state_dir] + daemon_args, cwd=ROOT)
        daemon.wait()
    except KeyboardInterrupt:  # Ctrl-C reaches the daemon and the simulator as well; SIGTERM this one only
        pass
    finally:
        stop_process(daemon)  # SIGTERM: the daemon stops as procd stops it
        stop_process(sim)
    return 0 if daemon is None or stopping or daemon.returncode < 0 else daemon.returncode


if __name__ == "__main__":
    sys.exit(main())
