"""One working example of every action the central system sends: what `help ACTION` prints in the
development central system, what docs/first-day.md shows (a test keeps the page's table equal to this one)
and what the tests send to a daemon on the host backend.

Each payload is valid against its schema (schemas/os3p/<Action>.req.json) and does something visible on a
`make run` daemon: 127.0.0.1:9000 is the development central system's default address (its HTTP side
serves /firmware/<name>: an image whose first line is <name>), 127.0.0.1:9080 its DMS REST API's, which
under `make run` takes GetFile's uploads at /upload/ into <state>/uploads/ (devtools/uploads.py); `help`
prints the addresses it runs on.
"""

# action -> (payload, what it does on `make run`)
EXAMPLES = {  # in the order of a first session: read, change, watch the lights, then firmware and a reboot
    "GetConfiguration": ({"key": ["HeartbeatInterval", "Geolocation", "MeterValueSampleInterval"]},
                         "reads three keys; with no key, every one"),
    "DataModel": ({"method": "GetParameterValues", "parameters": ["Device.DeviceInfo.SoftwareVersion"]},
                  "reads a TR-181 parameter of the station's model (docs/parameters.md)"),
    "ChangeConfiguration": ({"key": "HeartbeatInterval", "value": "600"},
                            "sets acs.periodic_inform_interval in the config file; the heartbeat follows"),
    "TriggerMessage": ({"requestedMessage": "StatusNotification"}, "asks for a StatusNotification now"),
    "SetStreetlightProfile": ({"contactorId": 1, "streetlightProfiles": [{
        "profileId": 1, "stackLevel": 0, "recurrencyKind": "Daily", "validFrom": "2026-01-01T00:00:00",
        "daySchedule": [{"start": {"kind": "Absolute", "time": "18:00:00"},
                         "end": {"kind": "Absolute", "time": "06:30:00"}}]}]},
        "contactor 1 on from 18:00 to 06:30 every day (Sunset and Sunrise need os3p.geolocation)"),
    "GetEffectiveStreetlightDaySchedule": ({"contactorId": 1, "at": "2026-06-21T12:00:00"},
                                           "the periods contactor 1 is on that day, local time"),
    "OverrideStreetlight": ({"contactorId": 1, "action": "On"},
                            "switches simulated contactor 1 on until ResumeStreetlight"),
    "ResumeStreetlight": ({"contactorId": 1}, "contactor 1 follows its schedule again"),
    "ClearSingleStreetlightProfile": ({"contactorId": 1, "profileId": 1},
                                      "removes the profile SetStreetlightProfile's example set"),
    "TestMVFaultIndicator": ({}, "pulses the test line of every MV fault-indicator group"),
    "ResetMVFaultIndicator": ({}, "resets every MV fault-indicator group"),
    "GetFile": ({"requestId": "log-1", "fileType": "Syslog", "location": "http://127.0.0.1:9080/upload/"},
                "uploads the daemon's log to the central system's upload receiver: the file lands in the "
                "state directory's uploads/ and the station reports Uploaded"),
    "UpdateFirmware": ({"requestId": "fw-1", "retrieveDate": "2026-01-01T00:00:00Z",
                        "location": "http://127.0.0.1:9000/firmware/tr069-bridge-0.2.0"},
                       "downloads, checks and flashes: on the host a simulated flash, the daemon restarts "
                       "into firmware tr069-bridge-0.2.0 and reports Installed"),
    "Reset": ({"type": "Soft"}, "reboots: on the host a simulated reboot, the daemon restarts"),
}

DEFAULT_ADDRESS = "127.0.0.1:9000"  # in the payloads above; `help` shows the running central system's
DEFAULT_UPLOAD = "127.0.0.1:9080"  # its upload receiver (the DMS REST API's port: make run's API_PORT)


def example(action, address=DEFAULT_ADDRESS, upload=DEFAULT_UPLOAD):
    """(payload, note) of an action, with the development central system's address and its upload
    receiver's put in."""
    import json

    payload, note = EXAMPLES[action]
    text = json.dumps(payload).replace(DEFAULT_ADDRESS, address).replace(DEFAULT_UPLOAD, upload)
    return json.loads(text), note


def markdown_table():
    """The table of docs/first-day.md (a test keeps the page's copy equal to it)."""
    import json

    rows = ["| action | what to type | what it does on `make run` |", "| --- | --- | --- |"]
    for action, (payload, note) in EXAMPLES.items():
        rows.append("| %s | `%s %s` | %s |" % (action, action, json.dumps(payload), note))
    return "\n".join(rows) + "\n"
