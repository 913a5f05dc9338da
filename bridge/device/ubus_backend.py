"""The real device: UCI through rpcd's `uci` object, the system through procd's `system` object,
firmware and logs through the `sysupgrade` and `logread` programs.

Each operation opens its own short-lived ubus connection, as one `ubus call` does: nothing is held
open between operations and a ubusd restart costs nothing. The calls go to rpcd and procd, never to
our own objects, so a call made on the loop thread cannot wait on itself.

sysupgrade runs as the `sysupgrade` program rather than `ubus call system sysupgrade`: the program
checks the image (`sysupgrade -T`, so a bad image is reported here instead of half-flashing) and
saves and restores the settings itself (`-n` to drop them), where the ubus method wants a backup
archive built beforehand and leaves the image check to its caller.
"""

import logging
import os

from ..ubus import client
from ..ubus import status as st
from .base import Device, DeviceError, NotFound

log = logging.getLogger(__name__)

ENV_SOCKET = "TR069_UBUS_SOCKET"
CALL_TIMEOUT = 10.0
# what each operation asks of which ubus object: one row per operation
CALLS = {
    "uci_get": ("uci", "get"),
    "uci_set": ("uci", "set"),
    "uci_add": ("uci", "add"),
    "uci_commit": ("uci", "commit"),
    "board": ("system", "board"),
    "reboot": ("system", "reboot"),
}
SYSUPGRADE = "sysupgrade"
LOGREAD = "logread"
PROGRAM_TIMEOUT = 60.0


class UbusDevice(Device):
    backend = "ubus"

    def __init__(self, state_dir=None, socket=None, config_dir="/etc/config", timeout=CALL_TIMEOUT, **_options):
        self.state_dir = state_dir
        self.socket = socket or os.environ.get(ENV_SOCKET) or None  # None: libubus's default path
        self.config_dir = config_dir
        self.timeout = timeout

    # --- plumbing ----------------------------------------------------------------------------
    def _call(self, op, args=None):
        obj, method = CALLS[op]
        try:
            with client.Client(self.socket, self.timeout) as c:
                code, data = c.call(obj, method, args)
        except client.UbusError as e:
            raise DeviceError("ubus %s %s: %s" % (obj, method, e)) from None
        if code == st.NOT_FOUND:
            raise NotFound("%s %s %s" % (obj, method, _describe(args)))
        if code != st.OK:
            raise DeviceError("ubus %s %s %s: %s" % (obj, method, _describe(args), st.MESSAGES.get(code, code)))
        return data

    # --- UCI -----------------------------------------------------------------------------------
    def config_path(self, config):
        return os.path.join(self.config_dir, config)

    def uci_get(self, config, section=None, option=None):
        args = {"config": config}
        if section is not None:
            args["section"] = section
            if option is not None:
                args["option"] = option
        data = self._call("uci_get", args)
        if option is not None:
            # rpcd answers a missing option with success and no data
            if not data or "value" not in data:
                raise NotFound("%s.%s.%s" % (config, section, option))
            return data["value"]
        if not data or "values" not in data:
            raise NotFound(config if section is None else "%s.%s" % (config, section))
        return data["values"]

    def uci_set(self, config, section, values):
        values = {k: _uci_value(v) for k, v in values.items()}
        try:
            self._call("uci_set", {"config": config, "section": section, "values": values})
        except NotFound:
            # a named section that does not exist yet: create it (type = name, as the host backend does)
            self._call("uci_add", {"config": config, "type": section, "name": section, "values": values})

    def uci_commit(self, config):
        self._call("uci_commit", {"config": config})

    # --- system ------------------------------------------------------------------------------------
    def board(self):
        b = self._call("board") or {}
        release = b.get("release") or {}
        model = b.get("model") or b.get("board_name") or "unknown"
        version = " ".join(x for x in (release.get("distribution"), release.get("version"),
                                       release.get("revision")) if x)
        return {
            "vendor": model.split()[0] if model.split() else "unknown",
            "model": model,
            "serial": _serial(),
            "firmware_version": version or release.get("description") or "unknown",
            "hostname": b.get("hostname") or "",
        }

    def reboot(self):
        log.warning("rebooting the device")
        self._call("reboot")

    def sysupgrade(self, image_path, keep_settings=True):
        if not os.path.isfile(image_path):
            raise NotFound(image_path)
        check = _run([SYSUPGRADE, "-T", image_path])
        if check.returncode != 0:
            raise DeviceError("image %s refused by sysupgrade -T: %s" % (
                image_path, (check.stdout + check.stderr).strip()[-300:]))
        argv = [SYSUPGRADE] + ([] if keep_settings else ["-n"]) + [image_path]
        log.warning("flashing %s (%s settings)", image_path, "keeping" if keep_settings else "dropping")
        import subprocess

        try:
            # its own session: sysupgrade stops every service, this daemon included, then reboots
            subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
        except OSError as e:
            raise DeviceError("cannot run %s: %s" % (SYSUPGRADE, e)) from None

    def logread(self, lines=None):
        argv = [LOGREAD] + (["-l", str(int(lines))] if lines else [])
        r = _run(argv)
        if r.returncode != 0:
            raise DeviceError("logread failed: %s" % r.stderr.strip()[-300:])
        return r.stdout


def _run(argv):
    import subprocess  # only the programs need it (~0.7 MiB and 3 ms at start-up otherwise)

    try:
        return subprocess.run(argv, capture_output=True, text=True, errors="replace",
                              timeout=PROGRAM_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise DeviceError("cannot run %s: %s" % (argv[0], e)) from None


def _uci_value(v):
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (list, tuple)):
        return [_uci_value(x) for x in v]
    return str(v)


def _describe(args):
    if not args:
        return ""
    return ".".join(str(args[k]) for k in ("config", "section", "option") if k in args)


def _serial():
    """The base MAC address without colons: what most CPEs print on their label as serial."""
    base = "/sys/class/net"
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return "unknown"
    names = [n for n in ("eth0", "br-lan") if n in names] + [n for n in names if n not in ("eth0", "br-lan")]
    for name in names:
        if name == "lo":
            continue
        try:
            with open(os.path.join(base, name, "address")) as f:
                mac = f.read().strip()
        except OSError:
            continue
        if mac and mac != "00:00:00:00:00:00":
            return mac.replace(":", "").upper()
    return "unknown"
