"""Server-initiated OS3P actions: one table, action name -> handler.

A handler gets a Request (its .context is the narrow context of context.py, .payload already validated against schemas/os3p/<Action>.req.json) and returns
the CALLRESULT payload (validated against <Action>.resp.json before it leaves), or raises
errors.CallError. Work that must wait until the answer is on the wire (a reboot) is registered with
request.after(fn). Anything slow (downloads, uploads, reboots, flashing) runs in a worker thread: the loop
never waits on the network.

An action missing from the table is answered NotImplemented; the streetlight actions are in
streetlights.py; the MV fault-indicator actions answer Rejected where no indicator is configured (tables 14
and 19), as sensors.py translates them.
"""

import threading

from ..config import KEYS, Config
from ..logger import getLogger
from . import datamodel, errors, sensors, streetlights

log = getLogger(__name__)


class Request:
    def __init__(self, context, call):
        self.context = context
        self.call = call
        self.payload = call.payload
        self.after_sent = None

    def after(self, fn):
        self.after_sent = fn

    def after_all(self, fn):
        """Add fn to what runs once the answer is on the wire (after() replaces, this appends)."""
        before = self.after_sent
        self.after_sent = fn if before is None else (lambda: (before(), fn()))


def in_worker(name, fn, *args):
    t = threading.Thread(target=fn, args=args, name=name, daemon=True)
    t.start()
    return t


# --- configuration ----------------------------------------------------------------------------
def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def get_configuration(req):
    config = req.context.config
    wanted = req.payload.get("key") or None
    if wanted is None:
        keys, unknown = [k for k in KEYS.values() if k.os3p] + list(streetlights.COMPUTED_KEYS), []
    else:
        keys, unknown = [], []
        # TR-181 paths (DEVIATIONS.md item 10): each parameter a full or partial path names, one snapshot
        model = req.context.model
        paths = [n for n in wanted if datamodel.is_path(n)] if model is not None else []
        found = datamodel.configuration_entries(model, dict.fromkeys(paths)) if paths else {}
        for name in dict.fromkeys(wanted):  # a key asked for twice is answered once
            if name in found:
                (keys if found[name] is not None else unknown).append(found[name] or name)
                continue
            key = name if name in streetlights.COMPUTED_KEYS else Config.by_os3p(name)
            (keys if key is not None else unknown).append(key if key is not None else name)
    out = []
    for key in keys:
        if isinstance(key, list):  # a TR-181 path's entries
            out += key
            continue
        if isinstance(key, str):  # computed by the station (streetlights.COMPUTED_KEYS), read-only
            entry = {"key": key, "readonly": True}
            value = streetlights.COMPUTED_KEYS[key](req.context)
            if value is not None:
                entry["value"] = value
            out.append(entry)
            continue
        entry = {"key": key.os3p, "readonly": key.readonly}
        if not key.secret:
            entry["value"] = _text(config.get(key.name))
        out.append(entry)
    return {"configurationKey": out, "unknownKey": unknown}


def change_configuration(req):
    """Accepted means it survives a restart: the value passes its key's validator, is applied in memory,
    and only then written to UCI; a value that fails any step is Rejected and nothing of it stays."""
    ctx = req.context
    if ctx.model is not None and datamodel.is_path(req.payload["key"]):  # DEVIATIONS.md item 10
        return {"status": datamodel.change(ctx.model, req.payload["key"], req.payload["value"])}
    key = Config.by_os3p(req.payload["key"])
    if key is None or key.readonly:
        return {"status": "Rejected"}
    try:
        ctx.config.set(key.name, req.payload["value"])
    except ValueError as e:
        log.info("ChangeConfiguration %s refused: %s", key.os3p, e)
        return {"status": "Rejected"}
    try:
        ctx.config_changed(key.name)  # applied before anything is written
        ctx.config.save()
    except Exception as e:  # not writable (OSError), or what uses the value could not take it
        log.warning("ChangeConfiguration %s refused: %s", key.os3p, e)
        ctx.config.discard()
        try:
            ctx.config_changed(key.name)  # the previous value again, wherever it is used
        except Exception:
            log.exception("ChangeConfiguration %s: restoring the previous value", key.os3p)
        return {"status": "Rejected"}
    log.info("ChangeConfiguration: %s = %s", key.os3p, ctx.config.describe(key.name))
    return {"status": "Accepted"}


# --- device ---------------------------------------------------------------------------------------
def reset(req):
    ctx = req.context
    kind = req.payload.get("type", "Hard")
    missing = ctx.device.supports("reboot")
    if missing:  # cannot comply: the answer says so at once
        log.warning("Reset (%s) refused: %s", kind, missing)
        return {"status": "Rejected"}
    log.warning("Reset (%s) requested by the central system: rebooting once the answer is sent", kind)
    ctx.expect_reboot()
    req.after(lambda: in_worker("os3p-reset", _reboot, ctx))
    return {"status": "Accepted"}


def _reboot(ctx):
    try:
        ctx.device.reboot()
    except Exception as e:  # the device stays up: the expectation goes, the central system hears of it
        ctx.loop.call_soon_threadsafe(ctx.reboot_failed, "%s: %s" % (e.__class__.__name__, e))


def update_firmware(req):
    req.context.firmware.request(req.payload)
    return {}


def get_file(req):
    status, file_name = req.context.files.request(req.payload)
    return {"status": status, "fileName": file_name}


def trigger_message(req):
    ctx = req.context
    what = req.payload["requestedMessage"]
    if what == "MeterValues":
        return sensors.trigger_meter_values(req)  # fresh readings, read in a worker
    if what == "BootNotification":
        req.after(ctx.request_boot)
        return {"status": "Accepted"}
    payload = ctx.snapshot(what)  # messages.PRODUCERS: a new message is a row there
    if isinstance(payload, list):  # one message per contactor: keep the one asked for (contactorId/connectorId)
        which = req.payload.get("contactorId", req.payload.get("connectorId"))
        if which is not None:
            payload = [p for p in payload if p.get("contactorId", which) == which]
        payload = payload or None
    if payload is None:
        return {"status": "Rejected"}  # nothing to report: no meter, no streetlights
    for one in (payload if isinstance(payload, list) else [payload]):
        req.after_all(lambda one=one: ctx.trigger(what, one))
    return {"status": "Accepted"}


def not_supported(req):
    raise errors.NotSupported("%s: this device has no streetlight contactors" % req.call.action)


ACTIONS = {
    "ChangeConfiguration": change_configuration,
    "ClearSingleStreetlightProfile": streetlights.HANDLERS["ClearSingleStreetlightProfile"],
    "DataModel": datamodel.data_model,  # extension: the TR-181 parameter model (DEVIATIONS.md item 10)
    "GetConfiguration": get_configuration,
    "GetEffectiveStreetlightDaySchedule": streetlights.HANDLERS["GetEffectiveStreetlightDaySchedule"],
    "GetFile": get_file,
    "OverrideStreetlight": streetlights.HANDLERS["OverrideStreetlight"],
    "ResumeStreetlight": streetlights.HANDLERS["ResumeStreetlight"],
    "Reset": reset,
    "ResetMVFaultIndicator": sensors.reset_indicators,
    "SetStreetlightProfile": streetlights.HANDLERS["SetStreetlightProfile"],
    "TestMVFaultIndicator": sensors.test_indicators,
    "TriggerMessage": trigger_message,
    "UpdateFirmware": update_firmware,
}
