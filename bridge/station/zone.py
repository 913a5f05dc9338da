"""The device's local time: instants <-> local wall-clock time, for the schedule and the sun.

OpenWrt keeps the zone in UCI `system.@system[0]`: `zonename` (e.g. "Europe/Amsterdam") and `timezone`,
the POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3") that the C library reads from /etc/TZ. A router rarely
has the zoneinfo database installed (zoneinfo-* packages), so the POSIX rule is what always works; a
zone name is used when its database file exists (development hosts, TZ=Europe/Amsterdam).

A zone name is read from its database file's own POSIX rule (the footer of a TZif file, version 2 and
later: the rule the C library applies past the file's table), not through the zoneinfo module: zoneinfo
(with sysconfig and weakref) costs ~0.3 MiB kept, and imported only to find no database on a router. For
the times a station works with (this year's days and the next) the rule and the table agree
(tests/station/test_station_schedule.py compares them); a file without a rule falls back to zoneinfo.

Every zone answers two questions:
  offset(epoch)  seconds east of UTC at that instant;
  epoch(naive)   the instant of a local wall-clock time. A time that does not exist (the hour skipped
                 when DST starts) is read with the offset in force before the gap (02:30 -> 03:30 CEST),
                 a time that happens twice (the hour repeated when DST ends) as its first occurrence.
"""

import os
import re
from datetime import datetime, timedelta, timezone

_EPOCH = datetime(1970, 1, 1)


class Zone:
    name = "UTC"

    def offset(self, epoch):
        return 0

    def local(self, epoch):
        """Naive local datetime of an instant."""
        return _EPOCH + timedelta(seconds=epoch + self.offset(epoch))

    def epoch(self, naive):
        candidates = []
        for off in self._offsets_near(naive):
            e = (naive - _EPOCH).total_seconds() - off
            if self.offset(e) == off:
                candidates.append(e)
        if candidates:
            return min(candidates)  # the first occurrence of a repeated time
        # a skipped time: the offset before the gap is the offset a little earlier
        guess = (naive - _EPOCH).total_seconds() - self.offset((naive - _EPOCH).total_seconds())
        return (naive - _EPOCH).total_seconds() - self.offset(guess - 6 * 3600)

    def _offsets_near(self, naive):
        e = (naive - _EPOCH).total_seconds()
        return sorted({self.offset(e - 86400), self.offset(e), self.offset(e + 86400)})

    def iso(self, epoch):
        """2026-11-22T10:00:00+01:00"""
        off = self.offset(epoch)
        tz = timezone(timedelta(seconds=off))
        return datetime.fromtimestamp(int(epoch), tz).isoformat()

    def __repr__(self):
        return "Zone(%s)" % self.name


UTC = Zone()


class ZoneInfoZone(Zone):
    def __init__(self, key):
        import zoneinfo

        self._tz = zoneinfo.ZoneInfo(key)
        self.name = key

    def offset(self, epoch):
        return int(datetime.fromtimestamp(epoch, self._tz).utcoffset().total_seconds())


# --- POSIX TZ rules (what /etc/TZ holds on OpenWrt) ------------------------------------------------------------
_NAME = r"(?:<[^>]+>|[A-Za-z]{3,})"
_OFF = r"[+-]?\d{1,2}(?::\d{2}(?::\d{2})?)?"
_RULE = r"(?:M\d{1,2}\.\d\.\d|J\d{1,3}|\d{1,3})(?:/[+-]?\d{1,3}(?::\d{2}(?::\d{2})?)?)?"
_POSIX = re.compile(r"^(%s)(%s)(?:(%s)(%s)?,(%s),(%s))?$" % (_NAME, _OFF, _NAME, _OFF, _RULE, _RULE))


def _hms(text):
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")]
    parts += [0] * (3 - len(parts))
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2])


def _days_in_month(year, month):
    nxt = datetime(year + (month == 12), month % 12 + 1, 1)
    return (nxt - datetime(year, month, 1)).days


class PosixZone(Zone):
    """A POSIX TZ string: std offset [dst [offset],start[/time],end[/time]] (the C library's rules)."""

    def __init__(self, text):
        m = _POSIX.match(text.strip())
        if not m:
            raise ValueError("not a POSIX TZ rule: %r" % text)
        self.name = text.strip()
        self.std = -_hms(m.group(2))  # POSIX offsets are west-positive
        self.dst = None
        if m.group(3):
            self.dst = -_hms(m.group(4)) if m.group(4) else self.std + 3600
            self.rules = (self._rule(m.group(5)), self._rule(m.group(6)))
        self._cache = {}

    @staticmethod
    def _rule(text):
        spec, _, at = text.partition("/")
        return spec, (_hms(at) if at else 7200)

    @staticmethod
    def _rule_day(spec, year):
        """The local date a rule names in `year`."""
        if spec.startswith("M"):
            month, week, wday = (int(x) for x in spec[1:].split("."))
            first = datetime(year, month, 1)
            # POSIX weekday: 0 = Sunday; Python: Monday = 0
            delta = (wday - (first.weekday() + 1) % 7) % 7
            day = 1 + delta + 7 * (week - 1)
            while day > _days_in_month(year, month):
                day -= 7  # week 5 means "the last"
            return datetime(year, month, day)
        if spec.startswith("J"):  # 1..365, February 29 never counted
            n = int(spec[1:])
            d = datetime(year, 1, 1) + timedelta(days=n - 1)
            if _days_in_month(year, 2) == 29 and n >= 60:
                d += timedelta(days=1)
            return d
        return datetime(year, 1, 1) + timedelta(days=int(spec))  # 0..365, leap days counted

    def _transitions(self, year):
        """(DST start, DST end) of `year` as instants."""
        if year not in self._cache:
            (s_spec, s_at), (e_spec, e_at) = self.rules
            start = self._rule_day(s_spec, year) + timedelta(seconds=s_at)  # local standard time
            end = self._rule_day(e_spec, year) + timedelta(seconds=e_at)  # local daylight time
            self._cache[year] = ((start - _EPOCH).total_seconds() - self.std,
                                 (end - _EPOCH).total_seconds() - self.dst)
        return self._cache[year]

    def offset(self, epoch):
        if self.dst is None:
            return self.std
        year = (_EPOCH + timedelta(seconds=epoch + self.std)).year
        start, end = self._transitions(year)
        if start < end:  # northern hemisphere: DST inside the year
            return self.dst if start <= epoch < end else self.std
        return self.std if end <= epoch < start else self.dst  # southern: DST across the new year


# where the zoneinfo module looks for the database (CPython's default TZPATH; PYTHONTZPATH overrides it)
TZPATH = ("/usr/share/zoneinfo", "/usr/lib/zoneinfo", "/usr/share/lib/zoneinfo", "/etc/zoneinfo")


def tzif_rule(data):
    """The POSIX rule at the end of a TZif file (version 2 and later), or None (version 1, no rule)."""
    if data[:4] != b"TZif" or data[4:5] not in (b"2", b"3", b"4") or not data.endswith(b"\n"):
        return None
    rule = data[:-1].rpartition(b"\n")[2]
    return rule.decode("ascii") if rule and rule.isascii() else None


def from_file(path, name):
    """The zone of a TZif file: its POSIX rule (named `name`), else the zoneinfo module's reading of it."""
    with open(path, "rb") as f:
        data = f.read()  # a few KiB: a read of a fixed larger size would allocate that size first
    rule = tzif_rule(data)
    if rule:
        try:
            zone = PosixZone(rule)
            zone.name = name
            return zone
        except ValueError:
            pass
    import io
    import zoneinfo

    z = ZoneInfoZone.__new__(ZoneInfoZone)
    z._tz = zoneinfo.ZoneInfo.from_file(io.BytesIO(data), key=name)
    z.name = name
    return z


def named(key, environ=None):
    """The zone of a database name ("Europe/Amsterdam", "UTC"), or None where the database lacks it."""
    environ = os.environ if environ is None else environ
    if not key or key.startswith("/") or ".." in key.split("/"):
        return None
    dirs = environ["PYTHONTZPATH"].split(os.pathsep) if environ.get("PYTHONTZPATH") else TZPATH
    for folder in dirs:
        path = os.path.join(folder, key)
        if os.path.isfile(path):
            return from_file(path, key)
    return None


def from_settings(zonename="", tzrule="", environ=None):
    """The zone from OpenWrt's zonename/timezone, else the TZ variable, else UTC (what the C library does
    with neither). A name whose database is missing falls back to the rule."""
    environ = os.environ if environ is None else environ
    for text in (zonename, tzrule, environ.get("TZ", "")):
        text = (text or "").strip().lstrip(":")
        if not text:
            continue
        if "," not in text and ("/" in text or text == "UTC"):  # a name ("/" is in rules too: M10.5.0/3)
            try:
                zone = named(text, environ)
            except Exception:  # a file that does not read or parse
                zone = None
            if zone is not None:
                return zone
        try:
            return PosixZone(text)
        except ValueError:
            continue
    if not zonename and not tzrule and not environ.get("TZ"):
        try:
            return _system_zone()
        except Exception:
            pass
    return UTC


def _system_zone():
    """The host's /etc/localtime (a development machine without TZ set)."""
    return from_file("/etc/localtime", "localtime")


def device_zone(device):
    """OpenWrt's system.@system[0] zonename/timezone, else TZ, else UTC."""
    zonename = tzrule = ""
    try:
        for section in device.uci_get("system").values():
            if section.get(".type") == "system":
                zonename, tzrule = section.get("zonename", ""), section.get("timezone", "")
                break
    except Exception:  # no system config on a development host
        pass
    return from_settings(zonename, tzrule)
