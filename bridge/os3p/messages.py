"""What the Substation sends: the tables later features add rows to.

EVENT_MESSAGES  tr069 inform event -> the OS3P message a session for it sends
QUEUED          notifications that go through the persistent outbox (survive a restart)
PRODUCERS       requested message -> producer(context) of its current payload: what a session's
                queued notification and a TriggerMessage send; a message with no row is answered
                Rejected by TriggerMessage (nothing to report)
EVERY_SESSION   messages every session queues when their producer has something (the parameter model's
                value changes: passive ones go with the next session, whatever its event)
ACCUMULATING    notifications that carry what happened since the last one (not a snapshot of a state):
                queued again while an earlier one is still in the outbox

A new notification (a streetlight status, meter values) is one row in QUEUED and one in PRODUCERS;
the producer gets the action context (context.py), as handlers do.
"""

import json
from datetime import datetime

from .. import schema
from ..logger import getLogger

log = getLogger(__name__)

EVENT_MESSAGES = {
    "1 BOOT": "BootNotification",  # sent even when its fields did not change
    "2 PERIODIC": "Heartbeat",  # the periodic inform is the heartbeat; its interval is HeartbeatInterval
    "3 SCHEDULED": "Heartbeat",
    "4 VALUE CHANGE": "StatusNotification",  # the station's current status, through the outbox
    "6 CONNECTION REQUEST": "Heartbeat",  # the ACS asked us to call in: connect, drain, sync the clock
    "8 DIAGNOSTICS COMPLETE": "GetFileStatusNotification",  # the last log upload's status, through the outbox
}
DEFAULT_MESSAGE = "Heartbeat"

QUEUED = {"StatusNotification", "GetFileStatusNotification", "FirmwareStatusNotification", "MeterValues",
          "StreetlightModeStatusNotification", "StreetlightStatusNotification", "DataModelNotification"}
EVERY_SESSION = ("DataModelNotification",)
ACCUMULATING = {"DataModelNotification"}


MAX_EPOCH = 2.0 ** 40  # seconds (year ~36812): where the ends of the calendar are clamped to


def parse_iso(text):
    """An RFC 3339 date-time -> Unix seconds; ValueError when it is not one. The ends of the calendar
    (0001-01-01 with an offset, 9999-12-31) are clamped to +-MAX_EPOCH, never an OverflowError."""
    dt = datetime.fromisoformat(text.replace("z", "+00:00").replace("Z", "+00:00"))
    try:
        return dt.timestamp()
    except (OverflowError, OSError, ValueError):  # out of the platform's or datetime's range
        return -MAX_EPOCH if dt.year < 1970 else MAX_EPOCH


def boot_fields(config, device, modem=None):
    """The BootNotification payload: the board's facts and the identifiers, cut to the schema. ICCID and
    IMSI: os3p.iccid / os3p.imsi when set in UCI (an override), else the modem's (bridge/reach), else empty."""
    try:
        board = device.board()
    except Exception as e:  # register anyway: an empty field is allowed, no registration is not
        log.warning("board facts unavailable (%s): BootNotification without them", e)
        board = {}
    fields = {
        "vendor": board.get("vendor") or "",
        "model": board.get("model") or "",
        "stationNumber": config.get("os3p.station_number"),
        "serialNumber": board.get("serial") or "",
        "firmwareVersion": board.get("firmware_version") or "",
        "iccid": config.get("os3p.iccid") or (modem.iccid if modem is not None else None) or "",
        "imsi": config.get("os3p.imsi") or (modem.imsi if modem is not None else None) or "",
    }
    limits = schema.load("os3p/BootNotification.req")["properties"]
    return {k: str(v)[:limits[k]["maxLength"]] for k, v in fields.items()}


def _streetlights(name):
    def produce(ctx):
        from . import streetlights  # the station's modules only once a streetlight message is asked for

        return getattr(streetlights, name)(ctx)

    return produce


PRODUCERS = {
    "BootNotification": lambda ctx: ctx.boot_fields(),
    "DataModelNotification": lambda ctx: ctx.value_changes(),  # None: nothing changed (docs/notifications.md)
    "FirmwareStatusNotification": lambda ctx: ctx.firmware.status(),
    "GetFileStatusNotification": lambda ctx: ctx.files.status(),
    "Heartbeat": lambda ctx: {},
    "StatusNotification": lambda ctx: ctx.station_status(),
    # a list: one message per contactor (or one for all where they agree)
    "StreetlightModeStatusNotification": _streetlights("current_mode"),
    "StreetlightStatusNotification": _streetlights("current_status"),
}


def messages_for(events):
    """The messages a session for these events sends, each once, in the events' order (then those every
    session sends when there is something to say)."""
    out = []
    for event in events:
        m = EVENT_MESSAGES.get(event, DEFAULT_MESSAGE)
        if m not in out:
            out.append(m)
    return out + [m for m in EVERY_SESSION if m not in out]


_checked = {}  # (schema, payload as JSON text) -> errors: the same payloads come again and again


def validate(name, payload):
    """bridge.schema.errors for schemas/os3p/<name>.json, remembered for payloads seen before."""
    try:
        text = json.dumps(payload, separators=(",", ":"))
    except (TypeError, ValueError):
        text = None
    if text is None or len(text) > 512:  # only small payloads are remembered: bounded memory
        return schema.errors(schema.load("os3p/" + name), payload)
    key = (name, text)
    errs = _checked.get(key)
    if errs is None:
        errs = schema.errors(schema.load("os3p/" + name), payload)
        if len(_checked) >= 256:
            _checked.clear()
        _checked[key] = errs
    return errs
