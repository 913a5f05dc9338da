"""File transfers the central system asks for: UpdateFirmware (download + sysupgrade) and GetFile (upload).

Both run their network part in a worker thread (requests for http/https and bridge/ftp.py for
ftp/ftps, imported there: only these paths need them) and report progress with notifications that go through the persistent outbox. The firmware state is kept in
a file so that the story survives the reboot the flash causes: after it, the daemon compares the running
firmware version with the one it had before and reports Installed or InstallationFailed.
"""

import logging
import os
import re
import threading
from urllib.parse import urlsplit

from ..atomic import read_json, write_json
from . import errors
from .connection import safe_url
from .messages import parse_iso, utc_iso

log = logging.getLogger(__name__)

SCHEMES = ("http", "https", "ftp", "ftps")
FTP = ("ftp", "ftps")
CHUNK = 64 * 1024


def check_location(location):
    """None when we can fetch/put there, else (error code, description).

    Credentials in a plain http URL are refused; in an ftp URL they are how FTP logs in (the spec's own
    examples send ftp://root:root@...): bridge/ftp.py uses TLS where the server offers it and warns once
    where it does not."""
    parts = urlsplit(location)
    if parts.scheme.lower() not in SCHEMES:
        return errors.NOT_SUPPORTED, "only http, https, ftp and ftps locations are supported, not %s" % parts.scheme
    if parts.scheme.lower() == "http" and (parts.username or parts.password):
        return errors.SECURITY_ERROR, "refusing to send credentials over plain http"
    return None


def _is_ftp(location):
    return urlsplit(location).scheme.lower() in FTP


def _fetch(location, part, timeouts, verify, cancel, shown):
    """One download attempt into `part`, progress told to `shown`; False when cancelled. Raises on failure."""
    if _is_ftp(location):
        from .. import ftp

        ftp.download(location, part, timeout=timeouts[1], cafile=verify if isinstance(verify, str) else None,
                     cancel=cancel, progress=shown)
        return not cancel.is_set()
    import requests

    from .. import progress

    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f, requests.get(location, stream=True, timeout=timeouts, verify=verify) as r:
        r.raise_for_status()
        shown.sized(progress.announced_size(r.headers))
        for chunk in r.iter_content(CHUNK):
            if cancel.is_set():
                return False
            f.write(chunk)
            shown.add(len(chunk))
        f.flush()
        os.fsync(f.fileno())
    return True


def _transfer_errors():
    """What a failed attempt raises (imported lazily: requests only where it is installed and needed)."""
    from ..ftp import FtpError

    kinds = [OSError, FtpError]
    try:
        import requests

        kinds.append(requests.RequestException)
    except ImportError:
        pass
    return tuple(kinds)


def _timeouts(ctx):
    return (ctx.config.get("os3p.connect_timeout"), ctx.config.get("os3p.call_timeout"))


def _verify(ctx):
    return ctx.config.get("acs.ca_file") or True


class Firmware:
    """UpdateFirmware: Downloading -> Downloaded | DownloadFailed -> Installing -> (reboot) -> Installed |
    InstallationFailed, each one a FirmwareStatusNotification through the outbox."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.path = os.path.join(ctx.dir, "firmware.json")
        self.state = read_json(self.path, {}) or {}
        self.generation = 0
        self.timer = None
        self.cancel = threading.Event()

    def status(self):
        status = self.state.get("status")
        if status not in ("Downloading", "Downloaded", "DownloadFailed", "Installing", "InstallationFailed",
                          "Installed"):
            status = "None"  # nothing going on (spec annex 4.1: "you will get None")
        payload = {"status": status}
        if self.state.get("requestId") and status != "None":
            payload["requestId"] = self.state["requestId"]
        return payload

    def _set(self, status, notify=True, **extra):
        self.state.update(extra, status=status)
        write_json(self.path, self.state)
        if notify:
            self.ctx.notify("FirmwareStatusNotification", self.status())

    def request(self, payload):
        refusal = check_location(payload["location"])
        if refusal:
            raise errors.CallError(*refusal)
        self.stop()  # a new request replaces one in progress
        self.cancel = threading.Event()
        self.generation += 1
        old = self.ctx.device.board().get("firmware_version") or ""
        state = {k: payload[k] for k in ("location", "retrieveDate", "retries", "retryInterval", "requestId")
                 if k in payload}
        self.state = dict(state, old_version=old)
        self._set("Scheduled", notify=False)
        log.info("UpdateFirmware: %s at %s", safe_url(payload["location"]), payload["retrieveDate"])
        self._schedule()

    def _schedule(self):
        try:
            delay = max(0.0, parse_iso(self.state["retrieveDate"]) - self.ctx.now())
        except (KeyError, ValueError):
            delay = 0.0
        self.timer = self.ctx.loop.call_later(delay, self._start, self.generation)

    def _start(self, generation):
        if generation != self.generation:
            return
        self._set("Downloading")
        target = os.path.join(self.ctx.config.get("os3p.download_dir"), "os3p-firmware.img")
        args = (generation, self.state["location"], target, max(1, int(self.state.get("retries") or 1)),
                max(0, int(self.state.get("retryInterval") or 0)), _timeouts(self.ctx), _verify(self.ctx),
                self.cancel)
        threading.Thread(target=self._download, args=args, name="os3p-download", daemon=True).start()

    def _download(self, generation, location, target, attempts, interval, timeouts, verify, cancel):
        from .. import progress

        loop = self.ctx.loop
        reason = "cancelled"
        failures = _transfer_errors()
        shown = progress.start("firmware", location, attempts)  # the state view; info log every 10 %
        for attempt in range(1, attempts + 1):
            if cancel.is_set():
                shown.finish("cancelled")
                return
            shown.begin_attempt()
            try:
                if not _fetch(location, target + ".part", timeouts, verify, cancel, shown):
                    shown.finish("cancelled")
                    return
                os.replace(target + ".part", target)
                shown.finish("done")
                loop.call_soon_threadsafe(self._downloaded, generation, target)
                return
            except failures as e:
                reason = "%s: %s" % (e.__class__.__name__, e)
                shown.failed_attempt(reason)
                log.warning("firmware download attempt %d/%d failed: %s", attempt, attempts, reason)
            if attempt < attempts and cancel.wait(interval):
                shown.finish("cancelled")
                return
        try:
            os.unlink(target + ".part")
        except OSError:
            pass
        shown.finish("failed")
        loop.call_soon_threadsafe(self._failed, generation, "DownloadFailed", reason)

    def _failed(self, generation, status, reason):
        if generation == self.generation:
            log.error("firmware update: %s (%s)", status, reason)
            self._set(status)

    def _downloaded(self, generation, path):
        if generation != self.generation:
            return
        self._set("Downloaded")
        # persisted before flashing: the reboot that follows must find "Installing"
        self._set("Installing")
        self.ctx.expect_reboot()
        device = self.ctx.device
        loop = self.ctx.loop

        def install():
            try:
                device.sysupgrade(path)
            except Exception as e:
                loop.call_soon_threadsafe(self._failed, generation, "InstallationFailed", str(e))
                return
            log.info("sysupgrade started with %s; the device reboots into the new firmware", path)

        threading.Thread(target=install, name="os3p-sysupgrade", daemon=True).start()

    def resume(self):
        """At start-up: finish the story an earlier run (or the previous firmware) began."""
        status = self.state.get("status")
        if status == "Installing":
            now = self.ctx.device.board().get("firmware_version") or ""
            result = "Installed" if now != self.state.get("old_version") else "InstallationFailed"
            log.info("firmware update %s: %s -> %s", result, self.state.get("old_version"), now)
            self._set(result, new_version=now)
        elif status in ("Scheduled", "Downloading", "Downloaded"):
            log.info("resuming the interrupted firmware update")
            self.generation += 1
            self._schedule()

    def stop(self):
        self.cancel.set()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


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
        start = parse_iso(payload["startTime"]) if payload.get("startTime") else None
        stop = parse_iso(payload["stopTime"]) if payload.get("stopTime") else None
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
        if check_location(payload["location"]) or self.busy:
            return "Rejected", ""
        start, stop = self._period(payload)
        if start is not None and stop is not None and stop < start:
            return "Rejected", ""
        name = self._name(kind, start, stop)
        self.busy = True
        self.cancel = threading.Event()
        self._set("Uploading", payload.get("requestId"), keep_id=False)
        attempts = max(1, self.ctx.config.get("os3p.upload_retries"))
        args = (kind, start, stop, payload["location"], name, attempts,
                self.ctx.config.get("os3p.upload_retry_interval"), _timeouts(self.ctx), _verify(self.ctx),
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

        ok, reason = False, ""
        failures = _transfer_errors()
        shown = progress.start("upload", location, attempts)  # the state view
        try:
            with tempfile.TemporaryFile("w+b", dir=self.ctx.config.get("os3p.download_dir")) as tmp:
                text = _TextTo(tmp)
                self._make(kind, start, stop, text)
                size = tmp.tell()
                for attempt in range(1, attempts + 1):
                    tmp.seek(0)
                    shown.begin_attempt()
                    shown.sized(size)
                    try:
                        _put(location, name, tmp, timeouts, verify)
                        shown.add(size)
                        ok = True
                        break
                    except failures as e:
                        reason = "%s: %s" % (e.__class__.__name__, e)
                        shown.failed_attempt(reason)
                        log.warning("GetFile: upload attempt %d/%d failed: %s", attempt, attempts, reason)
                    if attempt < attempts and cancel.wait(interval):
                        reason = "cancelled"
                        break
        except Exception as e:  # logread, the history or the temporary file: the upload failed
            log.exception("GetFile: preparing %s failed", name)
            reason = "%s: %s" % (e.__class__.__name__, e)
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
        n = CHUNK if n is None or n < 0 else n
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
    if _is_ftp(location):
        from .. import ftp

        ftp.upload(location, name, f, timeout=timeouts[1], cafile=verify if isinstance(verify, str) else None)
        return
    import requests

    boundary = os.urandom(16).hex()
    body = _Multipart(f, name, boundary)
    r = requests.post(location, data=body, timeout=timeouts, verify=verify,
                      headers={"Content-Type": "multipart/form-data; boundary=%s" % boundary,
                               "Content-Length": str(len(body))})
    r.raise_for_status()
