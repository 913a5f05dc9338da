"""OS3P <-> the station's sensors (bridge/station/sensors.py): translation only.

- the sensors' FaultChanged events go to the persistent outbox as StatusNotifications;
- a periodic sample becomes MeterValues (context Sample.Periodic, the default, left out), through the
  outbox; a TriggerMessage MeterValues reads fresh values and sends them directly (context Trigger);
- TestMVFaultIndicator / ResetMVFaultIndicator answer what the indicators answer (Rejected when there
  is none, tables 14 and 19).
"""

from ..clock import utc_iso
from ..events import FaultChanged, SampleTaken
from ..logger import getLogger

log = getLogger(__name__)


_ENUMS = None
_refused = set()
# A central system that validates payloads against the spec's printed schema (as OCPP libraries do) must
# take every MeterValues, so what goes out is what both table 1 and that schema accept (docs/os3p.md,
# schemas/os3p/DEVIATIONS.md items 7 and 8):
UNIT_SYMBOL = {"Celsius": "C", "Amp": "A", "-": None}  # table 1 writes units as words, the schema as symbols
TABLE_ONLY = ("BoardTemperature",)  # table 1 names it, the printed enum does not: os3p.send_board_temperature


def _enums():
    """The schema's measurand, unit and location spellings: a value the central system would refuse is
    left out of the message (and logged once), so one misconfigured register cannot block the others."""
    global _ENUMS
    if _ENUMS is None:
        from .. import schema

        props = schema.load("os3p/MeterValues.req")["properties"]["meterValue"]["items"]["properties"]
        value = props["sampledValue"]["items"]["properties"]
        _ENUMS = {k: set(value[k]["enum"]) for k in ("measurand", "unit", "location")}
    return _ENUMS


def _spelled(measurand, location, unit):
    enums = _enums()
    bad = [(k, v) for k, v in (("measurand", measurand), ("unit", unit), ("location", location))
           if v and v not in enums[k]]
    for key in bad:
        if key not in _refused:
            _refused.add(key)
            log.error("MeterValues: %s %r is not one the spec names; that value is not sent", *key)
    return not bad


def meter_values(sample, table_names=False):
    """A SampleTaken -> a MeterValues payload. table_names (os3p.send_board_temperature): also the
    measurands table 1 names that the printed schema lacks (BoardTemperature)."""
    from ..station.meter import fmt

    context = sample.context
    values = []
    for measurand, location, unit, value in sample.readings:
        text = fmt(value)
        if text is None or not _spelled(measurand, location, unit):
            continue  # no reading (NaN, inf): that value is left out, the others still go
        if measurand in TABLE_ONLY and not table_names:
            continue  # a strictly validating central system would refuse the whole message for it
        unit = UNIT_SYMBOL.get(unit, unit)
        v = {"value": text, "measurand": measurand}
        if unit:
            v["unit"] = unit
        if location:
            v["location"] = location
        if context != "Sample.Periodic":
            v["context"] = context
        values.append(v)
    return {"meterValue": [{"timestamp": utc_iso(sample.time), "sampledValue": values}]}


def subscriber(ctx):
    """What the OS3P client subscribes to the sensors while it runs: their events as queued notifications."""

    def on_event(event):
        if type(event) is FaultChanged:
            ctx.notify("StatusNotification", event.notification)
        elif type(event) is SampleTaken and event.context == "Sample.Periodic":
            ctx.notify("MeterValues", meter_values(event, ctx.config.get("os3p.send_board_temperature")))

    return on_event


def test_indicators(req):
    sensors = req.context.sensors
    return {"status": sensors.test() if sensors is not None else "Rejected"}


def reset_indicators(req):
    sensors = req.context.sensors
    return {"status": sensors.reset() if sensors is not None else "Rejected"}


def trigger_meter_values(req):
    """TriggerMessage MeterValues: Accepted, then fresh readings once the answer is on the wire."""
    ctx = req.context
    sensors = ctx.sensors
    if sensors is None or not sensors.has_readings():
        return {"status": "Rejected"}  # nothing to read: no meter, no sensor
    table_names = ctx.config.get("os3p.send_board_temperature")
    req.after(lambda: sensors.read_now("Trigger", lambda sample: ctx.trigger("MeterValues",
                                                                            meter_values(sample, table_names))))
    return {"status": "Accepted"}
