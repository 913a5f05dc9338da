"""The OS3P schemas: complete, well-formed, and agreeing with the spec's examples (repaired where DEVIATIONS.md says).

Both the project's validator (bridge.schema, used at run time) and the jsonschema package must accept every
example and reject the mutations below in the same way.
"""

import glob
import json
import os

import jsonschema
import pytest

from bridge import schema
from support.paths import ROOT

SCHEMA_DIR = os.path.join(ROOT, "schemas", "os3p")

CLIENT_ACTIONS = ["BootNotification", "GetFileStatusNotification", "FirmwareStatusNotification", "Heartbeat",
                  "MeterValues", "StatusNotification", "StreetlightModeStatusNotification",
                  "StreetlightStatusNotification"]
SERVER_ACTIONS = ["ChangeConfiguration", "ClearSingleStreetlightProfile", "GetConfiguration",
                  "GetEffectiveStreetlightDaySchedule", "GetFile", "OverrideStreetlight", "ResumeStreetlight",
                  "Reset", "ResetMVFaultIndicator", "SetStreetlightProfile", "TestMVFaultIndicator",
                  "TriggerMessage", "UpdateFirmware"]
# the TR-181 model's extension (DEVIATIONS.md item 10): not the spec's, examples of our own below
CLIENT_ACTIONS += ["DataModelNotification"]
SERVER_ACTIONS += ["DataModel"]

# (action, direction) -> the spec annex's example, verbatim except for the repaired JSON typos
EXAMPLES = {
    ("BootNotification", "req"): {"vendor": "BrandX", "model": "SUBS-A1", "stationNumber": "987654321",
                                  "serialNumber": "AQ1234VB5678", "firmwareVersion": "1.1.0",
                                  "iccid": "83310415107943019317", "imsi": "080921439201835338"},
    ("BootNotification", "resp"): {"status": "Accepted", "currentTime": "2013-02-01T15:09:18Z", "interval": 1200},
    ("GetFileStatusNotification", "req"): {"status": "Uploaded"},
    ("GetFileStatusNotification", "resp"): {},
    ("FirmwareStatusNotification", "req"): {"status": "DownloadFailed"},
    ("FirmwareStatusNotification", "resp"): {},
    ("Heartbeat", "req"): {},
    ("Heartbeat", "resp"): {"currentTime": "2013-02-01T15:09:18Z"},
    ("MeterValues", "req"): {"meterValue": [
        {"timestamp": "2013-03-07T16:52:16Z", "sampledValue": [
            {"value": "12", "unit": "A", "measurand": "Current.L1"},
            {"value": "300", "unit": "kWh", "measurand": "Energy.Active.Import.Register"}]},
        {"timestamp": "2013-03-07T19:52:16Z", "sampledValue": [
            {"value": "20", "unit": "kWh", "measurand": "Energy.Active.Import.Register"},
            {"value": "40", "unit": "kW", "location": "P1Meter", "measurand": "ActivePower.L1"}]}]},
    ("MeterValues", "resp"): {},
    ("StatusNotification", "req"): {"status": "Ok", "errorCode": "NoError", "info": "",
                                    "timestamp": "2013-02-01T15:09:18Z", "vendorId": "", "vendorErrorCode": ""},
    ("StatusNotification", "resp"): {},
    ("StreetlightModeStatusNotification", "req"): {"contactorId": 1, "mode": "Schedule",
                                                   "timestamp": "2013-02-01T15:09:18Z"},
    ("StreetlightModeStatusNotification", "resp"): {},
    ("StreetlightStatusNotification", "req"): {"contactorId": 2, "status": "On",
                                               "timestamp": "2013-02-01T15:09:18Z"},
    ("StreetlightStatusNotification", "resp"): {},
    ("ChangeConfiguration", "req"): {"key": "KVCBX_LANG", "value": "FR"},
    ("ChangeConfiguration", "resp"): {"status": "Accepted"},
    ("ClearSingleStreetlightProfile", "req"): {"profileId": 2, "contactorId": 1, "stackLevel": 3},
    ("ClearSingleStreetlightProfile", "resp"): {"status": "Accepted"},
    ("GetConfiguration", "req"): {"key": ["KVCBX_PROFILE"]},
    ("GetConfiguration", "resp"): {"configurationKey": [{"key": "KVCBX_PROFILE", "readonly": True,
                                                         "value": "NQC-ACDC"}], "unknownKey": []},
    ("GetEffectiveStreetlightDaySchedule", "req"): {"contactorId": 1, "at": "2015-07-07T00:00:00"},
    # the example's "status": "Accepted" is left out: the schema forbids it (DEVIATIONS.md)
    ("GetEffectiveStreetlightDaySchedule", "resp"): {"contactorId": 1, "daySchedule": [
        {"start": "20:11:00", "end": "23:00:00"}, {"start": "05:30:00", "end": "07:00:00"}]},
    ("GetFile", "req"): {"requestId": "08fb86a4-3e9b-11e6-ac61-9e71128cae77", "fileType": "MeterValueHistory",
                         "location": "ftp://root:root@sftp.oursystem.foo/tmp",
                         "startTime": "2013-02-01T15:09:18Z", "stopTime": "2013-02-01T15:09:18Z"},
    ("GetFile", "resp"): {"status": "Accepted", "fileName": "MeterValuesHistory=20160515-20160615.txt"},
    ("OverrideStreetlight", "req"): {"contactorId": 1, "action": "On"},
    ("OverrideStreetlight", "resp"): {"status": "Accepted"},
    ("ResumeStreetlight", "req"): {"contactorId": 1, "type": "Immediate"},
    ("ResumeStreetlight", "resp"): {"status": "Accepted"},
    ("Reset", "req"): {"type": "Soft"},
    ("Reset", "resp"): {"status": "Accepted"},
    ("ResetMVFaultIndicator", "req"): {},
    ("ResetMVFaultIndicator", "resp"): {"status": "Accepted"},
    ("SetStreetlightProfile", "req"): {
        "contactorId": 1, "clearSchedule": True, "streetlightProfiles": [{
            "profileId": 1, "stackLevel": 2, "recurrencyKind": "Daily",
            "validFrom": "2015-06-06T00:00:00", "validTo": "2019-09-06T00:00:00",
            "daySchedule": [{"start": {"kind": "Sunset", "offset": 3600},
                             "end": {"kind": "Absolute", "time": "01:00:00"}},
                            {"start": {"kind": "Absolute", "time": "06:00:00"},
                             "end": {"kind": "Sunrise", "offset": 0}}]}]},
    ("SetStreetlightProfile", "resp"): {"status": "Accepted"},
    ("TestMVFaultIndicator", "req"): {},
    ("TestMVFaultIndicator", "resp"): {"status": "Accepted"},
    ("TriggerMessage", "req"): {"requestedMessage": "StatusNotification", "connectorId": 2},
    ("TriggerMessage", "resp"): {"status": "Accepted"},
    ("UpdateFirmware", "req"): {"retrieveDate": "2013-02-01T15:09:18Z",
                                "location": "ftp://root:root@fork.gir.foo/tmp/kvcbx-updt.amx",
                                "retries": 4, "retryInterval": 20},
    ("UpdateFirmware", "resp"): {},
    # the extension's own examples (docs/dms-api.md)
    ("DataModel", "req"): {"method": "GetParameterValues", "parameters": ["Device.ManagementServer."]},
    ("DataModel", "resp"): {"code": 200, "details": [{"key": "Device.ManagementServer.PeriodicInformInterval",
                                                      "value": 300}]},
    ("DataModelNotification", "req"): {"event": "4 VALUE CHANGE", "timestamp": "2026-12-01T12:00:00Z",
                                       "parameterList": [{"name": "Device.ManagementServer.URL",
                                                          "value": "ws://cs.example/OS3P", "type": "string"}]},
    ("DataModelNotification", "resp"): {},
}

# (action, direction, payload, the validator's error kind)
INVALID = [
    ("DataModel", "req", {"method": "Reboot", "parameters": []}, "enum"),
    ("DataModel", "req", {"method": "AddObject", "parameters": {}, "parameterKey": "k" * 33}, "range"),
    ("DataModelNotification", "req", {"event": "1 BOOT", "timestamp": "2026-12-01T12:00:00Z",
                                      "parameterList": []}, "enum"),
    ("BootNotification", "req", {"vendor": "BrandX"}, "required"),
    ("BootNotification", "req", dict(EXAMPLES[("BootNotification", "req")], vendor="V" * 21), "range"),
    ("BootNotification", "resp", {"status": "Maybe", "currentTime": "2013-02-01T15:09:18Z", "interval": 1},
     "enum"),
    ("BootNotification", "resp", {"status": "Accepted", "currentTime": "yesterday", "interval": 1}, "format"),
    ("BootNotification", "resp", {"status": "Accepted", "currentTime": "2013-02-01T15:09:18Z", "interval": "1"},
     "type"),
    ("Heartbeat", "req", {"extra": 1}, "additional"),
    ("FirmwareStatusNotification", "req", {"status": "Installed", "requestId": "x" * 37}, "range"),
    ("MeterValues", "req", {"meterValue": [{"timestamp": "2013-03-07T16:52:16Z",
                                            "sampledValue": [{"value": "1", "measurand": "Nope"}]}]}, "enum"),
    ("MeterValues", "req", {"meterValue": [{"timestamp": "2013-03-07T16:52:16Z",
                                            "sampledValue": [{"value": "1"}]}]}, "required"),
    ("Reset", "req", {"type": "Immediate"}, "enum"),
    ("Reset", "req", {"kind": "Hard"}, "additional"),
    ("TriggerMessage", "req", {"requestedMessage": "Heartbeat", "contactorId": 5}, "range"),
    ("ChangeConfiguration", "req", {"key": "a", "value": 5}, "type"),
    ("GetEffectiveStreetlightDaySchedule", "req", {"contactorId": 1, "at": "07/07/2015"}, "format"),
    ("SetStreetlightProfile", "req", dict(EXAMPLES[("SetStreetlightProfile", "req")], streetlightProfiles=[]),
     "range"),
    ("UpdateFirmware", "req", {"retrieveDate": "2013-02-01T15:09:18Z", "location": "no scheme"}, "format"),
]


def _jsonschema_valid(s, instance):
    cls = jsonschema.validators.validator_for(s)
    return cls(s, format_checker=cls.FORMAT_CHECKER).is_valid(instance)


def _jsonschema_checks_formats():
    checkers = jsonschema.Draft4Validator.FORMAT_CHECKER.checkers
    return "date-time" in checkers and "uri" in checkers


def test_one_schema_per_action_and_direction():
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(SCHEMA_DIR, "*.json")))
    expected = sorted("%s.%s.json" % (a, d) for a in CLIENT_ACTIONS + SERVER_ACTIONS for d in ("req", "resp"))
    assert names == expected
    assert len(names) == 46


@pytest.mark.parametrize("action", CLIENT_ACTIONS + SERVER_ACTIONS)
def test_schemas_are_well_formed(action):
    for direction, suffix in (("req", "Request"), ("resp", "Response")):
        s = schema.load("os3p/%s.%s" % (action, direction))
        jsonschema.Draft4Validator.check_schema(s)
        assert s["title"] == action + suffix
        assert s["type"] == "object" and s["additionalProperties"] is False


@pytest.mark.parametrize("key", sorted(EXAMPLES), ids=lambda k: "%s.%s" % k)
def test_spec_examples_validate(key):
    s = schema.load("os3p/%s.%s" % key)
    assert schema.errors(s, EXAMPLES[key]) == []
    assert _jsonschema_valid(s, EXAMPLES[key])


def test_every_action_has_both_examples():
    assert {a for a, _ in EXAMPLES} == set(CLIENT_ACTIONS + SERVER_ACTIONS)


@pytest.mark.parametrize("action,direction,payload,kind", INVALID,
                         ids=["%s.%s-%s" % (a, d, k) for a, d, _, k in INVALID])
def test_invalid_payloads_rejected_by_both_validators(action, direction, payload, kind):
    s = schema.load("os3p/%s.%s" % (action, direction))
    errs = schema.errors(s, payload)
    assert kind in {k for k, _, _ in errs}
    by_pattern = any(m.startswith("does not match") for _, _, m in errs)
    if kind == "format" and not by_pattern and not _jsonschema_checks_formats():
        pytest.skip("jsonschema lacks its optional format checkers here")
    assert not _jsonschema_valid(s, payload)


def test_deviations_are_documented():
    text = open(os.path.join(SCHEMA_DIR, "DEVIATIONS.md"), encoding="utf-8").read()
    for word in ("Reset.req", "requestId", "contactorId", "clearSchedule", "BoardTemperature", "Local date-times",
                 "DataModel"):
        assert word in text


def test_schema_files_are_plain_json():
    for path in glob.glob(os.path.join(SCHEMA_DIR, "*.json")):
        with open(path, encoding="utf-8") as f:
            json.load(f)
