"""The OS3P client in the real daemon process: nothing queued is lost to a SIGKILL.

Notifications are queued while the central system leaves them unanswered, the daemon is killed with
SIGKILL (no chance to flush anything), restarted on the same state directory, and the central system
must then receive every queued notification, in order. Duplicates are allowed only as the spec tolerates
them: the one notification that was on the wire when the daemon died (one outstanding CALL at a time) may
arrive again, with the same message id (guide 4.1.2: ids are unique per connection; the streetlight
notifications' "retry until each event is delivered; only a response counts as delivered" rule).
"""

import os
import time

import pytest

from devtools.centralsystem import NO_ANSWER, CentralSystem
from support.daemon_process import HEAVY, PATIENCE, DaemonProcess, imported
from support.os3p_harness import queued, write_config
from support.ports import free_port

NOTIFICATIONS = ("FirmwareStatusNotification", "GetFileStatusNotification", "StatusNotification")


def test_sigkill_loses_no_queued_notification(tmp_path, cs):
    state = str(tmp_path / "state")
    write_config(state, cs.url, os3p__call_timeout="1", jsonrpc__port="0", os3p__download_dir=str(tmp_path),
                 os3p__upload_retries="1")  # the failed upload is reported at once
    for action in NOTIFICATIONS:
        cs.responders[action] = lambda ident, payload: NO_ANSWER
    daemon = DaemonProcess(state).start()
    try:
        cs.wait_for(lambda c: c.calls("BootNotification") and "SUBS001" in c.connections, PATIENCE)
        dead = "http://127.0.0.1:%d" % free_port()  # nothing listens: transfers fail at once
        assert cs.call("SUBS001", "UpdateFirmware", {"retrieveDate": "2020-01-01T00:00:00Z", "requestId": "fw-9",
                                                     "location": dead + "/fw.bin"})[2] == {}
        assert cs.call("SUBS001", "GetFile", {"fileType": "Syslog", "location": dead + "/up"})[2]["status"] == \
            "Accepted"
        assert daemon.call("inform", {"event": "4 VALUE CHANGE"})[0] == 0
        deadline = time.monotonic() + PATIENCE
        while len(queued(state)) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        before = queued(state)
        assert len(before) == 5
        cs.wait_for(lambda c: c.calls(before[0]["action"]), PATIENCE)  # the head went out, unanswered
        sent_before = [m[1] for m in cs.calls() if m[2] in NOTIFICATIONS]
        assert set(sent_before) == {before[0]["id"]}  # one outstanding CALL at a time: only the head
    finally:
        daemon.kill()  # SIGKILL
    assert daemon.proc.returncode == -9
    assert [r["id"] for r in queued(state)] == [r["id"] for r in before]  # all still on disk

    for action in NOTIFICATIONS:
        del cs.responders[action]
    mark = len(cs.calls())
    daemon = DaemonProcess(state).start()
    try:
        ids = [r["id"] for r in before]
        cs.wait_for(lambda c: {m[1] for m in c.calls()[mark:]} >= set(ids), 30)
        deadline = time.monotonic() + PATIENCE
        while queued(state) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert queued(state) == []  # acknowledged ones leave the disk
    finally:
        daemon.terminate()
    after = cs.calls()[mark:]
    assert [m[2] for m in after if m[2] == "BootNotification"] == []  # nothing changed: no new boot (5.5)
    received = []
    for m in after:
        if m[2] in NOTIFICATIONS:
            if received and received[-1][1] == m[1]:
                assert received[-1] == m  # a repeat carries the same id and the same payload
                continue
            received.append(m)
    assert [m[1] for m in received] == ids  # every one, exactly in order
    assert [(m[2], m[3]) for m in received] == [(r["action"], r["payload"]) for r in before]
    repeated = [m[1] for m in after if m[2] in NOTIFICATIONS]
    assert len(repeated) - len(ids) <= 1 and (len(repeated) == len(ids) or repeated[0] == ids[0])
    kinds = [(m[2], m[3]["status"]) for m in received]
    assert ("FirmwareStatusNotification", "Downloading") in kinds and ("GetFileStatusNotification", "Uploading") \
        in kinds and ("StatusNotification", "Ok") in kinds


# what the whole daemon needs that the ubus surface alone does without: websocket-client is built on
# socket.py (and its selectors), the JSON-RPC shim is an HTTP server; ssl, _hashlib and python_socks are
# hidden from websocket-client's imports, whose attempts -X importtime lists all the same (the maps say
# whether OpenSSL came)
NEEDED_BY_EVERY_SURFACE = {"socket", "selectors", "bridge.jsonrpc.server", "ssl", "_hashlib", "python_socks"}


def test_the_whole_daemon_at_idle_leaves_every_heavy_module_out(tmp_path, cs):
    """Every surface on (OS3P over ws://, JSON-RPC, ubus), the sensors, the streetlights, reachability with
    its CAMARA API listening and the parameter model, registered and idle: none of HEAVY but those the
    surfaces need, and no OpenSSL."""
    state = str(tmp_path / "state")
    write_config(state, cs.url, jsonrpc__port="0")
    daemon = DaemonProcess(state, env={"PYTHONPROFILEIMPORTTIME": "1",
                                       "TR069_UBUS_SOCKET": str(tmp_path / "no-ubusd.sock")}).start()
    try:
        cs.wait_for(lambda c: c.calls("BootNotification") and "SUBS001" in c.connections, 15)
        time.sleep(1.0)  # idle: the first refreshes and timers have run
        maps = _maps(daemon.proc.pid)
    finally:
        daemon.terminate()
    loaded = imported(daemon.stderr_text())
    assert {"websocket._handshake", "bridge.os3p.client", "bridge.jsonrpc.app", "bridge.ubus.surface",
            "bridge.station.streetlights", "bridge.reach.service", "bridge.model.component"} <= loaded
    heavy = set(HEAVY) - NEEDED_BY_EVERY_SURFACE
    assert {name: HEAVY[name] for name in sorted(heavy & loaded)} == {}
    assert "libssl" not in maps and "libcrypto" not in maps


def _maps(pid):
    with open("/proc/%d/maps" % pid) as f:
        return f.read()


def test_tls_is_loaded_only_for_wss_and_a_reload_can_switch_to_it(tmp_path, cs):
    import ssl
    import signal

    from support.os3p_harness import make_pki

    pki = make_pki(tmp_path)
    if pki is None:
        pytest.skip("openssl is needed to make the test certificates")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki["cert"], pki["key"])
    tls = CentralSystem(ssl_context=ctx, quiet=True).start()
    state = str(tmp_path / "state")
    # as on a device: no JSON-RPC surface (its password hashing would load OpenSSL's libcrypto anyway); the
    # handshakes and the BootNotification's answer get all the time a loaded machine needs (this test is not
    # about timeouts: a 2 s one that expires there only starts the attempt over)
    options = dict(jsonrpc__enabled="0", acs__ca_file=pki["ca"], os3p__connect_timeout="60", os3p__call_timeout="60")
    try:
        write_config(state, cs.url, **options)
        daemon = DaemonProcess(state).start(wait_for=None)
        try:
            cs.wait_for(lambda c: c.calls("BootNotification") and "SUBS001" in c.connections, PATIENCE)
            assert "libssl" not in _maps(daemon.proc.pid)  # a ws:// connection does without OpenSSL
            write_config(state, tls.url, **options)
            daemon.proc.send_signal(signal.SIGHUP)  # reload: the endpoint is now wss://
            # the new central system gets its BootNotification, even when the old one's answer came after the
            # reload (it is the old one's: bridge/os3p/registration.py)
            tls.wait_for(lambda c: c.calls("BootNotification") and "SUBS001" in c.connections, PATIENCE)
            assert "libssl" in _maps(daemon.proc.pid)
            assert tls.call("SUBS001", "GetConfiguration", {"key": ["HeartbeatInterval"]}, PATIENCE)[0] == 3
        finally:
            daemon.terminate()
    finally:
        tls.stop()


def _rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def test_refused_ws_connections_leave_openssl_out_and_idle_rss_unchanged(tmp_path):
    state = str(tmp_path / "state")
    # as on a device: no JSON-RPC surface; nothing listens at the endpoint
    write_config(state, "ws://127.0.0.1:%d/OS3P" % free_port(), jsonrpc__enabled="0", os3p__reconnect_min="1",
                 os3p__reconnect_max="1")
    log = os.path.join(state, "daemon.log")

    def refusals(n):
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:
            text = open(log).read() if os.path.exists(log) else ""
            if text.count("connection refused; next attempt") >= n:
                return
            assert daemon.proc.poll() is None, "daemon exited"
            time.sleep(0.02)
        raise AssertionError("fewer than %d refused attempts" % n)

    daemon = DaemonProcess(state).start(wait_for=None)
    try:
        refusals(1)
        first = _rss_kib(daemon.proc.pid)
        refusals(4)
        maps = _maps(daemon.proc.pid)
        assert "_ssl" not in maps and "libssl" not in maps  # describing a refusal loads no OpenSSL
        assert _rss_kib(daemon.proc.pid) - first < 1024  # OpenSSL alone would add about 4 MiB
    finally:
        daemon.terminate()
