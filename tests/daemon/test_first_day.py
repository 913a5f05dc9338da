"""The first day on a PC: the development central system's examples work on a host daemon as `make run` starts
it, a firmware update and a Reset restart the daemon into what a reboot would bring (simulated, said in one
line), the state view tells the firmware's story, and the central system's console says what is wrong."""

import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import redirect_stdout

import jsonschema
import pytest
import websocket

from bridge import schema
from devtools import centralsystem
from devtools.centralsystem import CentralSystem, firmware_image
from devtools.examples import EXAMPLES, example, markdown_table
from devtools.northbound import Northbound
from support.daemon_process import BASE_CONFIG, PATIENCE, DaemonProcess, write_config
from support.paths import ROOT

SIMULATED = "simulated on the host (nothing is rebooted or flashed): the daemon restarts"


@pytest.mark.parametrize("action", sorted(EXAMPLES))
def test_every_example_is_valid_for_its_schema(action):
    payload, note = EXAMPLES[action]
    with open(os.path.join(ROOT, "schemas", "os3p", action + ".req.json")) as f:
        s = json.load(f)
    jsonschema.validators.validator_for(s)(s).validate(payload)
    assert schema.errors(s, payload, "", s) == []
    assert note and action in centralsystem.SERVER_ACTIONS
    assert set(EXAMPLES) == set(centralsystem.SERVER_ACTIONS)  # one for every action the console sends


def test_the_docs_show_the_same_examples():
    with open(os.path.join(ROOT, "docs", "first-day.md"), encoding="utf-8") as f:
        assert markdown_table() in f.read(), "docs/first-day.md: the examples table is not devtools/examples.py's"


def test_the_central_system_serves_the_firmware_example():
    assert firmware_image("/firmware/tr069-bridge-0.2.0").startswith("tr069-bridge-0.2.0\n")
    for bad in ("/firmware/", "/firmware/../x", "/firmware/a b", "/firmware/" + "x" * 65, "/OS3P/SUBS001"):
        assert firmware_image(bad) is None, bad


@pytest.fixture(scope="module")
def station(tmp_path_factory):
    """A central system and a host daemon as `make run` starts them (every component, the OS3P client on; the
    central system's DMS REST API taking uploads into <state>/uploads)."""
    cs = CentralSystem(quiet=True).start()
    state = tmp_path_factory.mktemp("first-day")
    api = Northbound(cs, uploads=str(state / "uploads")).start()
    write_config(str(state), BASE_CONFIG + "\toption url '%s'\nconfig os3p 'os3p'\n\toption enabled '1'\n"
                 "\toption download_dir '%s'\n" % (cs.url, state))
    log = open(state / "daemon.err", "w+")
    daemon = DaemonProcess(state, stderr=log).start()
    try:
        cs.wait_for(lambda c: c.calls("BootNotification") and "SUBS001" in c.connections)
        yield cs, daemon, state, log
    finally:
        daemon.kill()
        log.close()
        api.stop()
        cs.stop()


def state_view(daemon, timeout=30):
    """`tr069-bridge state --json`, once the daemon answers it (after a restart its endpoint comes back last)."""
    deadline = time.monotonic() + timeout
    while True:
        r = subprocess.run([sys.executable, "-m", "bridge.cli", "state", "--json", "--state-dir", daemon.state_dir],
                           cwd=ROOT, env=daemon.env, capture_output=True, text=True, timeout=30)
        if r.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def simulated_lines(log):
    log.seek(0)
    return [line for line in log.read().splitlines() if SIMULATED in line]


def addresses(cs):
    """What `help` puts into the examples: the central system's address and its upload receiver's."""
    return "%s:%d" % (cs.host, cs.port), cs.upload_address


def upload_ended(cs, mark):
    """The GetFileStatusNotification that ended the upload started after the mark-th one."""
    def ended(c):
        notes = [m[3] for m in c.calls("GetFileStatusNotification")[mark:]]
        return [n for n in notes[notes.index({"status": "Uploading", "requestId": "log-1"}):]
                if n["status"] != "Uploading"] if {"status": "Uploading", "requestId": "log-1"} in notes else []
    return cs.wait_for(ended, PATIENCE)[0]


def test_every_example_is_answered_by_a_make_run_daemon(station):
    cs, daemon, _, _ = station
    for action in EXAMPLES:
        if action in ("Reset", "UpdateFirmware"):  # these restart the daemon: the tests below
            continue
        mark = len(cs.calls("GetFileStatusNotification"))
        reply = cs.call("SUBS001", action, example(action, *addresses(cs))[0], timeout=PATIENCE)
        assert reply[0] == 3, (action, reply)  # a CALLRESULT, not a CALLERROR
        assert reply[2].get("status") in (None, "Accepted"), (action, reply)
        if action == "GetFile":  # one upload at a time: it ends before the next test's
            assert upload_ended(cs, mark)["status"] == "Uploaded"


def test_get_file_example_lands_in_the_upload_directory(station):
    """GetFile's example, as `help GetFile` prints it under make run: the daemon's log lands in
    <state>/uploads/ and the station reports Uploaded."""
    cs, daemon, state, _ = station
    payload = example("GetFile", *addresses(cs))[0]
    assert payload["location"] == "http://%s/upload/" % cs.upload_address
    mark = len(cs.calls("GetFileStatusNotification"))
    reply = cs.call("SUBS001", "GetFile", payload, timeout=PATIENCE)[2]
    assert reply["status"] == "Accepted", reply
    assert upload_ended(cs, mark) == {"status": "Uploaded", "requestId": "log-1"}
    stored = state / "uploads" / reply["fileName"]
    assert " running (backend host, state " in stored.read_text()  # the daemon's log
    assert [e[1:3] for e in cs.events if e[0] == "upload"][-1] == (
        reply["fileName"], "%d bytes, in %s" % (stored.stat().st_size, state / "uploads"))


def test_the_upload_receiver_keeps_files_in_its_directory_and_says_what_is_wrong(tmp_path):
    cs = CentralSystem(quiet=True).start()
    api = Northbound(cs, uploads=str(tmp_path / "up")).start()
    try:
        def post(body, content_type):
            request = urllib.request.Request(api.upload_url, body, {"Content-Type": content_type})
            try:
                with urllib.request.urlopen(request, timeout=PATIENCE) as r:
                    return r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, e.read().decode()

        form = ('--b\r\nContent-Disposition: form-data; name="file"; filename="../../etc/x y.log"\r\n'
                'Content-Type: text/plain\r\n\r\nline 1\r\nline 2\r\n--b--\r\n').encode()
        assert post(form, "multipart/form-data; boundary=b") == (200, "stored x_y.log (14 bytes)\n")
        assert (tmp_path / "up" / "x_y.log").read_bytes() == b"line 1\r\nline 2"
        assert os.listdir(tmp_path / "up") == ["x_y.log"]  # nothing outside it, no partial file left
        assert post(b"raw", "text/plain") == (400, "send the file as multipart/form-data (Content-Type: "
                                                   "text/plain)\n")
        no_file = b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n--b--\r\n'
        assert post(no_file, "multipart/form-data; boundary=b") == (
            400, "the multipart body has no file field (a part with a filename)\n")
    finally:
        api.stop()
        cs.stop()


def test_update_firmware_restarts_the_daemon_into_the_flashed_version(station):
    cs, daemon, _, log = station
    pid = daemon.proc.pid
    payload = example("UpdateFirmware", "%s:%d" % (cs.host, cs.port))[0]
    boots = len(cs.calls("BootNotification"))
    assert cs.call("SUBS001", "UpdateFirmware", payload, timeout=PATIENCE)[2] == {}
    cs.wait_for(lambda c: [m for m in c.calls("FirmwareStatusNotification") if m[3]["status"] == "Installed"],
                timeout=PATIENCE)
    statuses = [m[3]["status"] for m in cs.calls("FirmwareStatusNotification")]
    # Installing may come twice: sent before the restart and again after it when its answer was not in yet
    assert [s for i, s in enumerate(statuses) if i == 0 or statuses[i - 1] != s] == [
        "Downloading", "Downloaded", "Installing", "Installed"]
    boot = cs.calls("BootNotification")[boots]
    assert boot[3]["firmwareVersion"] == "tr069-bridge-0.2.0"  # the first line of the image it flashed
    assert daemon.proc.poll() is None and daemon.proc.pid == pid  # the same process, run again
    assert len(simulated_lines(log)) == 1 and "into firmware 'tr069-bridge-0.2.0'" in simulated_lines(log)[0]
    firmware = state_view(daemon)["os3p"]["firmware"]
    assert {k: firmware[k] for k in ("status", "requestId", "from", "to", "error")} == {
        "status": "Installed", "requestId": "fw-1", "from": "tr069-bridge %s" % bridge_version(),
        "to": "tr069-bridge-0.2.0", "error": None}
    assert firmware["location"] == payload["location"]
    assert not [m for m in cs.calls("StatusNotification") if m[3].get("vendorErrorCode") == "UnexpectedReboot"]


def test_reset_restarts_the_daemon_and_it_is_no_unexpected_reboot(station):
    cs, daemon, _, log = station
    before, connects = len(simulated_lines(log)), cs.count("connect", "SUBS001")
    assert cs.call("SUBS001", "Reset", {"type": "Soft"}, timeout=PATIENCE)[2] == {"status": "Accepted"}
    # back as after a reboot: a new connection (no BootNotification: the firmware did not change, annex 3.1)
    cs.wait_for(lambda c: c.count("connect", "SUBS001") > connects and "SUBS001" in c.connections, timeout=PATIENCE)
    assert len(simulated_lines(log)) == before + 1 and "reboot: simulated" in simulated_lines(log)[-1]
    assert daemon.proc.poll() is None
    assert not [m for m in cs.calls("StatusNotification") if m[3].get("vendorErrorCode") == "UnexpectedReboot"]
    assert state_view(daemon)["daemon"]["uptime"] < 60


def bridge_version():
    import bridge

    return bridge.__version__


# --- the console --------------------------------------------------------------------------------------

@pytest.fixture
def console():
    """say(line) -> what the console prints for it, with SUBS001 connected (a bare WebSocket client)."""
    cs = CentralSystem(quiet=True).start()
    ws = websocket.create_connection(cs.url + "/SUBS001", subprotocols=["OS3P1.0"], timeout=5)
    cs.wait_for(lambda c: "SUBS001" in c.connections)

    def say(line, timeout=0.5):
        out = io.StringIO()
        with redirect_stdout(out):
            assert centralsystem._command(cs, line, timeout=timeout) is True
        return out.getvalue().splitlines()

    yield say
    ws.close()
    cs.stop()


def test_help_action_prints_an_example_ready_to_send(console):
    lines = console("help UpdateFirmware")
    assert lines[0].startswith("  UpdateFirmware: downloads")
    action, payload = lines[1].strip().split(" ", 1)
    assert action == "UpdateFirmware" and json.loads(payload)["requestId"] == "fw-1"
    assert re.search(r"http://127\.0\.0\.1:\d+/firmware/tr069-bridge-0\.2\.0", payload)
    assert console("help UpdateFirmwar") == ["  no action UpdateFirmwar (did you mean UpdateFirmware?); help lists them"]
    assert "help ACTION" in "\n".join(console("help"))


def test_console_errors_say_what_is_wrong(console):
    assert console('SUBS999 Reset {"type": "Soft"}') == ["  SUBS999 is not connected (connected: SUBS001)"]
    assert console('Reset {"type": ') == [
        "  the payload of Reset is not JSON (Expecting value: line 1 column 9 (char 8)); help Reset prints one "
        "that works"]
    assert console("Reset [1]") == ["  the payload of Reset is a JSON object, {...}; help Reset prints one that works"]
    assert console("Rest {}") == ["  no action Rest (did you mean Reset?); help lists them"]
    # the bare client never answers
    assert console('Reset {"type": "Soft"}', timeout=0.2) == ["  no answer from SUBS001 to Reset within 0.2 s"]
    assert console("list") == ["  connected: SUBS001"]


def test_a_callerror_is_one_line():
    assert centralsystem._answer_text([4, "cs-1", "FormationViolation", "/type expected one of Soft, Hard", {}]) == \
        "refused: CALLERROR FormationViolation: /type expected one of Soft, Hard"
    assert centralsystem._answer_text([3, "cs-1", {"status": "Accepted"}]) == 'answer: {"status": "Accepted"}'
