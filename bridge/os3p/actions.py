"""Server-initiated OS3P actions: one table, action name -> handler.

A handler gets a Request (its .context is the narrow context of context.py, .payload already validated against schemas/os3p/<Action>.req.json) and returns
the CALLRESULT payload (validated against <Action>.resp.json before it leaves), or raises
errors.CallError. Work that must wait until the answer is on the wire (a reboot) is registered with
request.after(fn). Anything slow (downloads, uploads, reboots, flashing) runs in a worker thread: the loop
never waits on the network.

An action missing from the table is answered NotImplemented; the streetlight actions are known but a
router has no contactors: NotSupported. The MV fault-indicator actions answer Rejected where no indicator
is configured (tables 14 and 19), as station.py translates them.
"""

import logging
import threading

from ..config import KEYS, Config
from . import errors, station

log = logging.getLogger(__name__)


class Request:
    def __init__(self, context, call):
        self.context = context
        self.call = call
        self.payload = call.payload
        self.after_sent = None

    def after(self, fn):
        self.after_sent = fn


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
        keys, unknown = [k for k in KEYS.values() if k.os3p], []
    else:
        keys, unknown = [], []
        for name in dict.fromkeys(wanted):  # a key asked for twice is answered once
            key = Config.by_os3p(name)
            (keys if key is not None else unknown).append(key if key is not None else name)
    out = []
    for key in keys:
        entry = {"key": key.os3p, "readonly": key.readonly}
        if not key.secret:
            entry["value"] = _text(config.get(key.name))
        out.append(entry)
    return {"configurationKey": out, "unknownKey": unknown}


def change_configuration(req):
    ctx = req.context
    key = Config.by_os3p(req.payload["key"])
    if key is None or key.readonly:
        return {"status": "Rejected"}
    try:
        ctx.config.set(key.name, req.payload["value"])
        ctx.config.save()
    except (ValueError, OSError) as e:
        log.info("ChangeConfiguration %s refused: %s", key.os3p, e)
        try:
            ctx.config.reload()  # drop the refused value from memory
        except Exception:
            pass
        return {"status": "Rejected"}
    log.info("ChangeConfiguration: %s = %s", key.os3p, ctx.config.describe(key.name))
    ctx.config_changed(key.name)
    return {"status": "Accepted"}


# --- device ---------------------------------------------------------------------------------------
def reset(req):
    device = req.context.device
    kind = req.payload.get("type", "Hard")
    log.warning("Reset (%s) requested by the central system: rebooting once the answer is sent", kind)
    req.context.expect_reboot()
    req.after(lambda: in_worker("os3p-reset", _reboot, device))
    return {"status": "Accepted"}


def _reboot(device):
    try:
        device.reboot()
    except Exception:
        log.exception("reboot failed")


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
        return station.trigger_meter_values(req)  # fresh readings, read in a worker
    if what == "BootNotification":
        req.after(ctx.request_boot)
        return {"status": "Accepted"}
    payload = ctx.snapshot(what)  # messages.PRODUCERS: a new message is a row there
    if payload is None:
        return {"status": "Rejected"}  # nothing to report: no meter, no streetlights
    req.after(lambda: ctx.trigger(what, payload))
    return {"status": "Accepted"}


def not_supported(req):
    raise errors.NotSupported("%s: this device has no streetlight contactors" % req.call.action)


ACTIONS = {
    "ChangeConfiguration": change_configuration,
    "ClearSingleStreetlightProfile": not_supported,
    "GetConfiguration": get_configuration,
    "GetEffectiveStreetlightDaySchedule": not_supported,
    "GetFile": get_file,
    "OverrideStreetlight": not_supported,
    "ResumeStreetlight": not_supported,
    "Reset": reset,
    "ResetMVFaultIndicator": station.reset_indicators,
    "SetStreetlightProfile": not_supported,
    "TestMVFaultIndicator": station.test_indicators,
    "TriggerMessage": trigger_message,
    "UpdateFirmware": update_firmware,
}
