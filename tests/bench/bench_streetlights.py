"""Streetlight figures: a year of effective day schedules for four contactors, a year of sun times against
astral (the peer the tests check the figures with), and the daemon's idle RSS with four contactors
running (host simulation: schedules installed, Geolocation set) over ws://. Nothing here asserts on timing."""

import datetime
import os
import tempfile
import time

from benchpath import ROOT  # first: the repository and tests/ on sys.path

from benchutil import heading, print_row, rss_kib, skipped
from bridge.station import schedule
from bridge.station.sun import Sun
from bridge.station.zone import PosixZone

BASE = {"profileId": 1, "stackLevel": 0, "recurrencyKind": "Daily", "validFrom": "2026-01-01T00:00:00",
        "daySchedule": [{"start": {"kind": "Sunset", "offset": 900}, "end": {"kind": "Absolute", "time": "00:30:00"}},
                        {"start": {"kind": "Absolute", "time": "05:30:00"}, "end": {"kind": "Sunrise", "offset": -900}}]}
SUNDAY = {"profileId": 2, "stackLevel": 5, "recurrencyKind": "Weekly", "validFrom": "2026-01-04T00:00:00",
          "daySchedule": [{"start": {"kind": "Sunset", "offset": 0}, "end": {"kind": "Sunrise", "offset": 0}}]}


def year_of_schedules():
    """Seconds for 4 contactors x 365 days of effective day schedules, and the periods produced."""
    place = schedule.Place(PosixZone("CET-1CEST,M3.5.0,M10.5.0/3"), Sun(52.37, 4.90))
    profiles = {}
    for cid in (1, 2, 3, 4):
        profiles[cid] = [schedule.Profile.parse(dict(BASE, profileId=cid * 10)),
                         schedule.Profile.parse(dict(SUNDAY, profileId=cid * 10 + 1))]
    day0 = datetime.date(2026, 1, 1)
    best, periods = None, 0
    for _ in range(3):
        place._cache.clear()
        t = time.perf_counter()
        periods = 0
        for i in range(365):
            day = day0 + datetime.timedelta(days=i)
            for cid in (1, 2, 3, 4):
                periods += len(schedule.effective(profiles[cid], day, place)[1])
        elapsed = time.perf_counter() - t
        best = elapsed if best is None else min(best, elapsed)
    return best, periods


def year_of_sun(report):
    from bridge.station.zone import ZoneInfoZone

    zone = ZoneInfoZone("Europe/Amsterdam")
    days = [datetime.date(2026, 1, 1) + datetime.timedelta(days=i) for i in range(365)]
    sun = Sun(52.37, 4.90)
    t = time.perf_counter()
    for d in days:
        sun.sunrise(d, zone), sun.sunset(d, zone)
    ours = time.perf_counter() - t
    report("  365 sunrises + sunsets, this daemon (sun.py)", ours * 1000, "ms")
    try:
        from astral import Observer
        from astral import sun as asun
    except ImportError:
        skipped(report, "  365 sunrises + sunsets, astral", "astral not installed")
        return
    obs = Observer(52.37, 4.90)
    t = time.perf_counter()
    for d in days:
        asun.sunrise(obs, d, zone._tz), asun.sunset(obs, d, zone._tz)
    theirs = time.perf_counter() - t
    report("  365 sunrises + sunsets, astral 3", theirs * 1000, "ms")
    report("    ratio astral / this", theirs / ours, "x")


def idle_rss(server, streetlights=True):
    """The daemon (python -S, as on a device) with the OS3P surface over ws://, with four contactors scheduled
    (host simulation) or with the streetlights component left out, in the same run."""
    from bench_os3p import _device_like
    from support.os3p_harness import write_config
    import json
    import subprocess

    ident = "BENCH-SL-%d" % streetlights
    state = tempfile.mkdtemp(prefix="streetlights-bench-rss-")
    write_config(state, server.url, identity=ident, jsonrpc__enabled="0", os3p__geolocation="[52.37, 4.90]")
    # the profiles as the daemon keeps them: four contactors with a base and a weekly profile each
    os.makedirs(os.path.join(state, "station"), mode=0o700, exist_ok=True)
    profiles = {str(c): [dict(BASE, profileId=c * 10), dict(SUNDAY, profileId=c * 10 + 1)] for c in (1, 2, 3, 4)}
    with open(os.path.join(state, "station", "streetlights.json"), "w") as f:
        json.dump({"profiles": profiles, "contactors": {}}, f)
    python, env = _device_like()
    env["TZ"] = "CET-1CEST,M3.5.0,M10.5.0/3"
    off = "" if streetlights else "import bridge.wiring as w; w._streetlights_wanted = lambda daemon: False; "
    code = "import sys; import bridge.daemon as d; %ssys.exit(d.main(['--backend', 'host', '--state-dir', %r]))" % (
        off, state)
    proc = subprocess.Popen(python + ["-c", code], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        server.ask("wait %s boot" % ident)
        time.sleep(2.0)
        return rss_kib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


def run(report):
    heading(report, "schedule engine", "best of 3")
    elapsed, periods = year_of_schedules()
    report("  a year of effective day schedules, 4 contactors (1460 days)", elapsed * 1000, "ms",
           "%d periods; Sunset/Sunrise edges, DST zone" % periods)
    report("    per contactor-day", elapsed / 1460 * 1e6, "us")
    year_of_sun(report)
    from bench_os3p import Server

    server = Server("websockets")
    try:
        runs = [(idle_rss(server, True), idle_rss(server, False)) for _ in range(3)]  # interleaved: noise hits both
        with_lights, without = (sorted(column)[1] for column in zip(*runs))  # medians
    finally:
        server.close()
    report("daemon idle RSS, 4 contactors scheduled, os3p surface over ws://", with_lights / 1024.0, "MiB",
           "median of 3; target <= 20")
    report("  the same daemon without the streetlights component", without / 1024.0, "MiB",
           "streetlights cost %.2f MiB" % ((with_lights - without) / 1024.0))


if __name__ == "__main__":
    run(print_row)
