"""Streetlight contactors: what each one does now, in which mode, and why.

The Control is the logic, with its clock, its timer and its hardware passed in (tests give a fake clock
and lines over plain files; the streetlights component gives the loop and real lines). Nothing here speaks
OS3P: events (bridge/events.py) go to subscribers and the OS3P layer turns them into notifications.

Modes (per contactor):
  Schedule        the effective schedule drives the output;
  RemoteOverride  OverrideStreetlight: On / Off, or Suspend (keep the current state, ignore the schedule);
  LocalOverride   the station-wide local switch is on: the daemon does what `local_action` says (on: all
                  lights on, off: all off, hold: leave the outputs alone, for a switch wired beside the
                  relays); a remote override set before is kept and comes back when the switch is off.

Every change of a light (output switched by us, or feedback changing by itself) is a ContactorChanged;
every mode change a ModeChanged (contactor None: all of them); every saved change of profiles a ProfilesChanged. A feedback contact that has not followed a
switch after `feedback_timeout()` seconds is a failing power switch: ContactorFault(active=True, info), and
the light is reported as the contact says (unexpected); ContactorFault(active=False) once the contact agrees
with the output again.
State (profiles, modes, overrides, what was last reported) is saved atomically on every change; at start
the outputs are read first and only a contactor that disagrees with what it should be now is switched.
"""


from ..atomic import load_json, StateFile, need
from ..events import ContactorChanged, ContactorFault, ModeChanged, ProfilesChanged, Publisher
from ..logger import getLogger
from . import schedule

log = getLogger(__name__)

MODES = ("Schedule", "LocalOverride", "RemoteOverride")
OVERRIDES = ("On", "Off", "Suspend")
LOCAL_ACTIONS = ("on", "off", "hold")
GUARD = 300.0  # seconds: the longest timer, so a step of the wall clock (NTP after boot) is seen within it


class Contactor:
    __slots__ = ("id", "output", "feedback", "mode", "override", "commanded", "light", "reported", "failing",
                 "check")

    def __init__(self, cid, output, feedback=None):
        self.id = cid
        self.output = output  # a line: get(), set(on)
        self.feedback = feedback  # a line (get()) or None
        self.mode = "Schedule"
        self.override = None  # "On" / "Off" / "Suspend" while in RemoteOverride (kept under LocalOverride)
        self.commanded = None  # what the output was last set to (None: not yet, read at start)
        self.light = None  # what the light does, as last known: our switch, or the feedback that changed
        self.reported = None  # the last status given to subscribers (persisted: nothing lost across a restart)
        self.failing = False  # the feedback did not follow the output (PowerSwitchFailure raised)
        self.check = None  # the timer that looks at the feedback after a switch

    def read_light(self):
        line = self.feedback if self.feedback is not None else self.output
        return line.get()

    def as_json(self):
        return {"mode": self.mode, "override": self.override, "commanded": self.commanded,
                "reported": self.reported}


class Control:
    def __init__(self, contactors, place, clock, call_later, state_path, max_stack_level=lambda: 16,
                 local_switch=None, local_action="on", feedback_timeout=lambda: 2.0, stamp=None):
        """contactors: {id: Contactor}; place: a callable giving the schedule.Place to use now;
        clock(): Unix seconds the schedule is read at (the host's clock); stamp(): the time events carry
        (the central system's clock; clock when not given); call_later(delay, fn) -> object with cancel();
        feedback_timeout(): seconds a feedback contact has to follow a switch (0: not checked)."""
        self.contactors = dict(sorted(contactors.items()))
        self.place = place
        self.clock = clock
        self.stamp = stamp or clock
        self.call_later = call_later
        self.state_path = state_path
        self.max_stack_level = max_stack_level
        self.local_switch = local_switch
        self.local_action = local_action if local_action in LOCAL_ACTIONS else "on"
        self.feedback_timeout = feedback_timeout
        self.local = False
        self.profiles = schedule.Profiles(self.contactors)
        self.events = Publisher("streetlights")
        self._timer = None
        self.next_change = None
        self.file = StateFile(self.state_path, "streetlight state", log)
        self._load()

    # --- persistence --------------------------------------------------------------------------------
    def _load(self):
        data = load_json(self.state_path, fits, {})  # set aside when it does not fit: defaults
        try:
            self.profiles.load_json(data.get("profiles"))
        except (schedule.ScheduleError, KeyError, TypeError, ValueError) as e:
            log.error("streetlight profiles in %s unreadable (%s): starting without", self.state_path, e)
        self.local = bool(data.get("local"))
        for cid, c in self.contactors.items():
            saved = (data.get("contactors") or {}).get(str(cid)) or {}
            if saved.get("mode") in MODES:
                c.mode = saved["mode"]
            if saved.get("override") in OVERRIDES:
                c.override = saved["override"]
            if c.mode == "RemoteOverride" and c.override is None:
                c.mode = "Schedule"
            c.reported = saved.get("reported") if isinstance(saved.get("reported"), bool) else None

    def save(self):
        """True when written (write, fsync, rename, as the outbox); a state directory that is missing, full
        or read-only is one error line until it mends, never an exception into the caller."""
        return self.file.write({"profiles": self.profiles.to_json(), "local": self.local,
                                "contactors": {str(i): c.as_json() for i, c in self.contactors.items()}})

    # --- events out ------------------------------------------------------------------------------------
    def subscribe(self, fn, *kinds):
        """fn(event) for every ContactorChanged, ModeChanged, ContactorFault and ProfilesChanged (or those of
        `kinds`)."""
        return self.events.subscribe(fn, *kinds)

    def unsubscribe(self, fn):
        self.events.unsubscribe(fn)

    def _report(self, c, on, unexpected=False):
        """The light of `c` is now `on`: an event when that differs from what was last reported."""
        c.light = on
        if c.reported == on:
            return
        c.reported = on
        # the subscribers first (the OS3P outbox writes the notification to flash), then our state: a crash
        # in between repeats the notification at start, it never loses it
        self.events.publish(ContactorChanged(c.id, on, self.stamp(), unexpected))
        self.save()

    def _mode_event(self, ids):
        """One event for all contactors when they share the mode (the spec's station-wide form), else one each."""
        now = self.stamp()
        modes = {self.contactors[i].mode for i in ids}
        if len(ids) == len(self.contactors) and len(modes) == 1 and len(ids) > 1:
            self.events.publish(ModeChanged(None, modes.pop(), now))
        else:
            for i in ids:
                self.events.publish(ModeChanged(i, self.contactors[i].mode, now))

    # --- start -----------------------------------------------------------------------------------------
    def start(self):
        """Read every output and input first, then put each contactor where it should be now."""
        for c in self.contactors.values():
            try:
                c.commanded = c.output.get()
                c.light = c.read_light()
            except OSError as e:
                log.error("contactor %d: cannot read its output (%s)", c.id, e)
        local = self._read_local()
        if local != self.local:
            self._set_local(local)
        else:
            self.evaluate()
        for c in self.contactors.values():
            if c.light is None:
                continue
            if c.reported is None:  # the very first start: what the lights do now is the baseline
                c.reported = c.light
                self.save()
            elif c.reported != c.light:  # a switch made just before a crash, never reported
                self._report(c, c.light, unexpected=c.commanded != c.light)
            if c.check is None and c.commanded is not None and c.light != c.commanded:
                self._arm_check(c)  # a contact that disagrees at start: failing, unless it follows now

    def _read_local(self):
        if self.local_switch is None:
            return False
        try:
            return self.local_switch.get()
        except OSError as e:
            log.error("local override switch unreadable (%s): taken as off", e)
            return False

    # --- what each contactor should do ------------------------------------------------------------------
    def wanted(self, c, now, place):
        """(on or None for "leave it", next instant the answer may change or None)."""
        if c.mode == "LocalOverride":
            return {"on": True, "off": False}.get(self.local_action), None
        if c.mode == "RemoteOverride":
            return {"On": True, "Off": False}.get(c.override), None
        return schedule.state_at(self.profiles.of(c.id), now, place)

    def evaluate(self):
        """Switch every contactor that differs from what it should be now; arm one timer to the next change."""
        now = self.clock()
        nxt = None
        try:
            place = self.place()
            for c in self.contactors.values():
                try:
                    on, when = self.wanted(c, now, place)
                    if when is not None:
                        nxt = when if nxt is None else min(nxt, when)
                    if on is not None and on != c.commanded:
                        self._switch(c, on)
                except Exception:  # one contactor's trouble (a full flash, a bad line) must not stop the rest
                    log.exception("contactor %d: evaluation failed", c.id)
        finally:
            self._arm(now, nxt)  # whatever happened, the schedule goes on

    def _switch(self, c, on):
        try:
            c.output.set(on)
        except OSError as e:
            log.error("contactor %d: cannot switch %s (%s)", c.id, "on" if on else "off", e)
            return
        c.commanded = on
        log.info("contactor %d switched %s (%s)", c.id, "on" if on else "off", c.mode)
        # reported at the moment of switching: that is the switch time; the feedback contact follows within
        # milliseconds and then agrees (no event). One that has not followed after feedback_timeout is a
        # failing power switch (_check_feedback).
        self._report(c, on)
        self._arm_check(c)

    # --- the feedback contact following the output --------------------------------------------------------
    def _arm_check(self, c):
        if c.feedback is None:
            return
        if c.check is not None:
            c.check.cancel()
            c.check = None
        timeout = self.feedback_timeout()
        if timeout > 0:
            c.check = self.call_later(timeout, lambda: self._check_feedback(c))

    def _check_feedback(self, c):
        c.check = None
        if c.mode == "LocalOverride" and self.local_action == "hold":
            return  # the local switch drives the lights beside our outputs: no disagreement to judge
        try:
            contact = c.feedback.get()
        except OSError as e:
            contact, why = None, "feedback unreadable (%s)" % e
        else:
            why = "switched %s, feedback still %s after %s s" % (
                "on" if c.commanded else "off", "on" if contact else "off", _secs(self.feedback_timeout()))
        if contact == c.commanded:
            self._switch_ok(c)
            return
        if not c.failing:
            c.failing = True
            log.error("contactor %d: %s", c.id, why)
            self.events.publish(ContactorFault(c.id, True, self.stamp(), "contactor %d: %s" % (c.id, why)))
        if contact is not None:
            self._report(c, contact, unexpected=True)  # the light does what the contact says

    def _switch_ok(self, c):
        if c.failing:
            c.failing = False
            log.info("contactor %d: feedback follows the output again", c.id)
            self.events.publish(ContactorFault(c.id, False, self.stamp()))

    def _arm(self, now, nxt):
        if self._timer is not None:
            self._timer.cancel()
        self.next_change = nxt
        delay = GUARD if nxt is None else min(GUARD, max(0.0, nxt - now))
        self._timer = self.call_later(delay, self.evaluate)

    # --- inputs ---------------------------------------------------------------------------------------------
    def feedback_changed(self, cid, on):
        """A feedback input changed (the watcher saw it)."""
        c = self.contactors[cid]
        late = on == c.commanded and c.failing
        if on == c.commanded:
            self._switch_ok(c)
        if on == c.light:
            return  # the contact confirming our own switch (or a level we read already)
        if late:  # the contact of a switch judged failing follows at last: the light does what we made it do
            log.info("contactor %d: light went %s, as switched", cid, "on" if on else "off")
            self._report(c, on)
            return
        log.warning("contactor %d: light went %s without being switched", cid, "on" if on else "off")
        self._report(c, on, unexpected=True)

    def local_switch_changed(self, on):
        if on != self.local:
            self._set_local(on)

    def _set_local(self, on):
        self.local = on
        for c in self.contactors.values():
            if on:
                c.mode = "LocalOverride"
            else:
                c.mode = "RemoteOverride" if c.override is not None else "Schedule"
        log.warning("local override switch %s", "on" if on else "off")
        self._mode_event(list(self.contactors))  # queued before saved, as statuses are (_report)
        self.save()
        self.evaluate()

    # --- what the central system asks ---------------------------------------------------------------------
    def _targets(self, cid):
        if cid is None:
            return list(self.contactors) or None
        return [cid] if cid in self.contactors else None

    def override(self, cid, action):
        """OverrideStreetlight: "Accepted", "Rejected" (no such contactor) or "RejectedLocalOverride"."""
        if action not in OVERRIDES:
            return "Rejected"
        return self._remote(cid, "RemoteOverride", action)

    def resume(self, cid):
        return self._remote(cid, "Schedule", None)

    def _remote(self, cid, mode, override):
        ids = self._targets(cid)
        if ids is None:
            return "Rejected"
        if self.local:
            return "RejectedLocalOverride"
        before = [(self.contactors[i], self.contactors[i].mode, self.contactors[i].override) for i in ids]
        for i in ids:
            c = self.contactors[i]
            c.mode, c.override = mode, override
        if not self.save():  # before the answer: an Accepted override is on flash, or it is not Accepted
            for c, m, o in before:
                c.mode, c.override = m, o
            return "Rejected"
        self._mode_event(ids)
        self.evaluate()
        return "Accepted"

    def set_profiles(self, cid, entries, clear_all=False):
        """SetStreetlightProfile: (status, reason). Raises schedule.ScheduleError for a malformed entry."""
        if cid not in self.contactors:
            return "Rejected", "contactor %d is not configured" % cid
        profiles = [schedule.Profile.parse(e) for e in entries]
        before = self.profiles.by_contactor
        why = self.profiles.install(cid, profiles, clear_all, self.max_stack_level())
        if why is not None:
            return "Rejected", why
        if not self.save():
            self.profiles.by_contactor = before
            return "Rejected", "not saved: the state directory refuses it"
        self._profiles_event(before)
        self.evaluate()
        return "Accepted", None

    def clear_profiles(self, profile_id=None, cid=None, stack_level=None):
        if cid is not None and cid not in self.contactors:
            return "Unknown"
        before = dict(self.profiles.by_contactor)
        if not self.profiles.clear(profile_id, cid, stack_level):
            return "Unknown"
        if not self.save():
            self.profiles.by_contactor = before
            return "NotSaved"
        self._profiles_event(before)
        self.evaluate()
        return "Accepted"

    def _profiles_event(self, before):
        """ProfilesChanged for the contactors whose profiles differ from `before` (a profile id set again moves
        from the contactor that had it)."""
        after = self.profiles.by_contactor
        changed = tuple(i for i in sorted(set(before) | set(after)) if before.get(i) != after.get(i))
        if changed:
            self.events.publish(ProfilesChanged(changed, self.stamp()))

    def effective_day(self, cid, day):
        """[{"start", "end"}] local times, or None for a contactor that is not configured."""
        if cid not in self.contactors:
            return None
        return schedule.effective_json(self.profiles.of(cid), day, self.place())

    def snapshot(self):
        """Every contactor now: [(id, on or None, mode)] for status views and TriggerMessage."""
        return [(c.id, c.light, c.mode) for c in self.contactors.values()]

    def stop(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for c in self.contactors.values():
            if c.check is not None:
                c.check.cancel()
                c.check = None


MAX_PROFILES = 65  # per contactor: one per stack level, 0-64 (streetlights.max_stack_level's range)
_PROFILE = None


def fits(data):
    """streetlights.json's shape: every stored profile one SetStreetlightProfile would take (its schema,
    then schedule.Profile.parse), modes and overrides the station knows. atomic.load_json sets aside the
    file when it does not fit: the station starts on its schedule-less defaults."""
    global _PROFILE
    need(isinstance(data, dict), "not an object")
    profiles = data.get("profiles") or {}
    need(isinstance(profiles, dict), "profiles")
    if profiles and _PROFILE is None:
        from .. import schema

        root = schema.load("os3p/SetStreetlightProfile.req")
        _PROFILE = (root["properties"]["streetlightProfiles"]["items"], root)
    for cid, entries in profiles.items():
        need(cid.isascii() and cid.isdigit() and isinstance(entries, list) and len(entries) <= MAX_PROFILES,
             "profiles of contactor %s" % cid[:10])
        for entry in entries:
            errs = schema_errors(_PROFILE, entry)
            need(not errs, "a profile of contactor %s: %s" % (cid, errs and "%s %s" % errs[0][1:]))
            schedule.Profile.parse(entry)  # ScheduleError (a ValueError) where the schedule cannot use it
    need(isinstance(data.get("local", False), bool), "local")
    contactors = data.get("contactors") or {}
    need(isinstance(contactors, dict), "contactors")
    for cid, c in contactors.items():
        need(isinstance(c, dict) and c.get("mode", "Schedule") in MODES
             and c.get("override") in OVERRIDES + (None,) and c.get("commanded") in (True, False, None)
             and c.get("reported") in (True, False, None), "contactor %s" % cid[:10])
    return data


def schema_errors(item_and_root, value):
    from .. import schema

    item, root = item_and_root
    return schema.errors(item, value, "", root)


def _secs(value):
    return "%g" % round(value, 3)
