"""The host backend: any Linux box, state in a directory, no ubusd.

UCI configs live in <state>/config/<name>; reboots and firmware flashes are
recorded (not performed) in <state>/device-actions.jsonl so that tests and
`make run` can see what a real device would have done.
"""

import json
import os
import time

from .. import uci
from .base import Device, DeviceError, NotFound

from .. import __version__


class HostDevice(Device):
    backend = "host"
    uci_is_files = True

    def __init__(self, state_dir, **_options):
        self.state_dir = state_dir
        self.config_dir = os.path.join(state_dir, "config")
        self.log_path = os.path.join(state_dir, "daemon.log")
        os.makedirs(self.config_dir, mode=0o700, exist_ok=True)
        self._staged = {}  # config -> uncommitted changes (a delta, as uci keeps in /tmp/.uci)

    def config_path(self, config):
        return os.path.join(self.config_dir, config)

    def board(self):
        return {
            "vendor": "tr069-bridge",
            "model": "host-%s" % os.uname().machine,
            "serial": _machine_id(),
            "firmware_version": "tr069-bridge %s" % __version__,
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

    def reboot(self):
        self._record("reboot")

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
