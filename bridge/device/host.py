"""The host backend: any Linux box, state in a directory, no ubusd.

UCI configs live in <state>/config/<name>. Reboots and firmware flashes are recorded in
<state>/device-actions.jsonl, and simulated: no machine reboots and nothing is flashed, but the daemon
restarts (when the composition root gave a `restart`; the daemon process runs itself again) and comes
back as from a reboot: a new boot id (boot_id()) and, after a flash, the version the image carries
(<state>/host-firmware.json, read by board()). One log line says that it is simulated.
"""

import json
import os
import time

from .. import uci
from ..atomic import read_json, write_json
from ..logger import getLogger
from .base import Device, DeviceError, NotFound

from .. import __version__

log = getLogger(__name__)

FIRMWARE_FILE = "host-firmware.json"  # the version a simulated flash installed, and how many boots
VERSION_MAX = 64  # an image whose first line is printable text this long names its version


def image_version(path):
    """The version a host "flash" of this image installs: its first line when that is printable text
    (a test image, the development central system's), else its name and the start of its sha256."""
    import hashlib  # only on a flash: hashlib loads OpenSSL, which a ws:// daemon otherwise never maps

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        head = f.read(VERSION_MAX + 1)
        digest.update(head)
        for block in iter(lambda: f.read(65536), b""):
            digest.update(block)
    first = head.split(b"\n", 1)[0].strip()
    try:
        text = first.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    if text and len(first) <= VERSION_MAX and text.isprintable():
        return text
    return "%s %s" % (os.path.basename(path), digest.hexdigest()[:12])


class HostDevice(Device):
    backend = "host"
    uci_is_files = True

    def __init__(self, state_dir, restart=None, **_options):
        """restart(): how a simulated reboot happens (the daemon stops and runs itself again); None
        (a test's daemon in a thread): the reboot is only recorded."""
        self.state_dir = state_dir
        self.config_dir = os.path.join(state_dir, "config")
        self.log_path = os.path.join(state_dir, "daemon.log")
        os.makedirs(self.config_dir, mode=0o700, exist_ok=True)
        self._staged = {}  # config -> uncommitted changes (a delta, as uci keeps in /tmp/.uci)
        self.restart = restart
        self.firmware_path = os.path.join(state_dir, FIRMWARE_FILE)

    def config_path(self, config):
        return os.path.join(self.config_dir, config)

    def board(self):
        return {
            "vendor": "tr069-bridge",
            "model": "host-%s" % os.uname().machine,
            "serial": _machine_id(),
            "firmware_version": self._firmware().get("version") or "tr069-bridge %s" % __version__,
            "hostname": os.uname().nodename,
        }

    def uci_sections(self, config):
        return uci.load(self.config_path(config))

    def uci_apply(self, config, changes):
        # libuci's commit: lock, re-read, apply only these changes, replace atomically
        uci.commit(self.config_path(config), changes)

    def _sections(self, config):
        path = self.config_path(config)
        if not os.path.exists(path):
            if config not in self._staged:
                raise NotFound(config)
            return uci.apply([], self._staged[config])
        return uci.apply(uci.load(path), self._staged.get(config, ()))

    def uci_get(self, config, section=None, option=None):
        sections = self._sections(config)
        if section is None:
            return {s[".name"]: dict(s) for s in sections}
        s = uci.find(sections, section)
        if s is None:
            raise NotFound("%s.%s" % (config, section))
        if option is None:
            return dict(s)
        if option not in s:
            raise NotFound("%s.%s.%s" % (config, section, option))
        return s[option]

    def uci_set(self, config, section, values):
        staged = self._staged.setdefault(config, [])
        for k, v in values.items():
            staged.append((section, section, k, v))

    def uci_commit(self, config):
        if config in self._staged:
            self.uci_apply(config, self._staged.pop(config))

    def _record(self, action, **details):
        entry = dict(details, action=action, time=time.time())
        with open(os.path.join(self.state_dir, "device-actions.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def _firmware(self):
        data = read_json(self.firmware_path, {}) or {}
        return data if isinstance(data, dict) else {}

    def boot_id(self, kernel_boot_id):
        """The kernel's boot id, and the number of simulated reboots since the state directory began."""
        boots = self._firmware().get("boots")
        if kernel_boot_id is None or not isinstance(boots, int) or boots <= 0:
            return kernel_boot_id
        return "%s+%d" % (kernel_boot_id, boots)

    def _simulate_reboot(self, why, **record):
        if self.restart is None:  # recorded only (device-actions.jsonl)
            return
        data = self._firmware()
        boots = data.get("boots") if isinstance(data.get("boots"), int) else 0
        write_json(self.firmware_path, dict(data, boots=boots + 1, **record))
        log.warning("%s: simulated on the host (nothing is rebooted or flashed): the daemon restarts%s", why,
                    " into firmware %r" % record["version"] if "version" in record else "")
        self.restart()

    def reboot(self):
        self._record("reboot")
        self._simulate_reboot("reboot")

    def validate_firmware(self, image_path):
        # no image format to check here: a readable, non-empty file is all a host can say
        if not os.path.isfile(image_path):
            raise NotFound(image_path)
        if os.path.getsize(image_path) == 0:
            raise DeviceError("image %s is empty" % image_path)

    def sysupgrade(self, image_path, keep_settings=True):
        if not os.path.isfile(image_path):
            raise NotFound(image_path)
        self._record("sysupgrade", image=image_path, size=os.path.getsize(image_path), keep_settings=keep_settings)
        self._simulate_reboot("sysupgrade", version=image_version(image_path), flashed=time.time())

    def logread(self, lines=None):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except FileNotFoundError:
            return ""
        if lines:
            text = "\n".join(text.splitlines()[-lines:]) + "\n"
        return text

    def actions(self):
        """What the device 'did' (for tests and the simulator)."""
        try:
            with open(os.path.join(self.state_dir, "device-actions.jsonl"), encoding="utf-8") as f:
                return [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []


def _machine_id():
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            with open(path) as f:
                return f.read().strip()[:20] or "HOST0001"
        except OSError:
            pass
    return "HOST0001"
