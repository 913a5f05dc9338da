"""Issue 23: payloads that pass their schema but reach a corner, answered with the protocol's own codes,
never an InternalError with a traceback; and openssl never runs on the loop. Each test failed before its
fix. A real central system on loopback; the daemon as a process (host backend: simulated contactors, meter
and history) or its core in this process.
"""

import json
import shutil
import subprocess
import threading

import pytest

from support.daemon_process import PATIENCE, DaemonProcess
from support.os3p_harness import FilePeer, Station, write_config
from support.ports import free_port

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="no openssl program")


@pytest.fixture
def daemon(cs, tmp_path):
    state = str(tmp_path / "state")
    write_config(state, cs.url, jsonrpc__port="0", station__sample_interval="1")
    d = DaemonProcess(state).start()
    cs.wait_for(lambda c: "SUBS001" in c.connections and c.calls("BootNotification"), PATIENCE)
    yield d
    d.terminate()
    assert "Traceback" not in d.proc.stderr.read().decode()


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00", "9999-12-31T23:59:59", "0001-01-01T00:00:00+05:00"])
def test_an_effective_day_schedule_at_the_ends_of_the_calendar_is_a_property_constraint_violation(cs, daemon,
                                                                                                    at):
    reply = cs.call("SUBS001", "GetEffectiveStreetlightDaySchedule", {"contactorId": 1, "at": at}, timeout=PATIENCE)
    assert reply[0] == 4 and reply[2] == "PropertyConstraintViolation", reply  # was InternalError
    ok = cs.call("SUBS001", "GetEffectiveStreetlightDaySchedule", {"contactorId": 1, "at": "9998-12-31T00:00:00"})
    assert ok[0] == 3 and ok[2]["contactorId"] == 1


def test_a_get_file_period_at_the_ends_of_the_calendar_with_offsets_uploads(cs, daemon):
    peer = FilePeer()
    try:
        cs.wait_for(lambda c: c.calls("MeterValues"), PATIENCE)  # a sample in the history
        reply = cs.call("SUBS001", "GetFile", {"fileType": "MeterValueHistory", "location": peer.url + "/mv",
                                               "startTime": "0001-01-01T00:00:00+05:00",
                                               "stopTime": "9999-12-31T23:59:59-05:00"}, timeout=5)
        assert reply[0] == 3 and reply[2]["status"] == "Accepted", reply  # was InternalError
        assert reply[2]["fileName"].startswith("MeterValuesHistory=19700101-")
        cs.wait_for(lambda c: [m for m in c.calls("GetFileStatusNotification") if m[3]["status"] == "Uploaded"],
                    PATIENCE)
        assert b"Voltage.L1N" in peer.uploads[0][2]
    finally:
        peer.close()


def _certificate(tmp_path):
    key, cert = str(tmp_path / "k.pem"), str(tmp_path / "c.pem")
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=signer"],
                   check=True, capture_output=True)
    with open(cert) as f:
        return f.read()


@pytest.fixture
def station(cs, tmp_path):
    s = Station(tmp_path / "st", cs.url, os3p__download_dir=str(tmp_path))
    cs.wait_for(lambda c: "SUBS001" in c.connections and c.calls("BootNotification"), PATIENCE)
    yield s
    s.stop()


def update(cs, **extra):
    return cs.call("SUBS001", "UpdateFirmware", dict({"retrieveDate": "2020-01-01T00:00:00Z", "retries": 1,
                                                      "location": "http://127.0.0.1:%d/fw" % free_port()}, **extra),
                   timeout=PATIENCE)


@needs_openssl
def test_a_lone_surrogate_in_the_signing_certificate_is_a_property_constraint_violation(cs, station, tmp_path):
    cert = _certificate(tmp_path)
    broken = cert.replace("-----END", "\ud800-----END")
    text = json.dumps([2, "sur", "UpdateFirmware", {"retrieveDate": "2020-01-01T00:00:00Z", "retries": 1,
                                                    "location": "http://127.0.0.1:1/fw", "signature": "AAAA",
                                                    "signingCertificate": broken}])
    cs.send_raw("SUBS001", text)  # json.dumps writes it as \ud800, which the daemon reads back as one
    reply = cs.wait_for(lambda c: [m for _i, m in c.received if isinstance(m, list) and m[1:2] == ["sur"]])[0]
    assert reply[0] == 4 and reply[2] == "PropertyConstraintViolation", reply  # was InternalError


@needs_openssl
def test_signed_update_firmware_runs_no_openssl_on_the_loop(cs, station, tmp_path, monkeypatch):
    from bridge import signature

    cert = _certificate(tmp_path)
    on_loop = []
    real = signature.subprocess.run

    def run(*args, **kwargs):
        if threading.current_thread() is station.thread:
            on_loop.append(args[0][:2])
        return real(*args, **kwargs)

    monkeypatch.setattr(signature.subprocess, "run", run)
    for _ in range(5):  # each one cancels the one before (AcceptedCanceled)
        assert update(cs, signature="AAAA", signingCertificate=cert)[2] == {}
    expired = cert.replace("MII", "MIJ", 1)  # not DER any more: refused at once, still without openssl
    assert update(cs, signature="AAAA", signingCertificate=expired)[2] == "PropertyConstraintViolation"
    assert on_loop == []  # was: two openssl runs per request, on the loop (20 delayed status by 1.9 s)
