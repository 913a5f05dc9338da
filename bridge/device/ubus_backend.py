"""The real device: UCI through rpcd's `uci` object, the system through procd's `system` object,
firmware and logs through the `sysupgrade` and `logread` programs.

UCI writes are LuCI's: an rpcd session of our own (so edits others staged but did not commit are
neither seen nor committed by us), `set`/`delete`/`add` of the changed options only, `commit`, and the
session destroyed. rpcd's commit re-reads the file and applies the session's delta, so whatever others
committed meanwhile stays; it also tells procd (`service event config.change`), whose reload trigger
makes the daemon re-read its configuration. Without rpcd the `uci` program does the same; without
either, the file is changed as `uci commit` would (bridge.uci.commit).

What the device lacks (procd's `system`, logd's `log`, rpcd's `uci`, the `sysupgrade` and `logread`
programs) is found once, at the first operation, and logged once. Board facts then come from
/etc/openwrt_release, /tmp/sysinfo and /proc; an operation that needs what is missing raises
NotSupported at once instead of timing out.

Each operation opens its own short-lived ubus connection, as one `ubus call` does: nothing is held
open between operations and a ubusd restart costs nothing. The calls go to rpcd and procd, never to
our own objects, so a call made on the loop thread cannot wait on itself.

sysupgrade runs as the `sysupgrade` program rather than `ubus call system sysupgrade`: the program
checks the image (`sysupgrade -T`, so a bad image is reported here instead of half-flashing) and
saves and restores the settings itself (`-n` to drop them), where the ubus method wants a backup
archive built beforehand and leaves the image check to its caller.
"""

import contextlib
import os

from .. import ubusmsg as st
from .. import uci
from ..logger import getLogger
from ..ubus import client
from .base import Device, DeviceError, NotFound, NotSupported

log = getLogger(__name__)

ENV_SOCKET = "TR069_UBUS_SOCKET"
CALL_TIMEOUT = 10.0
# what each operation asks of which ubus object: one row per operation
CALLS = {
    "uci_get": ("uci", "get"),
    "uci_set": ("uci", "set"),
    "uci_add": ("uci", "add"),
    "uci_delete": ("uci", "delete"),
    "uci_commit": ("uci", "commit"),
    "session_create": ("session", "create"),
    "session_grant": ("session", "grant"),
    "session_destroy": ("session", "destroy"),
    "board": ("system", "board"),
    "reboot": ("system", "reboot"),
    "validate_firmware": ("system", "validate_firmware_image"),
}
SYSUPGRADE = "sysupgrade"
LOGREAD = "logread"
UCI_CLI = "uci"
PROGRAM_TIMEOUT = 60.0
SESSION_TIMEOUT = 30  # our rpcd session lives for one write; destroyed at once, this is the safety net

# facility -> (how it is found, what goes without it): one row per facility
FACILITIES = {
    "system": ("ubus", "procd's system object: board facts from files; Reset and UpdateFirmware refused"),
    "log": ("ubus", "logd's log object: GetFile Syslog refused"),
    "uci": ("ubus", "rpcd's uci object: configuration written with the uci program, or the file"),
    "sysupgrade": ("program", "UpdateFirmware refused"),
    "logread": ("program", "GetFile Syslog refused"),
}
# operation -> the facilities it cannot do without
NEEDS = {
    "reboot": ("system",),
    "validate_firmware": ("system",),
    "sysupgrade": ("system", "sysupgrade"),
    "logread": ("log", "logread"),
}


class UbusDevice(Device):
    backend = "ubus"

    def __init__(self, state_dir=None, socket=None, config_dir=None, timeout=CALL_TIMEOUT, root="/", **_options):
        self.state_dir = state_dir
        self.socket = socket or os.environ.get(ENV_SOCKET) or None  # None: libubus's default path
        # libuci's UCI_CONFDIR, where rpcd and the uci program read (TR069_UCI_CONFDIR for a non-standard build)
        self.config_dir = config_dir or os.environ.get("TR069_UCI_CONFDIR") or "/etc/config"
        self.timeout = timeout
        self.root = root  # where /etc, /tmp and /proc are: "/" on a device, a laid-out directory in tests
        self._missing = None

    # --- what the device has -------------------------------------------------------------------
    def missing(self):
        if self._missing is None:
            self._missing = self._probe()
            for name, what in self._missing.items():
                log.warning("missing on this device: %s (%s)", name, what)
        return self._missing

    def _probe(self):
        try:
            with client.Client(self.socket, self.timeout) as c:
                objects = {o["path"] for o in c.lookup()}
        except client.UbusError as e:
            log.warning("ubusd does not answer (%s): every ubus facility counts as missing", e)
            objects = set()
        out = {}
        for name, (kind, what) in FACILITIES.items():
            found = name in objects if kind == "ubus" else _which(name) is not None
            if not found:
                out[name] = what
        return out

    def has(self, facility):
        return facility not in self.missing()

    def supports(self, op):
        """None when `op` can be done here, else what is missing (for a refusal)."""
        lacking = [n for n in NEEDS.get(op, ()) if not self.has(n)]
        return ", ".join(lacking) + " missing on this device" if lacking else None

    def _need(self, op):
        why = self.supports(op)
        if why:
            raise NotSupported(why)

    # --- plumbing ----------------------------------------------------------------------------
    def _call(self, op, args=None, conn=None):
        obj, method = CALLS[op]
        try:
            if conn is not None:
                code, data = conn.call(obj, method, args)
            else:
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

    def uci_sections(self, config):
        if self.has("uci"):
            return self._read_rpcd(config)
        if _which(UCI_CLI):
            r = _run([UCI_CLI, "-c", self.config_dir, "export", config])
            if r.returncode != 0:
                return []   # "Entry not found": no such config
            return uci.parse(r.stdout)
        return uci.load(self.config_path(config))

    def uci_apply(self, config, changes):
        changes = list(changes)
        if not changes:
            return
        if self.has("uci"):
            return self._apply_rpcd(config, changes)
        if _which(UCI_CLI):
            return self._apply_cli(config, changes)
        uci.commit(self.config_path(config), changes)

    @contextlib.contextmanager
    def _rpcd(self, config):
        """One connection and a session of our own for `config`, destroyed after: (connection, base args)."""
        with client.Client(self.socket, self.timeout) as conn:
            c = _Connection(conn)
            sid = self._session(c, config)
            base = {"config": config}
            if sid:
                base["ubus_rpc_session"] = sid
            try:
                yield c, base
            finally:
                if sid:
                    try:
                        self._call("session_destroy", {"ubus_rpc_session": sid}, c)
                    except (DeviceError, NotFound):
                        pass

    def _read_rpcd(self, config):
        with self._rpcd(config) as (c, base):
            try:
                values = (self._call("uci_get", base, c) or {}).get("values") or {}
            except NotFound:
                return []
        items = sorted(values.items(), key=lambda kv: kv[1].get(".index", 0))
        return [{k: v for k, v in dict(sec, **{".name": sec.get(".name", name)}).items() if k != ".index"}
                for name, sec in items]

    def _apply_rpcd(self, config, changes):
        try:
            with self._rpcd(config) as (c, base):
                for section, stype, options in _by_section(changes):
                    if options is None:
                        self._call("uci_delete", dict(base, section=section), c)
                        continue
                    gone = [k for k, v in options.items() if v is None]
                    values = {k: _uci_value(v) for k, v in options.items() if v is not None}
                    if gone:
                        self._call("uci_delete", dict(base, section=section, options=gone), c)
                    if values:
                        try:
                            self._call("uci_set", dict(base, section=section, values=values), c)
                        except NotFound:  # a section nobody made yet: add it, named, as LuCI does
                            self._call("uci_add", dict(base, type=stype or section, name=section,
                                                       values=values), c)
                self._call("uci_commit", base, c)
        except NotFound as e:
            raise DeviceError("uci: %s not found" % e) from None

    def _session(self, conn, config):
        """A session that may read and write `config` only, as LuCI's: it sees the committed file, not
        what others staged, and commits only its own changes. None if rpcd has no session object."""
        try:
            sid = (self._call("session_create", {"timeout": SESSION_TIMEOUT}, conn) or {}).get("ubus_rpc_session")
            if sid:
                self._call("session_grant", {"ubus_rpc_session": sid, "scope": "uci",
                                             "objects": [[config, "read"], [config, "write"]]}, conn)
            return sid
        except (DeviceError, NotFound) as e:
            log.info("no rpcd session for uci (%s): going without one", e)
            return None

    def _apply_cli(self, config, changes):
        present = {s[".name"] for s in self.uci_sections(config)}
        cmds = []
        for section, stype, options in _by_section(changes):
            ref = "%s.%s" % (config, section)
            if options is None:
                if section in present:
                    cmds.append(["delete", ref])
                continue
            if section not in present:
                cmds.append(["set", "%s=%s" % (ref, stype or section)])
                present.add(section)
            for k, v in options.items():
                if v is None or isinstance(v, (list, tuple)):
                    cmds.append(["-q", "delete", "%s.%s" % (ref, k)])
                if isinstance(v, (list, tuple)):
                    cmds.extend(["add_list", "%s.%s=%s" % (ref, k, _uci_value(x))] for x in v)
                elif v is not None:
                    cmds.append(["set", "%s.%s=%s" % (ref, k, _uci_value(v))])
        cmds.append(["commit", config])
        for cmd in cmds:
            r = _run([UCI_CLI, "-c", self.config_dir] + cmd)
            if r.returncode != 0 and cmd[0] != "-q":
                raise DeviceError("uci %s: %s" % (" ".join(cmd[:1]), (r.stderr or r.stdout).strip()[-300:]))

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
        """procd's `system board` merged with the files field by field: procd's answer where it has the
        field, the files (what procd and rpcd-mod-system read) for each one it leaves out (an x86 image
        without /tmp/sysinfo answers no model), so no field is `unknown` that a file on the device holds."""
        b = {}
        if self.has("system"):
            try:
                b = self._call("board") or {}
            except (DeviceError, NotFound) as e:
                log.warning("system board failed (%s): board facts from files", e)
        if not isinstance(b, dict):
            b = {}
        if not all(b.get(k) for k in ("model", "hostname")) or not all(
                (b.get("release") or {}).get(k) for k in ("distribution", "version", "revision")):
            files = _board_from_files(self.root)
            release = dict(files.get("release") or {})
            release.update({k: v for k, v in (b.get("release") or {}).items() if v})
            b = dict(files, **{k: v for k, v in b.items() if v and k != "release"})
            b["release"] = release
        release = b.get("release") or {}
        model = b.get("model") or b.get("board_name") or "unknown"
        version = " ".join(x for x in (release.get("distribution"), release.get("version"),
                                       release.get("revision")) if x)
        return {
            "vendor": model.split()[0] if model.split() else "unknown",
            "model": model,
            "serial": _serial(os.path.join(self.root, "sys/class/net")),
            "firmware_version": version or release.get("description") or "unknown",
            "hostname": b.get("hostname") or "",
        }

    def reboot(self):
        self._need("reboot")
        log.warning("rebooting the device")
        self._call("reboot")

    def validate_firmware(self, image_path):
        """procd's verdict (`system validate_firmware_image`: fwtool metadata, device match, format)."""
        self._need("validate_firmware")
        if not os.path.isfile(image_path):
            raise NotFound(image_path)
        data = self._call("validate_firmware", {"path": image_path}) or {}
        if data.get("valid") is not True:
            failed = sorted(k for k, v in (data.get("tests") or {}).items() if v is not True)
            raise DeviceError("image %s refused by validate_firmware_image%s" % (
                image_path, ": failed " + ", ".join(failed) if failed else ""))

    def sysupgrade(self, image_path, keep_settings=True):
        self._need("sysupgrade")
        if not os.path.isfile(image_path):
            raise NotFound(image_path)
        check = _run([SYSUPGRADE, "-T", image_path])
        if check.returncode != 0:
            raise DeviceError("image %s refused by sysupgrade -T: %s" % (
                image_path, (check.stdout + check.stderr).strip()[-300:]))
        argv = [SYSUPGRADE] + ([] if keep_settings else ["-n"]) + [image_path]
        log.warning("flashing %s (%s settings)", image_path, "keeping" if keep_settings else "dropping")
        try:
            # its own session: sysupgrade stops every service, this daemon included, then reboots
            import subprocess

            subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
        except OSError as e:
            raise DeviceError("cannot run %s: %s" % (SYSUPGRADE, e)) from None

    def logread(self, lines=None):
        self._need("logread")
        argv = [LOGREAD] + (["-l", str(int(lines))] if lines else [])
        r = _run(argv)
        if r.returncode != 0:
            raise DeviceError("logread failed: %s" % r.stderr.strip()[-300:])
        return r.stdout


def _cpuinfo_model(text):
    """What /proc/cpuinfo calls the machine: `machine` (ARM, MIPS boards), `system type` (MIPS), else the CPU."""
    fields = {}
    for line in text.splitlines():
        key, colon, value = line.partition(":")
        if colon:
            fields.setdefault(key.strip().lower(), value.strip())
    return fields.get("machine") or fields.get("system type") or fields.get("model name") or ""


def _board_from_files(root):
    """What `system board` answers, from the files procd reads it from (rpcd-mod-system does the same)."""
    def read(rel):
        try:
            with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
                return f.read().strip()
        except OSError:
            return ""

    release = {}
    # procd reads /usr/lib/os-release; older images and rpcd-mod-system read /etc/openwrt_release
    for rel, names in RELEASE_FILES:
        for line in read(rel).splitlines():
            key, eq, value = line.partition("=")
            if eq and names.get(key.strip()) and not release.get(names[key.strip()]):
                release[names[key.strip()]] = value.strip().strip("'\"")
    model = read("tmp/sysinfo/model") or read("proc/device-tree/model").rstrip("\0") or _cpuinfo_model(
        read("proc/cpuinfo"))
    if not release.get("distribution") and read("proc/sys/kernel/osrelease"):
        release["description"] = "Linux " + read("proc/sys/kernel/osrelease")  # not even a distribution: the kernel
    return {
        "model": model,
        "board_name": read("tmp/sysinfo/board_name"),
        "hostname": read("proc/sys/kernel/hostname"),
        "kernel": read("proc/sys/kernel/osrelease"),
        "release": release,
    }


RELEASE_FILES = (
    ("usr/lib/os-release", {"NAME": "distribution", "VERSION": "version", "BUILD_ID": "revision",
                            "OPENWRT_BOARD": "target", "OPENWRT_RELEASE": "description"}),
    ("etc/openwrt_release", {"DISTRIB_ID": "distribution", "DISTRIB_RELEASE": "version",
                             "DISTRIB_REVISION": "revision", "DISTRIB_TARGET": "target",
                             "DISTRIB_DESCRIPTION": "description"}),
)


def _which(name):
    """shutil.which for a program name: shutil (and the bz2 and lzma it imports) costs start-up time
    and RAM for this one lookup."""
    if os.sep in name:
        return name if os.access(name, os.X_OK) and not os.path.isdir(name) else None
    for d in os.environ.get("PATH", os.defpath).split(os.pathsep):
        path = os.path.join(d or ".", name)
        if os.access(path, os.X_OK) and not os.path.isdir(path):
            return path
    return None


def _run(argv):
    import subprocess  # only the programs need it

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


class _Connection:
    """One ubus connection for several calls: each object is looked up once, not before every call."""

    def __init__(self, conn):
        self.conn = conn
        self.ids = {}

    def call(self, path, method, args=None):
        if path not in self.ids:
            code, oid = self.conn.lookup_id(path)
            if code != st.OK or oid is None:
                return (code if code != st.OK else st.NOT_FOUND), None
            self.ids[path] = oid
        return self.conn.invoke(self.ids[path], method, args)


def _by_section(changes):
    """[(section, type, {option: value or None} or None to delete the section)] in first-seen order."""
    out = {}
    for section, stype, option, value in changes:
        if option is None:
            out[section] = (stype, None if value is None else {})
            continue
        prev = out.get(section)
        opts = prev[1] if prev and prev[1] is not None else {}
        opts[option] = value
        out[section] = (stype, opts)
    return [(sec, stype, opts) for sec, (stype, opts) in out.items()]


def _describe(args):
    if not args:
        return ""
    return ".".join(str(args[k]) for k in ("config", "section", "option") if k in args)


def _serial(base="/sys/class/net"):
    """The base MAC address without colons: what most CPEs print on their label as serial."""
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
