"""DayMax / DayMin (spec table 1): the local day's extremes of the readings they follow, from local
midnight to local midnight, with each reading's location and unit; a restart keeps the day's so far."""

import datetime

from bridge.station.dayextremes import EXTREMES, DayExtremes
from bridge.station.zone import ZoneInfoZone

AMS = ZoneInfoZone("Europe/Amsterdam")


def at(text):
    return AMS.epoch(datetime.datetime.fromisoformat(text))


def day():
    return DayExtremes(lambda epoch: AMS.local(epoch).date())


def test_every_aggregate_the_schema_names_follows_a_reading_the_schema_names():
    import json
    import os

    from support.paths import ROOT

    with open(os.path.join(ROOT, "schemas", "os3p", "MeterValues.req.json")) as f:
        props = json.load(f)["properties"]["meterValue"]["items"]["properties"]
    names = set(props["sampledValue"]["items"]["properties"]["measurand"]["enum"])
    assert {m for m in names if m.startswith(("DayMax.", "DayMin."))} == set(EXTREMES)
    assert all(source in names for source, _how in EXTREMES.values())


def test_maximum_minimum_and_the_energy_of_the_day():
    d = day()
    assert d.values(at("2026-05-01T00:10:00")) == []
    d.add(at("2026-05-01T00:15:00"), [("Voltage.L1N", "", "V", 231.0),
                                      ("Energy.Active.Import.Register", "P1Meter", "kWh", 1000.0),
                                      ("BoardTemperature", "", "Celsius", 40.0)])
    d.add(at("2026-05-01T12:00:00"), [("Voltage.L1N", "", "V", 226.5), ("Current.L1", "P1Meter", "A", 3.0)])
    d.add(at("2026-05-01T20:00:00"), [("Voltage.L1N", "", "V", 229.0), ("Current.L1", "P1Meter", "A", 9.5),
                                      ("Energy.Active.Import.Register", "P1Meter", "kWh", 1012.5)])
    assert d.values(at("2026-05-01T20:00:00")) == [
        ("DayMax.Voltage.L1", "", "V", 231.0), ("DayMin.Voltage.L1", "", "V", 226.5),
        ("DayMax.Current.L1", "P1Meter", "A", 9.5),
        ("DayMax.Energy.Active.Import.Register", "P1Meter", "kWh", 12.5)]


def test_a_new_local_day_starts_afresh_at_local_midnight_across_dst():
    d = day()
    d.add(at("2026-03-28T23:59:00"), [("ActivePower.L2", "", "kW", 40.0)])
    d.add(at("2026-03-29T00:00:00"), [("ActivePower.L2", "", "kW", 12.0)])   # the night DST starts
    d.add(at("2026-03-29T23:45:00"), [("ActivePower.L2", "", "kW", 15.0)])   # a 23-hour day, still the 29th
    assert d.values(at("2026-03-29T23:50:00")) == [("DayMax.ActivePower.L2", "", "kW", 15.0),
                                                   ("DayMin.ActivePower.L2", "", "kW", 12.0)]
    assert d.values(at("2026-03-30T00:00:01")) == []  # the 30th: nothing added yet
