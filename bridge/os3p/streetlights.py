"""The streetlight actions and notifications: OS3P payloads to and from bridge.station, nothing more.

The handlers reach the station through the context (context.streetlights: the streetlights component,
None on a device without contactors, where every action is refused). Its events become notifications in
the persistent outbox, so they survive an outage and a kill -9 (spec 6.7, 6.8: delivery guaranteed).
"""

from datetime import date

from ..clock import utc_iso
from ..events import ContactorChanged, ModeChanged
from ..logger import getLogger
from ..station.schedule import Profile, ScheduleError, parse_date
from . import errors

log = getLogger(__name__)

FIRST_DAY, LAST_DAY = date(2, 1, 1), date(9998, 12, 31)  # the calendar's ends, less the days a schedule reads


def _station(req):
    lights = req.context.streetlights
    return None if lights is None else lights.control


def set_streetlight_profile(req):
    station = _station(req)
    p = req.payload
    try:  # a malformed profile is a CALLERROR naming it, whether or not the contactor exists
        for entry in p["streetlightProfiles"]:
            Profile.parse(entry)
    except ScheduleError as e:
        raise errors.CallError(e.code, str(e)) from None
    if station is None:
        return {"status": "Rejected"}
    # the table and schema say clearAllSchedules, the spec's example sends clearSchedule: the same flag
    clear = bool(p.get("clearAllSchedules", False) or p.get("clearSchedule", False))
    status, why = station.set_profiles(p["contactorId"], p["streetlightProfiles"], clear)
    if why:
        log.info("SetStreetlightProfile refused: %s", why)
    return {"status": status}


def clear_single_streetlight_profile(req):
    p = req.payload
    if "profileId" in p and "stackLevel" in p:
        raise errors.CallError(errors.OCCURENCE_CONSTRAINT_VIOLATION,
                               "profileId and stackLevel are mutually exclusive (spec 7.2): send one of them")
    station = _station(req)
    if station is None:
        return {"status": "Unknown"}
    status = station.clear_profiles(p.get("profileId"), p.get("contactorId"), p.get("stackLevel"))
    if status == "NotSaved":  # the enum has no word for it; nothing was cleared
        raise errors.CallError(errors.INTERNAL_ERROR, "not cleared: the state directory refuses the change "
                                                      "(full or read-only)")
    return {"status": status}


def get_effective_streetlight_day_schedule(req):
    p = req.payload
    station = _station(req)
    try:
        day = parse_date(p["at"])  # "local time (not utc) and only the date part is used"
    except ScheduleError as e:
        raise errors.CallError(e.code, str(e)) from None
    if not FIRST_DAY <= day <= LAST_DAY:  # a day's schedule reads the days around it (sunset, overnight)
        raise errors.CallError(errors.PROPERTY_CONSTRAINT_VIOLATION, "at: %s is outside %s..%s"
                               % (day, FIRST_DAY, LAST_DAY))
    sched = None if station is None else station.effective_day(p["contactorId"], day)
    if sched is None:
        raise errors.NotSupported("contactor %d is not configured on this station" % p["contactorId"])
    return {"contactorId": p["contactorId"], "daySchedule": sched}


def override_streetlight(req):
    station = _station(req)
    if station is None:
        return {"status": "Rejected"}
    return {"status": station.override(req.payload.get("contactorId"), req.payload["action"])}


def resume_streetlight(req):
    station = _station(req)
    if station is None:
        return {"status": "Rejected"}
    return {"status": station.resume(req.payload.get("contactorId"))}


HANDLERS = {
    "ClearSingleStreetlightProfile": clear_single_streetlight_profile,
    "GetEffectiveStreetlightDaySchedule": get_effective_streetlight_day_schedule,
    "OverrideStreetlight": override_streetlight,
    "ResumeStreetlight": resume_streetlight,
    "SetStreetlightProfile": set_streetlight_profile,
}


# --- notifications ------------------------------------------------------------------------------------
def status_payload(event):
    """A ContactorChanged -> its StreetlightStatusNotification."""
    payload = {"contactorId": event.contactor, "status": "On" if event.on else "Off",
               "timestamp": utc_iso(event.time)}
    if event.unexpected:
        payload["unexpected"] = True
    return payload


def mode_payload(event):
    """A ModeChanged -> its StreetlightModeStatusNotification."""
    payload = {"mode": event.mode, "timestamp": utc_iso(event.time)}
    if event.contactor is not None:
        payload["contactorId"] = event.contactor
    return payload


def subscriber(ctx):
    """What the OS3P client subscribes to the streetlights while it runs: every light and mode change
    becomes a queued notification."""

    def on_event(event):
        if type(event) is ContactorChanged:
            ctx.notify("StreetlightStatusNotification", status_payload(event))
        elif type(event) is ModeChanged:
            ctx.notify("StreetlightModeStatusNotification", mode_payload(event))

    return on_event


def current_status(ctx):
    """TriggerMessage StreetlightStatusNotification: every contactor's light now (a list: one message each)."""
    lights = ctx.streetlights
    if lights is None:
        return None
    now = ctx.now()
    return [status_payload(ContactorChanged(cid, on, now)) for cid, on, _ in lights.control.snapshot()
            if on is not None] or None


def current_mode(ctx):
    """TriggerMessage StreetlightModeStatusNotification: one message for all when they agree, else one each."""
    lights = ctx.streetlights
    if lights is None or not lights.control.contactors:
        return None
    now = ctx.now()
    snap = lights.control.snapshot()
    modes = {mode for _, _, mode in snap}
    if len(modes) == 1 and len(snap) > 1:
        return [mode_payload(ModeChanged(None, modes.pop(), now))]
    return [mode_payload(ModeChanged(cid, mode, now)) for cid, _, mode in snap]


def sun_key(which):
    """The read-only Sunrise / Sunset configuration keys: today's value, local time with its offset."""

    def value(ctx):
        lights = ctx.streetlights
        if lights is not None:
            zone, times = lights.zone, lights.sun_today()
        else:  # no contactors here, but the astronomical clock still answers
            from ..station.streetlights import sun_today
            from ..station.zone import device_zone

            zone = device_zone(ctx.device)
            times = sun_today(ctx.config.get("os3p.geolocation"), zone)
        if times is None:
            return None  # no Geolocation: listed without a value
        return zone.iso(times[0] if which == "Sunrise" else times[1])

    return value


COMPUTED_KEYS = {"Sunrise": sun_key("Sunrise"), "Sunset": sun_key("Sunset")}
