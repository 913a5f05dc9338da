"""MV fault indicators and the station's alarms: pure logic, a fake clock (plain numbers)."""

from bridge.station.alarms import Alarms, Thresholds, limits_from_uci
from bridge.station.indicators import GROUND, OVERCURRENT, SELFFAULT, Group, Indicators


def iso(t):
    return "T%g" % t


def ev(events):
    return [(e.code, e.active, e.group, e.test, e.time) for e in events]


def make(**kw):
    return Indicators([Group("MV1"), Group("MV2", inputs=(OVERCURRENT, SELFFAULT))], test_timeout=10, pulse=1,
                      settle=2, **kw)


def test_a_fault_opens_once_and_resolves_when_the_input_drops():
    ind = make()
    assert ev(ind.inputs(5, {("MV1", OVERCURRENT): True})) == [("OverCurrentFailure", True, "MV1", False, 5)]
    assert ind.inputs(6, {("MV1", OVERCURRENT): True}) == []  # a level, not a new episode
    assert ev(ind.inputs(9, {("MV1", OVERCURRENT): False})) == [("OverCurrentFailure", False, "MV1", False, 9)]
    assert ev(ind.inputs(10, {("MV1", SELFFAULT): True})) == [("MVFaultIndicatorError", True, "MV1", False, 10)]
    assert ind.inputs(10, {("MV9", OVERCURRENT): True, ("MV1", "smoke"): True}) == []  # not configured


def test_a_test_that_trips_reports_test_faults_latched_until_reset():
    ind = make()
    status, commands = ind.test(100)
    assert status == "Accepted"
    assert commands == [("MV1", "test", True), ("MV2", "test", True)]
    assert ind.deadline() == 101
    events, commands = ind.tick(101)
    assert events == [] and commands == [("MV1", "test", False), ("MV2", "test", False)]
    got = ind.inputs(102, {("MV1", OVERCURRENT): True, ("MV1", GROUND): True, ("MV2", OVERCURRENT): True})
    assert ev(got) == [("OverCurrentFailure", True, "MV1", True, 102), ("GroundFailure", True, "MV1", True, 102),
                       ("OverCurrentFailure", True, "MV2", True, 102)]
    assert ind.test(103) == ("RejectedAlreadyFaulted", [])
    assert ind.tick(110) == ([], [])  # all tripped: no indicator error
    status, commands = ind.reset(120)
    assert status == "Accepted" and commands == [("MV1", "reset", True), ("MV2", "reset", True)]
    # the indicators drop their outputs during the reset pulse; judged once the reset settles
    assert ind.inputs(120.5, {("MV1", OVERCURRENT): False, ("MV1", GROUND): False, ("MV2", OVERCURRENT): False}) == []
    events, commands = ind.tick(121)
    assert events == [] and commands == [("MV1", "reset", False), ("MV2", "reset", False)]
    events, _ = ind.tick(123)
    assert ev(events) == [("OverCurrentFailure", False, "MV1", True, 123), ("GroundFailure", False, "MV1", True, 123),
                          ("OverCurrentFailure", False, "MV2", True, 123)]
    assert ind.test(130)[0] == "Accepted"  # ready for another test


def test_an_indicator_that_does_not_trip_is_an_indicator_error_until_a_test_trips_it():
    ind = make()
    ind.test(0)
    ind.inputs(2, {("MV1", OVERCURRENT): True, ("MV1", GROUND): True})  # MV2 stays silent
    events, _ = ind.tick(10)
    assert ev(events) == [("MVFaultIndicatorError", True, "MV2", True, 10)]
    ind.reset(20)
    ind.inputs(20.5, {("MV1", OVERCURRENT): False, ("MV1", GROUND): False})
    events, _ = ind.tick(23)
    assert [e.code for e in events if not e.active] == ["OverCurrentFailure", "GroundFailure"]
    assert ind.test(30)[0] == "Accepted"  # an indicator error alone does not refuse a test
    ind.inputs(31, {("MV1", OVERCURRENT): True, ("MV1", GROUND): True, ("MV2", OVERCURRENT): True})
    events, _ = ind.tick(40)
    assert ev(events) == [("MVFaultIndicatorError", False, "MV2", True, 40)]


def test_a_fault_whose_cause_persists_after_reset_is_reported_again():
    ind = make()
    ind.inputs(1, {("MV1", GROUND): True})
    ind.reset(50)
    ind.inputs(50.5, {("MV1", GROUND): True})
    events, _ = ind.tick(53)
    assert ev(events) == [("GroundFailure", True, "MV1", False, 53)]  # again, no "resolved" in between
    assert ind.state()["groups"]["MV1"]["faults"] == ["GroundFailure"]


def test_reset_during_a_test_ends_it_without_indicator_errors():
    ind = make()
    ind.test(0)
    ind.reset(3)
    events, _ = ind.tick(15)
    assert [e for e in events if e.code == "MVFaultIndicatorError"] == []


def test_no_indicator_configured_is_rejected():
    ind = Indicators([])
    assert ind.test(0) == ("Rejected", []) and ind.reset(0) == ("Rejected", [])


# --- StatusNotification content -------------------------------------------------------------------------
def test_status_notifications_follow_tables_4_to_6():
    a = Alarms(iso)
    assert a.change("OverCurrentFailure", "MV1", True, 5, test=True) == {
        "status": "Faulted", "errorCode": "OverCurrentFailure", "info": "MV1", "timestamp": "T5", "test": True}
    assert a.change("GroundFailure", "MV1", True, 6) == {
        "status": "Faulted", "errorCode": "GroundFailure", "info": "MV1", "timestamp": "T6"}
    assert a.change("OverCurrentFailure", "MV1", False, 9) == {
        "status": "Faulted", "errorCode": "NoError", "info": "Over current error (MV) resolved",
        "timestamp": "T9", "test": True}
    assert a.snapshot(10)["errorCode"] == "GroundFailure"
    assert a.change("GroundFailure", "MV1", False, 11) == {
        "status": "Ok", "errorCode": "NoError", "info": "Ground failure resolved", "timestamp": "T11"}
    assert a.change("GroundFailure", "MV1", False, 12) is None
    a.change("MVFaultIndicatorError", "MV2", True, 13)
    assert a.change("MVFaultIndicatorError", "MV2", False, 14)["info"] == "Indicator fault (MV) resolved"
    a.change("PowerMeterFailure", "meter", True, 15, info="modbus tcp 127.0.0.1:502: no answer")
    assert a.change("PowerMeterFailure", "meter", False, 16)["info"] == "PowerMeterFailure resolved"
    assert a.snapshot(20) == {"status": "Ok", "errorCode": "NoError", "timestamp": "T20"}


def test_thresholds_raise_and_clear_with_hysteresis():
    t = Thresholds(hysteresis=2)
    assert t.check([("Voltage.L1N", "", "V", 230.0), ("BoardTemperature", "", "Celsius", 50)]) == []
    assert t.check([("Voltage.L1N", "", "V", 260.0)]) == [("OverVoltage", "Voltage.L1N", True,
                                                            "Voltage.L1N 260 V > 253")]
    assert t.check([("Voltage.L1N", "", "V", 252.0)]) == []  # inside, but not by the hysteresis yet
    assert t.check([("Voltage.L1N", "", "V", 240.0)]) == [("OverVoltage", "Voltage.L1N", False, None)]
    assert [c[:3] for c in t.check([("Voltage.L2N", "", "V", 150.0)])] == [("UnderVoltage", "Voltage.L2N", True)]
    assert [c[:3] for c in t.check([("BoardTemperature", "", "Celsius", 91.5)])] == [
        ("HighTemperature", "BoardTemperature", True)]
    assert t.check([("Current.L1", "", "A", 1e6)]) == []  # no limit, no alarm


def test_limits_from_uci():
    limits = limits_from_uci([{".type": "threshold", ".name": "a", "measurand": "AmbientTemperature", "high": "45"},
                              {".type": "threshold", ".name": "b", "measurand": "Voltage.L1N", "low": ""}])
    assert limits["AmbientTemperature"] == (None, 45.0) and limits["Voltage.L1N"] == (None, 253.0)
