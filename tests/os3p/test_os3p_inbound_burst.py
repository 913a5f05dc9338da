"""Issue 23: memory that a burst allocates is given back, or the burst is refused before it allocates.
50,000 TriggerMessage Heartbeat were answered correctly but grew the daemon by 14 MB that never came back:
the reader thread handed every frame to the loop at once. Now at most connection.UNHANDLED frames wait for
the loop; the rest wait in the socket (the central system's send window). The real daemon as a process,
its RSS read from /proc; a real central system on loopback. Failed before its fix."""

import json
import os
import signal
import threading

from support.daemon_process import PATIENCE, DaemonProcess
from support.os3p_harness import write_config

BURST = 50000  # the burst
GROWTH = 2048  # KiB the daemon may keep after the burst


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def answered(cs):
    return len([m for _i, m in cs.received if isinstance(m, list) and m[:1] == [3]])


def test_a_burst_of_triggers_is_answered_and_leaves_the_memory_as_it_was(cs, tmp_path):
    state = str(tmp_path / "state")
    write_config(state, cs.url, jsonrpc__port="0")
    d = DaemonProcess(state).start()
    try:
        cs.wait_for(lambda c: "SUBS001" in c.connections and c.calls("BootNotification"), 15)
        cs.call("SUBS001", "GetConfiguration", {}, timeout=10)  # the first CALL's imports, before the baseline
        before = rss_kib(d.proc.pid)
        first = answered(cs)
        # the burst waits in the socket while the daemon is stopped, so that it is all there at once when it
        # goes on: whatever the machine's load, the reader can outrun the loop (as it did on a busy router)
        os.kill(d.proc.pid, signal.SIGSTOP)
        try:
            sender = threading.Thread(target=lambda: [cs.send_raw("SUBS001", json.dumps(
                [2, "t%d" % i, "TriggerMessage", {"requestedMessage": "Heartbeat"}]), 60) for i in range(BURST)])
            sender.start()
            sender.join(5)  # what the socket buffers take; the rest goes once the daemon reads
        finally:
            os.kill(d.proc.pid, signal.SIGCONT)
        sender.join(PATIENCE)
        cs.wait_for(lambda c: answered(c) >= first + BURST, PATIENCE)
        assert all(m[2] == {"status": "Accepted"} for _i, m in cs.received
                   if isinstance(m, list) and m[:1] == [3] and str(m[1]).startswith("t"))
        cs.wait_for(lambda c: c.calls("Heartbeat"), PATIENCE)  # the triggered Heartbeat went (one while one waits)
        # then a CALL of our own, as before the baseline: the daemon reads and handles frames in order, so its
        # answer comes once the burst's frames are handled and their answers have left the loop
        assert cs.call("SUBS001", "GetConfiguration", {}, timeout=PATIENCE)[0] == 3
        assert rss_kib(d.proc.pid) - before < GROWTH
    finally:
        d.terminate()
