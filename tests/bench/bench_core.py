"""Core figures: the daemon's idle memory and the cost of one tr069 call, against the bare interpreter."""

import os
import subprocess
import sys
import tempfile
import time

import benchpath  # noqa: F401  (first: the repository and tests/ on sys.path)

from support.daemon_process import BASE_CONFIG, DaemonProcess, write_config


from benchutil import rss_kib


def bare_rss():
    p = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    time.sleep(0.5)
    kib = rss_kib(p.pid)
    p.communicate(b"")
    return kib


def run(report):
    with tempfile.TemporaryDirectory() as tmp:
        write_config(tmp, BASE_CONFIG)
        d = DaemonProcess(tmp).start()
        try:
            d.call("status")
            time.sleep(1.0)
            idle = rss_kib(d.proc.pid)
        finally:
            d.terminate()
    base = bare_rss()
    report("core: daemon idle RSS (host backend, JSON-RPC surface up)", idle / 1024, "MiB")
    report("core: peer bare interpreter RSS", base / 1024, "MiB", "ratio daemon/bare %.2f" % (idle / base))

    from bridge.loop import Loop
    from bridge.sessions import Sessions
    from bridge.tr069 import Tr069

    with tempfile.TemporaryDirectory() as tmp:
        obj = Tr069(Loop(), Sessions(os.path.join(tmp, "s.json")))
        n = 20000
        t = time.perf_counter()
        for _ in range(n):
            obj.call("status", {})
        per = (time.perf_counter() - t) / n
    report("core: tr069 status in-process (input validated)", per * 1e6, "us/call", "%.0f calls/s" % (1 / per))
