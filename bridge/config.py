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


# --- one validator per value ----------------------------------------------------------------------
# Every key's value goes through its key's parse function on every way in (ChangeConfiguration, the
# start-up reader, a reload, `tr069-bridge check`, --option, the TR-069 and model bindings) and nothing is
# written to UCI before it passed. A parse function takes what was given (UCI text, or a number or boolean
# from JSON) and returns the value as its type, or raises ValueError saying what it expects; it carries
# .type (bool, int or str) and .expect (those words). Numbers are ASCII digits only, never a '+', a
# space, an underscore or another script's digits; one leading '-' only where the key's range holds
# negative values (dBm thresholds); and each has a range a station can live with: a
# value a timer, a loop or a modulo cannot hold never gets in. Text is one UCI line (no line break, NUL
# or other control character), of a bounded length.

MAX_DIGITS = 12  # longer than any key's upper bound: refused before it is converted


def _parser(type_, expect):
    def wrap(parse):
        parse.type = type_
        parse.expect = expect
        return parse
    return wrap


def _refuse(parse, value):
    raise ValueError("expected %s, got %s" % (parse.expect, _shown(value)))


def boolean():
    """1/0, true/false, yes/no, on/off, enabled/disabled (as libuci's users read them), any case."""
    @_parser(bool, "a boolean (1/0, true/false, yes/no, on/off)")
    def parse(value):
        if isinstance(value, bool):
            return value
        v = value.lower() if isinstance(value, str) else None
        if v in ("1", "true", "yes", "on", "enabled"):
            return True
        if v in ("0", "false", "no", "off", "disabled"):
            return False
        _refuse(parse, value)
    return parse


def integer(low, high, expect=None):
    """An integer low..high: a JSON number, or ASCII digits (no '+', space or separator), after one leading
    '-' exactly when the range holds negative values (low < 0): '-110' for a threshold in dBm."""
    @_parser(int, expect or ("an integer %d to %d" if low < 0 else "an integer %d-%d") % (low, high))
    def parse(value):
        if isinstance(value, int) and not isinstance(value, bool):
            v = value
        elif isinstance(value, str) and _digits(value[1:] if low < 0 and value[:1] == "-" else value):
            v = int(value)
        else:
            _refuse(parse, value)
        if not low <= v <= high:
            _refuse(parse, value)
        return v
    return parse


def _digits(text):
    return 0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit()


def _no_surrogate(v):
    # what `option name 'value'` holds on one line, and what a log line or a reply can show
    return not any(c < " " or c == "\x7f" or "\ud800" <= c <= "\udfff" for c in v)


def text(max_length=255, test=None, expect=None):
    """One line of at most max_length characters; test(v), when given, must hold as well."""
    @_parser(str, expect or "a string of one line, at most %d characters" % max_length)
    def parse(value):
        if not isinstance(value, str) or len(value) > max_length or not _no_surrogate(value):
            _refuse(parse, value)
        if test is not None and not test(value):
            _refuse(parse, value)
        return value
    return parse


def choice(*words):
    return text(max(map(len, words)), lambda v: v in words, "one of %s" % ", ".join(words))


def _shown(value):
    """A given value as a user wrote it: 'banana' (quoted as in the UCI file), empty as ''; a long one cut."""
    if isinstance(value, str):
        cut = value if len(value) <= 40 else value[:40] + "..."
        return "'%s'" % cut if cut.isprintable() else ascii(cut)  # a line break shown as \\n, not made
    if isinstance(value, list):
        return "a list (use option, not list)"
    return repr(value)[:40]


def _uci_text(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


_LATLNG = None


def parse_latlng(value):
    """OS3P latlng "[<latitude>, <longitude>]" -> (lat, lon), None when empty; ValueError otherwise.
    ASCII digits, spaces around the numbers (never a line break); |lat| <= 90, |lon| <= 180."""
    global _LATLNG
    if value == "":
        return None
    if _LATLNG is None:
        _LATLNG = re.compile(r" *\[ *(-?[0-9]{1,3}(?:\.[0-9]{1,12})?) *, *(-?[0-9]{1,3}(?:\.[0-9]{1,12})?) *\] *",
                             re.ASCII)
    m = _LATLNG.fullmatch(value) if isinstance(value, str) else None
    if not m or abs(float(m.group(1))) > 90 or abs(float(m.group(2))) > 180:
        raise ValueError("latlng is \"[<latitude>, <longitude>]\", |latitude| <= 90, |longitude| <= 180: %s"
                         % _shown(value))
    return float(m.group(1)), float(m.group(2))


def _latlng(v):
    try:
        parse_latlng(v)
    except ValueError:
        return False
    return True


class Key:
    """One configuration key. (A plain class: dataclasses pulls in inspect and typing, ~1.4 MiB.)

    parse is the key's validator, made by boolean(), integer(low, high), text(...) or choice(...): the one
    function every way in calls. A new key declares its type and range there and nowhere else."""

    __slots__ = ("name", "section", "option", "parse", "default", "os3p", "tr069", "secret", "readonly",
                 "reboot")

    def __init__(self, name, section, option, parse, default, os3p=None, tr069=None, secret=False,
                 readonly=False, reboot=False):
        self.name = name
        self.section = section
        self.option = option
        self.parse = parse
        self.default = parse(default)  # a default its own validator refuses is a bug: found at import
        self.os3p = os3p  # OS3P configuration key name
        self.tr069 = tr069  # TR-069 (TR-181) parameter path
        self.secret = secret  # never logged, never returned by GetConfiguration
        self.readonly = readonly  # not changeable remotely
        self.reboot = reboot  # takes effect only after a restart

    @property
    def type(self):
        return self.parse.type

    def __repr__(self):
        return "Key(%s)" % self.name


LOG_LEVELS = ("error", "warning", "info", "debug")
DAY = 86400
# the TR-106 vendor prefix of the station's own TR-181 names (X_<VENDOR>_; docs/parameters.md says why this one)
VENDOR = "X_TR069-BRIDGE_"
URL, PATH = text(512), text(255)

def _networks(value):
    """reach.plain_http_sinks: loopback, private, none or CIDR networks (bridge/reach/camara.py reads it)."""
    for word in value.split():
        if word in ("none", "loopback", "private"):
            continue
        import ipaddress  # only for a network given (not for the default: every process checks that)

        try:
            ipaddress.ip_network(word, strict=False)
        except ValueError:
            return False
    return True


KEYS = {k.name: k for k in [
    Key("acs.url", "acs", "url", URL, "ws://127.0.0.1:9000/OS3P", tr069="Device.ManagementServer.URL"),
    Key("acs.identity", "acs", "identity", text(64), "SUBS001", readonly=True,
        tr069="Device.ManagementServer.%sIdentity" % VENDOR),
    Key("acs.username", "acs", "username", text(128), "", tr069="Device.ManagementServer.Username"),
    Key("acs.password", "acs", "password", text(256), "", tr069="Device.ManagementServer.Password", secret=True),
    Key("acs.periodic_inform_enable", "acs", "periodic_inform_enable", boolean(), True,
        tr069="Device.ManagementServer.PeriodicInformEnable"),
    # a week: a heartbeat rarer than that is a station nobody hears of
    Key("acs.periodic_inform_interval", "acs", "periodic_inform_interval", integer(1, 7 * DAY), 300,
        os3p="HeartbeatInterval", tr069="Device.ManagementServer.PeriodicInformInterval"),
    Key("cpe.log_level", "cpe", "log_level", choice(*LOG_LEVELS), "info"),
    Key("ubus.socket", "ubus", "socket", PATH, "/var/run/ubus/ubus.sock", readonly=True),
    # the JSON-RPC shim (bridge/jsonrpc): uhttpd's /ubus wire format, rpcd's sessions and ACLs
    Key("jsonrpc.enabled", "jsonrpc", "enabled", boolean(), True, readonly=True, reboot=True),
    Key("jsonrpc.listen", "jsonrpc", "listen", text(64), "127.0.0.1", readonly=True, reboot=True),
    Key("jsonrpc.port", "jsonrpc", "port", integer(0, 65535, "an integer 0-65535 (a port number)"), 8069,
        readonly=True, reboot=True),
    Key("jsonrpc.session_timeout", "jsonrpc", "session_timeout", integer(1, DAY), 300),
    Key("jsonrpc.call_timeout", "jsonrpc", "call_timeout", integer(1, 3600), 60),
    Key("jsonrpc.login_attempts", "jsonrpc", "login_attempts", integer(1, 1000), 5),
    Key("jsonrpc.acl_dir", "jsonrpc", "acl_dir", PATH, "/usr/share/rpcd/acl.d", readonly=True),
    Key("jsonrpc.rpcd_config", "jsonrpc", "rpcd_config", PATH, "", readonly=True),
    Key("jsonrpc.shadow", "jsonrpc", "shadow", PATH, "/etc/shadow", readonly=True),
    # the OS3P client (bridge/os3p): TLS material for wss:// (paths; verification is always on)
    Key("acs.ca_file", "acs", "ca_file", PATH, "", readonly=True),
    Key("acs.client_cert", "acs", "client_cert", PATH, "", readonly=True),
    Key("acs.client_key", "acs", "client_key", PATH, "", readonly=True),
    Key("os3p.enabled", "os3p", "enabled", boolean(), False, readonly=True, reboot=True),
    # Basic credentials over plain ws:// are the operator's explicit choice (spec 5.1), never a remote one
    Key("os3p.allow_insecure_auth", "os3p", "allow_insecure_auth", boolean(), False, readonly=True),
    Key("os3p.ping_interval", "os3p", "ping_interval", integer(0, DAY), 60, os3p="websocketPingInterval",
        tr069="Device.ManagementServer.%sWebsocketPingInterval" % VENDOR),
    Key("os3p.call_timeout", "os3p", "call_timeout", integer(1, 3600), 30),
    Key("os3p.connect_timeout", "os3p", "connect_timeout", integer(1, 3600), 10),
    Key("os3p.reconnect_min", "os3p", "reconnect_min", integer(1, 3600), 2),
    Key("os3p.reconnect_max", "os3p", "reconnect_max", integer(1, DAY), 300),
    Key("os3p.stable_after", "os3p", "stable_after", integer(0, DAY), 60),
    Key("os3p.queue_limit", "os3p", "queue_limit", integer(1, 10000), 1000),  # outbox entries (a file each)
    Key("os3p.max_message", "os3p", "max_message", integer(1024, 16 * 1024 * 1024), 262144),
    Key("os3p.download_dir", "os3p", "download_dir", PATH, "/tmp", readonly=True),
    Key("os3p.station_number", "os3p", "station_number", text(10), ""),
    Key("os3p.iccid", "os3p", "iccid", text(20), ""),
    Key("os3p.imsi", "os3p", "imsi", text(20), ""),
    # MeterValues: BoardTemperature (spec table 1) is not in the printed schema's enum; a central system that
    # validates strictly refuses a message carrying it (schemas/os3p/DEVIATIONS.md item 7)
    Key("os3p.send_board_temperature", "os3p", "send_board_temperature", boolean(), False),
    Key("os3p.geolocation", "os3p", "geolocation",
        text(64, _latlng, "'[<latitude>, <longitude>]' or empty"), "", os3p="Geolocation",
        tr069="Device.%sStreetlight.Geolocation" % VENDOR),
    # GetFile uploads (the request has no retries of its own, unlike UpdateFirmware)
    Key("os3p.upload_retries", "os3p", "upload_retries", integer(1, 10), 3),
    Key("os3p.upload_retry_interval", "os3p", "upload_retry_interval", integer(0, 3600), 10),
    # station sensors (bridge/station/sensors.py); the hardware itself is in `config indicator`,
    # `config meter` + `config register` and `config threshold` sections
    Key("station.sample_interval", "station", "sample_interval", integer(0, DAY), 900,
        os3p="MeterValueSampleInterval", tr069="Device.%sMeterSampleInterval" % VENDOR),
    # a year of 15-minute samples (164 bytes each with a full meter: 5.7 MB on flash)
    Key("station.history_samples", "station", "history_samples", integer(1, 35040), 3360, readonly=True,
        reboot=True),
    Key("station.test_timeout_ms", "station", "test_timeout_ms", integer(1, 600000), 10000),
    Key("station.pulse_ms", "station", "pulse_ms", integer(1, 60000), 1000),
    Key("station.settle_ms", "station", "settle_ms", integer(0, 600000), 2000),
    Key("station.poll_ms", "station", "poll_ms", integer(1, 60000), 200),
    # streetlights (bridge/station): station-wide options; the contactors are `config contactor` sections.
    # The stack level bounds the profiles kept per contactor (and on flash): 64 is far past any schedule.
    Key("streetlights.max_stack_level", "streetlights", "max_stack_level", integer(0, 64), 16,
        os3p="StreetlightProfileMaxStackLevel", tr069="Device.%sStreetlight.ProfileMaxStackLevel" % VENDOR),
    Key("streetlights.local_switch", "streetlights", "local_switch", text(64), "", readonly=True, reboot=True),
    Key("streetlights.local_switch_backend", "streetlights", "local_switch_backend", choice("gpio", "ubus", "host"),
        "gpio", readonly=True, reboot=True),
    Key("streetlights.local_switch_active_low", "streetlights", "local_switch_active_low", boolean(), False,
        readonly=True, reboot=True),
    Key("streetlights.local_switch_object", "streetlights", "local_switch_object", text(64), "", readonly=True,
        reboot=True),
    Key("streetlights.local_action", "streetlights", "local_action", choice("on", "off", "hold"), "on",
        readonly=True, tr069="Device.%sStreetlight.LocalAction" % VENDOR),
    Key("streetlights.feedback_timeout_ms", "streetlights", "feedback_timeout_ms", integer(0, 600000), 2000),
    # reachability (bridge/reach, docs/reachability.md): the modem, the uplinks, the CAMARA subscriptions
    Key("reach.enabled", "reach", "enabled", boolean(), True, readonly=True, reboot=True),
    Key("reach.backend", "reach", "backend", choice("auto", "none", "modemmanager", "uqmi", "uqmid", "umbim", "host"),
        "auto", readonly=True, reboot=True),
    Key("reach.device", "reach", "device", text(64, lambda v: re.fullmatch(r"/dev/[A-Za-z0-9._/-]+", v) is not None
                                                 and ".." not in v, "a /dev path"),
        "/dev/cdc-wdm0", readonly=True, reboot=True),
    Key("reach.modem_name", "reach", "modem_name", text(32, lambda v: re.fullmatch(r"[A-Za-z0-9_-]+", v) is not None,
                                                         "a uqmid modem name (letters, digits, _ and -)"),
        "modem1", readonly=True, reboot=True),
    Key("reach.interfaces", "reach", "interfaces",
        text(128, lambda v: all(re.fullmatch(r"[A-Za-z0-9_.-]{1,15}", w) for w in v.split()),
             "netifd interface names separated by spaces (empty: every interface)"), "wwan", readonly=True, reboot=True),
    Key("reach.refresh_interval", "reach", "refresh_interval", integer(5, DAY), 60),
    Key("reach.debounce", "reach", "debounce", integer(0, 600), 3, readonly=True, reboot=True),
    # signal thresholds in dBm with their sign, as modems report them (0: that measure is not judged);
    # (RSRP as 3GPP TS 36.133 reports it goes down to -156 dBm; an RSSI below -120 dBm carries nothing)
    Key("reach.weak_signal_rsrp", "reach", "weak_signal_rsrp", integer(-156, 0, "dBm with its sign, "
                                                                             "-156 to 0 (0: not judged)"),
        -110, readonly=True, reboot=True),
    Key("reach.weak_signal_rssi", "reach", "weak_signal_rssi", integer(-120, 0, "dBm with its sign, "
                                                                             "-120 to 0 (0: not judged)"),
        -95, readonly=True, reboot=True),
    Key("reach.weak_signal_hysteresis", "reach", "weak_signal_hysteresis", integer(0, 30), 5, readonly=True,
        reboot=True),
    Key("reach.msisdn", "reach", "msisdn", text(16, lambda v: v == "" or re.fullmatch(r"\+[1-9][0-9]{4,14}", v)
                                                 is not None, "E.164 with a leading + (or empty)"), "",
        readonly=True),
    Key("reach.api_token", "reach", "api_token", text(256, lambda v: v == "" or re.fullmatch(r"[!-~]{32,256}", v)
                                                       is not None, "empty, or 32 to 256 printable characters "
                                                                    "without spaces"), "", readonly=True, secret=True),
    # the CAMARA API's own HTTP server (on a device as on the host; loopback unless configured)
    Key("reach.api_enabled", "reach", "api_enabled", boolean(), True, readonly=True, reboot=True),
    Key("reach.api_listen", "reach", "api_listen", text(64), "127.0.0.1", readonly=True, reboot=True),
    Key("reach.api_port", "reach", "api_port", integer(0, 65535, "an integer 0-65535 (a port number; 0: any)"),
        8070, readonly=True, reboot=True),
    Key("reach.plain_http_sinks", "reach", "plain_http_sinks",
        text(255, _networks, "loopback, private, none or CIDR networks, separated by spaces"),
        "loopback private", readonly=True),
    Key("reach.max_subscriptions", "reach", "max_subscriptions", integer(1, 256), 32, readonly=True),
    Key("reach.sink_queue", "reach", "sink_queue", integer(1, 1024), 64, readonly=True, reboot=True),
    Key("reach.sink_timeout", "reach", "sink_timeout", integer(1, 60), 10, readonly=True, reboot=True),
    Key("reach.ca_file", "reach", "ca_file", PATH, "", readonly=True, reboot=True),
    # the TR-181 parameter model (bridge/model): tr069.model on ubus, DataModel and TR-181 paths on OS3P;
    # watched parameters whose source cannot tell of a change are compared every poll_interval seconds
    Key("model.enabled", "model", "enabled", boolean(), True, readonly=True, reboot=True),
    Key("model.poll_interval", "model", "poll_interval", integer(0, DAY), 60),
]}



class Problem:
    """One thing wrong in a config file: `file:line: tr069.<section>.<option>: <why>`."""

    __slots__ = ("path", "line", "where", "why", "fatal", "key")

    def __init__(self, path, line, where, why, fatal=True, key=None):
        self.path = path
        self.line = line  # None: no line to point at
        self.where = where  # "tr069.acs.url", or None for the file as a whole
        self.why = why
        self.fatal = fatal  # False: a warning (an unknown option), the file is still used
        self.key = key  # (section name, option) of a value that does not hold; None: the file as a whole

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


def _set_aside(sections, problems):
    """The sections without the values that do not hold (every default where the file does not parse)."""
    from .atomic import SET_ASIDE, SET_ASIDE_MAX

    whole = sections is None or any(p.key is None for p in problems)
    for p in problems:
        log.error("config %s; set aside: %s", p, "every option at its default" if whole else "its default is used")
        if len(SET_ASIDE) < SET_ASIDE_MAX:
            SET_ASIDE.append({"file": p.path, "as": None, "why": ("line %d: " % p.line if p.line else "") +
                              ("%s: " % p.where if p.where else "") + p.why})
    if whole:
        return []
    bad = {p.key for p in problems}
    return [{k: v for k, v in s.items() if (s[".name"], k) not in bad} for s in sections]


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
                                                         " (the keys: docs/configuration.md)"))
    try:
        return name, Config.convert(KEYS[name], value)
    except ValueError as e:
        raise ValueError("--option %s: %s" % (name, e)) from None


def examine(path, section_checks=None):
    """Parse and validate a config file -> (sections, [Problem]); sections is None when it does not parse.
    section_checks: {section type: checker}, the sections a feature owns (bridge/station/checks.py).

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
    return sections, check_sections(path, sections, positions, section_checks)


def _section_problems(path, sections, positions, section_checks):
    """What the checkers of sections a feature owns (a table: section type -> checker(sections) ->
    [(section name, option or None, why)]) find: warnings, that device is not used."""
    problems = []
    # an anonymous section is named as uci names it: @contactor[1]
    shown, counts = {}, {}
    for sec in sections:
        kind = sec.get(".type")
        i = counts[kind] = counts.get(kind, -1) + 1
        shown[sec[".name"]] = "@%s[%d]" % (kind, i) if sec.get(".anonymous") else sec[".name"]
    for kind, check in section_checks.items():
        if not any(s.get(".type") == kind for s in sections):
            continue
        for name, option, why in check(sections):
            line = positions.get((name, option)) or positions.get((name, None))
            where = "%s.%s%s" % (CONFIG_NAME, shown.get(name, name), "." + option if option else "")
            problems.append(Problem(path, line, where, why + "; not used", fatal=False))
    return problems


def check_sections(path, sections, positions=None, section_checks=None):
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
                problems.append(Problem(path, line, where, str(e), key=(section[".name"], option)))
    return problems + _section_problems(path, sections, positions, section_checks or {})


class Config:
    """Values from the UCI config over the embedded defaults.

    Writes are UCI's: set() records the changed option, save() hands only the changes to the writer
    (the device: rpcd's uci set/commit) or, without one, applies them to the file as it is now, under
    libuci's lock; then the config is read again, so what others changed meanwhile is seen and kept.
    """

    def __init__(self, path, writer=None, reader=None, lenient=False, section_checks=None):
        """lenient: the start-up reader's way. A value that does not hold is set aside (its default is used,
        one error line, listed in atomic.SET_ASIDE for the state view and `status`), a file that does not
        parse means every default: start never depends on what was stored. A reload stays strict."""
        self.path = path
        self.writer = writer  # writer(changes): device-backed persistence; None: bridge.uci.commit on the file
        self.reader = reader  # reader() -> sections: the device's view (rpcd); None: parse the file
        self.sections = []
        self.changes = {}  # (section, option) -> UCI text, set but not saved yet
        self._before = {}  # (section, option) -> its value before set(), for discard()
        self.overrides = {}  # name -> value given on the command line for this run
        self.warned = set()  # unknown options already warned about: once per process, not per reload
        self.section_checks = section_checks or {}  # section type -> checker (bridge/station/checks.py)
        self.reload(lenient)

    def override(self, item):
        """Set a key for this run only from --option's 'KEY=VALUE'; ValueError as check_override."""
        name, value = check_override(item)
        self.overrides[name] = value

    def reload(self, lenient=False):
        """Re-read and validate the config (the file, or the device's view through the reader), dropping
        unsaved changes; raises ConfigError (every problem) when it does not parse or any value is invalid,
        OSError when it cannot be read, and then keeps every previous value. Unknown options are logged once.
        lenient (at start): what does not hold is set aside instead (see __init__)."""
        if self.reader is not None:
            try:
                sections = self.reader()
            except ConfigError as e:  # what the device gave does not parse
                if not lenient:
                    raise
                sections, problems = None, e.problems
            else:
                problems = check_sections(self.path, sections, section_checks=self.section_checks)
        else:
            sections, problems = examine(self.path, self.section_checks)
        fatal = [p for p in problems if p.fatal]
        if fatal and lenient:
            sections = _set_aside(sections, fatal)
        elif fatal:
            raise ConfigError(fatal)
        for p in problems:
            if p.where not in self.warned:
                self.warned.add(p.where)
                log.warning("%s", p)
        self.sections = sections
        self.changes, self._before = {}, {}

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
        """-> the value as its key's validator parses it; ValueError says what was expected and what was given."""
        return key.parse(value)

    def set(self, name, value):
        """Validate (the key's parse) and store in memory; save() persists, discard() takes it back.
        Raises ValueError, and then nothing changed."""
        key = KEYS[name]
        v = key.parse(value)
        section = uci.find(self.sections, key.section)
        if section is None:
            section = {".type": key.section, ".name": key.section, ".anonymous": False}
            self.sections.append(section)
        self._before.setdefault((key.section, key.option), section.get(key.option))
        section[key.option] = _uci_text(v)
        self.changes[(key.section, key.option)] = _uci_text(v)
        return v

    def discard(self):
        """Take back what set() changed and save() did not write: memory is the file's again."""
        for (sec, opt), old in self._before.items():
            section = uci.find(self.sections, sec)
            if section is None:
                continue
            if old is None:
                section.pop(opt, None)
            else:
                section[opt] = old
        self._before, self.changes = {}, {}

    def save(self):
        """Write the changed options only; raises OSError (the changes stay pending) when it cannot."""
        changes = [(sec, sec, opt, value) for (sec, opt), value in self.changes.items()]
        if not changes:
            return
        if self.writer is not None:
            self.writer(changes)
            self.changes, self._before = {}, {}
            try:
                self.reload()
            except (OSError, ValueError) as e:
                log.warning("config re-read after a write failed: %s", e)
        else:
            self.sections = uci.commit(self.path, changes)
            self.changes, self._before = {}, {}

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
    """The configuration table of docs/configuration.md, from KEYS (python -m bridge.config --docs rewrites it)."""
    rows = ["| UCI option | accepted values (its validator) | default | OS3P key | TR-069 path | notes |",
            "| --- | --- | --- | --- | --- | --- |"]
    for k in KEYS.values():
        notes = ", ".join(n for n, on in (("secret", k.secret), ("not remotely changeable", k.readonly),
                                          ("needs a restart", k.reboot)) if on)
        default = _uci_text(k.default) if k.default != "" else "(empty)"
        rows.append("| `%s.%s` | %s | `%s` | %s | %s | %s |" % (
            k.section, k.option, k.parse.expect, default, k.os3p or "", k.tr069 or "", notes))
    return "\n".join(rows) + "\n"


TABLE_MARK = "<!-- config-table: generated from bridge/config.py KEYS (python -m bridge.config --docs); a test keeps it true -->\n"
TABLE_DOC = os.path.join("docs", "configuration.md")


def rewrite_table(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    head, mark, rest = text.partition(TABLE_MARK)
    if not mark:
        raise SystemExit("no config-table mark in %s" % path)
    lines = rest.splitlines(keepends=True)
    table = next((i for i, line in enumerate(lines) if not line.startswith("|")), len(lines))
    tail = "".join(lines[table:])
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + mark + markdown_table() + ("\n" if not tail.startswith("\n") else "") + tail)


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--docs"]:
        rewrite_table(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), TABLE_DOC))
    else:
        sys.stdout.write(markdown_table())
