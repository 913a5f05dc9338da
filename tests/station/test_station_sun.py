"""The astronomical clock against an independent implementation (astral, test-only), fixed dates."""

import datetime

import pytest

astral = pytest.importorskip("astral")
from astral import Observer, SunDirection, sun as asun  # noqa: E402

from bridge.station import sun  # noqa: E402
from bridge.station.zone import ZoneInfoZone  # noqa: E402

# latitude, longitude, zone: both hemispheres, both sides of Greenwich, zones far from their meridian
PLACES = [
    (52.37, 4.90, "Europe/Amsterdam"), (51.48, 0.0, "Europe/London"), (40.71, -74.01, "America/New_York"),
    (-33.87, 151.21, "Australia/Sydney"), (35.68, 139.69, "Asia/Tokyo"), (1.35, 103.82, "Asia/Singapore"),
    (19.43, -99.13, "America/Mexico_City"), (60.17, 24.94, "Europe/Helsinki"), (-41.29, 174.78, "Pacific/Auckland"),
    (21.31, -157.86, "Pacific/Honolulu"), (-22.91, -43.17, "America/Sao_Paulo"), (43.07, 89.4, "Asia/Urumqi"),
    (-54.80, -68.30, "America/Argentina/Ushuaia"), (42.87, -8.55, "Europe/Madrid"), (28.61, 77.21, "Asia/Kolkata"),
    (0.0, 0.0, "UTC"), (-1.29, 36.82, "Africa/Nairobi"), (58.3, -134.4, "America/Juneau"),
]
DATES = [datetime.date(2026, 1, 1) + datetime.timedelta(days=d) for d in range(0, 365, 9)] + [
    datetime.date(2024, 2, 29), datetime.date(2026, 3, 29), datetime.date(2026, 10, 25), datetime.date(2015, 7, 7)]


def _astral_near(fn, obs, day, tz, ours):
    """astral's event of the same night: astral dates events by their local date, ours belong to the local
    date of the solar noon (a sunset just after midnight is a date later there)."""
    found = []
    for k in (-1, 0, 1):
        try:
            found.append(fn(obs, day + datetime.timedelta(days=k), tz).timestamp())
        except ValueError:  # astral found no event of that kind on that local date
            pass
    return min(found, key=lambda t: abs(t - ours))


def _nearest(ours, theirs):
    return min(abs(ours - theirs + k * 86400) for k in (-1, 0, 1))


def test_sunrise_and_sunset_match_astral_within_a_minute():
    checked = 0
    for lat, lon, tz in PLACES:
        zone, s, obs = ZoneInfoZone(tz), sun.Sun(lat, lon), Observer(lat, lon)
        for day in DATES:
            kind, rise, sset = s.day(day, zone)
            assert kind == "normal", (tz, day)
            a_rise = _astral_near(asun.sunrise, obs, day, zone._tz, rise)
            a_set = _astral_near(asun.sunset, obs, day, zone._tz, sset)
            assert abs(rise - a_rise) <= 60, (tz, day, rise - a_rise)
            assert abs(sset - a_set) <= 60, (tz, day, sset - a_set)
            assert zone.local(rise).date() == day or abs(lon) > 150 or abs(lat) > 55
            checked += 1
    assert checked == len(PLACES) * len(DATES)


# (astral computes for the UT date; far from Greenwich at these latitudes its event can be a day's
# declination off, so the places stay within 35 degrees of it)
HIGH = [(64.15, -21.94, "Atlantic/Reykjavik"), (69.65, 18.96, "Europe/Oslo"), (78.22, 15.65, "Arctic/Longyearbyen"),
        (66.5, 25.73, "Europe/Helsinki"), (-64.8, -64.05, "Antarctica/Palmer"),
        (61.0, -10.0, "Atlantic/Faroe")]


def test_high_latitudes_match_astral_at_the_same_horizon():
    """Beyond 60 degrees the sun meets the horizon at a shallow angle and astral's horizon (refraction
    model, 0.044 degrees higher than the almanac's 0.833) moves events by minutes; at the same horizon
    the two agree within a minute wherever the sun crosses it at a usable angle."""
    checked = 0
    for lat, lon, tz in HIGH:
        zone, obs = ZoneInfoZone(tz), Observer(lat, lon)
        s = sun.Sun(lat, lon)
        for i in range(0, 365, 2):
            day = datetime.date(2026, 1, 1) + datetime.timedelta(days=i)
            d = s._calendar_date(day, zone)
            for sign, direction in ((-1, SunDirection.RISING), (1, SunDirection.SETTING)):
                ours, cos_ha = sun._event(lat, lon, d, sign)
                if ours is None or abs(cos_ha) > 0.9:
                    continue  # the sun grazes the horizon: the event itself is ill-defined to minutes
                theirs = asun.time_of_transit(obs, d, sun.ZENITH, direction, with_refraction=False).timestamp()
                assert _nearest(ours, theirs) <= 60, (tz, day, sign, ours - theirs)
                checked += 1
    assert checked > 800


@pytest.mark.parametrize("lat,lon,tz,day,kind", [
    (78.22, 15.65, "Arctic/Longyearbyen", datetime.date(2026, 6, 21), "polar_day"),
    (78.22, 15.65, "Arctic/Longyearbyen", datetime.date(2026, 12, 21), "polar_night"),
    (69.65, 18.96, "Europe/Oslo", datetime.date(2026, 6, 21), "polar_day"),
    (69.65, 18.96, "Europe/Oslo", datetime.date(2026, 12, 21), "polar_night"),
    (-77.85, 166.67, "Antarctica/McMurdo", datetime.date(2026, 12, 21), "polar_day"),
    (-77.85, 166.67, "Antarctica/McMurdo", datetime.date(2026, 6, 21), "polar_night"),
])
def test_polar_day_and_night(lat, lon, tz, day, kind):
    zone, s, obs = ZoneInfoZone(tz), sun.Sun(lat, lon), Observer(lat, lon)
    with pytest.raises(ValueError):
        asun.sunrise(obs, day, zone._tz)  # astral agrees: no sunrise that day
    assert s.day(day, zone)[0] == kind
    sset = s.sunset(day, zone)
    rise_next = s.sunrise(day + datetime.timedelta(days=1), zone)
    noon = zone.epoch(datetime.datetime(day.year, day.month, day.day, 12))
    if kind == "polar_night":  # Sunset -> Sunrise spans the schedule day, noon to noon: the lights stay on
        assert (sset, rise_next) == (noon, zone.epoch(datetime.datetime.combine(day, datetime.time(12))
                                                      + datetime.timedelta(days=1)))
    else:  # polar day: Sunset -> Sunrise is empty (both at the midnight between): the lights stay off
        assert sset == rise_next == noon + 12 * 3600


def test_latlng():
    assert sun.parse_latlng("[52.37, 4.9]") == (52.37, 4.9)
    assert sun.parse_latlng(" [-33.9,151.2] ") == (-33.9, 151.2)
    assert sun.parse_latlng("") is None
    for bad in ("52.3,4.9", "[91, 0]", "[0, 181]", "[a, b]", "[1, 2, 3]", "[nan, 0]"):
        with pytest.raises(ValueError):
            sun.parse_latlng(bad)
    with pytest.raises(ValueError):
        sun.Sun(95, 0)
