"""Reachability in the real daemon process with OS3P on, driven by a loopback central system: WeakSignal
raised once and cleared once as the (simulated) modem's signal drops and recovers, each a StatusNotification
the central system receives; the reachability state follows the OS3P registration through the client's
LinkChanged events (no polling)."""

import json
import os
import subprocess
import sys

from support.daemon_process import PATIENCE, ROOT, DaemonProcess
from support.os3p_harness import write_config


def simulate(state, *args):
    subprocess.run([sys.executable, "-m", "bridge.cli", "simulate", "--state-dir", state] + list(args), cwd=ROOT,
                   check=True, capture_output=True, env=dict(os.environ, PYTHONPATH=ROOT), timeout=30)


def weak_signal_notes(cs):
    return [(p["status"], p["errorCode"], p.get("info")) for _t, _i, _a, p in cs.calls("StatusNotification")
            if p["errorCode"] == "WeakSignal" or p.get("info") == "WeakSignal resolved"]


def reach_view(state, env):
    r = subprocess.run([sys.executable, "-m", "bridge.cli", "state", "--json", "--state-dir", state], cwd=ROOT,
                       env={k: v for k, v in env.items() if k != "TR069_UBUS_SOCKET"}, capture_output=True, text=True,
                       timeout=PATIENCE)
    return json.loads(r.stdout)["reach"] if r.returncode == 0 else {}


def test_weak_signal_reaches_the_central_system_raised_once_and_cleared_once(tmp_path, cs):
    state = str(tmp_path / "state")
    write_config(state, cs.url, jsonrpc__port="0", reach__api_port="0", reach__debounce="0",
                 reach__weak_signal_rsrp="-110", station__sample_interval="0")
    daemon = DaemonProcess(state).start()
    try:
        cs.wait_for(lambda c: "SUBS001" in c.connections and c.calls("BootNotification"), PATIENCE)
        simulate(state, "signal", "-118")
        cs.wait_for(lambda c: len(weak_signal_notes(c)) >= 1, PATIENCE)
        simulate(state, "signal", "-117")  # still weak: nothing new
        simulate(state, "signal", "-90")
        cs.wait_for(lambda c: len(weak_signal_notes(c)) >= 2, PATIENCE)
        assert weak_signal_notes(cs) == [("Faulted", "WeakSignal", "RSRP -118 dBm below -110 dBm"),
                                         ("Ok", "NoError", "WeakSignal resolved")]
    finally:
        daemon.terminate()
        if daemon.proc.stderr is not None:
            daemon.proc.stderr.close()


def test_the_state_follows_the_os3p_registration_by_its_events(tmp_path, cs):
    """data while the central system has the station registered; sms (the modem still registered) from the
    moment the link closes; data again once the link is back and registered: each a change the daemon logs."""
    import time

    state = str(tmp_path / "state")
    write_config(state, cs.url, jsonrpc__port="0", reach__api_port="0", reach__debounce="0")
    daemon = DaemonProcess(state).start()
    try:
        cs.wait_for(lambda c: "SUBS001" in c.connections and c.calls("BootNotification"), PATIENCE)

        def settled(want):
            deadline = time.monotonic() + 30
            while True:
                view = reach_view(state, daemon.env)
                if view.get("state") == want and "settling" not in view:
                    return view
                assert time.monotonic() < deadline, view
                time.sleep(0.1)

        settled("data")
        cs.close_connection("SUBS001")  # the link drops; the client reconnects after its backoff (1-2 s)
        cs.wait_for(lambda c: "SUBS001" not in c.connections, PATIENCE)
        cs.wait_for(lambda c: "SUBS001" in c.connections, PATIENCE)
        settled("data")
    finally:
        daemon.terminate()
        log = daemon.stderr_text()
        if daemon.proc.stderr is not None:
            daemon.proc.stderr.close()
    changes = [line.split("reach: ", 1)[1] for line in log.splitlines() if "reach: " in line and " -> " in line]
    assert changes[-2:] == ["data -> sms", "sms -> data"], changes
