"""One daemon per state directory: an exclusive flock on <state>/daemon.lock, held while the process lives.

The kernel drops the lock when the process ends, however it ends (kill -9 included), so a stale file
never blocks a start. The file says who holds it (pid, start time) for the message the next one prints.
"""

import fcntl
import json
import os
import time

LOCK_FILE = "daemon.lock"
URL_FILE = "cli.url"  # written by the JSON-RPC surface: where the running one answers


class Busy(Exception):
    """Another process holds the state directory; str() is the one line to print."""


_held = {}  # state dir -> descriptor: this process holds it already (`make run` takes it before the daemon)


def acquire(state_dir, beside="start this one with another --state-dir (and other ports)"):
    """-> the open lock file descriptor (keep it open); raises Busy naming the running one and saying
    how to run another one `beside` it."""
    state_dir = os.path.abspath(state_dir)
    if state_dir in _held:
        return _held[state_dir]
    path = os.path.join(state_dir, LOCK_FILE)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read(fd)
        os.close(fd)
        raise Busy(describe(state_dir, holder, beside)) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"pid": os.getpid(), "started": time.time()}).encode(), 0)
    _held[state_dir] = fd
    return fd


def release(state_dir):
    """Let go of a lock this process holds (`make run` checks before it starts the daemon, which takes it)."""
    fd = _held.pop(os.path.abspath(state_dir), None)
    if fd is not None:
        os.close(fd)


def _read(fd):
    try:
        return json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        return {}


def describe(state_dir, holder, beside):
    facts = ["pid %s" % holder.get("pid", "?")]
    if isinstance(holder.get("started"), (int, float)):
        facts.append("since %s" % time.strftime("%H:%M:%S", time.localtime(holder["started"])))
    try:
        with open(os.path.join(state_dir, URL_FILE)) as f:
            facts.append(f.read().strip())
    except OSError:
        pass
    return "another tr069-bridge (%s) already runs with the state directory %s: stop it, or %s" % (
        ", ".join(facts), state_dir, beside)
