"""File transfers the central system asks for: UpdateFirmware (download + sysupgrade) and GetFile (upload).

Both run their network part in a worker thread (requests, imported there: only these paths need it) and
report progress with notifications that go through the persistent outbox. The firmware state is kept in
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

SCHEMES = ("http", "https")
CHUNK = 64 * 1024
MAX_IMAGE = 256 * 1024 * 1024  # no router image comes near it
RESERVE = 4 * 1024 * 1024  # left free in the download directory


def check_location(location):
    """None when we can fetch/put there, else (error code, description)."""
    parts = urlsplit(location)
    if parts.scheme.lower() not in SCHEMES:
        return errors.NOT_SUPPORTED, "only http and https locations are supported, not %s" % parts.scheme
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
        import requests

        from .. import progress

        loop = self.ctx.loop
        reason = "cancelled"
        shown = progress.start("firmware", location, attempts)  # the state view; info log every 10 %
        for attempt in range(1, attempts + 1):
            if cancel.is_set():
                shown.finish("cancelled")
                return
            shown.begin_attempt()
            try:
                fd = os.open(target + ".part", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as f, requests.get(location, stream=True, timeout=timeouts,
                                                            verify=verify) as r:
                    r.raise_for_status()
                    announced = progress.announced_size(r.headers)
                    shown.sized(announced)
                    room = room_for_image(os.path.dirname(target))
                    if announced and announced > room:
                        raise TooBig("the image (%d bytes) does not fit in %s (room for %d)"
                                     % (announced, os.path.dirname(target), room))
                    written = 0
                    for chunk in r.iter_content(CHUNK):
                        if cancel.is_set():
                            shown.finish("cancelled")
                            return
                        written += len(chunk)
                        if written > room:  # no size announced, or a server that sends more than it said
                            raise TooBig("the image passed %d bytes, the room in %s"
                                         % (room, os.path.dirname(target)))
                        f.write(chunk)
                        shown.add(len(chunk))
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(target + ".part", target)
                shown.finish("done")
                loop.call_soon_threadsafe(self._downloaded, generation, target)
                return
            except (requests.RequestException, OSError, TooBig) as e:
                # the library's text carries the URL, with its password: never in the log or the state view
                reason = redact("%s: %s" % (e.__class__.__name__, e))
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
    """GetFile (Syslog): logread, then an HTTP(S) POST (multipart, field "file") to the location."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.busy = False

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

    def request(self, payload):
        """(status, fileName) for the GetFile response; the upload runs in a worker."""
        if payload["fileType"] != "Syslog":
            return "Rejected", ""  # no meter-value history or vendor files on a router
        missing = self.ctx.device.supports("logread")
        if missing:  # cannot comply: said at once, no upload is started
            log.warning("GetFile Syslog refused: %s", missing)
            return "Rejected", ""
        if check_location(payload["location"]) or self.busy:
            return "Rejected", ""
        identity = re.sub(r"[^A-Za-z0-9._-]", "_", self.ctx.config.get("acs.identity"))
        name = "Syslog-%s-%s.log" % (identity, utc_iso(self.ctx.now()).replace(":", "").replace("-", ""))
        self.busy = True
        self._set("Uploading", payload.get("requestId"), keep_id=False)
        args = (payload["location"], name, _timeouts(self.ctx), _verify(self.ctx))
        threading.Thread(target=self._upload, args=args, name="os3p-upload", daemon=True).start()
        return "Accepted", name

    def _upload(self, location, name, timeouts, verify):
        import requests

        from .. import progress

        shown = progress.start("log upload", location)  # the state view: one POST, so done at its end
        shown.begin_attempt()
        ok, reason = False, ""
        try:
            data = self.ctx.device.logread().encode("utf-8", "replace")
            shown.sized(len(data))
            r = requests.post(location, files={"file": (name, data, "text/plain")}, timeout=timeouts,
                              verify=verify)
            r.raise_for_status()
            shown.add(len(data))
            ok = True
        except Exception as e:  # logread or the network: either way the upload failed
            reason = redact("%s: %s" % (e.__class__.__name__, e))  # the URL's password stays out
        shown.finish("done" if ok else "failed", None if ok else reason)
        self.ctx.loop.call_soon_threadsafe(self._done, name, ok, reason)

    def _done(self, name, ok, reason):
        self.busy = False
        if ok:
            log.info("GetFile: %s uploaded", name)
        else:
            log.warning("GetFile: uploading %s failed: %s", name, reason)
        self._set("Uploaded" if ok else "UploadFailed")

    def stop(self):
        pass
