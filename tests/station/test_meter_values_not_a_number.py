"""Issue 23, a meter that poisoned a day: measured values are numbers or absent. Each test failed before
its fix. The meter is a real pymodbus server on loopback; the sensors shell runs on a real loop.

The choice these tests fix: a NaN or an infinity from a meter (a float32 FFFF FFFF is the usual "not
available") is no reading. It is left out of that MeterValues (the other values still go), out of the
day's extremes, and stored in the history as missing (NaN); an infinity an older version stored there is
left out when the history is read, so a GetFile MeterValueHistory covering it uploads.
"""

import io
import math
import os

import pytest

from bridge.os3p.sensors import meter_values
from bridge.station.history import CRC, RECORD_HEAD, History, write_text

from bridge.events import SampleTaken

pytest.importorskip("pymodbus")
from support.modbus_server import VOLTS_AND_AMPS as METER, ModbusServer  # noqa: E402
from support.sensors import make_sensors, read_sample as sample  # noqa: E402

STATION = "config station 'station'\n\toption sample_interval '0'\n"


NAN = {0: 0xFFFF, 1: 0xFFFF}      # float32 NaN: "not available"
INF = {0: 0x7F80, 1: 0x0000}      # float32 +inf
VOLTS = {0: 0x4366, 1: 0x8000}    # 230.5 V


@pytest.fixture
def meter(tmp_path):
    servers = []

    def start(holding):
        port = servers[-1].port if servers else None
        if servers:
            servers[-1].stop()
        servers.append(ModbusServer(holding={**holding, 2: 125}, port=port).start())
        return servers[-1].port
    yield start
    servers[-1].stop()


@pytest.fixture
def station(tmp_path, meter):
    """start(holding) -> (loop, sensors, events): the meter started with those registers, the sensors on a real
    loop with a device's backend (nothing simulated) reading it; stopped at the end if the test did not."""
    started = []

    def start(holding):
        loop, s, got = make_sensors(tmp_path, STATION + METER % meter(holding), "ubus")
        started.append(s)
        return loop, s, got
    yield start
    for s in started:
        if not s.stopped:
            s.stop()


@pytest.mark.parametrize("bad", [NAN, INF], ids=["NaN", "inf"])
def test_a_reading_that_is_not_a_number_leaves_only_that_value_out_of_meter_values(station, bad):
    loop, s, got = station(bad)
    first = sample(loop, s)
    assert first.readings == [("Current.L1", "", "A", 12.5), ("DayMax.Current.L1", "", "A", 12.5)]
    payload = meter_values(first)  # was: ValueError in the formatting, the whole MeterValues dropped
    assert [v["measurand"] for v in payload["meterValue"][0]["sampledValue"]] == ["Current.L1", "DayMax.Current.L1"]
    assert [e for e in got if type(e) is SampleTaken]  # the subscribers (the OS3P outbox) had it


def test_a_first_reading_that_is_not_a_number_does_not_poison_the_days_extremes(station, meter):
    loop, s, _got = station(NAN)
    sample(loop, s)  # the day's first reading of the voltage: NaN (was kept as the day's max and min)
    meter(VOLTS)
    readings = dict(((m, u), v) for m, _l, u, v in sample(loop, s).readings)
    assert readings[("DayMax.Voltage.L1", "V")] == readings[("DayMin.Voltage.L1", "V")] == 230.5
    meter(INF)
    readings = dict(((m, u), v) for m, _l, u, v in sample(loop, s).readings)
    assert ("Voltage.L1N", "V") not in readings and readings[("DayMax.Voltage.L1", "V")] == 230.5


def test_an_infinite_reading_is_kept_as_missing_and_the_history_still_uploads(tmp_path, station):
    loop, s, _got = station(INF)
    sample(loop, s)
    s.stop()
    history = History.existing(str(tmp_path / "meter-history.bin"))  # what a restart reads
    try:
        (t, readings), = history.query()
        assert readings == [("Current.L1", "", "A", 12.5)]  # the voltage: missing, not +inf
        assert math.isnan(history.raw()[0][1][history.columns.index(("Voltage.L1N", "", "V"))])
        out = io.StringIO()
        write_text(history.query(), out, str)  # the MeterValueHistory file (was: ValueError, UploadFailed)
        assert "inf" not in out.getvalue() and "12.5" in out.getvalue()
    finally:
        history.close()


def test_an_infinity_an_older_version_stored_in_the_history_is_left_out(tmp_path):
    history = History(str(tmp_path / "h.bin"), [("Voltage.L1N", "", "V"), ("Current.L1", "", "A")], 10)
    try:
        # a record as the version before this fix wrote it: +inf stored as a value
        rec = RECORD_HEAD.pack(1, 1700000000) + history.values.pack(math.inf, 12.5)
        os.pwrite(history.fd, rec + CRC.pack(__import__("zlib").crc32(rec)), history.base)
        history.next_seq = 2
        assert history.query() == [(1700000000, [("Current.L1", "", "A", 12.5)])]
        out = io.StringIO()
        write_text(history.query(), out, str)
        assert out.getvalue().splitlines()[1:] == ["1700000000,Current.L1,,A,12.5"]
    finally:
        history.close()
