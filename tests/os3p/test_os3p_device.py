"""OS3P on a real router's terms: what the device lacks, reboots that fail, firmware checked before it is
flashed. The device is the ubus backend against a small ubusd (tests/support/ubusd.py's MiniUbusd)
answering as procd and rpcd do, with `sysupgrade` and `logread` as real programs on PATH; the central
system and the download server are real, on loopback.
"""

import base64
import json
import logging
import os
import shutil
import subprocess
import time
import zlib
from datetime import datetime, timezone

import pytest

from bridge.device.ubus_backend import UbusDevice
from bridge import ubusmsg as st
from support.os3p_harness import FilePeer, Station
from support.device import BOARD, fake_program, lay_out_root
from support.ubusd import MiniUbusd

WAIT = 10.0
OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="no openssl program")
BOARD_NAME = b"linksys,wrt3200acm"


def image(body=b"firmware", board=BOARD_NAME):
    """A sysupgrade image as our procd stand-in checks it: board name, payload, CRC trailer."""
    data = board + b"\n" + body
    return data + b"CRC:%08x" % zlib.crc32(data)


def validate_firmware_image(args):
    """procd's answer shape (`ubus call system validate_firmware_image '{"path": ...}'`)."""
    with open(args["path"], "rb") as f:
        data = f.read()
    head, _, crc = data.rpartition(b"CRC:")
    intact = bool(head) and crc == b"%08x" % zlib.crc32(head)
    match = data.startswith(BOARD_NAME + b"\n")
    return st.OK, {"tests": {"fwtool_signature": True, "fwtool_device_match": match},
                   "valid": intact and match, "forceable": True, "allow_backup": True}


@pytest.fixture
def router(tmp_path, monkeypatch):
    """make(objects=...) -> a UbusDevice on a ubusd with those objects; sysupgrade/logread on PATH."""
    made = []
    bindir = tmp_path / "bin"
    bindir.mkdir()
    monkeypatch.setenv("PATH", "%s:%s" % (bindir, os.environ.get("PATH", "")))
    flashes = tmp_path / "flashes.log"
    fake_program(bindir, "sysupgrade", 'if [ "$1" = -T ]; then exit 0; fi\n'
                 'echo "$(date +%%s.%%N) $*" >> %s\n' % flashes)
    fake_program(bindir, "logread", 'echo "Dec  1 12:00:00 daemon.info tr069-bridge: up"\n')
    root = tmp_path / "root"
    lay_out_root(root)

    def make(names=("system", "log", "uci", "session"), reboot=lambda a: (st.OK, None)):
        table = {
            "system": (0x100, {"board": lambda a: (st.OK, BOARD), "reboot": reboot,
                               "validate_firmware_image": validate_firmware_image}),
            "log": (0x300, {}),
            "uci": (0x200, {}),
            "session": (0x400, {}),
        }
        path = str(tmp_path / ("ubus%d.sock" % len(made)))
        mini = MiniUbusd(path, {n: table[n] for n in names})
        mini.start()
        made.append(mini)
        dev = UbusDevice(socket=path, timeout=5, root=str(root))
        dev.mini, dev.flashes = mini, flashes
        return dev

    yield make
    for mini in made:
        mini.stop()


@pytest.fixture
def station(tmp_path, cs):
    made = []

    def make(device, **options):
        s = Station(tmp_path / ("st%d" % len(made)), cs.url, device=device,
                    os3p__download_dir=str(tmp_path), **options)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


def answer(cs, action, payload):
    return cs.call("SUBS001", action, payload, timeout=5)


def up(cs, s):
    cs.wait_for(lambda c: c.calls("BootNotification"))
    s.wait(lambda: s.client.connection_state() == "up")


def flashed(dev):
    return dev.flashes.read_text().splitlines() if dev.flashes.exists() else []


def statuses(cs):
    return [m[3]["status"] for m in cs.calls("FirmwareStatusNotification")]


# --- missing facilities -------------------------------------------------------------------------------
@pytest.mark.parametrize("absent", ["system", "log", "uci"])
def test_without_a_facility_the_daemon_registers_and_refuses_at_once(absent, router, station, cs, caplog):
    dev = router(names=[n for n in ("system", "log", "uci", "session") if n != absent])
    caplog.set_level(logging.INFO)
    s = station(dev)
    up(cs, s)
    boot = cs.calls("BootNotification")[0][3]
    assert boot["vendor"] == "Linksys" and boot["firmwareVersion"] == "OpenWrt 24.10.0 r28427-6df0e3d02a"
    _, status = s.tr069("status")
    assert absent in status["cwmp"]["missing"] and status["cwmp"]["status"] == "up"
    started = time.monotonic()
    reset = answer(cs, "Reset", {"type": "Soft"})[2]
    getfile = answer(cs, "GetFile", {"location": "http://127.0.0.1:1/up", "fileType": "Syslog"})[2]
    update = answer(cs, "UpdateFirmware", {"retrieveDate": "2020-01-01T00:00:00Z",
                                           "location": "http://127.0.0.1:1/fw.bin"})
    assert time.monotonic() - started < 5   # answered at once: no call waits for a timeout
    if absent == "system":
        assert reset == {"status": "Rejected"} and dev.mini.calls == [] or \
            all(c[0] != "system" for c in dev.mini.calls)
        assert update[:3] == [4, update[1], "NotSupported"] and "system" in update[3]
    else:
        assert reset == {"status": "Accepted"}
        assert update[2] == {}
    if absent == "log":
        assert getfile == {"status": "Rejected", "fileName": ""}
    else:
        assert getfile["status"] == "Accepted"
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    warned = [r.getMessage() for r in caplog.records if "missing on this device: " + absent in r.getMessage()]
    assert len(warned) == 1


def test_a_failed_reboot_clears_the_expectation_and_is_reported(router, station, cs):
    dev = router(reboot=lambda a: (st.PERMISSION_DENIED, None))
    s = station(dev)
    up(cs, s)
    assert answer(cs, "Reset", {"type": "Hard"})[2] == {"status": "Accepted"}
    note = cs.wait_for(lambda c: [m for m in c.calls("StatusNotification") if m[3]["errorCode"] == "ResetFailure"])
    assert note[0][3]["vendorErrorCode"] == "RebootFailed" and "Permission denied" in note[0][3]["info"]
    assert s.run(lambda: s.client.core.state.get("reboot_expected")) is None


def test_a_failed_end_of_session_reboot_is_reported_too(router, station, cs):
    dev = router(reboot=lambda a: (st.PERMISSION_DENIED, None))
    s = station(dev)
    up(cs, s)
    s.tr069("command", {"command": "reboot_end_session"})
    s.run(lambda: s.daemon.tr069._apply_end_actions())
    cs.wait_for(lambda c: [m for m in c.calls("StatusNotification") if m[3]["errorCode"] == "ResetFailure"])
    assert s.run(lambda: s.client.core.state.get("reboot_expected")) is None


# --- firmware: nothing flashed before every check passed ---------------------------------------------
def sign(tmp_path, data, name="signer"):
    """(signature base64, certificate PEM) from a fresh EC key, with the openssl program."""
    key, cert, img, sig = (str(tmp_path / (name + ext)) for ext in (".key", ".pem", ".img", ".sig"))
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + name],
                   check=True, capture_output=True)
    with open(img, "wb") as f:
        f.write(data)
    subprocess.run([OPENSSL, "dgst", "-sha256", "-sign", key, "-out", sig, img], check=True, capture_output=True)
    with open(sig, "rb") as f, open(cert) as c:
        return base64.b64encode(f.read()).decode(), c.read()


@pytest.fixture
def peer():
    p = FilePeer()
    yield p
    p.close()


def update(cs, peer, name, body, **extra):
    peer.files[name] = body
    payload = dict({"retrieveDate": "2020-01-01T00:00:00Z", "location": "%s/%s" % (peer.url, name),
                    "requestId": name}, **extra)
    return answer(cs, "UpdateFirmware", payload)


def ends_failed(cs, s, dev):
    cs.wait_for(lambda c: statuses(c)[-1:] == ["InstallationFailed"], timeout=WAIT)
    assert statuses(cs) == ["Downloading", "Downloaded", "InstallationFailed"]
    assert flashed(dev) == []
    assert s.run(lambda: s.client.core.state.get("reboot_expected")) is None


def test_a_corrupt_image_is_never_flashed(router, station, cs, peer):
    dev = router()
    s = station(dev)
    up(cs, s)
    good = image()
    corrupt = good[:5] + b"X" + good[6:]
    assert update(cs, peer, "corrupt.bin", corrupt)[2] == {}
    ends_failed(cs, s, dev)
    assert not os.path.exists(os.path.join(s.daemon.config.get("os3p.download_dir"), "os3p-firmware.img"))


def test_an_image_validate_firmware_image_refuses_is_never_flashed(router, station, cs, peer):
    dev = router()
    s = station(dev)
    up(cs, s)
    assert update(cs, peer, "other-board.bin", image(board=b"tplink,archer-c7"))[2] == {}
    ends_failed(cs, s, dev)
    assert [c[1] for c in dev.mini.calls if c[0] == "system"].count("validate_firmware_image") == 1


@needs_openssl
def test_an_image_whose_signature_does_not_match_its_certificate_is_never_flashed(router, station, cs, peer,
                                                                                  tmp_path):
    dev = router()
    s = station(dev)
    up(cs, s)
    body = image()
    signature, _ = sign(tmp_path, body, "real")
    _, other_cert = sign(tmp_path, body, "other")
    assert update(cs, peer, "signed.bin", body, signature=signature, signingCertificate=other_cert)[2] == {}
    ends_failed(cs, s, dev)
    # signed by the certificate's key, but not this image
    signature, cert = sign(tmp_path, image(b"the image that was signed"), "real2")
    assert update(cs, peer, "swapped.bin", body, signature=signature, signingCertificate=cert)[2] == {}
    cs.wait_for(lambda c: statuses(c).count("InstallationFailed") == 2, timeout=WAIT)
    assert flashed(dev) == []


@needs_openssl
def test_a_good_signed_image_waits_for_its_install_time(router, station, cs, peer, tmp_path):
    dev = router()
    s = station(dev)
    up(cs, s)
    body = image()
    signature, cert = sign(tmp_path, body)
    install_at = time.time() + 1.0
    when = datetime.fromtimestamp(install_at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assert update(cs, peer, "fw.bin", body, signature=signature, signingCertificate=cert,
                  installDateTime=when)[2] == {}
    cs.wait_for(lambda c: statuses(c) == ["Downloading", "Downloaded"], timeout=WAIT)
    assert flashed(dev) == []                                    # verified, waiting for its time
    cs.wait_for(lambda c: statuses(c) == ["Downloading", "Downloaded", "Installing"], timeout=WAIT)
    s.wait(lambda: flashed(dev), timeout=WAIT)
    stamp, argv = flashed(dev)[0].split(" ", 1)
    assert float(stamp) >= install_at - 0.05 and argv.endswith("os3p-firmware.img")
    assert s.run(lambda: s.client.core.state.get("reboot_expected")) is True


@needs_openssl
def test_signed_requests_are_checked_before_anything_is_downloaded(router, station, cs, peer, tmp_path):
    dev = router()
    s = station(dev)
    up(cs, s)
    signature, cert = sign(tmp_path, b"x")
    cases = [({"signature": signature}, "OccurenceConstraintViolation"),
             ({"signature": "not base64!", "signingCertificate": cert}, "PropertyConstraintViolation"),
             ({"signature": signature, "signingCertificate": "-----BEGIN CERTIFICATE-----\nAAAA\n"},
              "PropertyConstraintViolation")]
    for extra, code in cases:
        reply = update(cs, peer, "fw.bin", image(), **extra)
        assert reply[2] == code, reply
    assert statuses(cs) == [] and flashed(dev) == []


def test_a_new_update_cancels_the_running_one(router, station, cs, peer):
    dev = router()
    s = station(dev)
    up(cs, s)
    later = datetime.fromtimestamp(time.time() + 3600, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert update(cs, peer, "first.bin", image(b"first"), installDateTime=later)[2] == {}
    cs.wait_for(lambda c: statuses(c) == ["Downloading", "Downloaded"], timeout=WAIT)
    assert update(cs, peer, "second.bin", image(b"second"))[2] == {}       # AcceptedCanceled
    cs.wait_for(lambda c: len(statuses(c)) == 5, timeout=WAIT)
    notes = [m[3] for m in cs.calls("FirmwareStatusNotification")]
    assert notes[2:] == [{"status": s_, "requestId": "second.bin"} for s_ in ("Downloading", "Downloaded",
                                                                             "Installing")]
    s.wait(lambda: flashed(dev), timeout=WAIT)
    time.sleep(0.1)
    assert len(flashed(dev)) == 1          # the first one's install time never comes
    with open(os.path.join(s.daemon.config.get("os3p.download_dir"), "os3p-firmware.img"), "rb") as f:
        assert b"second" in f.read()
    # once flashing has begun there is nothing to cancel: a new request is refused
    reply = update(cs, peer, "third.bin", image(b"third"))
    assert reply[2] == "NotSupported" and "being flashed" in reply[3]
    assert json.dumps(reply).count("Traceback") == 0


def test_an_exception_in_a_connection_callback_drops_the_connection_and_registration_retries(router, station, cs,
                                                                                            caplog):
    dev = router()
    failures = []
    s = station(dev, os3p__reconnect_min="1", os3p__reconnect_max="1")
    up(cs, s)
    core = s.client.core
    real = core.boot_fields

    def flaky():
        if not failures:
            failures.append(1)
            raise RuntimeError("a surprise while building BootNotification")
        return real()

    s.run(lambda: setattr(core, "boot_fields", flaky))
    s.run(lambda: core.state.data.pop("boot", None))      # the next connection must register again
    first = len(cs.calls("BootNotification"))
    s.run(lambda: s.client.conn.abort())                  # reconnect: opened() fails once
    cs.wait_for(lambda c: len(c.calls("BootNotification")) > first, timeout=WAIT)
    s.wait(lambda: s.client.connection_state() == "up", timeout=WAIT)
    assert failures == [1]
    assert any("registration starts over" in r.getMessage() for r in caplog.records)
