"""The development central system's northbound REST API (devtools/northbound.py) driving the real daemon over
OS3P: every request example of the DMS seed (tests/data/dms/, provenance in its README), replayed as
printed but for `Device.` in place of `InternetGatewayDevice.` and the station's serial number as cpe_id,
answers the documented shape with typed values, or the documented error where it cannot apply to a
station (docs/dms-api.md). Then what the seed leaves to us: async and GetResult, the events endpoint,
credentials, a CPE that is not there.
"""

import base64
import json
import os
import threading
import time
import urllib.error
import urllib.request

import pytest

from devtools.northbound import Northbound
from support.daemon_process import PATIENCE, DaemonProcess
from support.os3p_harness import write_config
from support.paths import DATA

ID = "SUBS001"
V = "X_TR069-BRIDGE_"
with open(os.path.join(DATA, "dms", "examples.json"), encoding="utf-8") as f:
    EXAMPLES = {e["method"]: e for e in json.load(f)}


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    from devtools.centralsystem import CentralSystem

    cs = CentralSystem(quiet=True).start()
    api = Northbound(cs).start()
    state = str(tmp_path_factory.mktemp("station"))
    write_config(state, cs.url, model__poll_interval="3600", jsonrpc__port="0", os3p__download_dir=state)
    d = DaemonProcess(state).start()
    cs.wait_for(lambda c: c.calls("BootNotification") and ID in c.connections, PATIENCE)
    serial = cs.calls("BootNotification")[-1][3]["serialNumber"]
    yield cs, api, d, serial
    d.kill()
    api.stop()
    cs.stop()


def post(api, method, body, auth=None):
    """-> (HTTP status, JSON body)"""
    req = urllib.request.Request("%s/method/%s" % (api.url, method), json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def replay(rig, method):
    """The seed's request for `method`, as printed, with Device. and the station's serial number."""
    _cs, api, _d, serial = rig
    text = json.dumps(EXAMPLES[method]["request"]).replace("InternetGatewayDevice.", "Device.")
    body = json.loads(text)
    if "search_options" in body:
        body["search_options"]["cpe_id"] = serial
    return post(api, method, body)


def same_shape(got, documented):
    """Same keys (recursively) and the same JSON kinds, the values aside; lists by their first item."""
    if isinstance(documented, dict):
        return isinstance(got, dict) and set(got) == set(documented) and all(
            same_shape(got[k], documented[k]) for k in documented)
    if isinstance(documented, list):
        return isinstance(got, list) and (not documented or not got or same_shape(got[0], documented[0]))
    return type(got) is type(documented) or (documented is None and got is None)


def test_get_parameter_values(rig):
    status, body = replay(rig, "GetParameterValues")
    assert status == 200 and body["result"]["code"] == 200 and body["result"]["message"] == "Scenario was finished"
    details = {d["key"]: d["value"] for d in body["result"]["details"]}
    assert all(k.startswith("Device.ManagementServer.") for k in details)
    # typed values, as the seed shows them: booleans, numbers, strings
    assert details["Device.ManagementServer.PeriodicInformEnable"] is False
    assert details["Device.ManagementServer.PeriodicInformInterval"] == 300
    assert details["Device.ManagementServer.URL"] == rig[0].url
    assert details["Device.ManagementServer.Password"] == "" and details["Device.ManagementServer.Username"] == ""
    assert details["Device.ManagementServer.PeriodicInformTime"] == "0001-01-01T00:00:00Z"
    documented = {d["key"].replace("InternetGatewayDevice.", "Device."): d["value"]
                  for d in EXAMPLES["GetParameterValues"]["response"]["body"]["result"]["details"]}
    for key in set(details) & set(documented):  # the names both have: the same JSON kind
        assert type(details[key]) is type(documented[key]) or key.endswith("PeriodicInformTime"), key


def test_set_parameter_attributes_then_get_them(rig):
    status, body = replay(rig, "SetParameterAttributes")
    documented = EXAMPLES["SetParameterAttributes"]["response"]["body"]
    assert status == 200 and same_shape(body, dict(documented, result=dict(documented["result"], env_id="")))
    assert body["result"]["details"][0]["value"][0]["methodName"] == "SetParameterAttributesResponse"
    status, body = replay(rig, "GetParameterAttributes")
    assert status == 200 and body["result"]["code"] == 200
    attrs = {d["key"]: d["value"] for d in body["result"]["details"]}
    assert attrs["Device.ManagementServer.PeriodicInformInterval"] == {"Notification": 1, "AccessList": None}
    assert attrs["Device.ManagementServer.URL"] == {"Notification": 0, "AccessList": None}
    assert attrs["Device.ManagementServer.ParameterKey"] == {"Notification": 2, "AccessList": None}  # forced


@pytest.mark.parametrize("method", ["ChangeDUState", "FactoryReset", "CancelTransfer"])
def test_what_a_station_cannot_do_is_a_documented_9000(rig, method):
    status, body = replay(rig, method)
    assert status == 400 and body["code"] == 9000 and body["error"].startswith("9000 Method not supported: ")


@pytest.mark.parametrize("method, path", [
    ("DeleteObject", "Device.WANDevice.1.WANConnectionDevice.1.WANPPPConnection.2."),
    ("AddObject", "Device.WANDevice.1.WANConnectionDevice.1.WANPPPConnection.")])
def test_objects_a_station_does_not_have_are_9005(rig, method, path):
    status, body = replay(rig, method)
    assert status == 400 and body["code"] == 9005 and body["details"][0]["key"] == path


def test_add_and_delete_objects_the_station_has(rig):
    _cs, api, _d, serial = rig
    table = "Device.%sStreetlight.Contactor.1.Profile." % V
    base = {"search_options": {"cpe_id": serial}, "command_options": {}}
    status, body = post(api, "AddObject", dict(base, parameters={"ObjectName": table, "ParameterKey": ""}))
    documented = EXAMPLES["AddObject"]["response"]["body"]
    assert status == 200 and [d["key"] for d in body["result"]["details"]] == ["InstanceNumber", "Status"]
    assert same_shape(body["result"]["details"], documented["result"]["details"])
    n = body["result"]["details"][0]["value"]
    status, body = post(api, "DeleteObject", dict(base, parameters={"ObjectName": "%s%d." % (table, n),
                                                                     "ParameterKey": ""}))
    assert status == 200 and body["result"]["details"] == EXAMPLES["DeleteObject"]["response"]["body"]["result"][
        "details"]


def test_schedule_download_is_update_firmware(rig):
    cs = rig[0]
    mark = len(cs.calls())
    status, body = replay(rig, "ScheduleDownload")
    assert status == 200, body
    value = body["result"]["details"][0]["value"][0]
    assert value["methodName"] == "DownloadResponse" and value["body"] == {
        "Status": 1, "StartTime": "0001-01-01T00:00:00Z", "CompleteTime": "0001-01-01T00:00:00Z"}
    # the station took it as an UpdateFirmware: it reports the download (http://your.url.com does not answer
    # here, so it ends in DownloadFailed, which is the station's business, not the API's)
    cs.wait_for(lambda c: [m for m in c.calls()[mark:] if m[2] == "FirmwareStatusNotification"], PATIENCE)
    # and the model shows the image coming in beside the running one (FirmwareImage tied to UpdateFirmware)
    _cs, api, _d, serial = rig
    status, body = post(api, "GetParameterValues", {"search_options": {"cpe_id": serial},
                                                    "parameters": ["Device.DeviceInfo.FirmwareImage."]})
    images = {d["key"]: d["value"] for d in body["result"]["details"]}
    assert images["Device.DeviceInfo.FirmwareImage.1.Status"] == "Active"
    assert images["Device.DeviceInfo.FirmwareImage.2.Status"] in ("Downloading", "DownloadFailed")


def test_reboot_is_reset(rig):
    cs = rig[0]
    connects = cs.count("connect", ID)
    status, body = replay(rig, "Reboot")
    assert status == 200 and body["result"]["details"][0]["value"][0]["methodName"] == "RebootResponse"
    actions = os.path.join(rig[2].state_dir, "device-actions.jsonl")
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline and not (os.path.exists(actions) and "reboot" in open(actions).read()):
        time.sleep(0.05)
    assert "reboot" in open(actions).read()  # the host backend records what a device would have done
    # ... and simulates the reboot: the daemon restarts and connects again (the next tests talk to it)
    cs.wait_for(lambda c: c.count("connect", ID) > connects and ID in c.connections, PATIENCE)


def test_set_parameter_values(rig):
    # the seed's example writes ParameterKey, which TR-181 makes read-only: the documented 9003 naming it
    status, body = replay(rig, "SetParameterValues")
    assert status == 400 and body["code"] == 9003
    assert body["details"] == [{"key": "Device.ManagementServer.ParameterKey", "value": {
        "FaultCode": 9008, "FaultString": "Attempt to set a non-writable parameter: read-only"}}]
    _cs, api, _d, serial = rig
    status, body = post(api, "SetParameterValues", {"search_options": {"cpe_id": serial}, "command_options": {},
                                                    "parameters": [{"Name": "Device.ManagementServer.Username",
                                                                    "Value": "test", "Type": "string"}]})
    assert status == 200 and body["result"]["details"] == [{"key": "Status", "value": 0}]
    env_id = body["result"]["env_id"]
    status, body = post(api, "GetParameterValues", {"search_options": {"cpe_id": serial}, "command_options": {},
                                                    "parameters": ["Device.ManagementServer.ParameterKey"]})
    assert body["result"]["details"][0]["value"] == env_id  # the scenario that last changed it


def test_smart_spv(rig):
    status, body = replay(rig, "SmartSPV")
    documented = EXAMPLES["SmartSPV"]["response"]["body"]["result"]
    assert status == 200 and [d["key"] for d in body["result"]["details"]] == [
        d["key"] for d in documented["details"]]
    got = {d["key"]: d["value"] for d in body["result"]["details"]}
    assert got["code"] == 200 and got["message"] == "Success" and got["failed_params"] == []
    assert same_shape(got["applied_params"], documented["details"][2]["value"])


def test_schedule_inform_sends_a_heartbeat(rig):
    cs = rig[0]
    mark = len(cs.calls("Heartbeat"))
    body = json.loads(json.dumps(EXAMPLES["ScheduleInform"]["request"]))
    body["search_options"]["cpe_id"] = rig[3]
    status, reply = post(rig[1], "ScheduleInform", body)
    assert status == 200 and reply["result"]["details"][0]["value"][0]["methodName"] == "ScheduleInformResponse"
    cs.wait_for(lambda c: len(c.calls("Heartbeat")) > mark, PATIENCE)


def test_get_result_of_the_seed_is_polling_time_over(rig):
    status, body = post(rig[1], "GetResult", dict(EXAMPLES["GetResult"]["request"], timeout=0))
    assert status == 200 and body == EXAMPLES["GetResult"]["response"]["body"]


def test_async_and_get_result(rig):
    _cs, api, _d, serial = rig
    status, body = post(api, "GetParameterValues", {"search_options": {"cpe_id": serial},
                                                    "command_options": {"async": True},
                                                    "parameters": ["Device.DeviceInfo.SerialNumber"]})
    assert status == 200 and body["result"]["code"] == 200 and body["result"]["env_id"]
    status, result = post(api, "GetResult", {"env_id": body["result"]["env_id"], "timeout": 30})
    assert status == 200 and result["result"]["details"] == [{"key": "Device.DeviceInfo.SerialNumber",
                                                              "value": serial}]


def test_events_endpoint_hears_an_active_notification(rig):
    cs, api, d, serial = rig
    path = "Device.%sStreetlight.Contactor.3.Light" % V
    status, _ = post(api, "SetParameterAttributes", {"search_options": {"cpe_id": serial},
                                                     "parameters": [{"Name": path, "NotificationChange": True,
                                                                     "Notification": 2}]})
    assert status == 200
    with urllib.request.urlopen("%s/events?timeout=0" % api.url, timeout=10) as r:
        last = json.loads(r.read())["result"]["last"]
    got = {}

    def wait():
        with urllib.request.urlopen("%s/events?after=%d&timeout=30&cpe_id=%s" % (api.url, last, serial),
                                    timeout=60) as r:
            got.update(json.loads(r.read()))

    t = threading.Thread(target=wait)
    t.start()
    with open(os.path.join(d.state_dir, "station", "contactor3", "feedback"), "r+") as f:
        f.write("1\n")
    t.join(60)
    events = [e for e in got["result"]["details"] if e["key"] == path]
    assert events and events[0]["value"] == "On" and events[0]["cpe_id"] == serial
    assert events[0]["event"] == "4 VALUE CHANGE" and events[0]["seq"] > last


def test_unknown_cpe_bad_requests_and_credentials(rig):
    cs, _api, _d, serial = rig
    api = Northbound(cs, credentials=("dms", "secret")).start()
    try:
        body = {"search_options": {"cpe_id": serial}, "parameters": ["Device.DeviceInfo.SerialNumber"]}
        assert post(api, "GetParameterValues", body) == (401, {"error": "Access Denied"})
        assert post(api, "GetParameterValues", body, auth=("dms", "secret"))[0] == 200
        status, reply = post(api, "GetParameterValues", dict(body, search_options={"cpe_id": "NOPE"}),
                             auth=("dms", "secret"))
        assert status == 400 and reply["error"].startswith("no CPE matches")
        assert post(api, "GetParameterValues", dict(body, search_options={"cid": "x"}), auth=("dms", "secret"))[0] \
            == 400
        assert post(api, "Upload", body, auth=("dms", "secret"))[0] == 400
        status, reply = post(api, "GetParameterValues", dict(body, parameters="Device."), auth=("dms", "secret"))
        assert status == 400 and reply["code"] == 9003
    finally:
        api.stop()
