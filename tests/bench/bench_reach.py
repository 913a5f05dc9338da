"""Reachability figures: the whole daemon's idle RSS with every surface on (ubus against a ubusd playing
netifd, the JSON-RPC shim with the CAMARA routes, OS3P over ws://, the station's sensors and streetlights,
reachability with a subscription), beside the same daemon with reachability off; and the time from a netifd
event to the sink's POST for a change that lasts (the debounce, reach.debounce = 3 s, plus the refresh and
the delivery). Nothing here asserts on timing."""

import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlsplit

from benchpath import ROOT  # first: the repository and tests/ on sys.path

from benchutil import heading, print_row, rss_kib
from support.http_sink import Sink

TOKEN = "b" * 40
DEBOUNCE = 3
T = "org.camaraproject.device-reachability-status-subscriptions.v0."
PHONE = "+15550100001"  # the host simulation's MSISDN (bridge/reach/backends/simulated.py)


def arrival(sink, kind, after, timeout=60):
    """The monotonic time the first `kind` notification (reachability-data, -sms, ...) arrived at or after
    `after`, waiting for it; None if none came."""
    def found():
        return next((t for t, (_, _, body) in zip(sink.arrived, sink.received)
                     if body["type"] == T + kind and t >= after), None)
    return sink.wait_until(found, timeout)


def start(server, ubusd, ident, reach=True):
    from bench_os3p import _device_like
    from support.os3p_harness import write_config

    state = tempfile.mkdtemp(prefix="reach-bench-")
    write_config(state, server.url, identity=ident, jsonrpc__enabled="1", jsonrpc__port="0",
                 reach__enabled="1" if reach else "0", reach__api_token=TOKEN, reach__debounce=str(DEBOUNCE),
                 reach__api_port="0")
    python, env = _device_like()
    env["TR069_UBUS_SOCKET"] = ubusd.path
    proc = subprocess.Popen(python + ["-m", "bridge.daemon", "--backend", "host", "--state-dir", state], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server.ask("wait %s boot" % ident)
    deadline = time.monotonic() + 30
    while not os.path.exists(os.path.join(state, "cli.url")) and time.monotonic() < deadline:
        time.sleep(0.05)
    while time.monotonic() < deadline:  # the CAMARA API's own server, as the state view names it
        # (asked with reach.enabled 0 too: the state view it makes the daemon build is in both figures)
        r = subprocess.run([sys.executable, "-m", "bridge.cli", "state", "--json", "--state-dir", state], cwd=ROOT,
                           env={k: v for k, v in os.environ.items() if k != "TR069_UBUS_SOCKET"},
                           capture_output=True, text=True, timeout=30)
        view = json.loads(r.stdout) if r.returncode == 0 else {}
        api = (view.get("reach") or {}).get("api")
        if api:
            u = urlsplit(api)
            return proc, (u.hostname, u.port)
        if view and not reach:
            return proc, None
        time.sleep(0.1)
    raise RuntimeError("the CAMARA API never listened")


def subscribe(address, sink, kind):
    conn = http.client.HTTPConnection(*address, timeout=10)
    body = {"protocol": "HTTP", "sink": sink.url(), "types": [T + kind],
            "config": {"subscriptionDetail": {"device": {"phoneNumber": PHONE}}}}
    conn.request("POST", "/device-reachability-status-subscriptions/v0.7/subscriptions", json.dumps(body),
                 {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    return resp.status


def idle_rss(server, ubusd, sink, reach):
    proc, address = start(server, ubusd, "BENCH-REACH-%d" % reach, reach)
    try:
        if reach:
            subscribe(address, sink, "reachability-sms")
        time.sleep(3.0)  # idle: the refresh done, the connections open
        return rss_kib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


def latencies(server, ubusd, sink, rounds=3):
    """[(ifdown -> sms POST), (ifup -> data POST)] in seconds, `rounds` of each."""
    from support.reach_ubusd import interface

    proc, address = start(server, ubusd, "BENCH-REACH-LAT")
    down, up = [], []
    try:
        for kind in ("reachability-sms", "reachability-data"):
            assert subscribe(address, sink, kind) == 201
        time.sleep(DEBOUNCE + 3)  # settled on data (registered with the central system, the uplink up)
        for _ in range(rounds):
            for action, is_up, kind, out in (("ifdown", False, "sms", down), ("ifup", True, "data", up)):
                ubusd.set_interfaces(interface("wwan", up=is_up, ipv4=["100.64.0.2"] if is_up else []))
                t0 = time.monotonic()
                ubusd.event("network.interface", {"action": action, "interface": "wwan"})
                t1 = arrival(sink, "reachability-" + kind, t0)
                if t1 is not None:
                    out.append(t1 - t0)
                time.sleep(1.0)
    finally:
        proc.terminate()
        proc.wait(10)
    return down, up


def run(report):
    from bench_os3p import Server
    from support.reach_ubusd import Ubusd, interface

    tmp = tempfile.mkdtemp(prefix="reach-bench-ubus-")
    ubusd = Ubusd(os.path.join(tmp, "ubus.sock"))
    ubusd.set_interfaces(interface("wwan", ipv4=["100.64.0.2"]))
    ubusd.start()
    server = Server("websockets")
    sink = Sink()
    try:
        heading(report, "idle RSS, every surface on", "python -S, as on a device; median of 3")
        runs = [(idle_rss(server, ubusd, sink, True), idle_rss(server, ubusd, sink, False)) for _ in range(3)]
        on, off = (sorted(column)[1] for column in zip(*runs))
        report("  daemon idle RSS: ubus, JSON-RPC + CAMARA, OS3P ws://, sensors, streetlights, reachability",
               on / 1024.0, "MiB", "target <= 20")
        report("  the same daemon with reach.enabled 0", off / 1024.0, "MiB",
               "reachability costs %.2f MiB" % ((on - off) / 1024.0))
        heading(report, "netifd event -> sink POST", "reach.debounce %d s; median of 3" % DEBOUNCE)
        down, up = latencies(server, ubusd, sink)
        for label, values in (("ifdown -> reachability-sms POST", down), ("ifup -> reachability-data POST", up)):
            if values:
                m = sorted(values)[len(values) // 2]
                report("  " + label, m * 1000, "ms", "debounce %d s + refresh and delivery %.0f ms"
                       % (DEBOUNCE, (m - DEBOUNCE) * 1000))
            else:
                report("  " + label, float("nan"), "ms", "no POST arrived")
    finally:
        sink.shutdown()
        server.close()
        ubusd.stop()


if __name__ == "__main__":
    run(print_row)
