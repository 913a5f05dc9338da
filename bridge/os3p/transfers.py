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
from ..redact import redact
from . import errors
from .connection import safe_url
from .messages import parse_iso, utc_iso

log = logging.getLogger(__name__)

SCHEMES = ("http", "https", "ftp", "ftps")
FTP = ("ftp", "ftps")
CHUNK = 64 * 1024
MAX_IMAGE = 256 * 1024 * 1024  # no router image comes near it
RESERVE = 4 * 1024 * 1024  # left free in the download directory


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


class TooBig(Exception):
    """The image does not fit where it is downloaded to."""


def room_for_image(directory):
    """Bytes a download may write to `directory`: its free space less RESERVE, at most MAX_IMAGE.
    On OpenWrt the default, /tmp, is RAM: filling it would starve everything else."""
    try:
        st = os.statvfs(directory)
    except OSError:
        return MAX_IMAGE
    return max(0, min(MAX_IMAGE, st.f_bavail * st.f_frsize - RESERVE))


def _is_ftp(location):
    return urlsplit(location).scheme.lower() in FTP


def _fetch(location, part, timeouts, verify, cancel, shown):
    """One download attempt into `part`, progress told to `shown`; False when cancelled. Raises on failure
    (TooBig when the image would not fit in the download directory)."""
    directory = os.path.dirname(part)
    room = room_for_image(directory)
    if _is_ftp(location):
        from .. import ftp

        try:
            ftp.download(location, part, timeout=timeouts[1], cafile=verify if isinstance(verify, str) else None,
                         cancel=cancel, progress=shown, limit=room)
        except ftp.TooLarge as e:
            raise TooBig("%s (room in %s)" % (e, directory)) from None
        return not cancel.is_set()
    import requests

    from .. import progress

    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f, requests.get(location, stream=True, timeout=timeouts, verify=verify) as r:
        r.raise_for_status()
        announced = progress.announced_size(r.headers)
        shown.sized(announced)
        if announced and announced > room:
            raise TooBig("the image (%d bytes) does not fit in %s (room for %d)" % (announced, directory, room))
        written = 0
        for chunk in r.iter_content(CHUNK):
            if cancel.is_set():
                return False
            written += len(chunk)
            if written > room:  # no size announced, or a server that sends more than it said
                raise TooBig("the image passed %d bytes, the room in %s" % (room, directory))
            f.write(chunk)
            shown.add(len(chunk))
        f.flush()
        os.fsync(f.fileno())
    return True


def _attempts(what, attempts, interval, cancel, shown, attempt):
    """attempt() up to `attempts` times, `interval` seconds apart (a worker thread waits; cancel ends the
    wait) -> (True, None) | (False, reason of the last failure) | (False, None) when cancelled.
    attempt() returns False when it saw the cancel itself."""
    failures = _transfer_errors()
    reason = None
    for n in range(1, attempts + 1):
        if cancel.is_set():
            return False, None
        shown.begin_attempt()
        try:
            if not attempt():
                return False, None
            return True, None
        except failures as e:
            # the libraries' texts carry the URL, with its password: never in the log or the state view
            reason = redact("%s: %s" % (e.__class__.__name__, e))
            shown.failed_attempt(reason)
            log.warning("%s attempt %d/%d failed: %s", what, n, attempts, reason)
        if n < attempts and cancel.wait(interval):
            return False, None
    return False, reason


def _transfer_errors():
    """What a failed attempt raises (imported lazily: requests only where it is installed and needed)."""
    from ..ftp import FtpError

    kinds = [OSError, FtpError, TooBig]
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
    InstallationFailed, each one a FirmwareStatusNotification through the outbox.

    Nothing is flashed before the image passed every check, in a worker: the signature against the signing
    certificate when the request carries them (bridge.signature), then the device's own verdict (procd's
    `system validate_firmware_image`). A failed check ends in InstallationFailed with the image deleted.
    With an installDateTime in the future the verified image waits (status Downloaded) until then.

    A new UpdateFirmware while one runs follows EVerest's AcceptedCanceled: the new request is accepted and
    the running one cancelled (its download stopped, its wait for the install time dropped; no further
    notification for it), except once flashing has begun (Installing), which cannot be undone: then the new
    request is refused (NotSupported)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.path = os.path.join(ctx.dir, "firmware.json")
        self.state = read_json(self.path, {}) or {}
        self.generation = 0
        self.timer = None
        self.cancel = threading.Event()
        self.flashing = False  # sysupgrade started by this process (cannot be cancelled)

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
        device = self.ctx.device
        missing = device.supports("sysupgrade") or device.supports("validate_firmware")
        if missing:
            raise errors.CallError(errors.NOT_SUPPORTED, "cannot flash firmware: %s" % missing)
        _check_signed(payload, self.ctx.config.get("os3p.download_dir"))
        running = self.state.get("status")
        if running == "Installing" and self.flashing:
            raise errors.CallError(errors.NOT_SUPPORTED, "a firmware image is being flashed: it cannot be cancelled")
        if running in ("Scheduled", "Downloading", "Downloaded"):
            log.warning("UpdateFirmware: AcceptedCanceled: request %s (%s) cancelled for the new one",
                        self.state.get("requestId", "-"), running)
        self.stop()  # a new request replaces one in progress
        self.cancel = threading.Event()
        self.generation += 1
        old = device.board().get("firmware_version") or ""
        state = {k: payload[k] for k in ("location", "retrieveDate", "retries", "retryInterval", "requestId",
                                         "installDateTime", "signature", "signingCertificate") if k in payload}
        self.state = dict(state, old_version=old)
        self._set("Scheduled", notify=False)
        log.info("UpdateFirmware: %s at %s%s", safe_url(payload["location"]), payload["retrieveDate"],
                 ", signed" if "signature" in payload else "")
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

        shown = progress.start("firmware", location, attempts)  # the state view; info log every 10 %
        ok, reason = _attempts("firmware download", attempts, interval, cancel, shown,
                               lambda: _fetch(location, target + ".part", timeouts, verify, cancel, shown))
        if ok:
            os.replace(target + ".part", target)
            shown.finish("done")
            self.ctx.loop.call_soon_threadsafe(self._downloaded, generation, target)
            return
        _unlink(target + ".part")
        if reason is None:  # cancelled: the request that replaced it tells its own story
            shown.finish("cancelled")
            return
        shown.finish("failed")
        self.ctx.loop.call_soon_threadsafe(self._failed, generation, "DownloadFailed", reason)

    def _failed(self, generation, status, reason, path=None):
        if path is not None:
            _unlink(path)  # a refused image is never flashed later by mistake
        if generation == self.generation:
            log.error("firmware update: %s (%s)", status, reason)
            self._set(status)

    def _downloaded(self, generation, path):
        if generation != self.generation:
            return
        self._set("Downloaded")
        device, loop, state = self.ctx.device, self.ctx.loop, dict(self.state)
        workdir = os.path.dirname(path)

        def verify():  # hashing an image takes seconds on a router: not on the loop
            try:
                if state.get("signature"):
                    from .. import signature

                    signature.verify(path, state["signature"], state["signingCertificate"], workdir)
                    log.info("firmware signature verified against the signing certificate")
                device.validate_firmware(path)
            except Exception as e:  # SignatureError, DeviceError (procd's verdict), OSError
                loop.call_soon_threadsafe(self._failed, generation, "InstallationFailed",
                                          "image refused before flashing: %s" % e, path)
                return
            loop.call_soon_threadsafe(self._verified, generation, path)

        threading.Thread(target=verify, name="os3p-verify", daemon=True).start()

    def _verified(self, generation, path):
        if generation != self.generation:
            return
        try:
            delay = parse_iso(self.state["installDateTime"]) - self.ctx.now()
        except (KeyError, ValueError):
            delay = 0.0
        if delay > 0:
            log.info("firmware image verified; installing at %s (in %.0f s)", self.state["installDateTime"], delay)
            self.timer = self.ctx.loop.call_later(delay, self._install, generation, path)
        else:
            self._install(generation, path)

    def _install(self, generation, path):
        if generation != self.generation:
            return
        # persisted before flashing: the reboot that follows must find "Installing"
        self._set("Installing")
        self.ctx.expect_reboot()
        self.flashing = True
        device = self.ctx.device
        loop = self.ctx.loop

        def install():
            try:
                device.sysupgrade(path)
            except Exception as e:
                loop.call_soon_threadsafe(self._flash_failed, generation, str(e))
                return
            log.info("sysupgrade started with %s; the device reboots into the new firmware", path)

        threading.Thread(target=install, name="os3p-sysupgrade", daemon=True).start()

    def _flash_failed(self, generation, reason):
        self.flashing = False
        self.ctx.reboot_cancelled()  # no reboot comes: the next one is unexpected again
        self._failed(generation, "InstallationFailed", reason)

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


def _check_signed(payload, workdir):
    """signature and signingCertificate come together, decode, and name a current certificate: refused at
    once (CALLERROR) otherwise, before anything is downloaded."""
    sig, cert = payload.get("signature"), payload.get("signingCertificate")
    if sig is None and cert is None:
        return
    if sig is None or cert is None:
        raise errors.CallError(errors.OCCURENCE_CONSTRAINT_VIOLATION,
                               "signature and signingCertificate must be given together")
    from .. import signature

    if not signature.available():
        raise errors.CallError(errors.NOT_SUPPORTED, "cannot verify a signed image: %s missing on this device"
                               % signature.OPENSSL)
    try:
        signature.decode_signature(sig)
        signature.check_certificate(cert, workdir if os.path.isdir(workdir) else None)
    except signature.SignatureError as e:
        raise errors.CallError(errors.PROPERTY_CONSTRAINT_VIOLATION, str(e)) from None


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


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
        missing = self.ctx.device.supports("logread") if kind == "Syslog" else None
        if missing:  # cannot comply: said at once, no upload is started
            log.warning("GetFile Syslog refused: %s", missing)
            return "Rejected", ""
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

                ok, reason = _attempts("GetFile: upload", attempts, interval, cancel, shown, attempt)
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
