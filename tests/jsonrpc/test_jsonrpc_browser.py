"""The standalone status page in headless Chromium (Debian's `chromium` package).

The page is served by the shim; the test logs in through the page's form, checks the rendered
status against what `tr069 status` answers, clicks "Inform now" and sees the shim receive the
`inform` call and the page show the new session count. The browser runs in a time zone other than UTC
(Asia/Kolkata, +05:30), so that the page's local times and the UTC beside them differ. Screenshots go to
the test's tmp dir. Skipped where no Chromium is installed (`apt-get install chromium`).
"""

import base64
import json
import os
import re
import shutil
import subprocess
import time
import urllib.request

import pytest

from support.jsonrpc_helpers import DATA, Running, real_tr069
from support.daemon_process import stop_process  # noqa: E402
from support.ports import free_port  # noqa: E402

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((b for b in (shutil.which(n) for n in BROWSERS) if b), None)

BROWSER_TZ = "Asia/Kolkata"  # +05:30 all year: local time and UTC differ by hours and minutes
LOCAL_AND_UTC = r"(\d{4}-\d\d-\d\d) (\d\d):(\d\d):(\d\d) \((\d{4}-\d\d-\d\d )?(\d\d):(\d\d):(\d\d) UTC\)"

pytestmark = pytest.mark.skipif(BROWSER is None, reason="no Chromium installed (Debian: apt-get install chromium)")


class Page:
    """A minimal DevTools protocol client for one page (websocket-client, as the daemon uses)."""

    def __init__(self, ws_url):
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=20, suppress_origin=True)
        self.next_id = 0

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:  # skip events until our answer
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(msg["error"])
                return msg["result"]

    def js(self, expression):
        res = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(res["exceptionDetails"])
        return res["result"].get("value")

    def wait_for(self, expression, timeout=15):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError("timed out waiting for: " + expression)

    def close(self):
        self.ws.close()


@pytest.fixture
def browser(tmp_path):
    profile = tmp_path / "profile"
    proc = subprocess.Popen(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
         "--user-data-dir=%s" % profile, "--window-size=900,1100", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=dict(os.environ, TZ=BROWSER_TZ))
    try:
        port = None
        deadline = time.monotonic() + 30
        lines = []
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if m:
                port = int(m.group(1))
                break
        if port is None:
            pytest.fail("chromium did not start: " + "".join(lines)[-2000:])
        yield port
    finally:
        stop_process(proc)


def open_page(devtools_port, url):
    with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % devtools_port, timeout=10) as r:
        targets = json.loads(r.read())
    target = next(t for t in targets if t.get("type") == "page")
    page = Page(target["webSocketDebuggerUrl"])
    page.send("Page.enable")
    page.send("Page.navigate", url=url)
    page.wait_for("document.readyState === 'complete' && !!document.getElementById('login-form')")
    return page


def log_in(page, user, password):
    """Fill in the login form and submit it, as a person does."""
    page.js("document.getElementById('username').value = %s;"
            "document.getElementById('password').value = %s;"
            "document.getElementById('login-form').requestSubmit(); true" % (json.dumps(user), json.dumps(password)))


def test_status_page_renders_and_inform_button_calls(browser, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    r = Running(lambda loop: {"tr069": real_tr069(loop, str(state))}, users_file=os.path.join(DATA, "rpcd"),
                state_dir=str(state))
    try:
        page = open_page(browser, "http://%s:%d/" % (r.host, r.port))
        try:
            # log in through the form, as a user with write access to tr069 (tests/data/uhttpd/rpcd)
            log_in(page, "operator", "operator-pw")
            page.wait_for("document.body.getAttribute('data-loaded') === '1'")

            cli_sid = (state / "cli.sid").read_text().strip()
            status = r.client().call(cli_sid, "tr069", "status")["result"][1]
            shown = page.js("(function(){var o={};document.querySelectorAll('td[id]').forEach("
                            "function(td){o[td.id]=td.textContent;o[td.id+'@']=td.title});return o})()")
            assert shown["cwmp-status"] == status["cwmp"]["status"]
            assert shown["acs-url"] == status["cwmp"]["acs_url"]
            # a time: the browser's local time with UTC beside it, the daemon's own text as its title
            assert shown["cwmp-start@"] == status["cwmp"]["start_time"]
            assert_local_and_utc(shown["cwmp-start"], status["cwmp"]["start_time"])
            assert shown["last-status"] == status["last_session"]["status"]
            assert shown["last-start@"] == status["last_session"]["start_time"]
            assert shown["next-status"] == status["next_session"]["status"]
            assert shown["stat-success"] == str(status["statistics"]["success_sessions"])
            assert shown["stat-failure"] == str(status["statistics"]["failure_sessions"])
            total = status["statistics"]["total_sessions"]
            assert shown["stat-total"] == str(total)

            calls_before = r.run_on_loop(lambda: list(r.shim.recent_calls))
            assert ("tr069", "inform") not in calls_before
            page.js("document.getElementById('inform').click(); true")
            page.wait_for("document.getElementById('stat-total').textContent === '%d'" % (total + 1))
            calls = r.run_on_loop(lambda: list(r.shim.recent_calls))
            assert ("tr069", "inform") in calls
            assert page.js("document.getElementById('message').textContent") != ""

            shot = page.send("Page.captureScreenshot", format="png")
            path = tmp_path / "status-page.png"
            path.write_bytes(base64.b64decode(shot["data"]))
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

            # logging out destroys the session on the shim
            page.js("document.getElementById('logout').click(); true")
            page.wait_for("!document.getElementById('login-section').classList.contains('hidden')")
            assert ("session", "destroy") in r.run_on_loop(lambda: list(r.shim.recent_calls))
        finally:
            page.close()
    finally:
        r.close()


def assert_local_and_utc(text, iso):
    """text is `YYYY-MM-DD HH:MM:SS (HH:MM:SS UTC)`: the instant of iso in the browser's zone (+05:30), UTC beside."""
    from datetime import datetime, timedelta, timezone

    m = re.fullmatch(LOCAL_AND_UTC, text)
    assert m, text
    at = datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(timezone.utc)
    local = at + timedelta(hours=5, minutes=30)
    assert (m.group(1), m.group(2), m.group(3)) == (local.strftime("%Y-%m-%d"), local.strftime("%H"),
                                                    local.strftime("%M")), text
    assert (m.group(6), m.group(7), m.group(8)) == (at.strftime("%H"), at.strftime("%M"), at.strftime("%S")), text


def screenshot(page, path, selector=None):
    """A PNG of the page, or of one element of it (its box, scrolled to if needed), to look at."""
    params = {"format": "png"}
    if selector:
        box = page.js("(function(){var r=document.querySelector(%s).getBoundingClientRect();"
                      "return {x:r.left+window.scrollX,y:r.top+window.scrollY,width:r.width,height:r.height}})()"
                      % json.dumps(selector))
        params.update(clip=dict(box, scale=1), captureBeyondViewport=True)
    shot = page.send("Page.captureScreenshot", **params)
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_wrong_password_shows_an_error(browser, tmp_path):
    r = Running(lambda loop: {}, users_file=os.path.join(DATA, "rpcd"), state_dir=str(tmp_path))
    try:
        page = open_page(browser, "http://%s:%d/" % (r.host, r.port))
        try:
            log_in(page, "operator", "nope")
            page.wait_for("document.getElementById('message').textContent === 'Login failed'")
            assert page.js("document.getElementById('status-view').classList.contains('hidden')")
        finally:
            page.close()
    finally:
        r.close()


def dev_login(page, password):
    """Log in through the form as the development user (bridge/jsonrpc/devuser.py)."""
    from bridge.jsonrpc import devuser

    log_in(page, devuser.DEV_USER, password)


def test_development_user_logs_in_and_sees_a_transfer_in_progress(browser, tmp_path):
    """As after `make run`: the dev login (bridge/jsonrpc/devuser.py) in <state>/config/rpcd, the daemon
    connected to a central system, a firmware download stalled half-way; the page's "Now" section shows it."""
    from devtools.centralsystem import CentralSystem
    from bridge.jsonrpc import devuser
    from support.os3p_harness import Station
    from support.stalling_peer import StallingPeer

    chunk = 64 * 1024
    cs = CentralSystem(quiet=True).start()
    peer = StallingPeer(b"f" * (10 * chunk), stall_at=5 * chunk)
    state = tmp_path / "state"
    password = devuser.create(str(state / "config" / "rpcd"))
    st = Station(state, cs.url, os3p__download_dir=str(tmp_path), jsonrpc__port="0")
    try:
        [shim] = st.start("jsonrpc")
        st.wait(lambda: st.client.connection_state() == "up")
        cs.call("SUBS001", "UpdateFirmware", {"retrieveDate": "2020-01-01T00:00:00Z", "retries": 2,
                                              "location": peer.url}, timeout=5)
        page = open_page(browser, "http://127.0.0.1:%d/?refresh=200" % shim.address[1])
        try:
            dev_login(page, password)
            row = "document.querySelector('#now-transfers tr[data-name=firmware] td')"
            text = page.wait_for("%s && %s.textContent.indexOf('running 50 %%') === 0 && %s.textContent" % (row, row, row))
            assert text == ("running 50 %, 320.0 KiB of 640.0 KiB, attempt 1 of 2 (1 retries left)")
            assert page.js("document.querySelector('#now-transfers progress').value") == 50
            assert page.js("document.getElementById('now-link').textContent") == \
                "up, connected, Accepted - %s" % cs.url
            history = page.js("document.getElementById('now-history').textContent")
            assert "connecting" in history and "registration Accepted" in history
            first = page.js("document.querySelector('#now-history th').textContent")
            assert_local_and_utc(first, page.js("document.querySelector('#now-history th').title"))
            assert page.js("document.getElementById('now-firmware').textContent").startswith("Downloading since ")
            assert ("tr069.bridge", "state") in st.run(lambda: list(shim.recent_calls))
            peer.release.set()
            page.wait_for("%s && %s.textContent.indexOf('done 100 %%') === 0" % (row, row))
        finally:
            page.close()
    finally:
        st.stop()
        peer.close()
        cs.stop()


def _shim_page(st, browser, password):
    """The shim started on the harness station, its page open (fast refresh) and logged in."""
    [shim] = st.start("jsonrpc")
    page = open_page(browser, "http://127.0.0.1:%d/?refresh=200" % shim.address[1])
    dev_login(page, password)
    return page


def _stop_station(st, cs):
    """Stop the harness station (every component it started) and the central system."""
    st.stop()
    cs.stop()


def test_streetlights_panel_shows_the_lights_and_flips_the_simulated_local_switch(browser, tmp_path):
    """The host simulation's four contactors on the page: lights, modes, today's schedule and the sun; the
    page's button moves the local switch and the lights follow (LocalOverride, all on)."""
    from devtools.centralsystem import CentralSystem
    from bridge.jsonrpc import devuser
    from support.os3p_harness import Station

    cs = CentralSystem(quiet=True).start()
    state = tmp_path / "state"
    password = devuser.create(str(state / "config" / "rpcd"))
    st = Station(state, cs.url, jsonrpc__port="0", os3p__geolocation="[52.37, 4.90]")
    try:
        [lights] = st.start("streetlights")
        page = _shim_page(st, browser, password)
        try:
            row = "document.querySelector('#lights-contactors tr[data-name=contactor-3] td')"
            assert page.wait_for("%s && %s.textContent" % (row, row)) == "Off, Schedule; today off all day"
            sun = page.js("document.getElementById('lights-sun').textContent")
            # today's sunrise and sunset, computed on the device, in the browser's time and in UTC
            assert re.fullmatch(LOCAL_AND_UTC + " / " + LOCAL_AND_UTC, sun), sun
            page.js("document.getElementById('local-switch').click(); true")
            assert page.wait_for("%s.textContent.indexOf('On, LocalOverride') === 0 && %s.textContent" % (row, row))
            assert page.js("document.getElementById('lights-local').textContent") == \
                "on (local action: on), simulated"
            assert (state / "station" / "contactor3" / "output").read_text() == "1\n"
            assert st.run(lambda: lights.control.local) is True
            page.js("document.getElementById('local-switch').click(); true")
            page.wait_for("%s.textContent.indexOf('Off, Schedule') === 0" % row)
        finally:
            page.close()
    finally:
        _stop_station(st, cs)


def test_sensors_panel_shows_the_indicators_readings_and_a_chart(browser, tmp_path):
    """The host simulation's indicator group and meter on the page: a fault raised with `tr069-bridge
    simulate` shows, and the history of a phase voltage is drawn as an SVG polyline."""
    import time as _time

    from devtools.centralsystem import CentralSystem
    from bridge.jsonrpc import devuser
    from bridge.station.backends import simulated
    from bridge.station.sensors import SIMULATION_FILE
    from support.os3p_harness import Station

    cs = CentralSystem(quiet=True).start()
    state = tmp_path / "state"
    password = devuser.create(str(state / "config" / "rpcd"))
    st = Station(state, cs.url, jsonrpc__port="0", station__poll_ms="50")
    try:
        [sensors] = st.start("sensors")
        now = _time.time()
        for i in range(6):  # six quarter-hours of history
            st.run(lambda i=i: sensors.history.append(now - 900 * (6 - i), [("Voltage.L1N", "", "V", 228.0 + i)]))
        st.run(lambda: sensors.read_now("Trigger"))
        page = _shim_page(st, browser, password)
        try:
            row = "document.querySelector('#sensors-indicators tr[data-name=indicator-MV1] td')"
            assert page.wait_for("%s && %s.textContent" % (row, row)) == "no fault (inputs on: none)"
            assert page.js("%s.className" % row) == "ok"
            assert page.wait_for("document.getElementById('sensors-chart').getAttribute('data-points')") == "6"
            assert page.js("document.querySelectorAll('#sensors-chart polyline').length") == 1
            assert page.js("document.getElementById('sensors-chart-title').textContent") == \
                "Voltage.L1N (V), last 24 h"
            assert page.wait_for("document.getElementById('sensors-readings').textContent.indexOf('Frequency') >= 0")
            simulated.set_flag(str(state / SIMULATION_FILE), "MV1", "overcurrent", True)
            assert page.wait_for("%s.textContent.indexOf('OverCurrentFailure') === 0 && %s.textContent" % (row, row)) \
                == "OverCurrentFailure (inputs on: overcurrent)"
            # a fault is shown in colour, not in the grey of "no fault"
            assert page.js("%s.className" % row) == "fault"
            assert page.js("getComputedStyle(%s).color" % row) == "rgb(176, 0, 32)"
            screenshot(page, tmp_path / "sensors-fault.png", "#sensors")
        finally:
            page.close()
    finally:
        _stop_station(st, cs)


def test_reachability_panel_shows_the_state_and_when_it_changed(browser, tmp_path):
    """The host simulation's modem and uplink on the page: the state and its time, and a change made with
    `tr069-bridge simulate` (the uplink down: SMS only) shows."""
    from devtools.centralsystem import CentralSystem
    from bridge.jsonrpc import devuser
    from bridge.reach.backends import simulated
    from support.os3p_harness import Station

    cs = CentralSystem(quiet=True).start()
    state = tmp_path / "state"
    password = devuser.create(str(state / "config" / "rpcd"))
    st = Station(state, cs.url, jsonrpc__port="0", reach__debounce="0")
    try:
        st.start("reach")
        page = _shim_page(st, browser, password)
        try:
            row = "document.querySelector('#reach-rows tr[data-name=reach-state] td')"
            assert re.fullmatch(r"data since " + LOCAL_AND_UTC, page.wait_for("%s && %s.textContent" % (row, row)))
            simulated.set_value(str(state / simulated.FILE), "uplink", "down")
            text = page.wait_for("%s.textContent.indexOf('sms since') === 0 && %s.textContent" % (row, row))
            assert re.fullmatch(r"sms since " + LOCAL_AND_UTC, text)
        finally:
            page.close()
    finally:
        _stop_station(st, cs)


CHART = "document.getElementById('sensors-chart')"


def chart(page):
    """What the chart draws: its samples, the shapes and the axis labels."""
    return page.js("(function(){var s=%s;function t(sel){return Array.prototype.map.call(s.querySelectorAll(sel),"
                   "function(e){return e.textContent})}return {points:s.getAttribute('data-points'),"
                   "lines:s.querySelectorAll('polyline').length,dots:s.querySelectorAll('circle.sample').length,"
                   "x:t('.tick-x'),y:t('.tick-y'),empty:t('.empty'),axes:s.querySelectorAll('.axis-x,.axis-y').length}"
                   "})()" % CHART)


def test_chart_with_no_sample_one_sample_and_many(browser, tmp_path):
    """The 24 h chart: axes from the start; "no samples yet" before the first sample; one sample drawn as a
    point; many as a line over a 24 h time axis (local time), the lowest and highest value on the value axis."""
    import time as _time

    from devtools.centralsystem import CentralSystem
    from bridge.jsonrpc import devuser
    from support.os3p_harness import Station

    cs = CentralSystem(quiet=True).start()
    state = tmp_path / "state"
    password = devuser.create(str(state / "config" / "rpcd"))
    st = Station(state, cs.url, jsonrpc__port="0", station__sample_interval="0")  # no sample of its own
    try:
        [sensors] = st.start("sensors")
        page = _shim_page(st, browser, password)
        try:
            page.wait_for("%s.getAttribute('data-points') === '0'" % CHART)
            drawn = chart(page)
            assert drawn["empty"] == ["no samples yet (one every station.sample_interval seconds)"]
            assert (drawn["lines"], drawn["dots"], drawn["axes"]) == (0, 0, 2)
            screenshot(page, tmp_path / "chart-none.png", "#sensors-chart")
            now = _time.time()
            st.run(lambda: sensors.history.append(now - 3600, [("Voltage.L1N", "", "V", 229.5)]))
            page.wait_for("%s.getAttribute('data-points') === '1'" % CHART)
            drawn = chart(page)
            assert (drawn["lines"], drawn["dots"], drawn["empty"]) == (0, 1, [])  # one sample: a point
            assert drawn["y"] == ["229.5"] and len(drawn["x"]) == 3
            screenshot(page, tmp_path / "chart-one.png", "#sensors-chart")
            for i in range(1, 8):
                st.run(lambda i=i: sensors.history.append(now - 3600 + 900 * i, [("Voltage.L1N", "", "V", 229.5 + i)]))
            page.wait_for("%s.getAttribute('data-points') === '8'" % CHART)
            drawn = chart(page)
            assert (drawn["lines"], drawn["dots"]) == (1, 0)
            assert drawn["y"] == ["236.5", "229.5"]  # the highest, the lowest
            # the time axis spans the day that ends with the last sample, in the browser's local time (+05:30)
            last = time_of(now - 3600 + 900 * 7)
            start = time_of(now - 3600 + 900 * 7 - 86400)
            assert drawn["x"][0] == start and drawn["x"][2] == last + " local"
            screenshot(page, tmp_path / "chart-many.png", "#sensors")
        finally:
            page.close()
    finally:
        _stop_station(st, cs)


def time_of(epoch):
    """HH:MM of an instant in the browser's zone (+05:30)."""
    from datetime import datetime, timedelta, timezone

    return (datetime.fromtimestamp(int(epoch), timezone.utc) + timedelta(hours=5, minutes=30)).strftime("%H:%M")


def test_a_failed_download_is_one_sentence_in_colour(browser, tmp_path):
    """A firmware download that cannot connect: the transfer and the firmware update say so in one sentence
    (not the HTTP library's chain of reprs), in the colour of a failure."""
    from devtools.centralsystem import CentralSystem
    from bridge.jsonrpc import devuser
    from support.os3p_harness import Station

    closed = free_port()
    cs = CentralSystem(quiet=True).start()
    state = tmp_path / "state"
    password = devuser.create(str(state / "config" / "rpcd"))
    st = Station(state, cs.url, os3p__download_dir=str(tmp_path), jsonrpc__port="0")
    try:
        st.wait(lambda: st.client.connection_state() == "up")
        cs.call("SUBS001", "UpdateFirmware", {"retrieveDate": "2020-01-01T00:00:00Z", "retries": 1, "requestId": "fw-9",
                                              "location": "http://127.0.0.1:%d/fw.img" % closed}, timeout=5)
        cs.wait_for(lambda c: [m for m in c.calls("FirmwareStatusNotification") if m[3]["status"] == "DownloadFailed"])
        page = _shim_page(st, browser, password)
        try:
            row = "document.querySelector('#now-transfers tr[data-name=firmware] td')"
            text = page.wait_for("%s && %s.textContent.indexOf('failed') === 0 && %s.textContent" % (row, row, row))
            sentence = "Cannot connect to 127.0.0.1:%d (connection refused)." % closed
            assert text.endswith(". " + sentence), text
            assert "Max retries" not in text and "HTTPConnectionPool" not in text
            assert page.js("%s.className" % row) == "failed"
            firmware = page.js("document.getElementById('now-firmware').textContent")
            assert re.fullmatch(r"DownloadFailed since %s, running .+: cannot connect to 127\.0\.0\.1:%d "
                                r"\(connection refused\)" % (LOCAL_AND_UTC, closed), firmware), firmware
            assert page.js("document.getElementById('now-firmware').className") == "failed"
            assert page.js("getComputedStyle(document.getElementById('now-firmware')).color") == "rgb(176, 0, 32)"
            screenshot(page, tmp_path / "download-failed.png", "#now")
        finally:
            page.close()
    finally:
        _stop_station(st, cs)
