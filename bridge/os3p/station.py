"""OS3P <-> the station's sensors (bridge/station/sensors.py): translation only.

- the sensors' StatusNotification changes go to the persistent outbox as they are;
- a periodic sample becomes MeterValues (context Sample.Periodic, the default, left out), through the
  outbox; a TriggerMessage MeterValues reads fresh values and sends them directly (context Trigger);
- TestMVFaultIndicator / ResetMVFaultIndicator answer what the indicators answer (Rejected when there
  is none, tables 14 and 19).
"""


from ..logger import getLogger
from .messages import utc_iso

log = getLogger(__name__)


_ENUMS = None
_refused = set()


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


def meter_values(sample):
    """(epoch, [(measurand, location, unit, value)], context) -> a MeterValues payload."""
    from ..station.meter import fmt

    epoch, readings, context = sample
    values = []
    for measurand, location, unit, value in readings:
        text = fmt(value)
        if text is None or not _spelled(measurand, location, unit):
            continue  # no reading (NaN, inf): that value is left out, the others still go
        v = {"value": text, "measurand": measurand}
        if unit:
            v["unit"] = unit
        if location:
            v["location"] = location
        if context != "Sample.Periodic":
            v["context"] = context
        values.append(v)
    return {"meterValue": [{"timestamp": utc_iso(epoch), "sampledValue": values}]}


class Listener:
    """Attached to the sensors while the OS3P client runs."""

    def __init__(self, ctx):
        self.ctx = ctx

    def __call__(self, kind, payload):
        if kind == "StatusNotification":
            self.ctx.notify("StatusNotification", payload)
        elif kind == "sample" and payload[2] == "Sample.Periodic":
            self.ctx.notify("MeterValues", meter_values(payload))


def test_indicators(req):
    station = req.context.sensors
    return {"status": station.test() if station is not None else "Rejected"}


def reset_indicators(req):
    station = req.context.sensors
    return {"status": station.reset() if station is not None else "Rejected"}


def trigger_meter_values(req):
    """TriggerMessage MeterValues: Accepted, then fresh readings once the answer is on the wire."""
    ctx = req.context
    station = ctx.sensors
    if station is None or not station.has_readings():
        return {"status": "Rejected"}  # nothing to read: no meter, no sensor
    req.after(lambda: station.read_now("Trigger", lambda sample: ctx.trigger("MeterValues", meter_values(sample))))
    return {"status": "Accepted"}
