"""The schedule engine with fixed dates, places and zones: no wall clock anywhere."""

import datetime
import json

import pytest

from bridge.station import schedule as sch
from bridge.station.sun import Sun
from bridge.station.zone import PosixZone, ZoneInfoZone

D = datetime.date
AMS = sch.Place(ZoneInfoZone("Europe/Amsterdam"), Sun(52.37, 4.90))

# SetStreetlightProfile, spec annex 7.10.3 (its streetlightProfiles entry, as printed)
SPEC_7_10_3 = json.loads("""{
  "contactorId": 1, "clearSchedule": true,
  "streetlightProfiles": [{"profileId": 1, "stackLevel": 2, "recurrencyKind": "Daily",
    "validFrom": "2015-06-06T00:00:00", "validTo": "2019-09-06T00:00:00",
    "daySchedule": [{"start": {"kind": "Sunset", "offset": 3600}, "end": {"kind": "Absolute", "time": "01:00:00"}},
                    {"start": {"kind": "Absolute", "time": "06:00:00"}, "end": {"kind": "Sunrise", "offset": 0}}]}]}""")


def profile(pid=1, level=0, rec="Daily", vf="2026-01-01T00:00:00", vt=None, periods=(("18:00:00", "06:00:00"),)):
    d = {"profileId": pid, "stackLevel": level, "recurrencyKind": rec, "daySchedule": []}
    if vf:
        d["validFrom"] = vf
    if vt:
        d["validTo"] = vt
    for s, e in periods:
        d["daySchedule"].append({"start": s if isinstance(s, dict) else {"kind": "Absolute", "time": s},
                                 "end": e if isinstance(e, dict) else {"kind": "Absolute", "time": e}})
    return sch.Profile.parse(d)


def local(place, text):
    return place.zone.epoch(datetime.datetime.fromisoformat(text))


def switches(profiles, place, start, end):
    """What a daemon with a fake clock does: evaluate, sleep to the next change, switch where it differs."""
    t = local(place, start)
    stop = local(place, end)
    on, nxt = sch.state_at(profiles, t, place)
    out = []
    while nxt < stop:
        t = nxt
        now_on, nxt = sch.state_at(profiles, t, place)
        assert nxt > t  # always progress
        if now_on != on:
            out.append((place.zone.local(t).isoformat(timespec="seconds"), "On" if now_on else "Off"))
            on = now_on
    return out


def test_spec_example_profile_summer_and_winter():
    p = sch.Profile.parse(SPEC_7_10_3["streetlightProfiles"][0])
    sun = AMS.sun
    # 2015-07-07 (the day of the spec's GetEffectiveStreetlightDaySchedule example): sunset 22:0x, so on
    # from 23:0x to 01:00; sunrise 05:2x is before 06:00, so the morning period keeps the lights off
    day = D(2015, 7, 7)
    sset = AMS.zone.local(round(sun.sunset(day, AMS.zone)) + 3600).strftime("%H:%M:%S")
    assert sch.effective_json([p], day, AMS) == [{"start": sset, "end": "01:00:00"}]
    assert "23:00:00" <= sset <= "23:10:00"
    # winter: evening and morning periods both on
    day = D(2016, 1, 15)
    got = sch.effective_json([p], day, AMS)
    rise = AMS.zone.local(round(sun.sunrise(D(2016, 1, 16), AMS.zone))).strftime("%H:%M:%S")
    assert got == [{"start": AMS.zone.local(round(sun.sunset(day, AMS.zone)) + 3600).strftime("%H:%M:%S"),
                    "end": "01:00:00"}, {"start": "06:00:00", "end": rise}]
    assert "17:40:00" < got[0]["start"] < "18:00:00" and "08:30:00" < rise < "08:50:00"
    # and the switches a daemon makes over that night, to the second
    assert switches([p], AMS, "2016-01-15T12:00:00", "2016-01-16T12:00:00") == [
        ("2016-01-15T" + got[0]["start"], "On"), ("2016-01-16T01:00:00", "Off"),
        ("2016-01-16T06:00:00", "On"), ("2016-01-16T" + rise, "Off")]


def test_spec_example_validity_dates_are_inclusive_noon_to_noon():
    p = sch.Profile.parse(SPEC_7_10_3["streetlightProfiles"][0])
    assert sch.effective_json([p], D(2015, 6, 5), AMS) == []
    assert sch.effective_json([p], D(2015, 6, 6), AMS) != []  # validFrom's day, from its noon
    assert sch.effective_json([p], D(2019, 9, 6), AMS) != []  # validTo inclusive: the night after it too
    assert sch.effective_json([p], D(2019, 9, 7), AMS) == []
    # 2015-06-06 before noon belongs to the 5th: off; the night of the 6th to the 7th: on at 01:00 minus a bit
    assert sch.state_at([p], local(AMS, "2015-06-06T00:30:00"), AMS)[0] is False
    assert sch.state_at([p], local(AMS, "2015-06-07T00:30:00"), AMS)[0] is True
    assert sch.state_at([p], local(AMS, "2019-09-08T00:30:00"), AMS)[0] is False


def test_precedence_highest_stack_level_owns_the_day():
    base = profile(1, 0, "Daily", periods=(("18:00:00", "07:00:00"),))
    # every Sunday from 2026-03-01 (a Sunday): only 20:00-23:00, dark the rest of that night
    sunday = profile(2, 5, "Weekly", vf="2026-03-01T00:00:00", periods=(("20:00:00", "23:00:00"),))
    once = profile(3, 9, "None", vf="2026-03-04T10:00:00", periods=())  # None: that one day, no period: off
    ps = [base, sunday, once]
    assert sch.effective_json(ps, D(2026, 3, 1), AMS) == [{"start": "20:00:00", "end": "23:00:00"}]
    assert sch.effective_json(ps, D(2026, 3, 2), AMS) == [{"start": "18:00:00", "end": "07:00:00"}]
    assert sch.effective_json(ps, D(2026, 3, 8), AMS) == [{"start": "20:00:00", "end": "23:00:00"}]
    assert sch.effective_json(ps, D(2026, 3, 4), AMS) == []  # the higher profile's gap is not filled
    assert sch.effective_json(ps, D(2026, 3, 11), AMS) == [{"start": "18:00:00", "end": "07:00:00"}]
    assert sch.effective_json(ps, D(2026, 2, 22), AMS) == [{"start": "18:00:00", "end": "07:00:00"}]
    assert sch.winner(ps, D(2026, 3, 8)) is sunday


def test_overlapping_periods_merge_and_end_before_start_is_off():
    p = profile(periods=(("18:00:00", "22:00:00"), ("21:00:00", "23:30:00"), ("05:00:00", "04:00:00"),
                         ("13:00:00", "13:00:00")))
    assert sch.effective_json([p], D(2026, 5, 1), AMS) == [{"start": "18:00:00", "end": "23:30:00"}]
    sunset_cross = profile(periods=(({"kind": "Sunset", "offset": 0}, "19:00:00"),))  # sunset after 19:00 in June
    assert sch.effective_json([sunset_cross], D(2026, 6, 21), AMS) == []
    assert sch.effective_json([sunset_cross], D(2026, 12, 21), AMS)[0]["end"] == "19:00:00"


def test_all_day_has_no_blink_at_noon():
    p = profile(periods=(("12:00:00", "11:59:59"),))
    assert sch.effective_json([p], D(2026, 5, 1), AMS) == [{"start": "12:00:00", "end": "11:59:59"}]
    on, nxt = sch.state_at([p], local(AMS, "2026-05-02T11:59:59.500"), AMS)
    assert on and nxt == local(AMS, "2026-05-02T12:00:00")
    assert switches([p], AMS, "2026-05-01T13:00:00", "2026-05-10T13:00:00") == []


def test_milliseconds_and_format():
    p = profile(periods=(("21:03:00.500", "06:30:59"),))
    assert sch.effective_json([p], D(2026, 5, 1), AMS) == [{"start": "21:03:00.500", "end": "06:30:59"}]


AMS_POSIX = sch.Place(PosixZone("CET-1CEST,M3.5.0,M10.5.0/3"), Sun(52.37, 4.90))  # /etc/TZ on a router


@pytest.mark.parametrize("AMS", [AMS, AMS_POSIX], ids=["zoneinfo", "posix"])
def test_spring_forward_day_has_23_hours_and_no_lost_switch(AMS):
    p = profile(periods=(("22:00:00", "02:30:00"), ("05:00:00", "07:00:00")))
    day = D(2026, 3, 28)  # the night of 28->29 March: 02:00 CET becomes 03:00 CEST
    start, end = AMS.window(day)
    assert end - start == 23 * 3600
    # 02:30 does not exist that night: read with the offset before the gap, i.e. 03:30 CEST
    assert sch.effective_json([p], day, AMS) == [{"start": "22:00:00", "end": "03:30:00"},
                                                   {"start": "05:00:00", "end": "07:00:00"}]
    assert switches([p], AMS, "2026-03-28T12:00:00", "2026-03-29T12:00:00") == [
        ("2026-03-28T22:00:00", "On"), ("2026-03-29T03:30:00", "Off"),
        ("2026-03-29T05:00:00", "On"), ("2026-03-29T07:00:00", "Off")]


@pytest.mark.parametrize("AMS", [AMS, AMS_POSIX], ids=["zoneinfo", "posix"])
def test_fall_back_day_has_25_hours_and_no_doubled_switch(AMS):
    p = profile(periods=(("22:00:00", "02:30:00"),))
    day = D(2026, 10, 24)  # the night of 24->25 October: 03:00 CEST becomes 02:00 CET, 02:30 happens twice
    start, end = AMS.window(day)
    assert end - start == 25 * 3600
    off_at = local(AMS, "2026-10-25T02:30:00")
    assert AMS.zone.offset(off_at) == 7200  # the first 02:30 (CEST)
    events = switches([p], AMS, "2026-10-24T12:00:00", "2026-10-25T12:00:00")
    assert events == [("2026-10-24T22:00:00", "On"), ("2026-10-25T02:30:00", "Off")]  # once, not twice


def test_clock_jumps_reevaluate_to_the_level_and_never_double():
    """An NTP step forward or back: the state is recomputed for the new time; a switcher that changes the
    output only where it differs never reports the same state twice in a row."""
    p = profile(periods=(("18:00:00", "23:00:00"),))
    times = ["2026-05-01T17:00:00", "2026-05-01T19:00:00", "2026-05-01T17:30:00", "2026-05-01T18:00:00",
             "2026-05-01T22:59:59", "2026-05-02T01:00:00", "2026-05-01T20:00:00", "2026-05-01T20:00:00"]
    output, reported = False, []
    for t in times:
        on, _ = sch.state_at([p], local(AMS, t), AMS)
        if on != output:
            output = on
            reported.append(on)
    assert reported == [True, False, True, False, True]
    assert all(a != b for a, b in zip(reported, reported[1:]))


def test_sunset_sunrise_without_geolocation_keeps_those_periods_off():
    place = sch.Place(ZoneInfoZone("Europe/Amsterdam"), None)
    p = profile(periods=(({"kind": "Sunset", "offset": 0}, "23:00:00"), ("05:00:00", "06:00:00")))
    assert sch.effective_json([p], D(2026, 5, 1), place) == [{"start": "05:00:00", "end": "06:00:00"}]


def test_polar_night_on_all_day_polar_day_off():
    place = sch.Place(ZoneInfoZone("Arctic/Longyearbyen"), Sun(78.22, 15.65))
    p = profile(periods=(({"kind": "Sunset", "offset": 0}, {"kind": "Sunrise", "offset": 0}),))
    night = sch.effective_json([p], D(2026, 12, 21), place)
    assert night == [{"start": "12:00:00", "end": "11:59:59"}]
    assert switches([p], place, "2026-12-10T13:00:00", "2026-12-30T13:00:00") == []  # no blink at noon
    assert sch.state_at([p], local(place, "2026-12-22T03:00:00"), place)[0] is True
    assert sch.effective_json([p], D(2026, 6, 21), place) == []
    assert sch.state_at([p], local(place, "2026-06-22T01:00:00"), place)[0] is False


def test_a_year_of_switches_alternates_and_matches_the_effective_schedules():
    p = sch.Profile.parse(SPEC_7_10_3["streetlightProfiles"][0])
    events = switches([p], AMS, "2016-01-01T12:00:00", "2017-01-01T12:00:00")
    assert [s for _, s in events] == ["On", "Off"] * (len(events) // 2)
    periods = sum(len(sch.effective(([p]), D(2016, 1, 1) + datetime.timedelta(days=i), AMS)[1]) for i in range(366))
    assert len(events) == 2 * periods


@pytest.mark.parametrize("bad,code", [
    ({"start": {"kind": "Absolute"}, "end": {"kind": "Absolute", "time": "01:00:00"}}, "OccurenceConstraintViolation"),
    ({"start": {"kind": "Sunset"}, "end": {"kind": "Absolute", "time": "01:00:00"}}, "OccurenceConstraintViolation"),
    ({"start": {"kind": "Absolute", "time": "25:00:00"}, "end": {"kind": "Absolute", "time": "01:00:00"}},
     "PropertyConstraintViolation"),
    ({"start": {"kind": "Absolute", "time": "1:00"}, "end": {"kind": "Absolute", "time": "01:00:00"}},
     "PropertyConstraintViolation"),
])
def test_bad_edges_are_named(bad, code):
    d = {"profileId": 1, "stackLevel": 0, "recurrencyKind": "Daily", "daySchedule": [bad]}
    with pytest.raises(sch.ScheduleError) as e:
        sch.Profile.parse(d)
    assert e.value.code == code


def test_the_field_a_kind_does_not_use_is_ignored():
    p = profile(periods=(({"kind": "Absolute", "time": "21:00:00", "offset": 5}, {"kind": "Sunrise", "offset": 0,
                                                                                 "time": "01:00:00"}),))
    assert sch.effective_json([p], D(2026, 12, 1), AMS)[0]["start"] == "21:00:00"
    assert p.to_json()["daySchedule"][0] == {"start": {"kind": "Absolute", "time": "21:00:00"},
                                             "end": {"kind": "Sunrise", "offset": 0}}


def test_weekly_and_none_need_valid_from():
    for rec in ("Weekly", "None"):
        with pytest.raises(sch.ScheduleError):
            profile(rec=rec, vf=None)
    with pytest.raises(sch.ScheduleError):
        profile(vf="2026-05-02T00:00:00", vt="2026-05-01T00:00:00")
    assert profile(rec="Daily", vf=None).applies(D(1999, 1, 1))


def test_install_rules_are_all_or_nothing():
    ps = sch.Profiles()
    assert ps.install(1, [profile(1, 0), profile(2, 3)]) is None
    assert ps.install(1, [profile(3, 3)]) is not None  # stack level 3 is taken
    assert ps.install(1, [profile(4, 17)]) is not None  # above the maximum
    assert ps.install(1, [profile(4, 17)], max_stack_level=20) is None
    assert ps.install(1, [profile(5, 6), profile(6, 6)]) is not None
    assert ps.install(1, [profile(5, 6), profile(5, 7)]) is not None
    assert ps.install(5, [profile(9, 1)]) is not None  # no such contactor
    assert [p.profile_id for p in ps.of(1)] == [1, 2, 4]
    # a refused clearAll leaves everything as it was
    assert ps.install(1, [profile(7, 1), profile(8, 1)], clear_all=True) is not None
    assert [p.profile_id for p in ps.of(1)] == [1, 2, 4]
    # the same profileId replaces (also from another contactor); clearAll erases and installs together
    assert ps.install(2, [profile(2, 3)]) is None
    assert [p.profile_id for p in ps.of(1)] == [1, 4] and [p.profile_id for p in ps.of(2)] == [2]
    assert ps.install(1, [profile(7, 1)], clear_all=True) is None
    assert [p.profile_id for p in ps.of(1)] == [7]
    # persisted form round-trips
    again = sch.Profiles()
    again.load_json(json.loads(json.dumps(ps.to_json())))
    assert again.to_json() == ps.to_json()
    # a station that has only contactor 2 configured for now keeps contactor 1's profiles as they were
    fewer = sch.Profiles((2,))
    fewer.load_json(json.loads(json.dumps(ps.to_json())))
    assert fewer.of(1) == [] and fewer.to_json() == ps.to_json()


def test_clear():
    ps = sch.Profiles()
    ps.install(1, [profile(1, 0), profile(2, 1)])
    ps.install(2, [profile(3, 1), profile(4, 2)])
    assert ps.clear(profile_id=9) == 0
    assert ps.clear(profile_id=3, contactor=1) == 0  # profile 3 is on contactor 2
    assert ps.clear(contactor=2, stack_level=2) == 1
    assert ps.clear(stack_level=1) == 2  # every contactor's level 1
    assert ps.clear(contactor=1) == 1
    assert ps.clear() == 0


def test_a_router_without_the_zone_database_runs_on_its_posix_rule(tmp_path):
    """OpenWrt's zonename with no database installed: the timezone rule, even one with a /time part."""
    from bridge.station.zone import from_settings

    no_database = {"PYTHONTZPATH": str(tmp_path)}
    zone = from_settings("Europe/Amsterdam", "CET-1CEST,M3.5.0,M10.5.0/3", environ=no_database)
    assert isinstance(zone, PosixZone) and zone.name == "CET-1CEST,M3.5.0,M10.5.0/3"
    assert from_settings("", "", environ={"TZ": "CET-1CEST,M3.5.0,M10.5.0/3"}).name == "CET-1CEST,M3.5.0,M10.5.0/3"
    assert from_settings("UTC", "UTC", environ=no_database).name == "UTC"


def test_a_zone_name_is_its_database_files_rule_and_agrees_with_zoneinfo(tmp_path):
    from bridge.station.zone import from_file, from_settings, tzif_rule

    zone = from_settings("Europe/Amsterdam", "", environ={})
    assert isinstance(zone, PosixZone) and zone.name == "Europe/Amsterdam"
    t = datetime.datetime(2026, 1, 1).timestamp()
    assert all(zone.offset(t + h * 3600) == AMS.zone.offset(t + h * 3600) for h in range(0, 2 * 365 * 24, 5))
    with open("/usr/share/zoneinfo/Europe/Amsterdam", "rb") as f:
        data = f.read()
    assert tzif_rule(data) == "CET-1CEST,M3.5.0,M10.5.0/3"
    version_1 = tmp_path / "v1"
    version_1.write_bytes(b"TZif\0" + data[5:data.index(b"TZif", 4)])  # the file's first part alone: no rule
    assert tzif_rule(version_1.read_bytes()) is None
    assert isinstance(from_file(str(version_1), "Europe/Amsterdam"), ZoneInfoZone)  # zoneinfo reads it then


def test_posix_rules_agree_with_the_zone_database():
    for key, rule in [("Europe/Amsterdam", "CET-1CEST,M3.5.0,M10.5.0/3"), ("America/New_York", "EST5EDT,M3.2.0,M11.1.0"),
                      ("Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3"), ("Asia/Kolkata", "IST-5:30"),
                      ("America/Sao_Paulo", "<-03>3"), ("Pacific/Chatham", "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45")]:
        a, b = ZoneInfoZone(key), PosixZone(rule)
        t = datetime.datetime(2026, 1, 1).timestamp()
        for i in range(0, 365 * 24, 5):
            e = t + i * 3600
            assert a.offset(e) == b.offset(e), (key, a.local(e))
        for text in ("2026-03-29T02:30:00", "2026-10-25T02:30:00", "2026-03-08T02:30:00", "2026-11-01T01:30:00",
                     "2026-04-05T02:30:00", "2026-10-04T02:30:00", "2026-06-01T12:00:00"):
            naive = datetime.datetime.fromisoformat(text)
            assert a.epoch(naive) == b.epoch(naive), (key, text)
            assert a.epoch(naive) == naive.replace(tzinfo=a._tz, fold=0).timestamp()
