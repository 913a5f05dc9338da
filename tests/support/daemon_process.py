"""Run the real daemon as a subprocess on the host backend, for tests about processes."""

import json
import os
import signal
import subprocess
import sys
import time

from support.paths import ROOT


def write_config(state_dir, text):
    os.makedirs(os.path.join(state_dir, "config"), mode=0o700, exist_ok=True)
    path = os.path.join(state_dir, "config", "tr069")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


# how long a test waits for what a real daemon process must do (start, connect, answer): a bound for a daemon
# that hangs or is broken, never an expectation of speed. On a loaded machine a step that takes a tenth of a
# second alone may take many seconds; a test that passes waits only as long as the daemon needs.
PATIENCE = 120.0

# a free port for the local endpoint, so parallel daemons do not collide
BASE_CONFIG = """
config jsonrpc 'jsonrpc'
\toption port '0'
config reach 'reach'
\toption api_port '0'
config acs 'acs'
\toption periodic_inform_enable '0'
"""


# What a daemon must not have imported at idle, with what each costs a router (the daemon keeps its
# modules for as long as it runs): tests/core/test_logger.py checks the ubus surface alone against it,
# tests/os3p/test_os3p_process.py the whole daemon. docs/architecture.md#memory says where each went.
HEAVY = {
    "logging": "~0.8 MiB with traceback, linecache, tokenize: bridge/logger.py writes without it",
    "traceback": "a traceback was formatted: something failed (or logging came)",
    "typing": "~0.5 MiB: websocket-client's annotations get a stand-in (bridge/os3p/wsclient.py)",
    "encodings.idna": "~0.4 MiB with stringprep, unicodedata: ASCII host names are resolved as bytes",
    "subprocess": "~0.5 MiB with locale: modem tools are spawned with posix_spawn (bridge/reach/backends/tools.py)",
    "signal": "~40 KiB of IntEnums: _signal",
    "socket": "~0.6 MiB with selectors, math, array where the ubus surface alone runs: _socket",
    "selectors": "the loop uses epoll itself",
    "heapq": "the loop keeps its timers sorted itself",
    "zoneinfo": "~0.3 MiB with sysconfig: a zone is its database file's POSIX rule (bridge/station/zone.py)",
    "ssl": "~4 MiB of OpenSSL for a ws:// connection (bridge/os3p/wsclient.py)",
    "_hashlib": "OpenSSL's libcrypto, loaded by hashlib unless hidden",
    "python_socks": "SOCKS proxies, never configured (not on OpenWrt)",
    "glob": "the ACL files are listed with os.listdir",
    "zlib": "the history's CRC-32 is binascii's",
    "bridge.model.core": "the parameter model's table, loaded at its first use",
    "bridge.reach.delivery": "the CAMARA deliveries, made at the first notification",
    "bridge.reach.api": "the CAMARA API, built at its first connection",
    "bridge.jsonrpc.server": "an HTTP server nobody called (the CAMARA API's)",
}


def imported(stderr_text):
    """The modules a process run with -X importtime (PYTHONPROFILEIMPORTTIME=1) imported, from its stderr.
    (importlib.import_module and modules loaded on first use are not in it: check those where they load.)"""
    return {line.split("|")[2].strip() for line in stderr_text.splitlines()
            if line.startswith("import time:") and "cumulative" not in line}


class DaemonProcess:
    def __init__(self, state_dir, extra_args=(), env=None, stderr=subprocess.PIPE):
        self.state_dir = str(state_dir)
        self.stderr = stderr  # a pipe read at exit by default; a long run gives a file or a drained pipe
        self.extra_args = list(extra_args)
        # a live run's ubusd (TR069_UBUS_SOCKET) is the live tests': a daemon joins one only when asked
        inherited = {k: v for k, v in os.environ.items() if k != "TR069_UBUS_SOCKET"}
        self.env = dict(inherited, PYTHONPATH=ROOT, **(env or {}))
        self.proc = None

    def start(self, wait_for="cli.url", timeout=PATIENCE):
        for name in ("cli.url", "cli.sid"):
            try:
                os.unlink(os.path.join(self.state_dir, name))
            except OSError:
                pass
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bridge.daemon", "--backend", "host", "--state-dir", self.state_dir]
            + self.extra_args,
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.monotonic() + timeout
        while wait_for and not os.path.exists(os.path.join(self.state_dir, wait_for)):
            if self.proc.poll() is not None:
                raise RuntimeError("daemon exited: %s" % self.proc.stderr.read().decode())
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("daemon did not start")
            time.sleep(0.02)
        return self

    def cli(self, *args):
        """Run `tr069-bridge call ...` as a user would; -> (exit code, stdout, stderr)."""
        env = {k: v for k, v in self.env.items() if k != "TR069_UBUS_SOCKET"}
        r = subprocess.run([sys.executable, "-m", "bridge.cli", "call", "--state-dir", self.state_dir] + list(args),
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
        return r.returncode, r.stdout, r.stderr

    def call(self, method, args=None):
        code, out, err = self.cli(method, json.dumps(args or {}))
        return code, (json.loads(out) if out.strip() else None)

    def terminate(self, timeout=PATIENCE):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stderr_text(self):
        return self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""


def stop_process(proc, timeout=10):
    """SIGTERM, then SIGKILL if it does not go within timeout: `make run`'s own (devtools/devrun.py)."""
    from devtools.devrun import stop_process as stop

    stop(proc, timeout)


def listening_ports(pid):
    """The TCP ports process `pid` listens on (its sockets in /proc/net/tcp and tcp6, state LISTEN)."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and cols[9] in inodes:
                    ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports
