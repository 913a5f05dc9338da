"""Sunrise and sunset for a place and a date, computed on the device (no network, no tables).

The NOAA solar calculator's equations (Meeus, "Astronomical Algorithms", low-precision series): the
sun's declination and the equation of time for the moment of the event, the hour angle at which its
centre is 0.833 degrees below the horizon (refraction and the sun's radius), refined once at the
event's own time. Good to well under a minute between the polar circles and near them.

Polar day and polar night (the sun stays above, or below, that altitude all day) have no sunrise or
sunset. The schedule still needs instants for "Sunset" and "Sunrise" edges; we put them on the schedule
day's own boundaries, so that a night profile does what the sky does:
  - polar night (always dark): sunset and sunrise of date D are local 12:00 of D, the boundary between
    two schedule days: a Sunset -> Sunrise period covers the whole schedule day, the lights stay on
    (with no blink at noon);
  - polar day (always light): sunset of D is local 00:00 after D, sunrise of D is local 00:00 starting D:
    a Sunset -> Sunrise period is empty, the lights stay off.
Offsets apply as on any other day. `Sun.day(...)` says which case a date is in ("normal", "polar_day",
"polar_night").
"""

import math
from datetime import date as _date, datetime, timedelta

from ..config import parse_latlng  # noqa: F401  (the Geolocation value has one parser: its key's validator)

ZENITH = 90.833  # degrees: geometric horizon + refraction (34') + the sun's semi-diameter (16')
_J2000 = 2451545.0
_UNIX_JD = 2440587.5  # the Julian day of 1970-01-01T00:00:00Z


def _solar(jd):
    """(declination in radians, equation of time in minutes) at Julian day jd."""
    t = (jd - _J2000) / 36525.0
    l0 = math.radians((280.46646 + t * (36000.76983 + 0.0003032 * t)) % 360.0)
    m = math.radians(357.52911 + t * (35999.05029 - 0.0001537 * t))
    e = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
    c = (math.sin(m) * (1.914602 - t * (0.004817 + 0.000014 * t)) + math.sin(2 * m) * (0.019993 - 0.000101 * t)
         + math.sin(3 * m) * 0.000289)
    omega = math.radians(125.04 - 1934.136 * t)
    app_long = math.radians(math.degrees(l0) + c - 0.00569 - 0.00478 * math.sin(omega))
    eps0 = 23.0 + (26.0 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60.0) / 60.0
    eps = math.radians(eps0 + 0.00256 * math.cos(omega))
    decl = math.asin(math.sin(eps) * math.sin(app_long))
    y = math.tan(eps / 2) ** 2
    eqtime = 4 * math.degrees(y * math.sin(2 * l0) - 2 * e * math.sin(m) + 4 * e * y * math.sin(m) * math.cos(2 * l0)
                              - 0.5 * y * y * math.sin(4 * l0) - 1.25 * e * e * math.sin(2 * m))
    return decl, eqtime


def _cos_hour_angle(lat, decl):
    lat = math.radians(lat)
    return (math.cos(math.radians(ZENITH)) - math.sin(lat) * math.sin(decl)) / (math.cos(lat) * math.cos(decl))


def _midnight_jd(day):
    return day.toordinal() + 1721424.5  # Julian day at 0h UT of that calendar date


def solar_noon(lat, lon, day):
    """The instant (Unix seconds) the sun crosses the meridian at lon on calendar date `day`."""
    jd0 = _midnight_jd(day)
    minutes = 720.0 - 4.0 * lon
    for _ in range(2):
        _, eqtime = _solar(jd0 + minutes / 1440.0)
        minutes = 720.0 - 4.0 * lon - eqtime
    return (jd0 - _UNIX_JD) * 86400.0 + minutes * 60.0


def _event(lat, lon, day, sign):
    """Sunrise (sign -1) or sunset (+1) on calendar date `day`, Unix seconds; None when it does not
    happen (then the sign of the last cosine says which polar case: > 1 night, < -1 day)."""
    jd0 = _midnight_jd(day)
    minutes = 720.0 - 4.0 * lon + sign * 360.0  # first guess: six hours from noon
    cos_ha = 0.0
    for _ in range(3):
        decl, eqtime = _solar(jd0 + minutes / 1440.0)
        cos_ha = _cos_hour_angle(lat, decl)
        if not -1.0 <= cos_ha <= 1.0:
            return None, cos_ha
        ha = math.degrees(math.acos(cos_ha))
        minutes = 720.0 - 4.0 * lon - eqtime + sign * 4.0 * ha
    return (jd0 - _UNIX_JD) * 86400.0 + minutes * 60.0, cos_ha


class Sun:
    """Sun times for one place. Dates are local calendar dates; the zone maps them to instants."""

    def __init__(self, lat, lon):
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            raise ValueError("latitude/longitude out of range: %r, %r" % (lat, lon))
        self.lat = float(lat)
        self.lon = float(lon)
        self._days = {}  # (date, zone) -> day(): sunrise and sunset of a date are asked for together

    def _calendar_date(self, day, zone):
        """The UT calendar date whose meridian transit falls on local date `day` (far east/west of the
        zone's meridian, local noon and UT noon can be a date apart)."""
        for d in (day, _date.fromordinal(day.toordinal() - 1), _date.fromordinal(day.toordinal() + 1)):
            if zone.local(solar_noon(self.lat, self.lon, d)).date() == day:
                return d
        return day

    def day(self, day, zone):
        """(kind, sunrise, sunset) for local date `day`: instants in Unix seconds, None for no event."""
        key = (day, zone)
        found = self._days.get(key)
        if found is None:
            if len(self._days) >= 16:
                self._days.clear()
            found = self._days[key] = self._compute(day, zone)
        return found

    def _compute(self, day, zone):
        d = self._calendar_date(day, zone)
        rise, cos_rise = _event(self.lat, self.lon, d, -1)
        sset, cos_set = _event(self.lat, self.lon, d, +1)
        if rise is not None and sset is not None:
            return "normal", rise, sset
        cos = cos_rise if rise is None else cos_set
        return ("polar_night" if cos > 1.0 else "polar_day"), rise, sset

    def sunrise(self, day, zone):
        """The sunrise of local date `day` as the schedule uses it (polar rule in the module doc)."""
        kind, rise, _ = self.day(day, zone)
        if rise is not None:
            return rise
        return _local(zone, day, 12 if kind == "polar_night" else 0)

    def sunset(self, day, zone):
        """The sunset of local date `day` as the schedule uses it (polar rule in the module doc)."""
        kind, _, sset = self.day(day, zone)
        if sset is not None:
            return sset
        return _local(zone, day, 12 if kind == "polar_night" else 24)


def _local(zone, day, hours):
    return zone.epoch(datetime(day.year, day.month, day.day) + timedelta(hours=hours))
