"""Every streetlight action against the real daemon process (host backend: four simulated contactors with
feedback contacts and a local switch, as files), driven by a loopback central system; then kill -9."""

import datetime
import os
import time

from devtools.centralsystem import NO_ANSWER
from bridge.station import schedule
from bridge.station.sun import Sun
from bridge.station.zone import ZoneInfoZone
from support.daemon_process import PATIENCE, DaemonProcess
from support.os3p_harness import queued, write_config

NOTES = ("StreetlightStatusNotification", "StreetlightModeStatusNotification")
SPEC_7_10_3 = {
    "contactorId": 1, "clearSchedule": True,
    "streetlightProfiles": [{"profileId": 1, "stackLevel": 2, "recurrencyKind": "Daily",
                             "validFrom": "2015-06-06T00:00:00", "validTo": "2019-09-06T00:00:00",
                             "daySchedule": [{"start": {"kind": "Sunset", "offset": 3600},
                                              "end": {"kind": "Absolute", "time": "01:00:00"}},
                                             {"start": {"kind": "Absolute", "time": "06:00:00"},
                                              "end": {"kind": "Sunrise", "offset": 0}}]}]}
ALWAYS = {"profileId": 7, "stackLevel": 0, "recurrencyKind": "Daily",
          "daySchedule": [{"start": {"kind": "Absolute", "time": "12:00:00"},
                           "end": {"kind": "Absolute", "time": "11:59:59"}}]}


def notes(cs, mark=0):
    """The streetlight notifications received since `mark`, without their timestamps."""
    out = []
    for m in cs.calls()[mark:]:
        if m[2] in NOTES:
            p = dict(m[3])
            assert p.pop("timestamp").endswith("Z")
            out.append((m[2][11:-18] or "Status", p))  # "Mode" / "Status"
    return out


def S(cid, status, unexpected=False):
    p = {"contactorId": cid, "status": status}
    if unexpected:
        p["unexpected"] = True
    return ("Status", p)


def M(mode, cid=None):
    return ("Mode", {"mode": mode} if cid is None else {"contactorId": cid, "mode": mode})


def output(state, cid):
    with open(os.path.join(state, "station", "contactor%d" % cid, "output")) as f:
        return f.read().strip()


def write(state, name, value):
    with open(os.path.join(state, "station", name), "r+") as f:
        f.write("%d\n" % value)


def test_every_streetlight_action_then_kill_9(tmp_path, cs):
    state = str(tmp_path / "state")
    write_config(state, cs.url, jsonrpc__port="0", os3p__geolocation="[52.37, 4.90]")
    daemon = DaemonProcess(state, env={"TZ": "Europe/Amsterdam"}).start()
    ok = lambda action, payload: cs.call("SUBS001", action, payload)  # noqa: E731
    seen = []

    def expect(*items, timeout=PATIENCE):
        seen.extend(items)
        cs.wait_for(lambda c: len(notes(c)) >= len(seen), timeout)
        assert notes(cs) == seen

    try:
        cs.wait_for(lambda c: c.calls("BootNotification") and "SUBS001" in c.connections, PATIENCE)
        # the spec's own examples: SetStreetlightProfile 7.10.3, GetEffectiveStreetlightDaySchedule 7.4.2
        assert ok("SetStreetlightProfile", SPEC_7_10_3)[2] == {"status": "Accepted"}
        got = ok("GetEffectiveStreetlightDaySchedule", {"contactorId": 1, "at": "2015-07-07T00:00:00"})[2]
        place = schedule.Place(ZoneInfoZone("Europe/Amsterdam"), Sun(52.37, 4.90))
        profile = schedule.Profile.parse(SPEC_7_10_3["streetlightProfiles"][0])
        assert got == {"contactorId": 1,
                       "daySchedule": schedule.effective_json([profile], datetime.date(2015, 7, 7), place)}
        assert got["daySchedule"][0]["end"] == "01:00:00" and len(got["daySchedule"]) == 1
        # remote overrides, one and all
        assert ok("OverrideStreetlight", {"contactorId": 1, "action": "On"})[2] == {"status": "Accepted"}
        expect(M("RemoteOverride", 1), S(1, "On"))
        assert output(state, 1) == "1"
        assert ok("OverrideStreetlight", {"action": "Off"})[2] == {"status": "Accepted"}
        expect(M("RemoteOverride"), S(1, "Off"))
        assert output(state, 1) == "0"
        # the local switch, flipped by hand: every contactor in LocalOverride, lights on, remote refused
        write(state, "local_switch", 1)
        expect(M("LocalOverride"), S(1, "On"), S(2, "On"), S(3, "On"), S(4, "On"))
        assert [output(state, i) for i in (1, 2, 3, 4)] == ["1"] * 4
        assert ok("OverrideStreetlight", {"contactorId": 2, "action": "Off"})[2] == {"status": "RejectedLocalOverride"}
        assert ok("ResumeStreetlight", {})[2] == {"status": "RejectedLocalOverride"}
        write(state, "local_switch", 0)
        expect(M("RemoteOverride"), S(1, "Off"), S(2, "Off"), S(3, "Off"), S(4, "Off"))
        # back to the schedule: contactor 2 gets one that is on all day
        assert ok("SetStreetlightProfile", {"contactorId": 2, "streetlightProfiles": [ALWAYS]})[2] == \
            {"status": "Accepted"}
        assert ok("ResumeStreetlight", {"contactorId": 2, "type": "Immediate"})[2] == {"status": "Accepted"}
        expect(M("Schedule", 2), S(2, "On"))
        assert ok("ResumeStreetlight", {})[2] == {"status": "Accepted"}
        expect(M("Schedule"))
        # a contact that drops on its own
        write(state, "contactor2/feedback", 0)
        expect(S(2, "Off", unexpected=True))
        # clearing
        err = ok("ClearSingleStreetlightProfile", {"profileId": 2, "contactorId": 1, "stackLevel": 3})
        assert err[0] == 4 and err[2] == "OccurenceConstraintViolation"
        assert ok("ClearSingleStreetlightProfile", {"profileId": 99})[2] == {"status": "Unknown"}
        assert ok("ClearSingleStreetlightProfile", {"contactorId": 2, "stackLevel": 5})[2] == {"status": "Unknown"}
        assert ok("ClearSingleStreetlightProfile", {"contactorId": 2})[2] == {"status": "Accepted"}
        assert ok("GetEffectiveStreetlightDaySchedule", {"contactorId": 2, "at": "2026-05-01T00:00:00"})[2] == \
            {"contactorId": 2, "daySchedule": []}
        assert output(state, 2) == "0"
        # the configuration keys of the annex's chapter 5: Sunrise/Sunset read-only, today, local time
        keys = ok("GetConfiguration", {"key": ["Sunrise", "Sunset", "StreetlightProfileMaxStackLevel"]})[2]
        rise, sset, level = keys["configurationKey"]
        assert level == {"key": "StreetlightProfileMaxStackLevel", "readonly": False, "value": "16"}
        assert rise["readonly"] and sset["readonly"]
        rise_t, sset_t = (datetime.datetime.fromisoformat(k["value"]) for k in (rise, sset))
        assert rise_t.utcoffset() in (datetime.timedelta(hours=1), datetime.timedelta(hours=2))  # Amsterdam
        assert rise_t.date() == sset_t.date() == datetime.datetime.now(ZoneInfoZone("Europe/Amsterdam")._tz).date()
        assert datetime.timedelta(hours=7) < sset_t - rise_t < datetime.timedelta(hours=17)
        # the max stack level is a read-write configuration key
        assert ok("ChangeConfiguration", {"key": "StreetlightProfileMaxStackLevel", "value": "1"})[2] == \
            {"status": "Accepted"}
        assert ok("SetStreetlightProfile", {"contactorId": 3, "streetlightProfiles": [dict(ALWAYS, stackLevel=2)]})[2] \
            == {"status": "Rejected"}
        # TriggerMessage: the current state, one contactor or all
        mark = len(cs.calls())
        assert ok("TriggerMessage", {"requestedMessage": "StreetlightStatusNotification", "contactorId": 1})[2] == \
            {"status": "Accepted"}
        assert ok("TriggerMessage", {"requestedMessage": "StreetlightModeStatusNotification"})[2] == \
            {"status": "Accepted"}
        cs.wait_for(lambda c: len(notes(c, mark)) >= 2)
        assert notes(cs, mark) == [S(1, "Off"), M("Schedule")]
        seen.extend(notes(cs, mark))

        # kill -9 with notifications queued and unanswered: none may be lost
        for action in NOTES:
            cs.responders[action] = lambda ident, payload: NO_ANSWER
        assert ok("OverrideStreetlight", {"contactorId": 3, "action": "On"})[2] == {"status": "Accepted"}
        assert ok("OverrideStreetlight", {"contactorId": 4, "action": "On"})[2] == {"status": "Accepted"}
        deadline = time.monotonic() + PATIENCE
        while len(queued(state)) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        before = queued(state)
        assert [r["action"] for r in before] == ["StreetlightModeStatusNotification", "StreetlightStatusNotification"] * 2
    finally:
        daemon.kill()  # SIGKILL: nothing flushed, nothing said goodbye
    assert daemon.proc.returncode == -9
    outputs = [output(state, i) for i in (1, 2, 3, 4)]
    assert outputs == ["0", "0", "1", "1"]
    for action in NOTES:
        del cs.responders[action]
    mark = len(cs.calls())
    daemon = DaemonProcess(state, env={"TZ": "Europe/Amsterdam"}).start()
    try:
        cs.wait_for(lambda c: {m[1] for m in c.calls()[mark:]} >= {r["id"] for r in before}, PATIENCE)
        delivered = [m for m in cs.calls()[mark:] if m[2] in NOTES]
        ids = [m[1] for m in delivered]
        assert sorted(set(ids), key=ids.index) == [r["id"] for r in before]  # in order (the head may repeat)
        assert [output(state, i) for i in (1, 2, 3, 4)] == outputs  # the restart switched nothing
        deadline = time.monotonic() + PATIENCE
        while queued(state) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert queued(state) == []
        assert notes(cs, mark)[-4:] == [M("RemoteOverride", 3), S(3, "On"), M("RemoteOverride", 4), S(4, "On")]
    finally:
        daemon.terminate()
