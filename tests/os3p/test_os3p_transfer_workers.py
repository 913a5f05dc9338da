"""Issue 23: every exception in a transfer worker ends in the protocol's failure notification; retries and
intervals have caps; what a file server says is redacted of the password. The daemon core in this process
(support.os3p_harness.Station), a real central system and real (hostile) file servers on loopback. Each
test failed before its fix.
"""

import logging

import pytest

from bridge.os3p import transfers
from support.daemon_process import PATIENCE
from support.hostile_ftp import HostileFtp
from support.os3p_harness import Station
from support.ports import free_port


@pytest.fixture
def station(tmp_path, cs):
    made = []

    def make(**options):
        s = Station(tmp_path / "state", cs.url, os3p__download_dir=str(tmp_path), **options)
        made.append(s)
        cs.wait_for(lambda c: c.calls("BootNotification") and "SUBS001" in c.connections)
        return s
    yield make
    for s in made:
        s.stop()


def firmware(cs, location, **extra):
    return cs.call("SUBS001", "UpdateFirmware", dict({"retrieveDate": "2020-01-01T00:00:00Z",
                                                      "location": location, "requestId": "fw-1"}, **extra),
                   timeout=5)


def statuses(cs):
    return [m[3]["status"] for m in cs.calls("FirmwareStatusNotification")]


def test_an_unexpected_exception_in_the_download_worker_ends_in_download_failed(cs, station, monkeypatch):
    def broken(*args):
        raise ValueError("invalid literal for int() with base 10: 'not-a-number'")  # ftplib's size() did this

    monkeypatch.setattr(transfers, "fetch", broken)
    station()
    assert firmware(cs, "ftp://127.0.0.1:%d/fw.img" % free_port(), retries=1)[2] == {}
    cs.wait_for(lambda c: "DownloadFailed" in statuses(c), 15)  # was: Downloading for ever, the thread dead
    assert statuses(cs) == ["Downloading", "DownloadFailed"]


def test_an_ftp_path_with_a_line_break_is_refused_before_anything_starts(cs, station):
    station()
    reply = firmware(cs, "ftp://127.0.0.1:%d/fw%%0d%%0aDELE%%20x" % free_port())
    assert reply[0] == 4 and reply[2] == "PropertyConstraintViolation"  # was: ValueError in the worker
    assert statuses(cs) == []


def test_an_update_resumed_at_start_whose_location_the_worker_cannot_use_ends_in_download_failed(cs, station,
                                                                                                tmp_path):
    """A restart resumed into the same failure: an update an earlier run stored as Downloading, with a location
    ftplib refuses once it is logged in (a line break in the path: ValueError), was taken up at every start by
    a worker that died there, and stayed Downloading. Now the worker ends it in DownloadFailed."""
    import json

    server = HostileFtp("good")
    try:
        os3p_dir = tmp_path / "state" / "os3p"
        os3p_dir.mkdir(parents=True)
        (os3p_dir / "firmware.json").write_text(json.dumps({
            "status": "Downloading", "location": server.url(path="/fw%0d%0aDELE%20x"),
            "retrieveDate": "2020-01-01T00:00:00Z", "requestId": "fw-1", "retries": 1, "retryInterval": 0}))
        station()
        cs.wait_for(lambda c: "DownloadFailed" in statuses(c), PATIENCE)  # was: never, the resumed worker dead
        assert server.lines_sent == 0  # refused before anything was sent to the server
    finally:
        server.stop()


def test_retries_and_retry_interval_are_capped(cs, station):
    assert transfers.retry_policy(10 ** 9, 0) == (transfers.MAX_ATTEMPTS, transfers.MIN_RETRY_INTERVAL)
    assert transfers.retry_policy(2, 1e20) == (2, transfers.MAX_RETRY_INTERVAL)
    assert transfers.retry_policy(None, None) == (1, transfers.MIN_RETRY_INTERVAL)


def test_a_huge_retry_interval_is_a_capped_wait_in_a_live_worker(cs, station, caplog, monkeypatch):
    """retryInterval 1e20 made the worker's wait raise OverflowError: the thread died after its first attempt
    and the firmware stayed Downloading for ever. The wait is capped (MAX_RETRY_INTERVAL: a day on a device,
    a second here), so the worker lives through it, makes its second attempt and the story ends."""
    monkeypatch.setattr(transfers, "MAX_RETRY_INTERVAL", 1.0)
    station()
    with caplog.at_level(logging.WARNING):
        assert firmware(cs, "http://127.0.0.1:%d/fw.img" % free_port(), retries=2, retryInterval=1e20)[2] == {}
        cs.wait_for(lambda c: "DownloadFailed" in statuses(c), PATIENCE)  # was: never, the worker dead
    assert statuses(cs) == ["Downloading", "DownloadFailed"]
    attempts = [r.getMessage() for r in caplog.records if "firmware download attempt" in r.getMessage()]
    assert len(attempts) == 2 and "attempt 2/2 failed" in attempts[1]  # the second came after the capped wait
    assert not [r for r in caplog.records if r.exc_info]


def test_a_billion_retries_against_a_refused_port_end_in_download_failed(cs, station, caplog):
    station()
    with caplog.at_level(logging.WARNING):
        assert firmware(cs, "http://127.0.0.1:%d/fw.img" % free_port(), retries=10 ** 9, retryInterval=0)[2] == {}
        cs.wait_for(lambda c: "DownloadFailed" in statuses(c), 60)  # was: attempts without end, 2 MB of log
    attempts = [r for r in caplog.records if "firmware download attempt" in r.getMessage()]
    assert len(attempts) == transfers.MAX_ATTEMPTS


def test_a_530_that_echoes_the_password_reaches_neither_the_log_nor_the_state_view(cs, station, caplog):
    from bridge import stateview

    server = HostileFtp("echo-530")
    try:
        st = station()
        with caplog.at_level(logging.DEBUG):
            assert firmware(cs, server.url(password="pw-Secret-42"), retries=1)[2] == {}
            cs.wait_for(lambda c: "DownloadFailed" in statuses(c), 30)
            view = st.run(lambda: stateview.collect(st.daemon.views))
        assert "530 Login incorrect" in caplog.text and "pw-Secret-42" not in caplog.text
        shown = [t for t in view["transfers"] if t["name"] == "firmware"][0]
        assert "530 Login incorrect" in shown["error"] and "pw-Secret-42" not in str(view)
    finally:
        server.stop()


def test_an_upload_to_a_server_whose_reply_never_ends_ends_in_upload_failed(cs, station):
    server = HostileFtp("endless-220")
    try:
        station(os3p__upload_retries="1")
        reply = cs.call("SUBS001", "GetFile", {"fileType": "VendorSpecific", "location": server.url("/up")},
                        timeout=5)
        assert reply[2]["status"] == "Accepted"
        cs.wait_for(lambda c: [m for m in c.calls("GetFileStatusNotification") if m[3]["status"] == "UploadFailed"],
                    60)
    finally:
        server.stop()


def test_a_flash_that_never_reboots_ends_in_installation_failed_and_frees_the_slot(cs, station, monkeypatch):
    """Once an image reached Installing, nothing ended it when the reboot did not come: every later
    UpdateFirmware answered NotSupported until the daemon restarted. The host device here records the
    flash and does not reboot."""
    from bridge.os3p import firmware as fw
    from support.os3p_harness import FilePeer

    monkeypatch.setattr(fw, "FLASH_TIMEOUT", 1)  # 900 s on a device
    peer = FilePeer()
    try:
        peer.files["fw.img"] = b"tr069-bridge 9.9.9\n" * 100
        station()
        assert firmware(cs, peer.url + "/fw.img")[2] == {}
        cs.wait_for(lambda c: statuses(c)[-1:] == ["InstallationFailed"], 30)
        assert statuses(cs) == ["Downloading", "Downloaded", "Installing", "InstallationFailed"]
        assert firmware(cs, peer.url + "/fw.img")[2] == {}  # was: NotSupported "a firmware image is being flashed"
        cs.wait_for(lambda c: statuses(c).count("Installing") == 2, 30)
    finally:
        peer.close()
