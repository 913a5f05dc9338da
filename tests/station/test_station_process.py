"""Station sensors in the real daemon process, driven by a loopback central system.

- TestMVFaultIndicator / ResetMVFaultIndicator against the simulated indicator group: a group that
  trips, one that does not (MVFaultIndicatorError), a fault whose cause persists after the reset;
  every StatusNotification in order.
- A pymodbus meter: MeterValues as the register map says; PowerMeterFailure when it stops, cleared
  when it is back; TriggerMessage MeterValues.
- GetFile MeterValueHistory and Syslog for a period over HTTP and FTP; UpdateFirmware from ftp://;
  transfers cut midway end in UploadFailed / DownloadFailed after the retries.
"""

import csv
import io
import os
import subprocess
import sys
import time

import pytest

from bridge.logperiod import line_time
from bridge.clock import utc_iso
from bridge.os3p.messages import parse_iso
from bridge.station.history import History
from support.daemon_process import PATIENCE, ROOT, DaemonProcess
from support.os3p_harness import FilePeer, write_config

pytest.importorskip("pymodbus")
pytest.importorskip("pyftpdlib")
from support.ftp_server import FtpServer  # noqa: E402
from support.modbus_server import ModbusServer, uci_meter  # noqa: E402

FAST_STATION = dict(station__test_timeout_ms="600", station__pulse_ms="50", station__settle_ms="150",
                    station__poll_ms="20", jsonrpc__port="0")


def statuses(cs, start=0):
    return [(p["status"], p["errorCode"], p.get("info"), p.get("test", False))
            for _t, _i, _a, p in cs.calls("StatusNotification")[start:]]


def answer(cs, action, payload=None):
    return cs.call("SUBS001", action, payload or {})[2]


def simulate(state, *args):
    subprocess.run([sys.executable, "-m", "bridge.cli", "simulate", "--state-dir", state] + list(args), cwd=ROOT,
                   check=True, capture_output=True, env=dict(os.environ, PYTHONPATH=ROOT), timeout=30)


def test_indicator_test_and_reset_notifications_in_order(tmp_path, cs):
    state = str(tmp_path / "state")
    write_config(state, cs.url, station__sample_interval="0", **FAST_STATION)
    daemon = DaemonProcess(state).start()
    try:
        cs.wait_for(lambda c: "SUBS001" in c.connections and c.calls("BootNotification"), PATIENCE)
        # an indicator that trips: both faults with test: true, latched until the reset
        assert answer(cs, "TestMVFaultIndicator") == {"status": "Accepted"}
        cs.wait_for(lambda c: len(c.calls("StatusNotification")) >= 2)
        assert answer(cs, "TestMVFaultIndicator") == {"status": "RejectedAlreadyFaulted"}
        assert answer(cs, "ResetMVFaultIndicator") == {"status": "Accepted"}
        cs.wait_for(lambda c: len(c.calls("StatusNotification")) >= 4)
        # one that does not trip
        simulate(state, "MV1", "broken", "on")
        assert answer(cs, "TestMVFaultIndicator") == {"status": "Accepted"}
        cs.wait_for(lambda c: len(c.calls("StatusNotification")) >= 5)
        # a real fault whose cause persists after the reset
        simulate(state, "MV1", "broken", "off")
        simulate(state, "MV1", "persist", "on")
        simulate(state, "MV1", "overcurrent", "on")
        cs.wait_for(lambda c: len(c.calls("StatusNotification")) >= 6)
        assert answer(cs, "ResetMVFaultIndicator") == {"status": "Accepted"}
        cs.wait_for(lambda c: len(c.calls("StatusNotification")) >= 7)
        time.sleep(0.3)  # nothing else follows
        assert statuses(cs) == [
            ("Faulted", "OverCurrentFailure", "MV1", True),
            ("Faulted", "GroundFailure", "MV1", True),
            ("Faulted", "NoError", "Over current error (MV) resolved", True),
            ("Ok", "NoError", "Ground failure resolved", True),
            ("Faulted", "MVFaultIndicatorError", "MV1", True),
            ("Faulted", "OverCurrentFailure", "MV1", False),
            ("Faulted", "OverCurrentFailure", "MV1", False),  # re-entered after the reset
        ]
        notes = [p for *_x, p in cs.calls("StatusNotification")]
        assert parse_iso(notes[6]["timestamp"]) >= parse_iso(notes[5]["timestamp"])  # a new detection time
        assert all(parse_iso(n["timestamp"]) > time.time() - 60 for n in notes)
        # TriggerMessage StatusNotification: the latest active error
        assert answer(cs, "TriggerMessage", {"requestedMessage": "StatusNotification"}) == {"status": "Accepted"}
        cs.wait_for(lambda c: len(c.calls("StatusNotification")) >= 8)
        assert statuses(cs)[7][:2] == ("Faulted", "OverCurrentFailure")
    finally:
        daemon.kill()


METER = uci_meter("""
config register
\toption address '2'
\toption function '4'
\toption type 'int32'
\toption word_order 'little'
\toption scale '0.01'
\toption measurand 'ActivePower.L1'
\toption location 'P1Meter'
\toption unit 'kW'
""")


def _values(payload):
    return {(v["measurand"], v.get("location", ""), v.get("unit", "")): v["value"]
            for mv in payload["meterValue"] for v in mv["sampledValue"]}


def test_meter_values_failure_history_and_transfers(tmp_path, cs):
    holding = {0: 0x4366, 1: 0x8000}  # 230.5 V
    inputs = {2: 4000, 3: 0}  # 40.00 kW, low word first
    modbus = ModbusServer(holding=holding, inputs=inputs).start()
    ftp_root = tmp_path / "ftp"
    (ftp_root / "up").mkdir(parents=True)
    (ftp_root / "fw.img").write_bytes(b"tr069-bridge 9.9.9\n" * 5000)
    ftp_srv = FtpServer(ftp_root).__enter__()
    cut_root = tmp_path / "cut"
    cut_root.mkdir()
    (cut_root / "fw.img").write_bytes(os.urandom(400_000))
    cut_srv = FtpServer(cut_root, cut_after=2000).__enter__()
    peer = FilePeer()
    state = str(tmp_path / "state")
    write_config(state, cs.url, station__sample_interval="1", os3p__upload_retries="2",
                 os3p__upload_retry_interval="0", os3p__download_dir=str(tmp_path), **FAST_STATION)
    with open(os.path.join(state, "config", "tr069"), "a") as f:
        f.write(METER % modbus.port)
    daemon = DaemonProcess(state).start()
    try:
        cs.wait_for(lambda c: "SUBS001" in c.connections and c.calls("MeterValues"), PATIENCE)
        first = cs.calls("MeterValues")[0][3]
        values = _values(first)
        assert values[("Voltage.L1N", "", "V")] == "230.5" and values[("ActivePower.L1", "P1Meter", "kW")] == "40"
        # the board's temperature (thermal zones, or the host's simulated board) only with
        # os3p.send_board_temperature: the spec's printed schema has no BoardTemperature
        assert not [k for k in values if k[0] == "BoardTemperature"]
        # the day so far beside them (spec table 1): one sample, so its maximum and minimum are that reading
        assert values[("DayMax.Voltage.L1", "", "V")] == values[("DayMin.Voltage.L1", "", "V")] == "230.5"
        assert values[("DayMax.ActivePower.L1", "P1Meter", "kW")] == "40"
        assert all("context" not in v for v in first["meterValue"][0]["sampledValue"])  # Sample.Periodic
        # TriggerMessage: fresh readings, context Trigger
        n = len(cs.calls("MeterValues"))
        assert answer(cs, "TriggerMessage", {"requestedMessage": "MeterValues"}) == {"status": "Accepted"}
        triggered = cs.wait_for(lambda c: [m[3] for m in c.calls("MeterValues")[n:]
                                           if m[3]["meterValue"][0]["sampledValue"][0].get("context") == "Trigger"])
        assert _values(triggered[0])[("Voltage.L1N", "", "V")] == "230.5"
        # the meter stops answering, then comes back
        modbus.stop()
        cs.wait_for(lambda c: [s for s in statuses(c) if s[1] == "PowerMeterFailure"], PATIENCE)
        modbus = ModbusServer(holding=holding, inputs=inputs, port=modbus.port).start()
        cs.wait_for(lambda c: [s for s in statuses(c) if s[2] == "PowerMeterFailure resolved"], PATIENCE)
        failure = [s for s in statuses(cs) if s[1] in ("PowerMeterFailure", "NoError")]
        assert failure[0][:2] == ("Faulted", "PowerMeterFailure") and "127.0.0.1:%d" % modbus.port in failure[0][2]
        assert failure[1] == ("Ok", "NoError", "PowerMeterFailure resolved", False)

        # GetFile MeterValueHistory for a period, over HTTP and FTP: exactly the samples in it
        history = History.existing(os.path.join(state, "meter-history.bin"))
        deadline = time.monotonic() + PATIENCE
        while len(history.query()) < 4:  # one sample a second: a period with samples before and after it
            assert time.monotonic() < deadline, "fewer than 4 samples in the history"
            time.sleep(0.1)
        times = [t for t, _ in history.query()]
        start, stop = times[1], times[-2]
        period = {"startTime": utc_iso(start), "stopTime": utc_iso(stop)}
        reply = answer(cs, "GetFile", dict(period, fileType="MeterValueHistory", location=peer.url + "/mv",
                                           requestId="r-http"))
        day = utc_iso(start)[:10].replace("-", "")
        assert reply["status"] == "Accepted" and reply["fileName"].startswith("MeterValuesHistory=%s-" % day)
        reply_ftp = answer(cs, "GetFile", dict(period, fileType="MeterValueHistory", location=ftp_srv.url("/up")))
        assert reply_ftp["status"] in ("Accepted", "Rejected")  # Rejected while the first one still runs
        cs.wait_for(lambda c: [m for m in c.calls("GetFileStatusNotification") if m[3]["status"] == "Uploaded"])
        if reply_ftp["status"] == "Rejected":
            reply_ftp = answer(cs, "GetFile", dict(period, fileType="MeterValueHistory", location=ftp_srv.url("/up")))
        assert reply_ftp["status"] == "Accepted"
        cs.wait_for(lambda c: os.path.exists(ftp_root / "up" / reply_ftp["fileName"]) and
                    len([m for m in c.calls("GetFileStatusNotification") if m[3]["status"] == "Uploaded"]) >= 2)
        http_body = peer.uploads[0][2]
        ftp_text = (ftp_root / "up" / reply_ftp["fileName"]).read_text()
        rows = list(csv.reader(io.StringIO(ftp_text)))
        assert rows[0] == ["timestamp", "measurand", "location", "unit", "value"]
        stamps = sorted({parse_iso(r[0]) for r in rows[1:]})
        assert stamps == [t for t in times if start <= t <= stop]  # exactly the period
        assert ftp_text.encode() in http_body and reply["fileName"].encode() in http_body

        # Syslog for a period, over FTP: only lines of the period (continuations follow their line)
        log_start = time.time() - 2
        reply = answer(cs, "GetFile", {"fileType": "Syslog", "location": ftp_srv.url("/up"),
                                       "startTime": utc_iso(log_start), "stopTime": utc_iso(time.time() + 60)})
        cs.wait_for(lambda c: os.path.exists(ftp_root / "up" / reply["fileName"]) and
                    len([m for m in c.calls("GetFileStatusNotification") if m[3]["status"] == "Uploaded"]) >= 3)
        lines = (ftp_root / "up" / reply["fileName"]).read_text().splitlines()
        full = open(os.path.join(state, "daemon.log")).read().splitlines()
        stamped = [line_time(x) for x in lines if line_time(x) is not None]
        assert stamped and min(stamped) >= int(log_start) and len(lines) < len(full)
        # and over HTTP: the same period, the same rule
        reply = answer(cs, "GetFile", {"fileType": "Syslog", "location": peer.url + "/log",
                                       "startTime": utc_iso(log_start), "stopTime": utc_iso(time.time() + 60)})
        cs.wait_for(lambda c: len(peer.uploads) >= 2 and
                    len([m for m in c.calls("GetFileStatusNotification") if m[3]["status"] == "Uploaded"]) >= 4)
        body = peer.uploads[1][2].decode()
        stamped = [line_time(x) for x in body.splitlines() if line_time(x) is not None]
        assert reply["fileName"] in body and stamped and min(stamped) >= int(log_start)
        assert any(line_time(x) is not None and line_time(x) < int(log_start) for x in full)  # there was more

        # a download cut midway: DownloadFailed after the retries
        assert answer(cs, "UpdateFirmware", {"retrieveDate": "2020-01-01T00:00:00Z", "retries": 2,
                                             "retryInterval": 0, "location": cut_srv.url("/fw.img")}) == {}
        cs.wait_for(lambda c: [m for m in c.calls("FirmwareStatusNotification")
                               if m[3]["status"] == "DownloadFailed"], 15)
        # UpdateFirmware from ftp:// is installed: the host simulates the flash, the daemon restarts into it
        assert answer(cs, "UpdateFirmware", {"retrieveDate": "2020-01-01T00:00:00Z", "requestId": "fw-ftp",
                                             "location": ftp_srv.url("/fw.img")}) == {}
        cs.wait_for(lambda c: [m for m in c.calls("FirmwareStatusNotification") if m[3]["status"] == "Installed"]
                    and "SUBS001" in c.connections, 30)
        firmware = [m[3]["status"] for m in cs.calls("FirmwareStatusNotification")]
        # Installing may come twice: before the restart, and after it when its answer was not in yet
        assert [s for i, s in enumerate(firmware) if i == 0 or firmware[i - 1] != s] == [
            "Downloading", "DownloadFailed", "Downloading", "Downloaded", "Installing", "Installed"]
        # an upload cut midway: UploadFailed after the retries
        assert answer(cs, "GetFile", {"fileType": "Syslog", "location": cut_srv.url("/")})["status"] == "Accepted"
        cs.wait_for(lambda c: [m for m in c.calls("GetFileStatusNotification") if m[3]["status"] == "UploadFailed"],
                    PATIENCE)
        log = open(os.path.join(state, "daemon.log")).read()
        assert "download attempt 2/2 failed" in log and "upload attempt 2/2 failed" in log
        assert "s3cret" not in log
    finally:
        daemon.kill()
        modbus.stop()
        ftp_srv.__exit__()
        cut_srv.__exit__()
        peer.close()


def test_kill_9_while_sampling_keeps_the_history_and_changing_the_interval(tmp_path, cs):
    state = str(tmp_path / "state")
    write_config(state, cs.url, station__sample_interval="0", **FAST_STATION)
    path = os.path.join(state, "meter-history.bin")
    daemon = DaemonProcess(state).start()
    try:
        cs.wait_for(lambda c: "SUBS001" in c.connections and c.calls("BootNotification"), PATIENCE)
        assert answer(cs, "GetConfiguration", {"key": ["MeterValueSampleInterval"]})["configurationKey"] == [
            {"key": "MeterValueSampleInterval", "readonly": False, "value": "0"}]
        assert answer(cs, "ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "1"}) == \
            {"status": "Accepted"}
        cs.wait_for(lambda c: len(c.calls("MeterValues")) >= 2, 10)  # sampling started at once
        seen = len(History.existing(path).query())
    finally:
        daemon.kill()  # SIGKILL, maybe in the middle of a record
    assert seen >= 2  # each periodic sample is in the history before it is sent
    after_kill = History.existing(path).query()
    assert len(after_kill) >= seen  # every sample written before the kill is still there
    daemon = DaemonProcess(state).start()
    try:
        deadline = time.monotonic() + PATIENCE
        while len(History.existing(path).query()) <= len(after_kill) and time.monotonic() < deadline:
            time.sleep(0.1)
        got = History.existing(path).query()
        times = [t for t, _ in got]
        assert len(got) > len(after_kill) and times == sorted(set(times))  # the ring goes on, in order
        assert got[:len(after_kill)] == after_kill
    finally:
        daemon.kill()
