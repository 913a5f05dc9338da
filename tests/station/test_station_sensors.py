"""The sensors shell on a real loop: simulated indicators, GPIO indicators on a sysfs-shaped tree,
a pymodbus meter that goes away and comes back, board temperature from thermal zones / hwmon."""

import os

import pytest

from bridge.events import FaultChanged, SampleTaken
from bridge.station.backends import simulated
from bridge.station.backends.thermal import BoardTemperature
from bridge.station.sensors import SIMULATION_FILE

pytest.importorskip("pymodbus")
from support.modbus_server import VOLTS_AND_AMPS as METER, ModbusServer  # noqa: E402
from support.sensors import make_sensors, read_sample as read_meter, run_until  # noqa: E402
from support.sysfs_gpio import SysfsGpioTree  # noqa: E402

FAST = """
config station 'station'
\toption test_timeout_ms '300'
\toption pulse_ms '50'
\toption settle_ms '100'
\toption poll_ms '20'
\toption sample_interval '0'
"""


def make(tmp_path, extra="", backend="host", **kw):
    return make_sensors(tmp_path, FAST + extra, backend, **kw)


def statuses(got):
    return [(p["status"], p["errorCode"], p.get("info"), p.get("test", False))
            for p in (e.notification for e in got if type(e) is FaultChanged)]


def test_simulated_group_trips_on_test_and_clears_on_reset(tmp_path):
    loop, s, got = make(tmp_path)
    assert s.test() == "Accepted"
    run_until(loop, lambda: len(statuses(got)) >= 2)
    assert statuses(got) == [("Faulted", "OverCurrentFailure", "MV1", True), ("Faulted", "GroundFailure", "MV1", True)]
    assert s.test() == "RejectedAlreadyFaulted"
    assert s.reset() == "Accepted"
    run_until(loop, lambda: len(statuses(got)) >= 4)
    assert statuses(got)[2:] == [("Faulted", "NoError", "Over current error (MV) resolved", True),
                                 ("Ok", "NoError", "Ground failure resolved", True)]
    s.stop()


def test_simulated_group_that_does_not_trip_and_a_fault_that_persists(tmp_path):
    loop, s, got = make(tmp_path)
    sim = str(tmp_path / SIMULATION_FILE)
    simulated.set_flag(sim, "MV1", "broken", True)
    assert s.test() == "Accepted"
    run_until(loop, lambda: statuses(got))
    assert statuses(got) == [("Faulted", "MVFaultIndicatorError", "MV1", True)]
    del got[:]
    simulated.set_flag(sim, "MV1", "overcurrent", True)  # a real fault, and its cause stays
    run_until(loop, lambda: statuses(got))
    assert statuses(got) == [("Faulted", "OverCurrentFailure", "MV1", False)]
    s.reset()
    run_until(loop, lambda: len(statuses(got)) >= 2)
    assert statuses(got)[1] == ("Faulted", "OverCurrentFailure", "MV1", False)  # reported again
    s.stop()


def test_no_indicator_on_a_device_is_rejected_and_nothing_is_simulated(tmp_path):
    loop, s, got = make(tmp_path, backend="ubus")
    assert s.test() == "Rejected" and s.reset() == "Rejected"
    assert not s.has_readings()  # no meter configured, no thermal zone in this tree
    s.stop()


def test_gpio_indicator_inputs_and_outputs(tmp_path):
    tree = SysfsGpioTree(tmp_path / "gpio")  # lines appear when the daemon exports them, as in sysfs
    try:
        loop, s, got = make(tmp_path, """
config indicator 'F1'
\toption overcurrent '17'
\toption ground '18'
\toption selffault '19'
\toption test '20'
\toption reset '21'
""", backend="ubus", gpio_root=tree.root)
        assert sorted(tree.exports) == [17, 18, 19, 20, 21]
        assert tree.read(20, "direction") != "in" and tree.read(17, "direction") == "in"  # outputs, inputs
        assert s.test() == "Accepted"
        assert tree.read(20, "value") == "1"  # test output pulsed
        run_until(loop, lambda: tree.read(20, "value") == "0")
        tree.kernel_set(17, 1)
        run_until(loop, lambda: statuses(got))
        assert statuses(got) == [("Faulted", "OverCurrentFailure", "F1", True)]
        run_until(loop, lambda: len(statuses(got)) >= 2)  # ground never tripped: the indicator is faulty
        assert statuses(got)[1] == ("Faulted", "MVFaultIndicatorError", "F1", True)
        s.reset()
        assert tree.read(21, "value") == "1"
        tree.kernel_set(17, 0)
        run_until(loop, lambda: len(statuses(got)) >= 3)
        assert statuses(got)[2] == ("Faulted", "NoError", "Over current error (MV) resolved", True)
        s.stop()
    finally:
        tree.close()




def test_meter_readings_power_meter_failure_and_recovery(tmp_path):
    holding = {0: 0x4366, 1: 0x8000, 2: 125}  # 230.5 V, 12.5 A
    server = ModbusServer(holding=holding).start()
    loop, s, got = make(tmp_path, METER % server.port, backend="ubus")
    samples = []
    assert s.read_now("Trigger", samples.append)
    run_until(loop, lambda: samples)
    assert samples[0].readings == [("Voltage.L1N", "", "V", 230.5), ("Current.L1", "", "A", 12.5),
                             ("DayMax.Voltage.L1", "", "V", 230.5), ("DayMin.Voltage.L1", "", "V", 230.5),
                             ("DayMax.Current.L1", "", "A", 12.5)]  # the day so far: this one sample
    assert samples[0].context == "Trigger"
    server.stop()
    s.read_now("Trigger", samples.append)
    run_until(loop, lambda: statuses(got))
    assert statuses(got)[0][:2] == ("Faulted", "PowerMeterFailure")
    assert "127.0.0.1:%d" % server.port in statuses(got)[0][2]
    s.read_now("Trigger", samples.append)  # still down: not notified twice
    run_until(loop, lambda: len(samples) == 3)
    assert len(statuses(got)) == 1
    server = ModbusServer(holding=holding, port=server.port).start()
    try:
        s.read_now("Trigger", samples.append)
        run_until(loop, lambda: len(statuses(got)) >= 2)
        assert statuses(got)[1] == ("Ok", "NoError", "PowerMeterFailure resolved", False)
    finally:
        server.stop()
        s.stop()


def test_periodic_samples_go_to_the_history_and_thresholds_alarm(tmp_path):
    holding = {0: 0x4382, 1: 0x0000, 2: 125}  # 260 V: over-voltage
    with ModbusServer(holding=holding) as server:
        loop, s, got = make(tmp_path, METER % server.port + "config station 'station'\n\toption sample_interval '1'\n",
                            backend="ubus")
        s._periodic()  # what the interval timer calls
        run_until(loop, lambda: [e for e in got if type(e) is SampleTaken])
        assert statuses(got) == [("Faulted", "OverVoltage", "Voltage.L1N 260 V > 253", False)]
        assert s.history.query()[0][1][0] == ("Voltage.L1N", "", "V", 260.0)
        assert "sample" in s.timers  # the next one is scheduled
        s.stop()


def test_board_temperature_is_the_hottest_sensor(tmp_path):
    (tmp_path / "class" / "thermal" / "thermal_zone0").mkdir(parents=True)
    (tmp_path / "class" / "thermal" / "thermal_zone0" / "temp").write_text("45000\n")
    (tmp_path / "class" / "hwmon" / "hwmon1").mkdir(parents=True)
    (tmp_path / "class" / "hwmon" / "hwmon1" / "temp1_input").write_text("51500\n")
    (tmp_path / "class" / "hwmon" / "hwmon1" / "temp2_input").write_text("garbage\n")
    assert BoardTemperature(str(tmp_path)).read() == [("BoardTemperature", "", "Celsius", 51.5)]
    os.unlink(tmp_path / "class" / "thermal" / "thermal_zone0" / "temp")
    os.unlink(tmp_path / "class" / "hwmon" / "hwmon1" / "temp1_input")
    with pytest.raises(Exception):
        BoardTemperature(str(tmp_path)).read()


def test_simulated_meter_is_plausible_and_changes(tmp_path):
    t = [1_750_000_000.0]
    m = simulated.SimulatedMeter(lambda: t[0])
    first = {r[0]: r[3] for r in m.read()}
    t[0] += 3600
    later = {r[0]: r[3] for r in m.read()}
    assert 220 < first["Voltage.L1N"] < 240 and 49.9 < first["Frequency"] < 50.1
    assert later["Energy.Active.Import.Register"] > first["Energy.Active.Import.Register"]
    assert later["Current.L1"] != first["Current.L1"]


def test_simulate_command_writes_the_file_the_daemon_polls(tmp_path, capsys):
    from bridge.cli import main

    assert main(["simulate", "--state-dir", str(tmp_path), "MV1", "overcurrent", "on"]) == 0
    assert simulated.read_file(str(tmp_path / SIMULATION_FILE)) == {"MV1": {"overcurrent": True}}
    assert main(["simulate", "--state-dir", str(tmp_path), "MV1", "smoke", "on"]) == 1
    assert "usage" in capsys.readouterr().err


def test_meter_values_payload_follows_the_schema_and_drops_what_it_does_not_name(caplog):
    from bridge.events import SampleTaken
    from bridge.os3p.messages import validate
    from bridge.os3p.sensors import meter_values

    payload = meter_values(SampleTaken(1_700_000_000, [("Voltage.L1N", "", "V", 230.5), ("ActivePower.L1", "P1Meter", "kW", 40.0),
                                            ("Humidity", "", "%", 40.0), ("Current.L1", "", "furlongs", 1.0)],
                            "Trigger"))
    assert validate("MeterValues.req", payload) == []
    assert payload == {"meterValue": [{"timestamp": "2023-11-14T22:13:20Z", "sampledValue": [
        {"value": "230.5", "measurand": "Voltage.L1N", "unit": "V", "context": "Trigger"},
        {"value": "40", "measurand": "ActivePower.L1", "unit": "kW", "location": "P1Meter", "context": "Trigger"}]}]}
    assert "Humidity" in caplog.text and "furlongs" in caplog.text


def test_indicator_lines_behind_a_ubus_object(tmp_path, monkeypatch):
    from bridge import ubusmsg
    from bridge.station.backends import gpio_indicators
    from support.ubusd import MiniUbusd

    monkeypatch.setattr(gpio_indicators, "UBUS_POLL", 0.02)  # a round trip a poll: once a second by default
    levels = {"oc1": 0, "t1": 0, "r1": 0}

    def get(a):
        return (ubusmsg.OK, {"value": levels[a["name"]]}) if a.get("name") in levels else (ubusmsg.NOT_FOUND, None)

    def set_(a):
        levels[a["name"]] = a["value"]
        if a["name"] == "t1" and a["value"]:
            levels["oc1"] = 1  # a working indicator trips on its test input
        if a["name"] == "r1" and a["value"]:
            levels["oc1"] = 0
        return ubusmsg.OK, None

    path = str(tmp_path / "ubus.sock")
    mini = MiniUbusd(path, {"mvind": (0x500, {"get": get, "set": set_})})
    mini.start()
    try:
        loop, s, got = make(tmp_path, """
config indicator 'U1'
\toption backend 'ubus'
\toption object 'mvind'
\toption overcurrent 'oc1'
\toption test 't1'
\toption reset 'r1'
""", backend="ubus", ubus_socket=path)
        assert s.test() == "Accepted"
        run_until(loop, lambda: statuses(got))
        assert statuses(got) == [("Faulted", "OverCurrentFailure", "U1", True)]
        assert s.reset() == "Accepted"
        run_until(loop, lambda: len(statuses(got)) >= 2)
        assert statuses(got)[1] == ("Ok", "NoError", "Over current error (MV) resolved", True)
        assert ("mvind", "set", {"name": "t1", "value": 1}) in mini.calls
        s.stop()
    finally:
        mini.stop()


def test_a_threshold_or_meter_that_does_not_hold_leaves_the_rest_working(tmp_path, caplog):
    """One bad section is said and left out: the surface starts, the other thresholds apply."""
    caplog.set_level("ERROR", logger="bridge.station")
    loop, s, _got = make(tmp_path, """config threshold 'hot'
\toption measurand 'BoardTemperature'
\toption high 'warm'
config threshold 'cold'
\toption measurand 'AmbientTemperature'
\toption low '-30'
config meter 'meter'
\toption protocol 'rtu'
config register
\toption address '0'
\toption measurand 'Voltage.L1N'
\toption unit 'V'
""", backend="ubus")
    try:
        assert s.thresholds.limits["AmbientTemperature"][0] == -30.0
        from bridge.station.alarms import DEFAULT_LIMITS
        assert s.thresholds.limits.get("BoardTemperature") == DEFAULT_LIMITS.get("BoardTemperature")
        assert [r.getMessage() for r in caplog.records] == [
            "meter: meter protocol rtu: option device (the serial port) is missing; not read",
            "threshold hot: does not hold (tr069-bridge check says why); the default limits stay"]
        assert not any(src.meter for src in s.sources)
    finally:
        s.stop()


def test_the_days_extremes_go_with_every_sample_and_survive_a_restart(tmp_path):
    """Periodic samples (kept in the history) feed DayMax/DayMin; a daemon started again the same day
    picks the day's extremes up from the history."""
    from bridge.station.zone import ZoneInfoZone

    zone = lambda: ZoneInfoZone("UTC")  # noqa: E731
    meters = [{0: 0x4366, 1: 0x8000, 2: 125},   # 230.5 V, 12.5 A
              {0: 0x4361, 1: 0x0000, 2: 200},   # 225 V, 20 A
              {0: 0x4364, 1: 0x0000, 2: 50}]    # 228 V, 5 A
    server = ModbusServer(holding=meters[0]).start()
    port = server.port
    loop, s, _got = make(tmp_path, METER % port, backend="ubus", zone=zone)
    try:
        read_meter(loop, s, "Sample.Periodic")
        server.stop()
        server = ModbusServer(holding=meters[1], port=port).start()
        sample = read_meter(loop, s, "Sample.Periodic")
        assert sample.readings[2:] == [("DayMax.Voltage.L1", "", "V", 230.5), ("DayMin.Voltage.L1", "", "V", 225.0),
                                 ("DayMax.Current.L1", "", "A", 20.0)]
        s.stop()
        server.stop()
        server = ModbusServer(holding=meters[2], port=port).start()
        loop, s, _got = make(tmp_path, METER % port, backend="ubus", zone=zone)  # started again, the same day
        sample = read_meter(loop, s, "Trigger")
        assert sample.readings == [("Voltage.L1N", "", "V", 228.0), ("Current.L1", "", "A", 5.0),
                             ("DayMax.Voltage.L1", "", "V", 230.5), ("DayMin.Voltage.L1", "", "V", 225.0),
                             ("DayMax.Current.L1", "", "A", 20.0)]
    finally:
        s.stop()
        server.stop()
