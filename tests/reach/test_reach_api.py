"""The CAMARA reachability subscriptions end to end: the real daemon (host backend, simulated modem), a ubusd
playing netifd on a real Unix socket (tests/support/reach_ubusd.py), loopback HTTP sinks; every answer and every
notification validated against the API's own OpenAPI document (tests/data/camara, DeviceStatus r2.2).

None of these waits asserts a time: each waits for what must arrive (bounded generously) and, to show that
something did not arrive, for a later notification queued after it on the same sink (one FIFO per sink)."""

import http.client
import json
import os
import time
from urllib.parse import urlsplit

import pytest

from bridge.reach.backends import simulated
from support.daemon_process import BASE_CONFIG, PATIENCE, DaemonProcess, listening_ports, write_config
from support.http_sink import Sink
from support.ports import free_port
from support.paths import DATA as TEST_DATA, ROOT
from support.reach_ubusd import Ubusd, interface

DATA = os.path.join(TEST_DATA, "camara")
BASE = "/device-reachability-status-subscriptions/v0.7"
T = "org.camaraproject.device-reachability-status-subscriptions.v0."
TOKEN = "t" * 40
PHONE = simulated.IDENTITY["msisdn"]
WAIT = 30.0


@pytest.fixture(scope="module")
def oas():
    yaml = pytest.importorskip("yaml")
    import jsonschema

    with open(os.path.join(DATA, "device-reachability-status-subscriptions.yaml")) as f:
        doc = yaml.safe_load(f)

    def check(schema_name, value):
        schema = dict(doc, **{"$ref": "#/components/schemas/" + schema_name})
        jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(value)
    return check


@pytest.fixture
def sink():
    s = Sink()
    yield s
    s.shutdown()
    s.server_close()


@pytest.fixture
def ubusd(tmp_path):
    u = Ubusd(tmp_path / "ubus.sock")
    u.set_interfaces(interface("wwan", ipv4=["100.64.0.2"]))
    u.start()
    yield u
    u.stop()


class Station:
    def __init__(self, tmp_path, ubusd, extra="", own_server=True):
        """own_server: the API on a server of its own (reach.api_port 0: a port of the system's choice), else
        where the daemon puts it with the JSON-RPC shim running and no reach.api_port (the shim's server)."""
        self.dir = tmp_path / "state"
        self.ubusd = ubusd
        base = BASE_CONFIG if own_server else BASE_CONFIG.replace("\toption api_port '0'\n", "")
        write_config(str(self.dir), base + "config reach 'reach'\n\toption debounce '1'\n"
                     "\toption api_token '%s'\n" % TOKEN + ("\toption api_port '0'\n" if own_server else "") + extra)
        self.proc = None
        self.start()

    def start(self):
        self.proc = DaemonProcess(self.dir, env={"TR069_UBUS_SOCKET": self.ubusd.path}).start()
        deadline = time.monotonic() + WAIT
        while not self.ubusd.listening("network.interface"):
            assert time.monotonic() < deadline, "the daemon never listened for netifd's events"
            time.sleep(0.05)
        view = self.wait_state("data")
        u = urlsplit(view["api"])
        assert u.path == BASE
        self.host, self.port = u.hostname, u.port

    def request(self, method, path, body=None, token=TOKEN, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        if data is not None:
            h["Content-Type"] = "application/json"
        conn.request(method, BASE + path, data, h)
        resp = conn.getresponse()
        raw = resp.read()
        conn.close()
        return resp.status, dict(resp.getheaders()), json.loads(raw) if raw else None

    def view(self):
        import subprocess
        import sys

        r = subprocess.run([sys.executable, "-m", "bridge.cli", "state", "--json", "--state-dir", str(self.dir)],
                           cwd=ROOT,
                           env={k: v for k, v in self.proc.env.items() if k != "TR069_UBUS_SOCKET"},
                           capture_output=True, text=True, timeout=30)
        return json.loads(r.stdout)["reach"]

    def wait_state(self, state):
        deadline = time.monotonic() + WAIT
        while True:
            view = self.view()
            if view["state"] == state and "settling" not in view:
                return view
            assert time.monotonic() < deadline, "state %s never came: %r" % (state, view)
            time.sleep(0.1)

    def netifd(self, action, up):
        self.ubusd.set_interfaces(interface("wwan", up=up, ipv4=["100.64.0.2"] if up else []))
        assert self.ubusd.event("network.interface", {"action": action, "interface": "wwan"}) == 1

    def simulate(self, key, value):
        simulated.set_value(str(self.dir / simulated.FILE), key, value)

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            if self.proc.proc.stderr is not None:
                self.proc.proc.stderr.close()  # now, not at some later collection in another test's middle
            self.proc = None


@pytest.fixture
def station(tmp_path, ubusd):
    s = Station(tmp_path, ubusd)
    yield s
    s.stop()


def subscription(sink_url, kind, token=None, **config):
    body = {"protocol": "HTTP", "sink": sink_url, "types": [T + kind],
            "config": dict({"subscriptionDetail": {"device": {"phoneNumber": PHONE}}}, **config)}
    if token:
        body["sinkCredential"] = {"credentialType": "ACCESSTOKEN", "accessToken": token,
                                  "accessTokenExpiresUtc": "2099-01-01T00:00:00Z", "accessTokenType": "bearer"}
    return body


EVENT_SCHEMAS = {"reachability-data": "EventReachabilityData", "reachability-sms": "EventReachabilitySms",
                 "reachability-disconnected": "EventReachabilityDisconnected",
                 "subscription-ends": "EventSubscriptionEnds"}


def kinds(received, oas):
    """The notifications' types (short), each validated against the API's schema for it."""
    out = []
    for _path, headers, event in received:
        kind = event["type"][len(T):]
        oas(EVENT_SCHEMAS[kind], event)
        assert headers["Content-Type"] == "application/cloudevents+json"
        assert headers["x-correlator"] == event["id"]
        out.append(kind)
    return out


def test_three_subscriptions_follow_the_uplink_up_sms_only_and_down(station, sink, oas):
    ids = {}
    for kind in ("data", "sms", "disconnected"):
        status, headers, body = station.request("POST", "/subscriptions", subscription(
            sink.url("/" + kind), "reachability-" + kind, token="tok-" + kind, initialEvent=True),
            headers={"x-correlator": "corr-" + kind})
        assert status == 201, body
        oas("Subscription", body)
        assert headers["x-correlator"] == "corr-" + kind
        assert "sinkCredential" not in body and body["status"] == "ACTIVE"
        ids[kind] = body["id"]
    # initialEvent: only the subscription whose type is the current state (data) gets one
    assert kinds(sink.wait(1, "/data"), oas) == ["reachability-data"]

    station.netifd("ifdown", up=False)  # the WWAN goes down, the modem stays registered: SMS only
    station.wait_state("sms")
    assert kinds(sink.wait(1, "/sms"), oas) == ["reachability-sms"]

    station.simulate("modem", "searching")  # the modem loses its network too
    station.netifd("ifdown", up=False)
    station.wait_state("disconnected")
    assert kinds(sink.wait(1, "/disconnected"), oas) == ["reachability-disconnected"]

    station.simulate("modem", "home")
    station.netifd("ifup", up=True)
    station.wait_state("data")
    got = sink.wait(2, "/data")
    assert kinds(got, oas) == ["reachability-data", "reachability-data"]
    # nothing else arrived anywhere, each with its own sink's bearer token and subscription id
    assert [r[0] for r in sink.received] == ["/data", "/sms", "/disconnected", "/data"]
    for path, headers, event in sink.received:
        assert headers["Authorization"] == "Bearer tok-" + path[1:]
        assert event["data"]["subscriptionId"] == ids[path[1:]]
        assert event["data"]["device"] == {"phoneNumber": PHONE}


def test_initial_event_follows_the_api_table(station, sink, oas):
    for kind in ("sms", "disconnected", "data"):  # the state is data: only the last one gets an event
        status, _, body = station.request("POST", "/subscriptions", subscription(
            sink.url("/x"), "reachability-" + kind, initialEvent=True))
        assert status == 201, body
    got = sink.wait(1)
    assert kinds(got, oas) == ["reachability-data"]
    assert len(sink.received) == 1  # the sms and disconnected ones would have been queued before it


def test_max_events_expiry_and_deletion_end_with_subscription_ends(station, sink, oas):
    status, _, maxed = station.request("POST", "/subscriptions", subscription(
        sink.url("/max"), "reachability-data", initialEvent=True, subscriptionMaxEvents=1))
    assert status == 201
    got = sink.wait(2, "/max")
    assert kinds(got, oas) == ["reachability-data", "subscription-ends"]
    assert got[1][2]["data"]["terminationReason"] == "MAX_EVENTS_REACHED"
    assert station.request("GET", "/subscriptions/" + maxed["id"])[0] == 404

    soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3))
    status, _, expiring = station.request("POST", "/subscriptions", subscription(
        sink.url("/exp"), "reachability-sms", subscriptionExpireTime=soon))
    assert status == 201 and expiring["expiresAt"].startswith(soon[:-1])
    got = sink.wait(1, "/exp")
    assert kinds(got, oas) == ["subscription-ends"]
    assert got[0][2]["data"]["terminationReason"] == "SUBSCRIPTION_EXPIRED"
    assert station.request("GET", "/subscriptions/" + expiring["id"])[0] == 404

    status, _, deleted = station.request("POST", "/subscriptions", subscription(sink.url("/del"), "reachability-sms"))
    status, _, body = station.request("DELETE", "/subscriptions/" + deleted["id"])
    assert (status, body) == (204, None)
    got = sink.wait(1, "/del")
    assert kinds(got, oas) == ["subscription-ends"]
    assert got[0][2]["data"]["terminationReason"] == "SUBSCRIPTION_DELETED"
    assert station.request("GET", "/subscriptions")[2] == []


def test_the_sinks_access_token_expiring_ends_the_subscription_before_it_expires(station, sink, oas):
    """The reference (DeviceStatus r2.2): a subscription ends with ACCESS_TOKEN_EXPIRED when its sink
    credential's accessTokenExpiresUtc is reached, and the implementation "should notify the client before
    the expiration date": the station sends subscription-ends TOKEN_MARGIN (30 s) before it, with that token
    while it is still valid, and the subscription is gone (docs/reachability.md)."""
    from bridge.reach.camara import parse_time
    from bridge.reach.service import TOKEN_MARGIN

    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + TOKEN_MARGIN + 3))
    body = subscription(sink.url("/tok"), "reachability-sms", token="short-lived")
    body["sinkCredential"]["accessTokenExpiresUtc"] = expires
    status, _, created = station.request("POST", "/subscriptions", body)
    assert status == 201, created
    got = sink.wait(1, "/tok")
    assert kinds(got, oas) == ["subscription-ends"]
    _path, headers, event = got[0]
    assert event["data"]["terminationReason"] == "ACCESS_TOKEN_EXPIRED"
    assert event["data"]["subscriptionId"] == created["id"] and event["data"]["device"] == {"phoneNumber": PHONE}
    assert headers["Authorization"] == "Bearer short-lived"
    assert parse_time(event["time"]) < parse_time(expires)  # the station's own stamp of the end
    assert station.request("GET", "/subscriptions/" + created["id"])[0] == 404
    assert station.request("GET", "/subscriptions")[2] == []
    deadline = time.monotonic() + 10  # the sink's answer taken in: a stop before it would send it again
    while os.listdir(station.dir / "reach-outbox") and time.monotonic() < deadline:
        time.sleep(0.02)

    # a restart in between keeps the token's end: the timer is set again from what was saved
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + TOKEN_MARGIN + 3))
    body["sinkCredential"]["accessTokenExpiresUtc"] = expires
    status, _, created = station.request("POST", "/subscriptions", body)
    assert status == 201, created
    station.stop()
    station.start()
    got = sink.wait(2, "/tok")
    assert kinds(got, oas) == ["subscription-ends", "subscription-ends"]
    assert got[1][2]["data"]["subscriptionId"] == created["id"]
    assert got[1][2]["data"]["terminationReason"] == "ACCESS_TOKEN_EXPIRED"
    assert parse_time(got[1][2]["time"]) < parse_time(expires)


def test_a_restart_keeps_the_subscriptions(station, sink, oas):
    status, _, body = station.request("POST", "/subscriptions", subscription(sink.url("/r"), "reachability-sms",
                                                                             token="kept"))
    assert status == 201
    station.stop()
    assert oct(os.stat(station.dir / "reach.json").st_mode & 0o777) == "0o600"
    station.start()
    status, _, listed = station.request("GET", "/subscriptions")
    assert status == 200 and [s["id"] for s in listed] == [body["id"]]
    for s in listed:
        oas("Subscription", s)
    station.netifd("ifdown", up=False)
    got = sink.wait(1, "/r")
    assert kinds(got, oas) == ["reachability-sms"]
    assert got[0][1]["Authorization"] == "Bearer kept"


ERRORS = [
    # (what, body or raw bytes, status, code)
    ("not JSON", b"{nope", 400, "INVALID_ARGUMENT"),
    ("no sink", {"protocol": "HTTP", "types": [T + "reachability-data"], "config": {"subscriptionDetail": {}}},
     400, "INVALID_ARGUMENT"),
    ("unknown event type", dict(subscription("http://127.0.0.1:9/s", "reachability-data"), types=[T + "roaming-on"]),
     400, "INVALID_ARGUMENT"),
    ("protocol MQTT3", dict(subscription("http://127.0.0.1:9/s", "reachability-data"), protocol="MQTT3"),
     400, "INVALID_PROTOCOL"),
    ("credential PLAIN", dict(subscription("http://127.0.0.1:9/s", "reachability-data"), sinkCredential={
        "credentialType": "PLAIN", "identifier": "a", "secret": "b", "accessTokenType": "bearer"}),
     400, "INVALID_CREDENTIAL"),
    ("token type mac", dict(subscription("http://127.0.0.1:9/s", "reachability-data"), sinkCredential={
        "credentialType": "ACCESSTOKEN", "accessToken": "x", "accessTokenExpiresUtc": "2099-01-01T00:00:00Z",
        "accessTokenType": "mac"}), 400, "INVALID_TOKEN"),
    ("expire time in the past", subscription("http://127.0.0.1:9/s", "reachability-data",
                                             subscriptionExpireTime="2020-01-01T00:00:00Z"), 400, "INVALID_ARGUMENT"),
    ("max events 0", subscription("http://127.0.0.1:9/s", "reachability-data", subscriptionMaxEvents=0),
     400, "INVALID_ARGUMENT"),
    ("device {}", dict(subscription("http://127.0.0.1:9/s", "reachability-data"),
                       config={"subscriptionDetail": {"device": {}}}), 400, "INVALID_ARGUMENT"),
    ("phone number not E.164", dict(subscription("http://127.0.0.1:9/s", "reachability-data"),
                                    config={"subscriptionDetail": {"device": {"phoneNumber": "0049"}}}),
     400, "INVALID_ARGUMENT"),
    ("ipv4 without port or private address", dict(subscription("http://127.0.0.1:9/s", "reachability-data"), config={
        "subscriptionDetail": {"device": {"ipv4Address": {"publicAddress": "100.64.0.2"}}}}), 400, "INVALID_ARGUMENT"),
    ("plain http sink on the internet", subscription("http://8.8.8.8/s", "reachability-data"), 400, "INVALID_ARGUMENT"),
    ("two event types", dict(subscription("http://127.0.0.1:9/s", "reachability-data"),
                             types=[T + "reachability-data", T + "reachability-sms"]),
     422, "MULTIEVENT_SUBSCRIPTION_NOT_SUPPORTED"),
    ("no device", dict(subscription("http://127.0.0.1:9/s", "reachability-data"), config={"subscriptionDetail": {}}),
     422, "MISSING_IDENTIFIER"),
    ("only a network access identifier", dict(subscription("http://127.0.0.1:9/s", "reachability-data"), config={
        "subscriptionDetail": {"device": {"networkAccessIdentifier": "123@example.com"}}}), 422, "UNSUPPORTED_IDENTIFIER"),
    ("another station's number", dict(subscription("http://127.0.0.1:9/s", "reachability-data"), config={
        "subscriptionDetail": {"device": {"phoneNumber": "+4915199999999"}}}), 404, "IDENTIFIER_NOT_FOUND"),
    ("this number, another address", dict(subscription("http://127.0.0.1:9/s", "reachability-data"), config={
        "subscriptionDetail": {"device": {"phoneNumber": PHONE, "ipv4Address": {
            "publicAddress": "203.0.113.9", "privateAddress": "10.9.9.9"}}}}), 422, "IDENTIFIER_MISMATCH"),
]


@pytest.mark.parametrize("what,body,status,code", ERRORS, ids=[e[0] for e in ERRORS])
def test_every_create_error_answers_its_status_and_code(station, oas, what, body, status, code):
    got, headers, answer = station.request("POST", "/subscriptions", body, headers={"x-correlator": "c-1"})
    assert (got, answer["status"], answer["code"]) == (status, status, code), answer
    oas("ErrorInfo", answer)
    assert headers["x-correlator"] == "c-1" and headers["Content-Type"] == "application/json"
    assert station.request("GET", "/subscriptions")[2] == []  # nothing was kept


def test_identifiers_that_are_this_station(station, sink):
    device = {"phoneNumber": PHONE, "ipv4Address": {"publicAddress": "100.64.0.2", "privateAddress": "100.64.0.2"},
              "ipv6Address": "fd00:1::1234"}
    status, _, body = station.request("POST", "/subscriptions", dict(
        subscription(sink.url("/i"), "reachability-sms"), config={"subscriptionDetail": {"device": device}}))
    assert status == 201, body
    assert body["config"]["subscriptionDetail"]["device"] == device


def test_authentication_and_the_other_routes(station, oas):
    for method, path in (("POST", "/subscriptions"), ("GET", "/subscriptions"), ("GET", "/subscriptions/x"),
                         ("DELETE", "/subscriptions/x")):
        for token in (None, "wrong-token", ""):
            status, _, body = station.request(method, path, {} if method == "POST" else None, token=token)
            assert (status, body["code"]) == (401, "UNAUTHENTICATED"), (method, path, token)
            oas("ErrorInfo", body)
    with open(station.dir / "cli.sid") as f:
        sid = f.read().strip()
    assert station.request("GET", "/subscriptions", token=sid)[0] == 200  # a shim session with the grant
    assert station.request("GET", "/subscriptions/nope")[:1] == (404,)
    assert station.request("DELETE", "/subscriptions/nope")[2]["code"] == "NOT_FOUND"
    status, _, body = station.request("GET", "/subscriptions/")
    assert (status, body["code"], body["message"]) == (400, "INVALID_ARGUMENT", "Expected property is missing: subscriptionId")
    status, _, body = station.request("GET", "/subscriptions", headers={"x-correlator": "not valid!"})
    assert (status, body["code"]) == (400, "INVALID_ARGUMENT")
    assert station.request("PUT", "/subscriptions")[0] == 405


def test_where_the_shim_runs_its_server_serves_the_api_on_one_port(tmp_path, ubusd, sink, oas):
    """On the host the JSON-RPC shim runs (make run's PORT); with no reach.api_port set the CAMARA routes are
    served there, so the daemon listens on that one port, and a second daemon beside it (make run PORT=8070)
    meets no API on 8070 (docs/first-day.md, docs/reachability.md)."""
    station = Station(tmp_path, ubusd, own_server=False)
    try:
        with open(station.dir / "cli.url") as f:
            shim = urlsplit(f.read().strip())
        assert (station.host, station.port) == (shim.hostname, shim.port)
        assert listening_ports(station.proc.proc.pid) == {shim.port}
        status, _, body = station.request("POST", "/subscriptions", subscription(
            sink.url("/one"), "reachability-data", initialEvent=True))
        assert status == 201, body
        oas("Subscription", body)
        assert kinds(sink.wait(1, "/one"), oas) == ["reachability-data"]
        status, _, listed = station.request("GET", "/subscriptions")
        assert status == 200 and [s["id"] for s in listed] == [body["id"]]
        # the shim's own routes are as they were beside them
        conn = http.client.HTTPConnection(station.host, station.port, timeout=10)
        conn.request("GET", "/")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        station.stop()


def test_a_taken_api_port_is_said_with_the_key_that_moves_it(tmp_path):
    """Where the API has a server of its own (a device), a port another program holds is one log line naming
    reach.api_port; the daemon runs on without the API."""
    import socket

    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    state = tmp_path / "state"
    write_config(str(state), BASE_CONFIG.replace("\toption api_port '0'", "\toption api_port '%d'" % port))
    daemon = DaemonProcess(state).start()
    try:
        expected = ("ERROR tr069-bridge: reach: the CAMARA API not started: 127.0.0.1:%d is taken by another "
                    "program; set reach.api_port (uci, or --option reach.api_port=N) to a free port" % port)
        deadline = time.monotonic() + PATIENCE
        while expected not in (state / "daemon.log").read_text():
            assert daemon.proc.poll() is None and time.monotonic() < deadline, (state / "daemon.log").read_text()
            time.sleep(0.05)
        assert daemon.call("status")[0] == 0  # the rest runs
    finally:
        daemon.terminate()
        holder.close()


def test_notifications_waiting_for_a_down_sink_survive_sigkill_and_arrive_once_in_order(tmp_path, ubusd, oas):
    """Nothing lost: the sink is down while the uplink goes down, up, down (three notifications wait); the
    daemon is killed (SIGKILL); a new one starts, the sink comes up: each arrives exactly once, in order."""
    port = free_port()  # nothing listens there until the sink starts on it
    url = "http://127.0.0.1:%d/late" % port
    station = Station(tmp_path, ubusd)
    try:
        for kind in ("sms", "data"):
            status, _, body = station.request("POST", "/subscriptions", subscription(url, "reachability-" + kind,
                                                                                     token="tok-" + kind))
            assert status == 201, body
        station.netifd("ifdown", up=False)
        station.wait_state("sms")
        station.netifd("ifup", up=True)
        station.wait_state("data")
        station.netifd("ifdown", up=False)
        station.wait_state("sms")
        deadline = time.monotonic() + WAIT
        while station.view().get("sinks", {}).get("http://127.0.0.1:%d" % port, {}).get("failed", 0) < 1:
            assert time.monotonic() < deadline, "the sink was never tried"
            time.sleep(0.1)
        assert len(os.listdir(station.dir / "reach-outbox")) == 3
        station.proc.kill()
        station.proc.proc.wait(timeout=WAIT)
        station.proc.proc.stderr.close()
        station.proc = None
        ubusd.set_interfaces(interface("wwan", ipv4=["100.64.0.2"]))  # up again while it was down: data
        sink = Sink(port)
        try:
            station.start()
            # the three kept ones in order, then the change the new daemon saw (sms -> data), queued after
            # them on the same sink: nothing arrived twice
            got = sink.wait(4)
            assert kinds(got, oas) == ["reachability-sms", "reachability-data", "reachability-sms",
                                       "reachability-data"]
            assert [r[1]["Authorization"] for r in got] == ["Bearer tok-sms", "Bearer tok-data", "Bearer tok-sms",
                                                            "Bearer tok-data"]
            assert len({r[2]["id"] for r in got}) == 4
            deadline = time.monotonic() + WAIT
            while os.listdir(station.dir / "reach-outbox"):  # each removed once its sink answered
                assert time.monotonic() < deadline, os.listdir(station.dir / "reach-outbox")
                time.sleep(0.05)
        finally:
            sink.shutdown()
            sink.server_close()
    finally:
        station.stop()


# --- authentication as on a router: sessions of the device's own rpcd --------------------------------------
def rpcd_recording():
    with open(os.path.join(TEST_DATA, "rpcd", "session-access.json")) as f:
        return json.load(f)


@pytest.fixture
def rpcd_station(tmp_path, ubusd):
    """The daemon asking a ubusd whose `session` object answers as the recorded real rpcd did."""
    recording = rpcd_recording()
    ubusd.play_rpcd(recording)
    s = Station(tmp_path, ubusd)
    s.sessions = recording["sessions"]
    yield s
    s.stop()


def test_a_session_of_the_devices_rpcd_is_a_token_as_its_acl_says(rpcd_station, sink, oas):
    """The session a LuCI user holds, checked with rpcd's `session access` over the daemon's ubus connection:
    the tr069-bridge group's grant may do everything; a reader may list but not create or delete; a login
    without the grant is refused 403 PERMISSION_DENIED; a grant for one event type creates that type only
    (another: 403 SUBSCRIPTION_MISMATCH) and lists only its own."""
    st, sid = rpcd_station, rpcd_station.sessions
    status, _, data_sub = st.request("POST", "/subscriptions", subscription(sink.url("/a"), "reachability-data"),
                                     token=sid["granted"])
    assert status == 201, data_sub
    assert st.request("GET", "/subscriptions", token=sid["granted"])[0] == 200
    assert st.request("GET", "/subscriptions", token=sid["reader"])[:1] == (200,)
    for token, code in ((sid["reader"], "PERMISSION_DENIED"), (sid["other"], "PERMISSION_DENIED"),
                        (sid["sms-only"], "SUBSCRIPTION_MISMATCH")):
        status, headers, body = st.request("POST", "/subscriptions", subscription(sink.url("/b"), "reachability-data"),
                                           token=token, headers={"x-correlator": "c-403"})
        assert (status, body["code"]) == (403, code), token
        oas("ErrorInfo", body)
        assert headers["x-correlator"] == "c-403"
        assert st.request("DELETE", "/subscriptions/" + data_sub["id"], token=token)[2]["code"] == code
    assert st.request("GET", "/subscriptions", token=sid["other"])[2]["code"] == "PERMISSION_DENIED"
    status, _, sms_sub = st.request("POST", "/subscriptions", subscription(sink.url("/c"), "reachability-sms"),
                                    token=sid["sms-only"])
    assert status == 201, sms_sub
    listed = st.request("GET", "/subscriptions", token=sid["sms-only"])[2]
    assert [s["id"] for s in listed] == [sms_sub["id"]]  # its own type only
    assert st.request("GET", "/subscriptions/" + data_sub["id"], token=sid["sms-only"])[2]["code"] == \
        "SUBSCRIPTION_MISMATCH"
    assert st.request("DELETE", "/subscriptions/" + sms_sub["id"], token=sid["sms-only"])[0] == 204
    for token in (sid["unknown"], sid["null"]):
        status, headers, body = st.request("GET", "/subscriptions", token=token)
        assert (status, body["code"]) == (401, "UNAUTHENTICATED")
        assert headers["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_session_is_told_to_authenticate_again(rpcd_station, oas):
    """A session that worked and has since expired (rpcd no longer knows it): 401 AUTHENTICATION_REQUIRED,
    where one never seen is 401 UNAUTHENTICATED."""
    st, sid = rpcd_station, rpcd_station.sessions["expiring"]
    assert st.request("GET", "/subscriptions", token=sid)[0] == 200
    st.ubusd.expire(sid)
    status, _, body = st.request("GET", "/subscriptions", token=sid)
    assert (status, body["code"]) == (401, "AUTHENTICATION_REQUIRED")
    oas("ErrorInfo", body)


def test_ten_flaps_within_a_second_give_one_event_per_change_that_lasted(tmp_path, ubusd, sink, oas):
    """netifd's ifdown/ifup ten times in a row on the real daemon: ending where it began, no event; a last
    ifdown that lasts, exactly one (reachability-sms). Both subscriptions share the sink, so one FIFO: an
    event of the flaps would have arrived before the one of the change that lasted."""
    station = Station(tmp_path, ubusd, extra="\toption debounce '3'\n")
    try:
        for kind in ("data", "sms"):
            status, _, body = station.request("POST", "/subscriptions", subscription(sink.url("/" + kind),
                                                                                     "reachability-" + kind))
            assert status == 201, body
        for _ in range(10):
            station.netifd("ifdown", up=False)
            station.netifd("ifup", up=True)
        station.wait_state("data")
        assert "settling" not in station.wait_state("data")
        station.netifd("ifdown", up=False)  # this one lasts
        station.wait_state("sms")
        got = sink.wait(1)
        assert kinds(got, oas) == ["reachability-sms"] and [r[0] for r in sink.received] == ["/sms"]
        assert ubusd.dumps >= 2  # the events were heard and the interfaces read again
    finally:
        station.stop()
