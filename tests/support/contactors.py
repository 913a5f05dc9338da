"""The streetlights' Control (contactors.py) with a fake clock and lines that are plain files (the host backend), in
Amsterdam: local times, a night profile, and the Control made with its events recorded."""

import datetime

from bridge.events import ContactorChanged, ContactorFault, ModeChanged
from bridge.station import contactors as ct
from bridge.station.backends import hostlines
from bridge.station.schedule import Place
from bridge.station.sun import Sun
from bridge.station.zone import ZoneInfoZone
from support.clock import FakeClock

AMS = Place(ZoneInfoZone("Europe/Amsterdam"), Sun(52.37, 4.90))


def at(text):
    return AMS.zone.epoch(datetime.datetime.fromisoformat(text))


class LocalClock(FakeClock):
    """The fake clock, started and moved on by local times in Amsterdam."""

    def __init__(self, start):
        super().__init__(at(start))

    def advance_to(self, text):
        """Move the clock to a local time, firing every due timer in order (what the loop does)."""
        self.advance_until(at(text))


NIGHT = {"profileId": 1, "stackLevel": 0, "recurrencyKind": "Daily", "validFrom": "2026-01-01T00:00:00",
         "daySchedule": [{"start": {"kind": "Absolute", "time": "20:00:00"},
                          "end": {"kind": "Absolute", "time": "06:00:00"}}]}


def make(tmp_path, clock, local_action="on"):
    lines, local = hostlines.simulated(str(tmp_path / "station"))
    cs = {i: ct.Contactor(i, out, fb) for i, (out, fb) in lines.items()}
    st = ct.Control(cs, lambda: AMS, clock, clock.call_later, str(tmp_path / "station" / "streetlights.json"),
                    local_switch=local, local_action=local_action)
    events = []
    st.subscribe(lambda e: events.append(brief(e)), ContactorChanged, ModeChanged, ContactorFault)
    return st, events, lines, local


def brief(event):
    """An event as the tests write it: ("status", contactor, on, unexpected), ("mode", contactor, mode),
    ("fault", contactor, active)."""
    if type(event) is ContactorChanged:
        return ("status", event.contactor, event.on, event.unexpected)
    if type(event) is ModeChanged:
        return ("mode", event.contactor, event.mode)
    return ("fault", event.contactor, event.active)


def outputs(lines):
    return {i: out.get() for i, (out, _) in lines.items()}
