"""Contactors from UCI: only configured ones exist (nothing simulated once one is configured), bad rows are
named and skipped, and the OS3P handlers refuse what a station without them cannot do."""

import datetime

import pytest

from bridge.daemon import Daemon
from bridge.os3p import errors, streetlights as os3p_streetlights
from bridge.station.checks import SECTION_CHECKS
from bridge.station.streetlights import contactor_rows
from support.daemon_process import write_config

CONFIG = """
config contactor 'night'
\toption id '2'
\toption backend 'host'
\toption output 'night-relay'
\toption feedback 'night-aux'

config contactor
\toption id '7'
\toption output '17'

config contactor
\toption id '2'
\toption output '18'

config contactor
\toption id '3'
\toption backend 'modbus'
\toption output '1'
"""


def test_rows_and_their_problems():
    from bridge import uci

    rows, problems = contactor_rows(uci.parse(CONFIG))
    assert [r["id"] for r in rows] == [2]
    assert rows[0] == {"id": 2, "backend": "host", "output": "night-relay", "feedback": "night-aux",
                       "active_low": False, "feedback_active_low": False, "object": ""}
    assert [(o, w) for _, o, w in problems] == [("id", "id 7 is not 1-4"), ("id", "contactor 2 is configured twice"),
                                                 ("backend", "backend 'modbus' is not one of gpio, ubus, host")]


def test_check_names_each_refused_contactor_with_its_line(tmp_path):
    from bridge.config import examine

    path = write_config(str(tmp_path), CONFIG)
    _, problems = examine(path, SECTION_CHECKS)
    assert [str(p) for p in problems] == [
        path + ":9: tr069.@contactor[1].id: id 7 is not 1-4; not used",
        path + ":13: tr069.@contactor[2].id: contactor 2 is configured twice; not used",
        path + ":18: tr069.@contactor[3].backend: backend 'modbus' is not one of gpio, ubus, host; not used"]
    assert all(not p.fatal for p in problems)  # the daemon still starts; that contactor is not used


@pytest.fixture
def lights(tmp_path):
    write_config(str(tmp_path), CONFIG)
    d = Daemon("host", str(tmp_path))
    d.start_components(only={"streetlights"})
    s = d.running["streetlights"]
    d.loop.run_once(0)  # the station starts on the loop
    yield s
    s.stop()
    d.loop.close()


def test_only_configured_contactors_exist(lights, tmp_path):
    st = lights.control
    assert not lights.simulated and list(st.contactors) == [2]
    assert (tmp_path / "station" / "night-relay").exists() and not (tmp_path / "station" / "contactor1").exists()
    assert st.override(1, "On") == "Rejected"
    assert st.override(None, "On") == "Accepted"  # all = every configured one
    assert (tmp_path / "station" / "night-relay").read_text() == "1\n"
    assert st.set_profiles(3, [])[0] == "Rejected"
    assert st.effective_day(1, datetime.date(2026, 5, 1)) is None
    assert st.clear_profiles(cid=4) == "Unknown"


class Ctx:
    def __init__(self, streetlights):
        self.streetlights = streetlights


class Req:
    def __init__(self, station, payload):
        self.context, self.payload = Ctx(station), payload


def test_handlers_without_any_contactor():
    assert os3p_streetlights.override_streetlight(Req(None, {"action": "On"})) == {"status": "Rejected"}
    assert os3p_streetlights.resume_streetlight(Req(None, {})) == {"status": "Rejected"}
    assert os3p_streetlights.clear_single_streetlight_profile(Req(None, {})) == {"status": "Unknown"}
    with pytest.raises(errors.CallError) as e:
        os3p_streetlights.get_effective_streetlight_day_schedule(Req(None, {"contactorId": 1, "at": "2026-05-01"}))
    assert e.value.code == "NotSupported"
    with pytest.raises(errors.CallError) as e:
        os3p_streetlights.clear_single_streetlight_profile(Req(None, {"profileId": 1, "stackLevel": 1}))
    assert e.value.code == "OccurenceConstraintViolation"
    good = {"contactorId": 1, "streetlightProfiles": [{"profileId": 1, "stackLevel": 0, "recurrencyKind": "Daily",
                                                        "daySchedule": []}]}
    assert os3p_streetlights.set_streetlight_profile(Req(None, good)) == {"status": "Rejected"}
    with pytest.raises(errors.CallError) as e:
        os3p_streetlights.get_effective_streetlight_day_schedule(Req(None, {"contactorId": 1, "at": "yesterday"}))
    assert e.value.code == "PropertyConstraintViolation"


def test_a_failing_power_switch_is_one_of_the_station_errors(tmp_path):
    """The composition root hands a contact that does not follow from the streetlights to the sensors: a
    StatusNotification PowerSwitchFailure among the station's errors, and NoError once it follows again."""
    import time

    from bridge.events import FaultChanged

    write_config(str(tmp_path), "config streetlights 'streetlights'\n\toption feedback_timeout_ms '50'\n"
                                "config station 'station'\n\toption sample_interval '0'\n")
    d = Daemon("host", str(tmp_path))
    d.start_components(only={"sensors", "streetlights"})
    sensors, s = d.running["sensors"], d.running["streetlights"]
    got = []
    sensors.subscribe(lambda event: got.append(event.notification), FaultChanged)
    try:
        d.loop.run_once(0)
        output, _feedback = s.control.contactors[1].output, s.control.contactors[1].feedback
        output.contact = None  # a contactor whose auxiliary contact no longer follows its coil
        assert s.control.override(1, "On") == "Accepted"
        end = time.monotonic() + 10  # a hang bound, not a timing check: the fault comes after ~50 ms
        while not got and time.monotonic() < end:
            d.loop.run_once(0.05)
        assert [(p["status"], p["errorCode"], p["info"]) for p in got] == [
            ("Faulted", "PowerSwitchFailure", "contactor 1: switched on, feedback still off after 0.05 s")]
        assert s.control.override(1, "Off") == "Accepted"  # the output agrees with the stuck contact again
        while len(got) < 2 and time.monotonic() < end:
            d.loop.run_once(0.05)
        assert [(p["status"], p["errorCode"], p["info"]) for p in got[1:]] == [
            ("Ok", "NoError", "PowerSwitchFailure resolved")]
    finally:
        s.stop()
        sensors.stop()
        d.loop.close()
