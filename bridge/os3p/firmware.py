"""UpdateFirmware: download, verify, sysupgrade, and the report after the reboot.

The firmware state is kept in a file so that the story survives the reboot the flash causes: after it,
the daemon compares the running firmware version with the one it had before and reports Installed or
InstallationFailed.
"""

import os
import threading
import time

from ..atomic import is_number, load_json, need, write_json
from ..logger import getLogger
from . import errors, transfers
from ..redact import redact
from .connection import safe_url
from .messages import parse_iso

log = getLogger(__name__)


FLASH_TIMEOUT = 900  # seconds from sysupgrade's start to the reboot it causes (NAND flash is slow)


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
        self.state = load_json(self.path, _fits, {})
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

    def view(self):
        """The state view's part: the update's status, since when, from and to which version, why it failed;
        None when no update was ever asked for."""
        st = self.state
        if not st:
            return None
        from ..redact import redact
        from ..stateview import iso

        since = st.get("since")
        return {"status": self.status()["status"] if st.get("status") != "Scheduled" else "Scheduled",
                "requestId": st.get("requestId"), "location": redact(st.get("location") or ""),
                "since": iso(since) if is_number(since) else None, "from": st.get("old_version"),
                "to": st.get("new_version"), "error": st.get("error")}

    def _set(self, status, notify=True, must=False, **extra):
        """The new status, written before it is told; a state directory that refuses it is one error line
        (must: an OSError for the caller, which refuses what it was asked). `error`: why it failed."""
        self.state.pop("error", None)
        self.state.update(extra, status=status, since=time.time())
        try:
            write_json(self.path, self.state)
        except OSError as e:
            if must:
                raise
            log.error("firmware state %s not saved to %s: %s", status, self.path, e.strerror or e)
        if notify:
            self.ctx.notify("FirmwareStatusNotification", self.status())

    def request(self, payload):
        refusal = transfers.check_location(payload["location"])
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
        try:
            self._set("Scheduled", notify=False, must=True)
        except OSError as e:  # not Accepted what would not survive a restart
            self.state = {}
            log.error("UpdateFirmware refused: the state directory refuses %s: %s", self.path, e.strerror or e)
            raise errors.CallError(errors.INTERNAL_ERROR, "the firmware state cannot be written: %s"
                                   % (e.strerror or e)) from None
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
        attempts, interval = transfers.retry_policy(self.state.get("retries"), self.state.get("retryInterval"))
        args = (generation, self.state["location"], target, attempts, interval,
                transfers.timeouts(self.ctx), transfers.tls_verify(self.ctx),
                self.cancel)
        threading.Thread(target=self._download, args=args, name="os3p-download", daemon=True).start()

    def _download(self, generation, location, target, attempts, interval, timeouts, verify, cancel):
        try:
            self._download_attempts(generation, location, target, attempts, interval, timeouts, verify, cancel)
        except Exception as e:  # every exception in the worker ends in DownloadFailed, never a dead thread
            log.error("firmware download: %s", redact("%s: %s" % (e.__class__.__name__, e))[:300])
            transfers.unlink(target + ".part")
            self.ctx.loop.call_soon_threadsafe(self._failed, generation, "DownloadFailed",
                                               redact("%s: %s" % (e.__class__.__name__, e))[:300])

    def _download_attempts(self, generation, location, target, attempts, interval, timeouts, verify, cancel):
        from .. import progress

        shown = progress.start("firmware", location, attempts)  # the state view; info log every 10 %
        ok, reason = transfers.attempts(
            "firmware download", attempts, interval, cancel, shown,
            lambda: transfers.fetch(location, target + ".part", timeouts, verify, cancel, shown))
        if ok:
            os.replace(target + ".part", target)
            shown.finish("done")
            self.ctx.loop.call_soon_threadsafe(self._downloaded, generation, target)
            return
        transfers.unlink(target + ".part")
        if reason is None:  # cancelled: the request that replaced it tells its own story
            shown.finish("cancelled")
            return
        shown.finish("failed")
        self.ctx.loop.call_soon_threadsafe(self._failed, generation, "DownloadFailed", reason)

    def _failed(self, generation, status, reason, path=None):
        if path is not None:
            transfers.unlink(path)  # a refused image is never flashed later by mistake
        if generation == self.generation:
            log.error("firmware update: %s (%s)", status, reason)
            self._set(status, error=str(reason)[:400])

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
        # a flash that does not end in a reboot within FLASH_TIMEOUT ends in InstallationFailed: the slot is
        # free again for the next UpdateFirmware (this process still runs, so no reboot came)
        self.timer = loop.call_later(FLASH_TIMEOUT, self._no_reboot, generation)

    def _no_reboot(self, generation):
        if generation != self.generation or not self.flashing:
            return
        self._flash_failed(generation, "no reboot within %d s of the flash" % FLASH_TIMEOUT)

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
            extra = {} if result == "Installed" else {"error": "the device came back with the same firmware version"}
            self._set(result, new_version=now, **extra)
        elif status in ("Scheduled", "Downloading", "Downloaded"):
            log.info("resuming the interrupted firmware update")
            self.generation += 1
            self._schedule()

    def stop(self):
        self.cancel.set()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


STATUSES = ("Scheduled", "Downloading", "Downloaded", "DownloadFailed", "Installing", "InstallationFailed",
            "Installed")
TEXT = ("location", "retrieveDate", "requestId", "installDateTime", "signature", "signingCertificate",
        "old_version", "new_version", "error")


def _fits(state):
    """firmware.json's shape (atomic.load_json sets aside what does not fit: no update is resumed)."""
    need(isinstance(state, dict), "not an object")
    need(state.get("status", "Scheduled") in STATUSES, "status")
    need(all(isinstance(state.get(k, ""), str) for k in TEXT), "a text field")
    need(len(state.get("requestId", "")) <= 36, "requestId")
    for k in ("retries", "retryInterval", "since"):
        need(state.get(k) is None or (is_number(state[k]) and state[k] >= 0), k)
    need(state.get("status") not in ("Scheduled", "Downloading", "Downloaded") or state.get("location"),
         "location")
    return state


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
        if not sig.isascii():
            raise signature.SignatureError("signature is not base64")
        signature.decode_signature(sig)
        # the certificate's structure and dates, in Python: openssl (a process) never runs on the loop; the
        # worker that verifies the image takes the public key with it
        signature.check_certificate_now(cert, time.time())
    except signature.SignatureError as e:
        raise errors.CallError(errors.PROPERTY_CONSTRAINT_VIOLATION, str(e)) from None
