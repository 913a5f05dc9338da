"""The daemon's configuration: one table maps every key to its UCI option.

UCI config "tr069" (/etc/config/tr069 on a device, <state>/config/tr069 on
the host). Every key has an embedded default, so a missing file or option
means the default and `make run` needs no setup. A row names, where they
exist, the OS3P configuration key (ChangeConfiguration/GetConfiguration) and
the TR-069 parameter path that address the same value.
"""

import os
import re

from . import uci
from .logger import getLogger

log = getLogger(__name__)

CONFIG_NAME = "tr069"


def _bool(value):
    if isinstance(value, bool):
        return value
    v = str(value).strip().lower()
    if v in ("1", "true", "yes", "on", "enabled"):
        return True
    if v in ("0", "false", "no", "off", "disabled"):
        return False
    raise ValueError("not a boolean: %r" % (value,))


def _int(value):
    if isinstance(value, bool):
        raise ValueError("not an integer: %r" % (value,))
    return int(str(value).strip(), 10)


def _str(value):
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ValueError("not a string: %r" % (value,))
    return str(value)


def _shown(value):
    """A given value as a user wrote it: 'banana' (quoted as in the UCI file), empty as ''."""
    return "'%s'" % value if isinstance(value, str) else repr(value)


def _uci_text(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


CONVERT = {bool: _bool, int: _int, str: _str}
# what a value of each type looks like, in the messages users see
EXPECT = {bool: "a boolean (1/0, true/false, yes/no, on/off)", int: "an integer", str: "a string"}


class Key:
    """One configuration key. (A plain class: dataclasses pulls in inspect and typing, ~1.4 MiB.)"""

    __slots__ = ("name", "section", "option", "type", "default", "os3p", "tr069", "secret", "readonly",
                 "check", "reboot")

    def __init__(self, name, section, option, type, default, os3p=None, tr069=None, secret=False,
                 readonly=False, check=None, reboot=False):
        self.name = name
        self.section = section
        self.option = option
        self.type = type
        self.default = default
        self.os3p = os3p  # OS3P configuration key name
        self.tr069 = tr069  # TR-069 (TR-181) parameter path
        self.secret = secret  # never logged, never returned by GetConfiguration
        self.readonly = readonly  # not changeable remotely
        self.check = check  # extra validation on the converted value
        self.reboot = reboot  # takes effect only after a restart

    def __repr__(self):
        return "Key(%s)" % self.name


def _expecting(expect):
    """A check on a converted value, with what it expects in words (for the messages users see)."""
    def wrap(test):
        test.expect = expect
        return test
    return wrap


@_expecting("an integer > 0")
def _positive(v):
    return v > 0


@_expecting("an integer >= 0")
def _non_negative(v):
    return v >= 0


@_expecting("an integer 0-65535 (a port number)")
def _port(v):
    return 0 <= v <= 65535


@_expecting("one of error, warning, info, debug")
def _log_level(v):
    return v in LOG_LEVELS


@_expecting("'[<latitude>, <longitude>]' or empty")
def _latlng(v):
    """OS3P latlng: "[<latitude>, <longitude>]" (or empty: not set)."""
    if v == "":
        return True
    m = re.fullmatch(r"\s*\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\]\s*", v)
    return bool(m) and abs(float(m.group(1))) <= 90 and abs(float(m.group(2))) <= 180


def _at_most(n):
    return _expecting("at most %d characters" % n)(lambda v: len(v) <= n)


LOG_LEVELS = ("error", "warning", "info", "debug")

KEYS = {k.name: k for k in [
    Key("acs.url", "acs", "url", str, "ws://127.0.0.1:9000/OS3P", tr069="Device.ManagementServer.URL"),
    Key("acs.identity", "acs", "identity", str, "SUBS001", readonly=True),
    Key("acs.username", "acs", "username", str, "", tr069="Device.ManagementServer.Username"),
    Key("acs.password", "acs", "password", str, "", tr069="Device.ManagementServer.Password", secret=True),
    Key("acs.periodic_inform_enable", "acs", "periodic_inform_enable", bool, True,
        tr069="Device.ManagementServer.PeriodicInformEnable"),
    Key("acs.periodic_inform_interval", "acs", "periodic_inform_interval", int, 300, os3p="HeartbeatInterval",
        tr069="Device.ManagementServer.PeriodicInformInterval", check=_positive),
    Key("cpe.log_level", "cpe", "log_level", str, "info", check=_log_level),
    Key("ubus.socket", "ubus", "socket", str, "/var/run/ubus/ubus.sock", readonly=True),
    # the JSON-RPC shim (bridge/jsonrpc): uhttpd's /ubus wire format, rpcd's sessions and ACLs
    Key("jsonrpc.enabled", "jsonrpc", "enabled", bool, True, readonly=True, reboot=True),
    Key("jsonrpc.listen", "jsonrpc", "listen", str, "127.0.0.1", readonly=True, reboot=True),
    Key("jsonrpc.port", "jsonrpc", "port", int, 8069, readonly=True, reboot=True,
        check=_port),
    Key("jsonrpc.session_timeout", "jsonrpc", "session_timeout", int, 300, check=_positive),
    Key("jsonrpc.call_timeout", "jsonrpc", "call_timeout", int, 60, check=_positive),
    Key("jsonrpc.login_attempts", "jsonrpc", "login_attempts", int, 5, check=_positive),
    Key("jsonrpc.acl_dir", "jsonrpc", "acl_dir", str, "/usr/share/rpcd/acl.d", readonly=True),
    Key("jsonrpc.rpcd_config", "jsonrpc", "rpcd_config", str, "", readonly=True),
    Key("jsonrpc.shadow", "jsonrpc", "shadow", str, "/etc/shadow", readonly=True),
    # the OS3P client (bridge/os3p): TLS material for wss:// (paths; verification is always on)
    Key("acs.ca_file", "acs", "ca_file", str, "", readonly=True),
    Key("acs.client_cert", "acs", "client_cert", str, "", readonly=True),
    Key("acs.client_key", "acs", "client_key", str, "", readonly=True),
    Key("os3p.enabled", "os3p", "enabled", bool, False, readonly=True, reboot=True),
    Key("os3p.ping_interval", "os3p", "ping_interval", int, 60, os3p="websocketPingInterval",
        check=_non_negative),
    Key("os3p.call_timeout", "os3p", "call_timeout", int, 30, check=_positive),
    Key("os3p.connect_timeout", "os3p", "connect_timeout", int, 10, check=_positive),
    Key("os3p.reconnect_min", "os3p", "reconnect_min", int, 2, check=_positive),
    Key("os3p.reconnect_max", "os3p", "reconnect_max", int, 300, check=_positive),
    Key("os3p.stable_after", "os3p", "stable_after", int, 60, check=_non_negative),
    Key("os3p.queue_limit", "os3p", "queue_limit", int, 1000, check=_positive),
    Key("os3p.max_message", "os3p", "max_message", int, 262144, check=_positive),
    Key("os3p.download_dir", "os3p", "download_dir", str, "/tmp", readonly=True),
    Key("os3p.station_number", "os3p", "station_number", str, "", check=_at_most(10)),
    Key("os3p.iccid", "os3p", "iccid", str, "", check=_at_most(20)),
    Key("os3p.imsi", "os3p", "imsi", str, "", check=_at_most(20)),
    Key("os3p.geolocation", "os3p", "geolocation", str, "", os3p="Geolocation", check=_latlng),
    # GetFile uploads (the request has no retries of its own, unlike UpdateFirmware)
    Key("os3p.upload_retries", "os3p", "upload_retries", int, 3, check=_positive),
    Key("os3p.upload_retry_interval", "os3p", "upload_retry_interval", int, 10, check=_non_negative),
    # station sensors (bridge/station/sensors.py); the hardware itself is in `config indicator`,
    # `config meter` + `config register` and `config threshold` sections
    Key("station.sample_interval", "station", "sample_interval", int, 900, os3p="MeterValueSampleInterval",
        check=_non_negative),
    Key("station.history_samples", "station", "history_samples", int, 3360, readonly=True, reboot=True,
        check=_positive),
    Key("station.test_timeout_ms", "station", "test_timeout_ms", int, 10000, check=_positive),
    Key("station.pulse_ms", "station", "pulse_ms", int, 1000, check=_positive),
    Key("station.settle_ms", "station", "settle_ms", int, 2000, check=_non_negative),
    Key("station.poll_ms", "station", "poll_ms", int, 200, check=_positive),
    # streetlights (bridge/station): station-wide options; the contactors are `config contactor` sections
    Key("streetlights.max_stack_level", "streetlights", "max_stack_level", int, 16,
        os3p="StreetlightProfileMaxStackLevel", check=_non_negative),
    Key("streetlights.local_switch", "streetlights", "local_switch", str, "", readonly=True, reboot=True),
    Key("streetlights.local_switch_backend", "streetlights", "local_switch_backend", str, "gpio", readonly=True,
        reboot=True, check=_expecting("one of gpio, ubus, host")(lambda v: v in ("gpio", "ubus", "host"))),
    Key("streetlights.local_switch_active_low", "streetlights", "local_switch_active_low", bool, False,
        readonly=True, reboot=True),
    Key("streetlights.local_switch_object", "streetlights", "local_switch_object", str, "", readonly=True,
        reboot=True),
    Key("streetlights.local_action", "streetlights", "local_action", str, "on", readonly=True,
        check=_expecting("one of on, off, hold")(lambda v: v in ("on", "off", "hold"))),
    Key("streetlights.feedback_timeout_ms", "streetlights", "feedback_timeout_ms", int, 2000, check=_non_negative),
    # reachability (bridge/reach): the modem, the uplinks, the CAMARA subscriptions (docs/reachability.md)
    Key("reach.enabled", "reach", "enabled", bool, True, readonly=True, reboot=True),
    Key("reach.backend", "reach", "backend", str, "auto", readonly=True, reboot=True, check=_expecting(
        "one of auto, none, modemmanager, uqmi, uqmid, umbim, host")(lambda v: v in (
            "auto", "none", "modemmanager", "uqmi", "uqmid", "umbim", "host"))),
    Key("reach.device", "reach", "device", str, "/dev/cdc-wdm0", readonly=True, reboot=True,
        check=_expecting("a /dev path")(lambda v: re.fullmatch(r"/dev/[A-Za-z0-9._/-]+", v) is not None
                                        and ".." not in v)),
    Key("reach.modem_name", "reach", "modem_name", str, "modem1", readonly=True, reboot=True,
        check=_expecting("a uqmid modem name (letters, digits, _ and -)")(
            lambda v: re.fullmatch(r"[A-Za-z0-9_-]{1,32}", v) is not None)),
    Key("reach.interfaces", "reach", "interfaces", str, "wwan", readonly=True, reboot=True,
        check=_expecting("netifd interface names separated by spaces")(
            lambda v: all(re.fullmatch(r"[A-Za-z0-9_.-]{1,15}", w) for w in v.split()))),
    Key("reach.refresh_interval", "reach", "refresh_interval", int, 60, check=_positive),
    Key("reach.debounce", "reach", "debounce", int, 3, readonly=True, reboot=True, check=_non_negative),
    Key("reach.weak_signal_rsrp", "reach", "weak_signal_rsrp", int, -110, readonly=True, reboot=True,
        check=_expecting("an RSRP in dBm, -160 to -40 (0: not judged)")(lambda v: v == 0 or -160 <= v <= -40)),
    Key("reach.weak_signal_rssi", "reach", "weak_signal_rssi", int, -95, readonly=True, reboot=True,
        check=_expecting("an RSSI in dBm, -120 to -20 (0: not judged)")(lambda v: v == 0 or -120 <= v <= -20)),
    Key("reach.weak_signal_hysteresis", "reach", "weak_signal_hysteresis", int, 5, readonly=True, reboot=True,
        check=_expecting("dB, 0-30")(lambda v: 0 <= v <= 30)),
    Key("reach.msisdn", "reach", "msisdn", str, "", readonly=True,
        check=_expecting("E.164 with a leading + (or empty)")(
            lambda v: v == "" or re.fullmatch(r"\+[1-9][0-9]{4,14}", v) is not None)),
    Key("reach.api_token", "reach", "api_token", str, "", readonly=True, secret=True,
        check=_expecting("empty, or 32 to 256 printable characters without spaces")(
            lambda v: v == "" or re.fullmatch(r"[!-~]{32,256}", v) is not None)),
    Key("reach.plain_http_sinks", "reach", "plain_http_sinks", str, "loopback private", readonly=True,
        check=_expecting("loopback, private, none or CIDR networks, separated by spaces")(
            lambda v: _reach_networks(v))),
    Key("reach.max_subscriptions", "reach", "max_subscriptions", int, 32, readonly=True,
        check=_expecting("1-256")(lambda v: 1 <= v <= 256)),
    Key("reach.sink_queue", "reach", "sink_queue", int, 64, readonly=True, reboot=True,
        check=_expecting("1-1024")(lambda v: 1 <= v <= 1024)),
    Key("reach.sink_timeout", "reach", "sink_timeout", int, 10, readonly=True, reboot=True,
        check=_expecting("1-60 seconds")(lambda v: 1 <= v <= 60)),
    Key("reach.ca_file", "reach", "ca_file", str, "", readonly=True, reboot=True),
]}


def _reach_networks(value):
    from .reach.camara import check_networks_spec

    return check_networks_spec(value)


class Problem:
    """One thing wrong in a config file: `file:line: tr069.<section>.<option>: <why>`."""

    __slots__ = ("path", "line", "where", "why", "fatal")

    def __init__(self, path, line, where, why, fatal=True):
        self.path = path
        self.line = line  # None: no line to point at
        self.where = where  # "tr069.acs.url", or None for the file as a whole
        self.why = why
        self.fatal = fatal  # False: a warning (an unknown option), the file is still used

    def __str__(self):
        at = self.path if self.line is None else "%s:%d" % (self.path, self.line)
        return "%s: %s: %s" % (at, self.where, self.why) if self.where else "%s: %s" % (at, self.why)

    def __repr__(self):
        return "Problem(%s)" % self


class ConfigError(ValueError):
    """A config refused as a whole; .problems lists every reason (str() is the first one)."""

    def __init__(self, problems):
        super().__init__(str(problems[0]))
        self.problems = problems


def _options_by_section():
    out = {}
    for k in KEYS.values():
        out.setdefault(k.section, {})[k.option] = k
    return out


def _did_you_mean(word, known):
    import difflib  # only on a mistake

    close = difflib.get_close_matches(word, list(known), n=1)
    return " (did you mean %s?)" % close[0] if close else ""


def check_override(item):
    """'KEY=VALUE' of --option -> (key name, converted value); ValueError names the key and what it expects."""
    name, eq, value = item.partition("=")
    if not eq:
        raise ValueError("--option %s: expected KEY=VALUE, e.g. --option %s=..." % (item, name or "acs.url"))
    if name not in KEYS:
        raise ValueError("--option %s: no such key%s" % (name, _did_you_mean(name, KEYS) or
                                                         " (the keys: README.md, configuration table)"))
    try:
        return name, Config.convert(KEYS[name], value)
    except ValueError as e:
        raise ValueError("--option %s: %s" % (name, e)) from None


def examine(path):
    """Parse and validate a config file -> (sections, [Problem]); sections is None when it does not parse.

    Every option of a section the table knows is converted and checked; an option the table does not
    know is a warning (not fatal). Sections the table does not name (other programs' or other modules'
    sections, anonymous lists) are left alone. A missing file is valid: every key has its default.
    """
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return [], []
    except (OSError, UnicodeDecodeError) as e:
        return None, [Problem(path, None, None, "cannot read: %s" % (getattr(e, "strerror", None) or e))]
    positions = {}
    try:
        sections = uci.parse(text, positions)
    except uci.UciError as e:
        return None, [Problem(path, e.line, None, e.reason)]
    return sections, check_sections(path, sections, positions)


# sections of a kind a feature owns, one per device, that the KEYS table cannot describe: their checker,
# "module:function(sections) -> [(section name, option or None, why)]", imported only when such a section
# exists. Their problems are warnings: the daemon runs, that device is not used.
SECTION_CHECKS = {
    "contactor": "bridge.station.streetlights:check_contactors",
    "indicator": "bridge.station.backends.gpio_indicators:check_indicators",
    "meter": "bridge.station.meter:check_meter",          # its register sections too
    "threshold": "bridge.station.alarms:threshold_problems",
}


def _section_problems(path, sections, positions):
    import importlib

    problems = []
    # an anonymous section is named as uci names it: @contactor[1]
    shown, counts = {}, {}
    for sec in sections:
        kind = sec.get(".type")
        i = counts[kind] = counts.get(kind, -1) + 1
        shown[sec[".name"]] = "@%s[%d]" % (kind, i) if sec.get(".anonymous") else sec[".name"]
    for kind, ref in SECTION_CHECKS.items():
        if not any(s.get(".type") == kind for s in sections):
            continue
        module, _, fn = ref.partition(":")
        for name, option, why in getattr(importlib.import_module(module), fn)(sections):
            line = positions.get((name, option)) or positions.get((name, None))
            where = "%s.%s%s" % (CONFIG_NAME, shown.get(name, name), "." + option if option else "")
            problems.append(Problem(path, line, where, why + "; not used", fatal=False))
    return problems


def check_sections(path, sections, positions=None):
    """The problems of sections already parsed (by us, or read through rpcd: no line numbers then)."""
    positions = positions or {}
    known = _options_by_section()
    problems = []
    for section in sections:
        options = known.get(section[".name"])
        if options is None:
            continue
        for option, value in section.items():
            if option.startswith("."):
                continue
            where = "%s.%s.%s" % (CONFIG_NAME, section[".name"], option)
            line = positions.get((section[".name"], option))
            key = options.get(option)
            if key is None:
                problems.append(Problem(path, line, where, "unknown option, ignored" + _did_you_mean(
                    option, options), fatal=False))
                continue
            try:
                Config.convert(key, value)
            except ValueError as e:
                problems.append(Problem(path, line, where, str(e)))
    return problems + _section_problems(path, sections, positions)


class Config:
    """Values from the UCI config over the embedded defaults.

    Writes are UCI's: set() records the changed option, save() hands only the changes to the writer
    (the device: rpcd's uci set/commit) or, without one, applies them to the file as it is now, under
    libuci's lock; then the config is read again, so what others changed meanwhile is seen and kept.
    """

    def __init__(self, path, writer=None, reader=None):
        self.path = path
        self.writer = writer  # writer(changes): device-backed persistence; None: bridge.uci.commit on the file
        self.reader = reader  # reader() -> sections: the device's view (rpcd); None: parse the file
        self.sections = []
        self.changes = {}  # (section, option) -> UCI text, set but not saved yet
        self.overrides = {}  # name -> value given on the command line for this run
        self.warned = set()  # unknown options already warned about: once per process, not per reload
        self.reload()

    def override(self, item):
        """Set a key for this run only from --option's 'KEY=VALUE'; ValueError as check_override."""
        name, value = check_override(item)
        self.overrides[name] = value

    def reload(self):
        """Re-read and validate the config (the file, or the device's view through the reader), dropping
        unsaved changes; raises ConfigError (every problem) when it does not parse or any value is invalid,
        OSError when it cannot be read, and then keeps every previous value. Unknown options are logged once."""
        if self.reader is not None:
            sections = self.reader()
            problems = check_sections(self.path, sections)
        else:
            sections, problems = examine(self.path)
        fatal = [p for p in problems if p.fatal]
        if fatal:
            raise ConfigError(fatal)
        for p in problems:
            if p.where not in self.warned:
                self.warned.add(p.where)
                log.warning("%s", p)
        self.sections = sections
        self.changes = {}

    def raw(self, key: Key):
        section = uci.find(self.sections, key.section)
        return None if section is None else section.get(key.option)

    def given(self, name):
        """True when the key is set, in the file or by --option (not only its default)."""
        return name in self.overrides or self.raw(KEYS[name]) is not None

    def get(self, name):
        if name in self.overrides:
            return self.overrides[name]
        key = KEYS[name]
        value = self.raw(key)
        if value is None:
            return key.default
        try:
            return self.convert(key, value)
        except ValueError as e:
            log.warning("config %s.%s: %s; using the default", key.section, key.option, e)
            return key.default

    @staticmethod
    def convert(key: Key, value):
        """-> the value as key.type; ValueError says what was expected and what was given."""
        expect = key.check.expect if key.check is not None else EXPECT[key.type]
        if isinstance(value, list):
            raise ValueError("expected %s, got a list (use option, not list)" % expect)
        try:
            v = CONVERT[key.type](value)
        except ValueError:
            raise ValueError("expected %s, got %s" % (expect, _shown(value))) from None
        if key.check is not None and not key.check(v):
            raise ValueError("expected %s, got %s" % (expect, _shown(value)))
        return v

    def set(self, name, value):
        """Validate, convert and store in memory; save() persists. Raises ValueError."""
        key = KEYS[name]
        v = self.convert(key, value)
        section = uci.find(self.sections, key.section)
        if section is None:
            section = {".type": key.section, ".name": key.section, ".anonymous": False}
            self.sections.append(section)
        section[key.option] = _uci_text(v)
        self.changes[(key.section, key.option)] = _uci_text(v)
        return v

    def save(self):
        """Write the changed options only; raises OSError (the changes stay pending) when it cannot."""
        changes = [(sec, sec, opt, value) for (sec, opt), value in self.changes.items()]
        if not changes:
            return
        if self.writer is not None:
            self.writer(changes)
            self.changes = {}
            try:
                self.reload()
            except (OSError, ValueError) as e:
                log.warning("config re-read after a write failed: %s", e)
        else:
            self.sections = uci.commit(self.path, changes)
            self.changes = {}

    @staticmethod
    def by_os3p(name):
        return next((k for k in KEYS.values() if k.os3p == name), None)

    @staticmethod
    def by_tr069(path):
        if path.startswith("InternetGatewayDevice."):
            path = "Device." + path[len("InternetGatewayDevice."):]
        return next((k for k in KEYS.values() if k.tr069 == path), None)

    def describe(self, name):
        """Value for logs and reports: secrets are masked."""
        key = KEYS[name]
        return "********" if key.secret and self.get(name) else self.get(name)


def markdown_table():
    """The README's configuration table, from KEYS (python -m bridge.config --readme rewrites it)."""
    rows = ["| UCI option | type | default | OS3P key | TR-069 path | notes |",
            "| --- | --- | --- | --- | --- | --- |"]
    for k in KEYS.values():
        notes = ", ".join(n for n, on in (("secret", k.secret), ("not remotely changeable", k.readonly),
                                          ("needs a restart", k.reboot)) if on)
        default = _uci_text(k.default) if k.default != "" else "(empty)"
        rows.append("| `%s.%s` | %s | `%s` | %s | %s | %s |" % (
            k.section, k.option, k.type.__name__, default, k.os3p or "", k.tr069 or "", notes))
    return "\n".join(rows) + "\n"


README_MARK = "<!-- config-table: generated from bridge/config.py KEYS; tests/test_readme.py keeps it true -->\n"


def rewrite_readme(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    head, mark, rest = text.partition(README_MARK)
    if not mark:
        raise SystemExit("no config-table mark in %s" % path)
    tail = rest[rest.index("\n\n") + 1:] if rest.startswith("|") else rest
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + mark + markdown_table() + ("\n" if not tail.startswith("\n") else "") + tail)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--readme"]:
        rewrite_readme(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md"))
    else:
        sys.stdout.write(markdown_table())
