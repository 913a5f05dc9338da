"""Firmware downloads and log uploads, driven directly against a real HTTP server on loopback: an image
larger than the room is refused (announced or not), the room is the free space less a reserve, and a
failed transfer never logs or shows the URL's password."""

import threading

import pytest


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
    assert what == "_failed" and args[1] == "DownloadFailed" and ("the room" in args[2] or "(room for" in args[2])
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
