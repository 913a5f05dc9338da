"""The OS3P client over real loopback WebSockets, against the development central system.

Each test runs the daemon core (Station: the real Daemon object, host backend) with the client attached
to its tr069 object, and a devtools.centralsystem.CentralSystem on 127.0.0.1 as the peer.
"""

import json
import logging
import os
import ssl
from datetime import datetime, timedelta

import pytest

from bridge import uci
from devtools.centralsystem import NO_ANSWER, CentralSystem
from bridge.os3p.connection import connection_url
from support.os3p_harness import FilePeer, Proxy, Station, make_pki
from support.ports import free_port


@pytest.fixture
def stations():
    made = []
    yield made
    for s in made:
        s.stop()


@pytest.fixture
def station(tmp_path, cs, stations):
    def make(**options):
        s = Station(tmp_path / ("st%d" % len(stations)), options.pop("url", cs.url),
                    options.pop("identity", "SUBS001"), device=options.pop("device", None), **options)
        stations.append(s)
        return s
    return make


def booted(cs, n=1, identity="SUBS001"):
    return cs.wait_for(lambda c: len(c.calls("BootNotification", identity)) >= n and identity in c.connections)


def answer(cs, action, payload=None, identity="SUBS001"):
    return cs.call(identity, action, payload or {}, timeout=5)


def uci_value(station, section, option):
    return uci.find(uci.load(os.path.join(station.state_dir, "config", "tr069")), section).get(option)


# --- connection URL and subprotocol ------------------------------------------------------------------
def test_connection_url_percent_encodes_the_identity():
    assert connection_url("wss://centralsystem.example.com/OS3P", "SUBS 123") == \
        "wss://centralsystem.example.com/OS3P/SUBS%20123"
    assert connection_url("ws://centralsystem.example.com/OS3P", "SUBS001") == \
        "ws://centralsystem.example.com/OS3P/SUBS001"
    assert connection_url("ws://h/OS3P/", "a/b?c") == "ws://h/OS3P/a%2Fb%3Fc"
    with pytest.raises(ValueError):
        connection_url("http://h/OS3P", "x")


def test_identity_reaches_the_server_percent_encoded(cs, station):
    station(identity="SUBS 123")
    booted(cs, identity="SUBS 123")
    assert cs.paths == ["/OS3P/SUBS%20123"]


def test_offers_os3p_subprotocol_and_refuses_a_server_that_selects_none(station, caplog):
    server = CentralSystem(subprotocols=(), quiet=True).start()
    try:
        caplog.set_level(logging.WARNING, logger="bridge.os3p")
        st = station(url=server.url)
        server.wait_for(lambda c: c.count("connect") >= 1, 10)
        st.wait(lambda: st.client.core.link is None)  # the attempt ended; the next waits the backoff
        assert server.calls() == []  # never spoke OS3P on a connection without the subprotocol
        assert st.state()[0] == "init"
        assert any("selected subprotocol None, not OS3P1.0" in r.getMessage() for r in caplog.records)
    finally:
        server.stop()


# --- registration ---------------------------------------------------------------------------------------
def test_boot_accepted_sets_heartbeat_interval_and_sends_device_fields(cs, station):
    cs.boot_interval = 1234
    st = station(os3p__station_number="ST-7", os3p__iccid="8931", os3p__imsi="2040")
    booted(cs)
    st.wait(lambda: st.client.connection_state() == "up")
    boot = cs.calls("BootNotification")[0][3]
    board = st.daemon.device.board()
    assert boot == {"vendor": board["vendor"][:20], "model": board["model"][:20], "stationNumber": "ST-7",
                    "serialNumber": board["serial"][:25], "firmwareVersion": board["firmware_version"][:50],
                    "iccid": "8931", "imsi": "2040"}
    assert uci_value(st, "acs", "periodic_inform_interval") == "1234"
    assert answer(cs, "GetConfiguration", {"key": ["HeartbeatInterval"]})[2]["configurationKey"] == [
        {"key": "HeartbeatInterval", "readonly": False, "value": "1234"}]
    status = st.tr069("status")[1]
    assert status["cwmp"]["status"] == "up" and status["cwmp"]["acs_url"] == cs.url


def test_no_boot_on_reconnect_when_nothing_changed_but_after_a_url_change(tmp_path, cs, station):
    st = station()
    booted(cs)
    st.wait(lambda: st.client.connection_state() == "up")
    cs.close_connection("SUBS001")
    cs.wait_for(lambda c: c.count("connect") >= 2 and "SUBS001" in c.connections)
    st.wait(lambda: st.client.connection_state() == "up")
    assert len(cs.calls("BootNotification")) == 1  # spec 5.5: fields unchanged, no new BootNotification
    # the endpoint URL changes (another central system): annex 3.1 note 2, first-boot behaviour again
    other = CentralSystem(quiet=True).start()
    try:
        uci_path = os.path.join(st.state_dir, "config", "tr069")
        sections = uci.load(uci_path)
        uci.find(sections, "acs")["url"] = other.url
        uci.save(uci_path, sections)
        st.run(st.daemon.reload)
        booted(other)
        assert st.tr069("status")[1]["cwmp"]["acs_url"] == other.url
    finally:
        other.stop()


# --- inbound CALLs: every CALLERROR path -----------------------------------------------------------------
@pytest.mark.parametrize("text,code", [
    ('[2, "e1", "DoTheDishes", {}]', "NotImplemented"),
    ('[2, "e1", "Heartbeat", {}]', "NotImplemented"),  # a client-initiated action sent to us
    ('[2, "e1", "SetStreetlightProfile", {"contactorId": 1, "streetlightProfiles": [{"profileId": 1, '
     '"stackLevel": 0, "recurrencyKind": "Daily", "daySchedule": [{"start": {"kind": "Sunset"}, '
     '"end": {"kind": "Sunrise"}}]}]}]', "OccurenceConstraintViolation"),  # Sunset/Sunrise need an offset
    ('[2, "e1", "UpdateFirmware", {"retrieveDate": "2020-01-01T00:00:00Z", "location": "gopher://h/fw"}]',
     "NotSupported"),
    ('[2, "e1", "UpdateFirmware", {"retrieveDate": "2020-01-01T00:00:00Z", '
     '"location": "http://root:root@127.0.0.1:1/fw"}]', "SecurityError"),
    ('[2, "e1", "Reset"]', "ProtocolError"),
    ('[2, "e1", "Reset", {"type": "Hard"', "FormationViolation"),
    ('[2, "e1", "Reset", {"kind": "Hard"}]', "FormationViolation"),
    ('[2, "e1", "Reset", [1]]', "FormationViolation"),
    ('[2, "e1", "ChangeConfiguration", {"key": "HeartbeatInterval"}]', "OccurenceConstraintViolation"),
    ('[2, "e1", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": 60}]', "TypeConstraintViolation"),
    ('[2, "e1", "Reset", {"type": "Immediate"}]', "PropertyConstraintViolation"),
    ('[2, "e1", "TriggerMessage", {"requestedMessage": "Heartbeat", "contactorId": 9}]',
     "PropertyConstraintViolation"),
])
def test_call_errors(cs, station, text, code):
    st = station()
    booted(cs)
    cs.send_raw("SUBS001", text)
    reply = cs.wait_for(lambda c: [m for i, m in c.received if isinstance(m, list) and m[:2] == [4, "e1"]])[0]
    assert reply[2] == code
    assert isinstance(reply[3], str) and isinstance(reply[4], dict)
    assert st.run(lambda: st.client.core.connected)  # a bad message is answered, not a reason to hang up
    assert st.daemon.device.actions() == []  # and nothing was done


def test_handler_failure_is_internal_error_without_traceback(cs, station):
    st = station()
    booted(cs)

    def broken_board():
        raise OSError("flash read error at 0x1f000")

    st.daemon.device.board = broken_board
    reply = answer(cs, "UpdateFirmware", {"retrieveDate": "2020-01-01T00:00:00Z",
                                          "location": "http://127.0.0.1:1/fw.bin"})
    assert reply[:3] == [4, reply[1], "InternalError"]
    assert reply[3] == "internal error" and reply[4] == {}
    assert "Traceback" not in json.dumps(reply) and "0x1f000" not in json.dumps(reply)


def test_unknown_message_types_and_garbage_are_ignored(cs, station):
    st = station()
    booted(cs)
    for text in ('[5, "x1", "Reset", {}]', '[9]', '[0, "x2", {}]', 'garbage', '{"a": 1}', '[3, "nobody", {}]',
                 '[4, "nobody", "GenericError", "", {}]'):
        cs.send_raw("SUBS001", text)
    assert answer(cs, "GetConfiguration", {"key": ["nope"]})[2] == {"configurationKey": [], "unknownKey": ["nope"]}
    replies = [m for i, m in cs.received if isinstance(m, list) and m and m[0] in (3, 4)]
    assert len(replies) == 1  # only the GetConfiguration was answered
    assert st.run(lambda: st.client.core.stats["attempts"]) == 1  # and the connection never dropped


def test_null_payload_is_read_as_empty(cs, station):
    station()
    booted(cs)
    cs.send_raw("SUBS001", '[2, "n1", "GetConfiguration", null]')
    reply = cs.wait_for(lambda c: [m for i, m in c.received if isinstance(m, list) and m[:2] == [3, "n1"]])[0]
    assert {k["key"] for k in reply[2]["configurationKey"]} >= {"HeartbeatInterval", "websocketPingInterval"}


# --- configuration ---------------------------------------------------------------------------------------
def test_change_and_get_configuration(cs, station):
    st = station()
    booted(cs)
    change = lambda k, v: answer(cs, "ChangeConfiguration", {"key": k, "value": v})[2]["status"]
    assert change("websocketPingInterval", "-1") == "Rejected"  # spec table 8
    assert change("websocketPingInterval", "abc") == "Rejected"
    assert change("websocketPingInterval", "5") == "Accepted"
    assert uci_value(st, "os3p", "ping_interval") == "5"
    assert change("HeartbeatInterval", "0") == "Rejected"
    assert change("Geolocation", "[52.09, 5.12]") == "Accepted"
    assert change("Geolocation", "somewhere") == "Rejected"
    assert change("KVCBX_LANG", "FR") == "Rejected"  # unknown key
    got = answer(cs, "GetConfiguration", {"key": ["websocketPingInterval", "Geolocation", "Sunrise", "Sunset"]})[2]
    sunrise, sunset = got["configurationKey"][2:]
    assert got == {"configurationKey": [{"key": "websocketPingInterval", "readonly": False, "value": "5"},
                                        {"key": "Geolocation", "readonly": False, "value": "[52.09, 5.12]"},
                                        sunrise, sunset], "unknownKey": []}
    # today's, computed on the device for the Geolocation just set (read-only, local time with its offset)
    assert sunrise["key"] == "Sunrise" and sunrise["readonly"] and sunset["key"] == "Sunset" and sunset["readonly"]
    rise, sset = (datetime.fromisoformat(k["value"]) for k in (sunrise, sunset))
    assert rise < sset and timedelta(hours=7) < sset - rise < timedelta(hours=17)  # Utrecht, any day of the year
    assert change("Sunrise", "2026-01-01T08:00:00Z") == "Rejected"


# --- outbound calls --------------------------------------------------------------------------------------
def test_per_call_timeout_fails_the_session_and_the_next_call_works(cs, station):
    st = station(os3p__call_timeout="1")
    booted(cs)
    cs.responders["Heartbeat"] = lambda ident, payload: NO_ANSWER
    st.tr069("inform", {"event": "2 PERIODIC"})
    cs.wait_for(lambda c: c.calls("Heartbeat"))
    st.wait(lambda: st.tr069("status")[1]["statistics"]["failure_sessions"] == 1, 5)
    late_id = cs.calls("Heartbeat")[0][1]
    del cs.responders["Heartbeat"]
    cs.send_raw("SUBS001", json.dumps([3, late_id, {"currentTime": "2020-01-01T00:00:00Z"}]))  # too late: ignored
    st.tr069("inform", {"event": "2 PERIODIC"})
    st.wait(lambda: st.tr069("status")[1]["statistics"]["success_sessions"] >= 1, 5)
    assert st.run(lambda: st.client.core.connected)
    assert abs(st.run(lambda: st.client.core.clock_offset)) < 60  # the late answer did not move the clock


# --- sessions for the tr069 object ---------------------------------------------------------------------
def test_inform_events_map_to_messages_and_status_counts_real_sessions(cs, station):
    st = station()
    booted(cs)
    st.wait(lambda: st.client.connection_state() == "up")
    expected = [("1 BOOT", "BootNotification"), ("2 PERIODIC", "Heartbeat"), ("3 SCHEDULED", "Heartbeat"),
                ("4 VALUE CHANGE", "StatusNotification"), ("6 CONNECTION REQUEST", "Heartbeat"),
                ("8 DIAGNOSTICS COMPLETE", "GetFileStatusNotification")]
    for n, (event, action) in enumerate(expected, 1):
        before = len(cs.calls(action))
        assert st.tr069("inform", {"event": event})[1]["status"] == 1
        st.wait(lambda: st.tr069("status")[1]["statistics"]["total_sessions"] == n)
        assert len(cs.calls(action)) == before + 1, event
    status = st.tr069("status")[1]
    assert status["statistics"] == {"success_sessions": 6, "failure_sessions": 0, "total_sessions": 6}
    assert cs.calls("GetFileStatusNotification")[0][3] == {"status": "None"}
    cs.stop()  # the central system goes away: the next session fails, and says so
    st.tr069("inform", {"event": "2 PERIODIC"})
    st.wait(lambda: st.tr069("status")[1]["statistics"]["failure_sessions"] == 1, 10)
    assert st.tr069("status")[1]["cwmp"]["status"] == "init"


# --- reconnecting ------------------------------------------------------------------------------------------
def test_reconnect_after_server_kill_delivers_what_was_queued_meanwhile(tmp_path, station):
    port = free_port()
    server = CentralSystem(port=port, quiet=True).start()
    st = station(url=server.url, os3p__reconnect_max="1")  # the backoff itself: test_os3p_protocol.py
    booted(server)
    st.wait(lambda: st.client.connection_state() == "up")
    server.stop()
    st.wait(lambda: not st.client.core.connected)
    st.run(lambda: st.client.context.notify("StatusNotification", st.client.context.snapshot("StatusNotification")))
    server = CentralSystem(port=port, quiet=True).start()
    try:
        server.wait_for(lambda c: c.calls("StatusNotification"), 15)  # queued while away, sent on return
        assert server.calls("BootNotification") == []  # nothing changed: no BootNotification (spec 5.5)
    finally:
        server.stop()


MISBEHAVIOURS = ["refused", "404", "401", "close-after-handshake", "garbage-then-close"]


def _misbehaving_server(mode, port):
    if mode == "refused":
        return None  # nothing listens
    server = CentralSystem(port=port, quiet=True, identities={"someone-else"} if mode == "404" else None,
                           basic_auth=("u", "p") if mode == "401" else None)
    if mode == "close-after-handshake":
        async def hook(ident, ws):
            return False
        server.on_connect = hook
    elif mode == "garbage-then-close":
        async def hook(ident, ws):
            await ws.send("this is not OS3P")
            return False
        server.on_connect = hook
    return server.start()


def test_misbehaving_servers_each_end_one_attempt_and_meet_the_backoff(station):
    """Every kind of misbehaviour ends the attempt (no hang, no crash) and the next one waits the backoff
    (reconnect_min 60 s here: one attempt each; the backoff's own steps are test_os3p_protocol.py's)."""
    ports = {mode: free_port() for mode in MISBEHAVIOURS}
    servers = {mode: _misbehaving_server(mode, ports[mode]) for mode in MISBEHAVIOURS}
    try:
        sts = {mode: station(url="ws://127.0.0.1:%d/OS3P" % ports[mode], os3p__reconnect_min="60",
                             os3p__reconnect_max="60") for mode in MISBEHAVIOURS}
        for mode, st in sts.items():
            core = st.client.core
            st.wait(lambda: core.link is None and core.stats["attempts"] == 1)
            wait = st.run(lambda: core.deadline() - st.daemon.loop.time())
            assert wait >= 25, mode  # equal jitter: never below half the step
            assert st.state()[0] == "init", mode
            server = servers[mode]
            if server is not None:
                assert server.count("connect") + server.count("refused") == 1, mode
                assert server.calls() == [], mode
    finally:
        for server in servers.values():
            if server is not None:
                server.stop()


def test_dead_peer_is_detected_within_two_ping_intervals(cs, station, caplog):
    proxy = Proxy(cs.port)
    try:
        caplog.set_level(logging.WARNING, logger="bridge.os3p")
        st = station(url="ws://127.0.0.1:%d/OS3P" % proxy.port, os3p__ping_interval="1")
        booted(cs)
        st.wait(lambda: st.client.connection_state() == "up")
        st.wait(lambda: st.client.core.stats["pongs"] >= 1)  # a ping went out and its pong came back
        assert st.run(lambda: st.client.core.connected)  # answered pings: alive
        proxy.blackhole = True  # TCP stays open, nothing gets through: a half-open connection
        st.wait(lambda: not st.client.core.connected, timeout=2 * 1 + 2)  # 2 ping intervals, and some slack
        assert any("no pong" in r.getMessage() for r in caplog.records)
    finally:
        proxy.close()


def test_oversized_message_closes_the_connection_with_1009(cs, station):
    st = station(os3p__max_message="4096")
    booted(cs)
    st.wait(lambda: st.client.connection_state() == "up")
    cs.send_raw("SUBS001", json.dumps([2, "big", "GetConfiguration", {"key": ["x" * 10000]}]))
    st.wait(lambda: st.run(lambda: st.client.core.stats["connected"]) == 2, 10)  # dropped, then reconnected
    assert not [m for i, m in cs.received if isinstance(m, list) and m[1:2] == ["big"]]
    # closed with 1009 (message too big), not dropped without a close frame
    assert [e[2] for e in cs.events if e[0] == "disconnect"][0].endswith(" 1009")


# --- TLS and authentication --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    material = make_pki(tmp_path_factory.mktemp("pki"))
    if material is None:
        pytest.skip("openssl is needed to make the test certificates")
    return material


def _tls_server(pki, require_client_cert=False):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(pki["cert"], pki["key"])
    if require_client_cert:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(pki["ca"])
    return CentralSystem(ssl_context=ctx, quiet=True).start()


def test_wss_with_a_private_ca(pki, station):
    server = _tls_server(pki)
    try:
        assert server.url.startswith("wss://")
        st = station(url=server.url, acs__ca_file=pki["ca"])
        booted(server)
        st.wait(lambda: st.client.connection_state() == "up")
    finally:
        server.stop()


def test_wss_refuses_a_certificate_it_cannot_verify(pki, station, caplog):
    server = _tls_server(pki)
    try:
        caplog.set_level(logging.WARNING, logger="bridge.os3p")
        st = station(url=server.url)  # no ca_file: the system store does not know the test CA
        st.wait(lambda: st.client.core.stats["attempts"] >= 1 and st.client.core.link is None, 10)
        assert server.calls() == [] and server.count("connect") == 0
        assert any("certificate verification failed" in r.getMessage() for r in caplog.records)
    finally:
        server.stop()


def test_wss_with_a_client_certificate(pki, station):
    server = _tls_server(pki, require_client_cert=True)
    try:
        st = station(url=server.url, acs__ca_file=pki["ca"], acs__client_cert=pki["client_cert"],
                     acs__client_key=pki["client_key"])
        booted(server)
        st.wait(lambda: st.client.connection_state() == "up")
    finally:
        server.stop()


def test_basic_auth(station):
    server = CentralSystem(basic_auth=("SUBS001", "s3cret pass"), quiet=True).start()
    try:
        # a plain ws:// test server: sending the password in clear is the operator's choice (spec 5.1)
        wrong = station(url=server.url, identity="SUBS002", acs__username="SUBS002", acs__password="nope",
                        os3p__allow_insecure_auth="1")
        right = station(url=server.url, acs__username="SUBS001", acs__password="s3cret pass",
                        os3p__allow_insecure_auth="1")
        booted(server)
        right.wait(lambda: right.client.connection_state() == "up")
        server.wait_for(lambda c: c.count("refused", "SUBS002") >= 1)
        assert wrong.state()[0] == "init" and server.calls(identity="SUBS002") == []
    finally:
        server.stop()


# --- device actions -----------------------------------------------------------------------------------------
def test_reset_reboots_after_answering(cs, station):
    st = station()
    booted(cs)
    assert answer(cs, "Reset", {"type": "Hard"})[2] == {"status": "Accepted"}
    st.wait(lambda: [a for a in st.daemon.device.actions() if a["action"] == "reboot"])
    assert answer(cs, "Reset", {})[2] == {"status": "Accepted"}


def test_trigger_message(cs, station):
    st = station()
    booted(cs)
    st.wait(lambda: st.client.connection_state() == "up")
    trigger = lambda what: answer(cs, "TriggerMessage", {"requestedMessage": what})[2]["status"]
    assert trigger("StatusNotification") == "Accepted"
    cs.wait_for(lambda c: c.calls("StatusNotification"))
    assert trigger("FirmwareStatusNotification") == "Accepted"
    assert cs.wait_for(lambda c: c.calls("FirmwareStatusNotification"))[0][3] == {"status": "None"}
    assert trigger("BootNotification") == "Accepted"
    booted(cs, 2)
    assert trigger("MeterValues") == "Rejected"
    assert trigger("StreetlightStatusNotification") == "Rejected"
    assert answer(cs, "TriggerMessage", {"requestedMessage": "Heartbeat", "connectorId": 2})[2] == \
        {"status": "Accepted"}
    cs.wait_for(lambda c: c.calls("Heartbeat"))


def test_get_file_uploads_the_log(cs, station):
    peer = FilePeer()
    try:
        st = station()
        booted(cs)
        st.wait(lambda: st.client.connection_state() == "up")
        with open(os.path.join(st.state_dir, "daemon.log"), "w") as f:
            f.write("Mon Nov 23 14:17:00 2026 daemon.info tr069-bridge: hello from the log\n")
        reply = answer(cs, "GetFile", {"requestId": "08fb86a4-3e9b-11e6-ac61-9e71128cae77", "fileType": "Syslog",
                                       "location": peer.url + "/upload"})[2]
        assert reply["status"] == "Accepted" and reply["fileName"].startswith("Syslog-SUBS001-")
        notes = cs.wait_for(lambda c: len(c.calls("GetFileStatusNotification")) >= 2 and
                            c.calls("GetFileStatusNotification"))
        assert [n[3] for n in notes] == [
            {"status": "Uploading", "requestId": "08fb86a4-3e9b-11e6-ac61-9e71128cae77"},
            {"status": "Uploaded", "requestId": "08fb86a4-3e9b-11e6-ac61-9e71128cae77"}]
        path, ctype, body = peer.uploads[0]
        assert path == "/upload" and ctype.startswith("multipart/form-data")
        assert b"hello from the log" in body and reply["fileName"].encode() in body
        assert answer(cs, "GetFile", {"fileType": "MeterValueHistory", "location": peer.url})[2] == \
            {"status": "Rejected", "fileName": ""}
        assert answer(cs, "GetFile", {"fileType": "Syslog", "location": "gopher://h/x"})[2]["status"] == "Rejected"
        st.tr069("inform", {"event": "8 DIAGNOSTICS COMPLETE"})
        cs.wait_for(lambda c: len(c.calls("GetFileStatusNotification")) == 3)
        assert cs.calls("GetFileStatusNotification")[2][3]["status"] == "Uploaded"
    finally:
        peer.close()


def test_get_file_cut_midway_over_http_fails_after_the_retries(cs, station):
    from support.stalling_peer import StallingPeer

    peer = StallingPeer(b"", stall_at=1000)
    try:
        st = station(os3p__upload_retries="2", os3p__upload_retry_interval="0")
        booted(cs)
        st.wait(lambda: st.client.connection_state() == "up")
        with open(os.path.join(st.state_dir, "daemon.log"), "w") as f:
            f.write("Mon Nov 23 14:17:00 2026 daemon.info tr069-bridge: a line\n" * 2000)  # ~110 KB
        reply = answer(cs, "GetFile", {"requestId": "cut-1", "fileType": "Syslog", "location": peer.url})[2]
        assert reply["status"] == "Accepted"
        notes = cs.wait_for(lambda c: len(c.calls("GetFileStatusNotification")) >= 2 and
                            c.calls("GetFileStatusNotification"))
        assert [n[3] for n in notes] == [{"status": "Uploading", "requestId": "cut-1"},
                                         {"status": "UploadFailed", "requestId": "cut-1"}]
        assert peer.posts == 2  # both attempts reached the server
    finally:
        peer.close()


class FlashingDevice:
    """The host device, except that a flash really changes the firmware version (as a reboot into it would)."""

    def __init__(self, inner):
        self.inner = inner
        self.version = inner.board()["firmware_version"]

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def board(self):
        return dict(self.inner.board(), firmware_version=self.version)

    def sysupgrade(self, image_path, keep_settings=True):
        self.inner.sysupgrade(image_path, keep_settings)
        with open(image_path, "rb") as f:
            self.version = f.read().decode().strip()


def test_update_firmware_download_flash_and_report_after_restart(tmp_path, cs, station):
    from bridge.device.host import HostDevice

    peer = FilePeer()
    peer.files["fw.bin"] = b"tr069-bridge 9.9.9\n"
    state = tmp_path / "fw-station"
    downloads = tmp_path / "dl"
    downloads.mkdir()
    try:
        device = FlashingDevice(HostDevice(str(state)))
        st = Station(state, cs.url, device=device, os3p__download_dir=str(downloads))
        try:
            booted(cs)
            st.wait(lambda: st.client.connection_state() == "up")
            assert answer(cs, "UpdateFirmware", {"retrieveDate": "2020-01-01T00:00:00Z", "requestId": "fw-1",
                                                 "location": peer.url + "/fw.bin"})[2] == {}
            cs.wait_for(lambda c: len(c.calls("FirmwareStatusNotification")) == 3)
            # the flash runs in a worker once Installing is persisted: wait for its record, not for the race
            flashed = st.wait(lambda: [a for a in device.actions() if a["action"] == "sysupgrade"])
            assert flashed and flashed[0]["image"] == str(downloads / "os3p-firmware.img")
        finally:
            st.stop()
        # the device reboots into the new firmware: a new daemon finds "Installing" and a new version
        device2 = FlashingDevice(HostDevice(str(state)))
        device2.version = "tr069-bridge 9.9.9"
        st2 = Station(state, cs.url, device=device2, os3p__download_dir=str(downloads))
        try:
            booted(cs, 2)  # the firmware version changed: a new BootNotification first (annex 3.1 note 1)
            cs.wait_for(lambda c: len(c.calls("FirmwareStatusNotification")) == 4)
            assert cs.calls("BootNotification")[1][3]["firmwareVersion"] == "tr069-bridge 9.9.9"
        finally:
            st2.stop()
        assert [m[3] for m in cs.calls("FirmwareStatusNotification")] == [
            {"status": s, "requestId": "fw-1"} for s in ("Downloading", "Downloaded", "Installing", "Installed")]
        order = [m[2] for m in cs.calls()]
        second_boot = [i for i, a in enumerate(order) if a == "BootNotification"][1]
        installed = [i for i, a in enumerate(order) if a == "FirmwareStatusNotification"][-1]
        assert second_boot < installed
    finally:
        peer.close()


def test_update_firmware_download_failure_after_retries(cs, station, tmp_path):
    st = station(os3p__download_dir=str(tmp_path))
    booted(cs)
    answer(cs, "UpdateFirmware", {"retrieveDate": "2020-01-01T00:00:00Z", "retries": 2, "retryInterval": 0,
                                  "location": "http://127.0.0.1:%d/missing.bin" % free_port()})
    cs.wait_for(lambda c: len(c.calls("FirmwareStatusNotification")) == 2)
    assert [m[3]["status"] for m in cs.calls("FirmwareStatusNotification")] == ["Downloading", "DownloadFailed"]
    assert [a for a in st.daemon.device.actions() if a["action"] == "sysupgrade"] == []


def test_update_firmware_cut_midway_over_http_fails_after_the_retries_and_keeps_nothing(cs, station, tmp_path):
    from support.stalling_peer import StallingPeer

    peer = StallingPeer(b"x" * 200000, stall_at=70000, cut=True)
    try:
        st = station(os3p__download_dir=str(tmp_path))
        booted(cs)
        answer(cs, "UpdateFirmware", {"retrieveDate": "2020-01-01T00:00:00Z", "retries": 2, "retryInterval": 0,
                                      "location": peer.url})
        cs.wait_for(lambda c: len(c.calls("FirmwareStatusNotification")) == 2)
        assert [m[3]["status"] for m in cs.calls("FirmwareStatusNotification")] == ["Downloading", "DownloadFailed"]
        assert peer.gets == 2  # both attempts went to the server
        assert [a for a in st.daemon.device.actions() if a["action"] == "sysupgrade"] == []
        assert [n for n in os.listdir(tmp_path) if n.startswith("firmware")] == []  # no partial image kept
    finally:
        peer.close()


def test_a_body_shorter_than_announced_is_a_failed_attempt_even_where_the_library_says_nothing(tmp_path,
                                                                                                monkeypatch):
    """urllib3 1.x (requests' older companion) ends a body cut short as if it were whole."""
    import threading

    import urllib3

    from bridge.os3p import transfers
    from bridge.progress import Progress
    from support.stalling_peer import StallingPeer

    original = urllib3.response.HTTPResponse.__init__

    def lenient(self, *args, **kwargs):
        kwargs["enforce_content_length"] = False
        original(self, *args, **kwargs)

    monkeypatch.setattr(urllib3.response.HTTPResponse, "__init__", lenient)
    peer = StallingPeer(b"x" * 200000, stall_at=70000, cut=True)
    try:
        with pytest.raises(transfers.ShortBody, match="after 70000 of the 200000 bytes"):
            transfers.fetch(peer.url, str(tmp_path / "fw.part"), (5, 5), True, threading.Event(),
                            Progress("firmware", peer.url))
    finally:
        peer.close()


def test_an_unexpected_reboot_is_reported_and_an_expected_one_is_not(tmp_path, cs, monkeypatch):
    from bridge.os3p import client as os3p_client

    boot_id = tmp_path / "boot_id"
    boot_id.write_text("boot-1\n")
    monkeypatch.setattr(os3p_client, "BOOT_ID", str(boot_id))
    state = tmp_path / "reboots"

    def run_once(action=None):
        st = Station(state, cs.url)
        try:
            booted(cs)
            st.wait(lambda: st.client.connection_state() == "up" and not st.client.outbox.records())
            if action:
                action(st)
        finally:
            st.stop()

    run_once()  # first start: nothing to compare with
    boot_id.write_text("boot-2\n")  # the device rebooted behind our back (a power cut, a watchdog)
    run_once(lambda st: answer(cs, "Reset", {"type": "Hard"}))  # ... and then on request
    notes = cs.calls("StatusNotification")
    assert len(notes) == 1 and notes[0][3]["errorCode"] == "OtherError"
    assert notes[0][3]["vendorErrorCode"] == "UnexpectedReboot"
    boot_id.write_text("boot-3\n")  # the reboot the Reset asked for
    run_once()
    assert len(cs.calls("StatusNotification")) == 1  # expected: not reported


def test_an_end_of_session_reboot_is_announced_through_the_tr069_hook(cs, station):
    st = station()
    booted(cs)
    assert st.daemon.tr069.on_reboot.__qualname__.startswith("Root.")  # the root's; the client does not replace it
    st.tr069("command", {"command": "reboot_end_session"})
    st.wait(lambda: not st.daemon.sessions.running)
    assert st.tr069("command", {"command": "action_end_session"})[1]["info"] == "End-session actions applied: reboot"
    assert st.run(lambda: st.client.core.state.get("reboot_expected")) is True  # the next start: no "unexpected"
