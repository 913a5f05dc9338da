"""The parameter model in the real daemon process (host backend: simulated contactors as files), over a real
central system on loopback: value changes reach it on the event itself (the model's poll interval is an
hour, so no poll can be the cause), passive ones with the next session; the OS3P surfaces (DataModel,
TR-181 paths in Get/ChangeConfiguration); instance numbers and attributes across a restart; tr069.model
over the JSON-RPC shim.
"""

import os
import signal

import pytest

from bridge import uci
from bridge.cli import call_via_http
from support.daemon_process import PATIENCE, DaemonProcess
from support.os3p_harness import write_config

V = "X_TR069-BRIDGE_"
ID = "SUBS001"


@pytest.fixture
def station(tmp_path, cs):
    write_config(str(tmp_path), cs.url, model__poll_interval="3600", jsonrpc__port="0")
    d = DaemonProcess(tmp_path).start()
    cs.wait_for(lambda c: c.calls("BootNotification") and ID in c.connections, PATIENCE)
    yield d
    d.kill()


def dm(cs, method, parameters, **extra):
    """One DataModel CALL -> its CALLRESULT payload."""
    answer = cs.call(ID, "DataModel", dict({"method": method, "parameters": parameters}, **extra))
    assert answer[0] == 3, answer
    return answer[2]


def watch(cs, path, n=2):
    assert dm(cs, "SetParameterAttributes", [{"Name": path, "NotificationChange": True, "Notification": n}]) == \
        {"code": 200, "details": []}


def notified(cs, mark=0):
    """{name: value} of every DataModelNotification received since `mark` (an index into cs.calls())."""
    out = {}
    for m in cs.calls("DataModelNotification")[mark:]:
        assert m[3]["event"] == "4 VALUE CHANGE"
        out.update({p["name"]: p["value"] for p in m[3]["parameterList"]})
    return out


def wait_notified(cs, path, value, mark=0, timeout=PATIENCE):
    cs.wait_for(lambda c: notified(c, mark).get(path) == value, timeout)


def test_active_on_an_outside_uci_commit(station, cs):
    path = "Device.ManagementServer.Username"
    watch(cs, path)
    mark = len(cs.calls("DataModelNotification"))
    # what `uci set tr069.acs.username=operator; uci commit tr069` does to the file, then procd's reload
    # trigger (reload_config -> /etc/init.d/tr069-bridge reload -> SIGHUP)
    uci.commit(os.path.join(station.state_dir, "config", "tr069"), [("acs", "acs", "username", "operator")])
    station.proc.send_signal(signal.SIGHUP)
    wait_notified(cs, path, "operator", mark)
    note = cs.calls("DataModelNotification")[-1][3]
    names = [p["name"] for p in note["parameterList"]]
    assert "Device.DeviceInfo.SoftwareVersion" in names  # the forced-inform ones go with every one


def test_active_on_a_contactor_switch(station, cs):
    path = "Device.%sStreetlight.Contactor.2.Light" % V
    assert dm(cs, "GetParameterValues", [path])["details"] == [{"key": path, "value": "Off"}]
    watch(cs, path)
    mark = len(cs.calls("DataModelNotification"))
    with open(os.path.join(station.state_dir, "station", "contactor2", "feedback"), "r+") as f:
        f.write("1\n")  # the contactor is pulled in by hand: its feedback contact says so
    wait_notified(cs, path, "On", mark)


PROFILE = {"profileId": 7, "stackLevel": 0, "recurrencyKind": "Daily", "validFrom": "2030-01-01T00:00:00",
           "daySchedule": [{"start": {"kind": "Absolute", "time": "18:00:00"},
                            "end": {"kind": "Absolute", "time": "06:30:00"}}]}


def set_profile(cs, **changes):
    """OS3P's SetStreetlightProfile of PROFILE (with changes) on contactor 1."""
    reply = cs.call(ID, "SetStreetlightProfile", {"contactorId": 1, "streetlightProfiles": [
        dict(PROFILE, **changes)]}, timeout=PATIENCE)
    assert reply[0] == 3 and reply[2]["status"] == "Accepted", reply


def test_active_on_set_and_clear_streetlight_profile(station, cs):
    """OS3P's SetStreetlightProfile and ClearSingleStreetlightProfile switch no light now (a profile valid from
    2030), yet a watched profile parameter goes at once: the streetlights' ProfilesChanged, the poll an hour
    away."""
    contactor = "Device.%sStreetlight.Contactor.1." % V
    set_profile(cs)
    before = {d["key"]: d["value"] for d in dm(cs, "GetParameterValues", [contactor])["details"]}
    [valid_from] = [k for k in before if k.endswith(".ValidFrom")]
    count = contactor + "ProfileNumberOfEntries"
    assert before[count] == 1 and before[contactor + "Light"] == "Off"
    watch(cs, valid_from)
    watch(cs, count)
    mark = len(cs.calls("DataModelNotification"))
    set_profile(cs, validFrom="2031-06-01T00:00:00")
    cs.wait_for(lambda c: notified(c, mark).get(valid_from, before[valid_from]) != before[valid_from], PATIENCE)
    assert notified(cs, mark)[valid_from].startswith("2031-06-01")
    mark = len(cs.calls("DataModelNotification"))
    assert cs.call(ID, "ClearSingleStreetlightProfile", {"contactorId": 1, "profileId": 7},
                   timeout=PATIENCE)[2]["status"] == "Accepted"
    wait_notified(cs, count, 0, mark, PATIENCE)
    assert dm(cs, "GetParameterValues", [contactor + "Light"])["details"][0]["value"] == "Off"  # no switch
    # none of it came from a contactor's switch or mode: only what the profiles changed was sent
    sent = {p["name"] for m in cs.calls("DataModelNotification") for p in m[3]["parameterList"]}
    assert not [name for name in sent if name.startswith(contactor) and name.endswith(("Light", "Mode"))]


def test_the_dms_own_profile_writes_are_not_notified_back(station, cs):
    """A DataModel SetParameterValues of a profile parameter makes the streetlights publish ProfilesChanged in
    the middle of the write: the model compares after it, so the DMS's own value is the baseline."""
    contactor = "Device.%sStreetlight.Contactor.1." % V
    added = dm(cs, "AddObject", {"ObjectName": contactor + "Profile."})  # a profile that applies to no day yet
    assert added["code"] == 200, added
    values = {d["key"]: d["value"] for d in dm(cs, "GetParameterValues", [contactor + "Profile."])["details"]}
    [valid_from] = [k for k in values if k.endswith(".ValidFrom")]
    watch(cs, valid_from)
    mark = len(cs.calls())
    assert dm(cs, "SetParameterValues", [{"Name": valid_from, "Value": "2032-01-01T00:00:00Z"}],
              parameterKey="pk2")["code"] == 200
    # a change the DMS did not make still goes, after the DMS's own (in order)
    profile = values[valid_from[:-len("ValidFrom")] + "ProfileId"]
    set_profile(cs, profileId=profile, validFrom="2033-01-01T00:00:00")
    cs.wait_for(lambda c: str(notified(c).get(valid_from, "")).startswith("2033"), PATIENCE)
    assert not [p for m in cs.calls("DataModelNotification") if m in cs.calls()[mark:]
                for p in m[3]["parameterList"] if str(p["value"]).startswith("2032")]


def test_active_on_a_change_configuration(station, cs):
    path = "Device.ManagementServer.PeriodicInformInterval"  # OS3P's HeartbeatInterval: one store
    watch(cs, path)
    mark = len(cs.calls("DataModelNotification"))
    assert cs.call(ID, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "600"})[2] == \
        {"status": "Accepted"}
    wait_notified(cs, path, 600, mark)
    # a 4 VALUE CHANGE session carried it, as `ubus call tr069 inform '{"event":"4 VALUE CHANGE"}'` does
    code, status = station.call("status")
    assert code == 0 and status["statistics"]["total_sessions"] >= 1


def test_the_dms_own_writes_are_not_notified_back(station, cs):
    path = "Device.ManagementServer.Username"
    watch(cs, path)
    mark = len(cs.calls())
    assert dm(cs, "SetParameterValues", [{"Name": path, "Value": "by-dms"}], parameterKey="pk1")["code"] == 200
    assert dm(cs, "GetParameterValues", ["Device.ManagementServer.ParameterKey"])["details"][0]["value"] == "pk1"
    # a change the DMS did not make still goes: it comes after the DMS's own, in order
    uci.commit(os.path.join(station.state_dir, "config", "tr069"), [("acs", "acs", "username", "by-hand")])
    station.proc.send_signal(signal.SIGHUP)
    wait_notified(cs, path, "by-hand")
    assert "by-dms" not in [p["value"] for m in cs.calls("DataModelNotification") for p in m[3]["parameterList"]
                            if m in cs.calls()[mark:]]


def test_passive_goes_with_the_next_session(station, cs):
    path = "Device.ManagementServer.Username"
    watch(cs, path, 1)
    mark = len(cs.calls("DataModelNotification"))
    uci.commit(os.path.join(station.state_dir, "config", "tr069"), [("acs", "acs", "username", "passive")])
    station.proc.send_signal(signal.SIGHUP)
    # the daemon took the change in (the state view counts it waiting), and sent nothing for it
    cs.wait_for(lambda c: (call_via_http(station.state_dir, "tr069.bridge", "state", None)[1] or {})
                .get("model", {}).get("pending") == 1, 15)
    assert notified(cs, mark) == {}
    code, reply = station.call("inform", {"event": "6 CONNECTION REQUEST"})  # the next session, any event
    assert code == 0 and reply["status"] == 1
    wait_notified(cs, path, "passive", mark)


def test_get_and_change_configuration_with_tr181_paths(station, cs):
    answer = cs.call(ID, "GetConfiguration", {"key": ["Device.ManagementServer.", "HeartbeatInterval",
                                                      "Device.Nothing", "Device.ManagementServer.URL"]})[2]
    keys = {e["key"]: e for e in answer["configurationKey"]}
    assert keys["Device.ManagementServer.URL"] == {"key": "Device.ManagementServer.URL", "readonly": False,
                                                   "value": cs.url}
    assert keys["Device.ManagementServer.Password"] == {"key": "Device.ManagementServer.Password",
                                                        "readonly": False}  # write-only: no value
    assert keys["Device.ManagementServer.ParameterKey"]["readonly"] is True
    assert keys["HeartbeatInterval"]["value"] == keys["Device.ManagementServer.PeriodicInformInterval"]["value"]
    assert answer["unknownKey"] == ["Device.Nothing"]
    assert cs.call(ID, "ChangeConfiguration", {"key": "Device.ManagementServer.PeriodicInformInterval",
                                              "value": "900"})[2] == {"status": "Accepted"}
    assert cs.call(ID, "GetConfiguration", {"key": ["HeartbeatInterval"]})[2]["configurationKey"][0]["value"] == \
        "900"
    for key, value in (("Device.ManagementServer.PeriodicInformInterval", "0"),
                       ("Device.ManagementServer.ParameterKey", "x"), ("Device.Nope", "1")):
        assert cs.call(ID, "ChangeConfiguration", {"key": key, "value": value})[2] == {"status": "Rejected"}


def test_instance_numbers_and_attributes_survive_a_restart(tmp_path, cs):
    write_config(str(tmp_path), cs.url, model__poll_interval="3600", jsonrpc__port="0")
    d = DaemonProcess(tmp_path).start()
    table = "Device.%sStreetlight.Contactor.1.Profile." % V
    try:
        cs.wait_for(lambda c: ID in c.connections, PATIENCE)
        first = dm(cs, "AddObject", {"ObjectName": table, "ParameterKey": "a"})["details"][0]["value"]
        assert dm(cs, "DeleteObject", {"ObjectName": "%s%d." % (table, first)})["details"] == \
            [{"key": "Status", "value": 0}]
        watch(cs, "Device.%sStreetlight." % V, 1)
    finally:
        d.terminate()
    before = len(cs.calls("BootNotification"))
    d = DaemonProcess(tmp_path).start()
    try:
        cs.wait_for(lambda c: ID in c.connections and len(c.calls("BootNotification")) >= before, PATIENCE)
        second = dm(cs, "AddObject", {"ObjectName": table})["details"][0]["value"]
        assert second > first
        attrs = dm(cs, "GetParameterAttributes", ["Device.%sStreetlight.Contactor.3.Mode" % V])["details"]
        assert attrs == [{"key": "Device.%sStreetlight.Contactor.3.Mode" % V,
                          "value": {"Notification": 1, "AccessList": None}}]  # inherited from the partial path
    finally:
        d.kill()


def test_the_ubus_object_over_the_json_rpc_shim(station):
    code, reply, _ = call_via_http(station.state_dir, "tr069.model", "GetParameterValues",
                                 {"parameters": ["Device.ManagementServer.PeriodicInformEnable"]})
    assert code == 0 and reply == {"code": 200, "details": [
        {"key": "Device.ManagementServer.PeriodicInformEnable", "value": False}]}
    code, reply, _ = call_via_http(station.state_dir, "tr069.model", "GetParameterValues", {"parameters": ["Device.X"]})
    assert code == 0 and reply["code"] == 9005 and reply["details"][0]["key"] == "Device.X"
