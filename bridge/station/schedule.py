"""Streetlight schedules: profiles -> the effective day schedule -> the state now and the next switch.

Pure logic: no clock, no files. Instants are Unix seconds; local time comes from a zone (zone.py) and
Sunset/Sunrise from a Sun (sun.py), both passed in.

The rules (docs/streetlights.md has the reasons):
  - A *schedule day* D runs from local 12:00 on date D to local 12:00 on D+1 (the spec's 12:00..11:59:59).
    An Absolute time at or after 12:00 is on date D, one before 12:00 on D+1; an end of 11:59:59 means the
    end of the schedule day, so "12:00:00 -> 11:59:59" is on all day without a blink at noon.
  - "Sunset" is the sunset of date D, "Sunrise" the sunrise of D+1 (the night between them), each plus
    its offset in seconds. Periods are clipped to their schedule day; one that ends at or before its
    start keeps the lights off (spec 7.10.1).
  - A profile applies to schedule day D when validFrom <= D <= validTo (dates only; validTo inclusive),
    and: Daily every such day; Weekly on the days that are a whole number of weeks after validFrom;
    None on validFrom's day only. Weekly and None need validFrom (they name no day otherwise).
  - Precedence: of the profiles of a contactor that apply to day D, the one with the highest stackLevel
    defines the whole day: its periods are when the lights are on, its gaps are off. Lower profiles do
    not show through the gaps (a holiday profile must be able to switch lights *off* that the base
    profile has on). A day no profile applies to is off.
"""

import re
from datetime import date, datetime, timedelta

KINDS = ("Absolute", "Sunset", "Sunrise")
RECURRENCY = ("None", "Daily", "Weekly")
NOON = 12 * 3600
END_OF_DAY = 11 * 3600 + 59 * 60 + 59  # "11:59:59": the end of a schedule day
DAY = 86400

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(?:\.(\d{1,3}))?$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[Tt ].*)?$")


class ScheduleError(ValueError):
    """A profile that cannot be used. `code` is the OS3P error code the action answers with."""

    def __init__(self, code, message):
        ValueError.__init__(self, message)
        self.code = code


def parse_time(text):
    """'HH:mm:ss[.sss]' -> seconds after midnight (float)."""
    m = _TIME.match(text) if isinstance(text, str) else None
    if not m:
        raise ScheduleError("PropertyConstraintViolation", "time %r is not HH:mm:ss[.sss]" % (text,))
    ms = int((m.group(4) or "0").ljust(3, "0"))
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + int(m.group(3)) + ms / 1000.0


def parse_date(text):
    """The date part of an OS3P date-time ('2015-06-06T00:00:00', with or without an offset)."""
    m = _DATE.match(text) if isinstance(text, str) else None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except (AttributeError, ValueError):
        raise ScheduleError("PropertyConstraintViolation", "%r is not a date-time" % (text,)) from None


def format_time(seconds):
    seconds = round(seconds, 3)
    whole = int(seconds)
    ms = int(round((seconds - whole) * 1000))
    text = "%02d:%02d:%02d" % (whole // 3600 % 24, whole // 60 % 60, whole % 60)
    return text + (".%03d" % ms if ms else "")


class Edge:
    __slots__ = ("kind", "time", "offset")

    def __init__(self, kind, time=None, offset=0):
        self.kind = kind
        self.time = time  # seconds after local midnight (Absolute)
        self.offset = offset  # seconds (Sunset/Sunrise)

    @classmethod
    def parse(cls, d, where):
        kind = d.get("kind")
        if kind not in KINDS:
            raise ScheduleError("PropertyConstraintViolation", "%s.kind %r" % (where, kind))
        # the field the kind does not use (an offset on Absolute, a time on Sunset) is ignored: the spec
        # makes each mandatory for its kind, and forbids neither elsewhere
        if kind == "Absolute":
            if "time" not in d:
                raise ScheduleError("OccurenceConstraintViolation", "%s: Absolute needs time" % where)
            return cls(kind, time=parse_time(d["time"]))
        if "offset" not in d:
            raise ScheduleError("OccurenceConstraintViolation", "%s: %s needs offset" % (where, kind))
        return cls(kind, offset=d["offset"])

    def to_json(self):
        if self.kind == "Absolute":
            return {"kind": self.kind, "time": format_time(self.time)}
        return {"kind": self.kind, "offset": self.offset}


class Profile:
    __slots__ = ("profile_id", "stack_level", "recurrency", "valid_from", "valid_to", "periods")

    def __init__(self, profile_id, stack_level, recurrency, valid_from, valid_to, periods):
        self.profile_id = profile_id
        self.stack_level = stack_level
        self.recurrency = recurrency
        self.valid_from = valid_from
        self.valid_to = valid_to
        self.periods = periods  # [(Edge start, Edge end)]

    @classmethod
    def parse(cls, d):
        """One entry of SetStreetlightProfile.streetlightProfiles (already schema-valid)."""
        pid = d["profileId"]
        rec = d["recurrencyKind"]
        if rec not in RECURRENCY:
            raise ScheduleError("PropertyConstraintViolation", "recurrencyKind %r" % (rec,))
        vf = parse_date(d["validFrom"]) if "validFrom" in d else None
        vt = parse_date(d["validTo"]) if "validTo" in d else None
        if rec != "Daily" and vf is None:
            raise ScheduleError("OccurenceConstraintViolation",
                                "profile %d: a %s profile needs validFrom (it names the day)" % (pid, rec))
        if vf is not None and vt is not None and vt < vf:
            raise ScheduleError("PropertyConstraintViolation", "profile %d: validTo before validFrom" % pid)
        periods = []
        for i, p in enumerate(d["daySchedule"]):
            where = "profile %d daySchedule[%d]" % (pid, i)
            periods.append((Edge.parse(p["start"], where + ".start"), Edge.parse(p["end"], where + ".end")))
        return cls(pid, d["stackLevel"], rec, vf, vt, periods)

    def to_json(self):
        out = {"profileId": self.profile_id, "stackLevel": self.stack_level, "recurrencyKind": self.recurrency,
               "daySchedule": [{"start": s.to_json(), "end": e.to_json()} for s, e in self.periods]}
        if self.valid_from is not None:
            out["validFrom"] = self.valid_from.isoformat() + "T00:00:00"
        if self.valid_to is not None:
            out["validTo"] = self.valid_to.isoformat() + "T00:00:00"
        return out

    def applies(self, day):
        if self.valid_from is not None and day < self.valid_from:
            return False
        if self.valid_to is not None and day > self.valid_to:
            return False
        if self.recurrency == "Daily":
            return True
        if self.recurrency == "Weekly":
            return (day - self.valid_from).days % 7 == 0
        return day == self.valid_from


# --- time of a schedule day ------------------------------------------------------------------------------
class Place:
    """Where and in which local time the schedule runs: a zone and, when Geolocation is set, the sun."""

    def __init__(self, zone, sun=None):
        self.zone = zone
        self.sun = sun
        self._cache = {}  # (kind, date) -> instant: a year of schedules asks for each sun time many times

    def local_instant(self, d, seconds):
        naive = datetime(d.year, d.month, d.day) + timedelta(seconds=seconds)
        return self.zone.epoch(naive)

    def window(self, day):
        """(start, end) instants of schedule day `day`: local noon to the next local noon."""
        return self.local_instant(day, NOON), self.local_instant(day + timedelta(days=1), NOON)

    def schedule_day(self, epoch):
        local = self.zone.local(epoch)
        d = local.date()
        return d if local.hour >= 12 else d - timedelta(days=1)

    def sun_time(self, kind, d):
        key = (kind, d)
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            f = self.sun.sunset if kind == "Sunset" else self.sun.sunrise
            self._cache[key] = float(round(f(d, self.zone)))  # whole seconds: what is shown is what switches
        return self._cache[key]

    def edge(self, edge, day, is_end, window):
        """The instant of an edge on schedule day `day`; None where it cannot be computed (no Geolocation)."""
        if edge.kind == "Absolute":
            if is_end and END_OF_DAY <= edge.time < NOON:
                return window[1]
            d = day if edge.time >= NOON else day + timedelta(days=1)
            return self.local_instant(d, edge.time)
        if self.sun is None:
            return None
        d = day if edge.kind == "Sunset" else day + timedelta(days=1)
        return self.sun_time(edge.kind, d) + edge.offset


def day_periods(profile, day, place):
    """The on-periods of one profile on schedule day `day`: sorted, merged, clipped instants."""
    window = place.window(day)
    spans = []
    for start, end in profile.periods:
        s = place.edge(start, day, False, window)
        e = place.edge(end, day, True, window)
        if s is None or e is None:
            continue  # Sunset/Sunrise without a Geolocation: no instant, the lights stay off
        s, e = max(s, window[0]), min(e, window[1])
        if e > s:
            spans.append((s, e))
    spans.sort()
    merged = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def winner(profiles, day):
    """The profile that defines schedule day `day` (highest stackLevel among those that apply)."""
    best = None
    for p in profiles:
        if p.applies(day) and (best is None or p.stack_level > best.stack_level):
            best = p
    return best


def effective(profiles, day, place):
    """(profile or None, [(start, end)]) for schedule day `day`."""
    p = winner(profiles, day)
    return p, (day_periods(p, day, place) if p is not None else [])


def effective_json(profiles, day, place):
    """The daySchedule of GetEffectiveStreetlightDaySchedule: local times, the day's end as 11:59:59."""
    _, periods = effective(profiles, day, place)
    end_of_day = place.window(day)[1]
    out = []
    for s, e in periods:
        start = place.zone.local(s)
        text_end = "11:59:59" if e >= end_of_day else format_time(_seconds_of_day(place.zone.local(e)))
        out.append({"start": format_time(_seconds_of_day(start)), "end": text_end})
    return out


def _seconds_of_day(local):
    return local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6


def state_at(profiles, epoch, place):
    """(on, next): what the schedule says at `epoch`, and the next instant it may say otherwise.

    Level-based: the answer depends only on the instant, so evaluating again after a DST change, a clock
    step or a restart gives the same state, and a switch happens only where the output differs."""
    day = place.schedule_day(epoch)
    window = place.window(day)
    _, periods = effective(profiles, day, place)
    nxt = window[1]
    on = False
    for s, e in periods:
        if s <= epoch < e:
            on, nxt = True, e
            break
        if s > epoch:
            nxt = s
            break
    return on, nxt


# --- the profiles of a station ----------------------------------------------------------------------------
class Profiles:
    """Profiles per contactor with the spec's uniqueness rules. Changes are all-or-nothing."""

    def __init__(self, contactors=(1, 2, 3, 4)):
        self.by_contactor = {c: [] for c in contactors}
        self.kept = {}  # profiles of contactors not configured now (a section removed for a while): kept as saved

    def of(self, contactor):
        return self.by_contactor.get(contactor, [])

    def install(self, contactor, profiles, clear_all=False, max_stack_level=16):
        """Add (or with clear_all: replace) the profiles of one contactor. A profileId that exists anywhere
        is replaced. Returns None when installed, else the reason it was refused (nothing changed)."""
        if contactor not in self.by_contactor:
            return "contactor %d is not configured" % contactor
        ids = [p.profile_id for p in profiles]
        levels = [p.stack_level for p in profiles]
        if len(set(ids)) != len(ids):
            return "a profileId appears twice in one request"
        if len(set(levels)) != len(levels):
            return "a stackLevel appears twice in one request"
        over = [lv for lv in levels if lv > max_stack_level]
        if over:
            return "stackLevel %d is above StreetlightProfileMaxStackLevel %d" % (over[0], max_stack_level)
        new = {c: [p for p in ps if p.profile_id not in ids] for c, ps in self.by_contactor.items()}
        if clear_all:
            new[contactor] = []
        taken = {p.stack_level: p.profile_id for p in new[contactor]}
        for p in profiles:
            if p.stack_level in taken:
                return "stackLevel %d is taken by profile %d on contactor %d" % (
                    p.stack_level, taken[p.stack_level], contactor)
        new[contactor] = sorted(new[contactor] + list(profiles), key=lambda p: p.stack_level)
        self.by_contactor = new
        return None

    def clear(self, profile_id=None, contactor=None, stack_level=None):
        """ClearSingleStreetlightProfile: the number of profiles removed (0: Unknown)."""
        removed = 0
        for c, ps in self.by_contactor.items():
            if contactor is not None and c != contactor:
                continue
            keep = [p for p in ps if not ((profile_id is None or p.profile_id == profile_id)
                                          and (stack_level is None or p.stack_level == stack_level))]
            removed += len(ps) - len(keep)
            self.by_contactor[c] = keep
        return removed

    def to_json(self):
        out = dict(self.kept)
        out.update({str(c): [p.to_json() for p in ps] for c, ps in self.by_contactor.items()})
        return out

    def load_json(self, data):
        data = data or {}
        for c in self.by_contactor:
            self.by_contactor[c] = [Profile.parse(d) for d in data.get(str(c), [])]
        self.kept = {k: v for k, v in data.items() if k not in {str(c) for c in self.by_contactor}}
