"""GetFile: the file made in a worker, then uploaded (HTTP(S) POST multipart, or FTP(S) STOR)."""

import os
import re
import threading

from .. import logger
from ..clock import utc_iso
from ..redact import redact
from . import transfers
from .messages import parse_iso

log = logger.getLogger(__name__)


class LogUpload:
    """GetFile: the file is made in a worker (Syslog: logread filtered to the period; MeterValueHistory:
    the station's history for the period as CSV; VendorSpecific: the station's state as JSON), written to
    a temporary file (bounded memory), then uploaded: HTTP(S) POST multipart (field "file"), streamed,
    or FTP(S) STOR into the location's directory. `os3p.upload_retries` attempts,
    `os3p.upload_retry_interval` seconds apart; GetFileStatusNotification Uploading ->
    Uploaded | UploadFailed."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.busy = False
        self.cancel = threading.Event()

    def status(self):
        state = self.ctx.state.get("getfile") or {}
        payload = {"status": state.get("status", "None")}
        if state.get("requestId"):
            payload["requestId"] = state["requestId"]
        return payload

    def _set(self, status, request_id=None, keep_id=True):
        state = self.ctx.state.data.setdefault("getfile", {})
        if not keep_id:
            state.pop("requestId", None)
        if request_id:
            state["requestId"] = request_id
        state["status"] = status
        self.ctx.state.save()
        self.ctx.notify("GetFileStatusNotification", self.status())

    def _period(self, payload):
        """(start, stop) Unix seconds or None, within what the history and the file name can hold (a
        period at the ends of the calendar reaches the first and the last sample)."""
        def clamp(t):
            return min(max(0, t), 2 ** 32 - 1)  # the history's times are unsigned 32-bit

        start = clamp(parse_iso(payload["startTime"])) if payload.get("startTime") else None
        stop = clamp(parse_iso(payload["stopTime"])) if payload.get("stopTime") else None
        return start, stop

    def _name(self, kind, start, stop):
        identity = re.sub(r"[^A-Za-z0-9._-]", "_", self.ctx.config.get("acs.identity"))
        stamp = utc_iso(self.ctx.now()).replace(":", "").replace("-", "")
        if kind == "MeterValueHistory":
            history = self.ctx.sensors.history
            if start is None:
                first = history.query()[:1]
                start = first[0][0] if first else self.ctx.now()
            day = lambda t: utc_iso(t)[:10].replace("-", "")  # noqa: E731
            return "MeterValuesHistory=%s-%s.txt" % (day(start), day(stop if stop is not None else self.ctx.now()))
        if kind == "VendorSpecific":
            return "VendorSpecific-%s-%s.json" % (identity, stamp)
        return "Syslog-%s-%s.log" % (identity, stamp)

    def request(self, payload):
        """(status, fileName) for the GetFile response; the upload runs in a worker."""
        kind = payload["fileType"]
        station = self.ctx.sensors
        if kind == "MeterValueHistory" and (station is None or station.history is None):
            return "Rejected", ""  # no meter, no history
        missing = self.ctx.device.supports("logread") if kind == "Syslog" else None
        if missing:  # cannot comply: said at once, no upload is started
            log.warning("GetFile Syslog refused: %s", missing)
            return "Rejected", ""
        if transfers.check_location(payload["location"]) or self.busy:
            return "Rejected", ""
        start, stop = self._period(payload)
        if start is not None and stop is not None and stop < start:
            return "Rejected", ""
        name = self._name(kind, start, stop)
        self.busy = True
        self.cancel = threading.Event()
        self._set("Uploading", payload.get("requestId"), keep_id=False)
        attempts = max(1, self.ctx.config.get("os3p.upload_retries"))  # the key's range caps it (1-10)
        args = (kind, start, stop, payload["location"], name, attempts,
                self.ctx.config.get("os3p.upload_retry_interval"),
                transfers.timeouts(self.ctx), transfers.tls_verify(self.ctx),
                self.cancel)
        threading.Thread(target=self._upload, args=args, name="os3p-upload", daemon=True).start()
        return "Accepted", name

    def _make(self, kind, start, stop, f):
        """Write the file's content to the text stream f (in the worker)."""
        if kind == "MeterValueHistory":
            from ..station.history import write_text

            write_text(self.ctx.sensors.history.query(start, stop), f, utc_iso)
        elif kind == "VendorSpecific":
            import json

            station = self.ctx.sensors
            json.dump({"station": station.state() if station is not None else None,
                       "board": self.ctx.device.board(), "time": utc_iso(self.ctx.now())}, f, indent=1,
                      sort_keys=True, default=str)
        else:
            from ..logperiod import write_period

            write_period(self.ctx.device.logread(), start, stop, f)

    def _upload(self, kind, start, stop, location, name, attempts, interval, timeouts, verify, cancel):
        import tempfile

        from .. import progress

        ok, reason = False, None
        shown = progress.start("upload", location, attempts)  # the state view
        try:
            with tempfile.TemporaryFile("w+b", dir=self.ctx.config.get("os3p.download_dir")) as tmp:
                self._make(kind, start, stop, _TextTo(tmp))
                size = tmp.tell()

                def attempt():
                    tmp.seek(0)
                    shown.sized(size)
                    _put(location, name, tmp, timeouts, verify)
                    shown.add(size)
                    return True

                ok, reason = transfers.attempts("GetFile: upload", attempts, interval, cancel, shown, attempt)
        except Exception as e:  # logread, the history or the temporary file: the upload failed
            log.exception("GetFile: preparing %s failed", name)
            reason = redact("%s: %s" % (e.__class__.__name__, e))
        reason = reason or "cancelled"
        shown.finish("done" if ok else "failed")
        self.ctx.loop.call_soon_threadsafe(self._done, name, ok, reason)

    def _done(self, name, ok, reason):
        self.busy = False
        if ok:
            log.info("GetFile: %s uploaded", name)
        else:
            log.warning("GetFile: uploading %s failed: %s", name, reason)
        self._set("Uploaded" if ok else "UploadFailed")

    def stop(self):
        self.cancel.set()


class _TextTo:
    """A text writer into a binary file (UTF-8), without io.TextIOWrapper's buffering of the whole file."""

    def __init__(self, f):
        self.f = f

    def write(self, text):
        self.f.write(text.encode("utf-8", "replace"))


class _Multipart:
    """A multipart/form-data body with one field "file", read in blocks from a file: requests streams an
    object with read() and len() with a Content-Length, so the file is never whole in memory."""

    def __init__(self, f, name, boundary):
        f.seek(0, os.SEEK_END)
        self.size = f.tell()
        f.seek(0)
        self.f = f
        self.head = ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                     "Content-Type: text/plain\r\n\r\n" % (boundary, name.replace('"', "_"))).encode()
        self.tail = ("\r\n--%s--\r\n" % boundary).encode()
        self.pos = 0

    def __len__(self):
        return len(self.head) + self.size + len(self.tail) - self.pos

    def read(self, n=-1):
        n = transfers.CHUNK if n is None or n < 0 else n
        out = b""
        if self.pos < len(self.head):
            out = self.head[self.pos:self.pos + n]
        elif self.pos < len(self.head) + self.size:
            out = self.f.read(min(n, len(self.head) + self.size - self.pos))
        else:
            off = self.pos - len(self.head) - self.size
            out = self.tail[off:off + n]
        self.pos += len(out)
        return out


def _put(location, name, f, timeouts, verify):
    if transfers.is_ftp(location):
        from .. import ftp

        size = os.fstat(f.fileno()).st_size
        ftp.upload(location, name, f, timeout=timeouts[1], cafile=verify if isinstance(verify, str) else None,
                   size=size)
        return
    import requests

    logger.route_std()  # requests (urllib3) logs through the logging package: to our sinks too
    boundary = os.urandom(16).hex()
    body = _Multipart(f, name, boundary)
    r = requests.post(location, data=body, timeout=timeouts, verify=verify,
                      headers={"Content-Type": "multipart/form-data; boundary=%s" % boundary,
                               "Content-Length": str(len(body))})
    r.raise_for_status()
