"""Findings of the attacker's probe against the OS3P face: each test failed before its fix."""

import threading

import pytest

from bridge.os3p import errors, framing
from bridge.os3p.framing import MAX_DEPTH, MAX_FRAME, Call, FrameError


def nested(levels, head='[2,"abc","Reset",'):
    """A CALL whose payload position holds `levels` nested arrays (plus the frame's own one)."""
    return head + "[" * levels + "]" * levels + "]"


# --- 15: a CALL nested 100k deep ----------------------------------------------------------------------
@pytest.mark.parametrize("levels", [MAX_DEPTH, 1000, 100000])
def test_finding_15_deep_call_gets_a_formation_violation(levels):
    with pytest.raises(FrameError) as e:
        framing.parse(nested(levels))
    assert (e.value.id, e.value.code) == ("abc", errors.FORMATION_VIOLATION)
    assert "deeper" in e.value.description


def test_finding_15_deep_results_and_errors_are_ignored():
    assert framing.parse(nested(100000, '[3,"abc",')) is None
    assert framing.parse('[4,"abc","GenericError","x",' + "{\"a\":" * 50000 + "1" + "}" * 50000 + "]") is None


def test_finding_15_nesting_up_to_the_limit_parses():
    payload = '{"a":' * (MAX_DEPTH - 1) + "1" + "}" * (MAX_DEPTH - 1)
    msg = framing.parse('[2,"abc","Reset",%s]' % payload)
    assert isinstance(msg, Call) and msg.id == "abc"


def test_finding_15_brackets_inside_strings_do_not_count():
    text = '[2,"abc","DataTransfer",{"data":"%s"}]' % ("[{" * 10000)
    assert framing.parse(text) == Call("abc", "DataTransfer", {"data": "[{" * 10000})


def test_frame_over_the_size_limit_is_refused_before_parsing():
    with pytest.raises(FrameError) as e:
        framing.parse('[2,"big","DataTransfer",{"data":"%s"}]' % ("x" * MAX_FRAME))
    assert (e.value.id, e.value.code) == ("big", errors.FORMATION_VIOLATION)
    assert framing.parse('[3,"big",{"data":"%s"}]' % ("x" * MAX_FRAME)) is None


# --- 9: a central system that triggers without end and never answers --------------------------------
def test_finding_09_triggered_messages_do_not_pile_up(tmp_path):
    import json

    from bridge.os3p import calls
    from test_os3p_protocol import Core

    core = Core(tmp_path)
    core.p.start()
    core.connect()
    core.take()
    sent = []
    for i in range(5000):
        core.p.received(json.dumps([2, "t%d" % i, "TriggerMessage", {"requestedMessage": "Heartbeat"}]))
        for out in core.p.take():
            frame = json.loads(out.text)
            if frame[0] == 3:
                assert frame[2] == {"status": "Accepted"}
                out.after()
            else:
                sent.append(frame)
    assert [f[2] for f in sent] == ["Heartbeat"]  # on the wire, never answered
    assert len(core.p.direct) <= 1  # the rest are one waiting Heartbeat, not 4999
    core.answer(sent[0][1], {"currentTime": "2027-01-15T08:00:00Z"})
    assert [c[1] for c in core.calls()] == ["Heartbeat"] and not core.p.direct
    # other direct calls are bounded too (a session's Heartbeat, say)
    for _ in range(calls.MAX_DIRECT + 50):
        core.p.call("Heartbeat", {})
    assert len(core.p.direct) == calls.MAX_DIRECT


# --- 7 and 10: firmware downloads -------------------------------------------------------------------
class Recorder:
    """The loop a transfer worker posts to: what it posted, in order."""

    def __init__(self):
        self.posted = []

    def call_soon_threadsafe(self, fn, *args):
        self.posted.append((fn.__name__, args))


class Image:
    """A real HTTP server on 127.0.0.1 serving `size` bytes, with or without a Content-Length."""

    def __init__(self, size, announce=True, status=200):
        import http.server
        import threading

        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self):
                self.send_response(outer.status)
                if outer.announce:
                    self.send_header("Content-Length", str(outer.size))
                self.end_headers()
                left = outer.size if outer.status == 200 else 0
                try:
                    while left > 0:
                        n = min(left, 65536)
                        self.wfile.write(b"\0" * n)
                        left -= n
                except OSError:
                    pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET()

            def log_message(self, *a):
                pass

        self.size, self.announce, self.status = size, announce, status
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, args=(0.02,), daemon=True).start()

    def url(self, userinfo=""):
        return "http://%s127.0.0.1:%d/fw.bin" % (userinfo, self.port)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def download(tmp_path, url):
    import threading

    from bridge.os3p import firmware

    fw = firmware.Firmware.__new__(firmware.Firmware)
    fw.ctx = type("Ctx", (), {"loop": Recorder()})()
    target = str(tmp_path / "os3p-firmware.img")
    fw._download(1, url, target, 1, 0, (5, 5), True, threading.Event())
    return fw.ctx.loop.posted, target


@pytest.mark.parametrize("announce", [True, False], ids=["announced", "not-announced"])
def test_finding_10_an_image_larger_than_the_room_is_refused(tmp_path, monkeypatch, announce):
    import os

    from bridge.os3p import transfers

    monkeypatch.setattr(transfers, "room_for_image", lambda directory: 300 * 1024)
    image = Image(2 * 1024 * 1024, announce=announce)
    try:
        posted, target = download(tmp_path, image.url())
    finally:
        image.close()
    [(what, args)] = posted
    assert what == "_failed" and args[1] == "DownloadFailed" and "TooBig" in args[2]
    assert os.listdir(str(tmp_path)) == []  # nothing left behind, not even the part file


def test_finding_10_room_is_the_free_space_less_a_reserve(tmp_path):
    import os

    from bridge.os3p import transfers

    st = os.statvfs(str(tmp_path))
    free = st.f_bavail * st.f_frsize
    assert transfers.room_for_image(str(tmp_path)) == max(0, min(transfers.MAX_IMAGE, free - transfers.RESERVE))


def test_finding_10_an_image_that_fits_is_downloaded(tmp_path, monkeypatch):
    from bridge.os3p import transfers

    monkeypatch.setattr(transfers, "room_for_image", lambda directory: 300 * 1024)
    image = Image(200 * 1024)
    try:
        posted, target = download(tmp_path, image.url())
    finally:
        image.close()
    assert [p[0] for p in posted] == ["_downloaded"]
    assert open(target, "rb").read() == b"\0" * (200 * 1024)


def test_finding_07_a_failed_download_never_logs_the_url_password(tmp_path, caplog):
    from bridge import progress

    image = Image(10, status=404)
    try:
        with caplog.at_level("DEBUG"):
            posted, _ = download(tmp_path, image.url("op:S3cretPw@"))
    finally:
        image.close()
    [(what, args)] = posted
    assert what == "_failed" and "S3cretPw" not in args[2] and "op:********@" in args[2]
    assert "S3cretPw" not in caplog.text
    assert "S3cretPw" not in str(progress.current()[-1].view())


def test_finding_07_a_failed_upload_never_logs_the_url_password(tmp_path):
    from bridge.os3p import logupload

    up = logupload.LogUpload.__new__(logupload.LogUpload)
    device = type("Device", (), {"logread": lambda self: "a log line\n"})()
    config = type("Config", (), {"get": lambda self, name: str(tmp_path)})()  # os3p.download_dir
    up.ctx = type("Ctx", (), {"loop": Recorder(), "device": device, "config": config})()
    server = Image(0, status=403)
    try:
        up._upload("Syslog", None, None, server.url("op:S3cretPw@"), "x.log", 2, 0, (5, 5), True,
                   threading.Event())
    finally:
        server.close()
    [(what, args)] = up.ctx.loop.posted
    assert what == "_done" and args[1] is False and "S3cretPw" not in args[2] and "op:********@" in args[2]


# --- 17 (rest): Basic credentials over plain ws:// ------------------------------------------------------
def test_finding_17_basic_credentials_over_plain_ws_are_warned_about_once(caplog):
    from bridge.os3p import connection

    connection._PLAIN_WARNED.clear()
    with caplog.at_level("WARNING"):
        for _ in range(3):
            headers = connection.Options("ws://cs.example/OS3P/x", "op", "pw").headers()
            assert any(h.startswith("Authorization: Basic ") for h in headers)
        connection.Options("wss://cs.example/OS3P/x", "op", "pw").headers()
        connection.Options("ws://cs.example/OS3P/x").headers()
    warnings = [r for r in caplog.records if "plain ws://" in r.getMessage()]
    assert len(warnings) == 1 and "pw" not in warnings[0].getMessage().replace("password", "")
