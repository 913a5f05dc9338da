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
from . import errors
from .connection import safe_url
from .messages import parse_iso, utc_iso

log = logging.getLogger(__name__)

SCHEMES = ("http", "https")
CHUNK = 64 * 1024


def check_location(location):
    """None when we can fetch/put there, else (error code, description)."""
    parts = urlsplit(location)
    if parts.scheme.lower() not in SCHEMES:
        return errors.NOT_SUPPORTED, "only http and https locations are supported, not %s" % parts.scheme
    if parts.scheme.lower() == "http" and (parts.username or parts.password):
        return errors.SECURITY_ERROR, "refusing to send credentials over plain http"
    return None


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
                    shown.sized(progress.announced_size(r.headers))
                    for chunk in r.iter_content(CHUNK):
                        if cancel.is_set():
                            shown.finish("cancelled")
                            return
                        f.write(chunk)
                        shown.add(len(chunk))
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(target + ".part", target)
                shown.finish("done")
                loop.call_soon_threadsafe(self._downloaded, generation, target)
                return
            except (requests.RequestException, OSError) as e:
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

        ok, reason = False, ""
        try:
            data = self.ctx.device.logread().encode("utf-8", "replace")
            r = requests.post(location, files={"file": (name, data, "text/plain")}, timeout=timeouts,
                              verify=verify)
            r.raise_for_status()
            ok = True
        except Exception as e:  # logread or the network: either way the upload failed
            reason = "%s: %s" % (e.__class__.__name__, e)
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
