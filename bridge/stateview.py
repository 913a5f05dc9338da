"""What the daemon is doing now, for people and scripts: named sections, each from the part that knows it.

The composition root (bridge/daemon.py) gives the sections: {name: fn() -> a JSON value, or None to leave
the section out}, in the order they are shown (daemon, os3p, transfers, errors, then one per running
component: its state() method). A new component adds its section there.

The view is served three ways: `tr069-bridge state` (text, or --json), the ubus object `tr069.bridge`
method `state` (schemas/tr069.bridge.json; the `tr069` object's methods are fixed by its own schema),
and the status page. A section that raises shows {"error": ...}; the others still answer.
"""

import time
from collections import deque

from . import logger, schema
from .ubusmsg import UbusObject
from . import ubusmsg as ubus

log = logger.getLogger(__name__)

OBJECT_NAME = "tr069.bridge"
SCHEMA_NAME = "tr069.bridge"
ERRORS_KEPT = 10
HISTORY_KEPT = 20


def collect(sections):
    out = {}
    for name, fn in list(sections.items()):
        try:
            value = fn()
        except Exception as e:  # one broken section must not hide the others
            log.exception("state view: section %s failed", name)
            value = {"error": "%s: %s" % (e.__class__.__name__, e)}
        if value is not None:
            out[name] = value
    return out


def iso(epoch):
    from .tr069 import format_time

    return format_time(epoch)


class History:
    """A bounded list of timestamped events (the OS3P link's, for instance), oldest first."""

    def __init__(self, limit=HISTORY_KEPT, clock=time.time):
        self.items = deque(maxlen=limit)
        self.clock = clock

    def add(self, event, detail=""):
        self.items.append((self.clock(), event, detail))

    def view(self):
        return [{"time": iso(t), "event": e, "detail": d} for t, e, d in self.items]


class RecentErrors:
    """A log sink keeping the last warnings and errors the daemon logged (secrets are never logged,
    so none are kept)."""

    def __init__(self, limit=ERRORS_KEPT):
        self.items = deque(maxlen=limit)

    def emit(self, created, levelno, name, message, exc_text=None):
        if levelno >= logger.WARNING:
            self.items.append((created, logger.level_name(levelno).lower(), name, message[:400]))

    def view(self):
        return [{"time": iso(t), "level": lv, "source": src, "message": msg} for t, lv, src, msg in self.items]


# --- the ubus object ------------------------------------------------------------------------------

class StateObject(UbusObject):
    """ubus object `tr069.bridge`: method `state` -> collect(sections); check_output() says whether the
    reply is checked against its schema (as the tr069 object's are)."""

    name = OBJECT_NAME

    def __init__(self, sections, check_output=lambda: False):
        self.sections = sections
        self.check_output = check_output
        self.schema = schema.load(SCHEMA_NAME)
        self.methods = {"state": lambda _args: collect(self.sections)}

    def signature(self):
        return {method: {} for method in self.methods}

    def answer(self, method, handler, args):
        part = self.schema["properties"][method]["properties"]
        if schema.errors(part["input"], args, "", self.schema):
            return ubus.INVALID_ARGUMENT, None
        data = handler(args)
        if self.check_output():
            bad = schema.errors(part["output"], data, "", self.schema)
            if bad:
                log.error("state produced an invalid reply: %s", bad)
                return ubus.UNKNOWN_ERROR, None
        return ubus.OK, data


# --- text for people ------------------------------------------------------------------------------

def _size(n):
    if n is None:
        return "?"
    for unit in ("B", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024.0


def render_text(view):
    """The state view as lines a person reads; sections the core does not know are printed as key: value."""
    lines = []
    d = view.get("daemon")
    if d:
        lines.append("daemon     tr069-bridge %s, pid %s, backend %s, up %ss (since %s)" % (
            d["version"], d["pid"], d["backend"], d["uptime"], d["started"]))
        lines.append("           state %s, config %s" % (d["state_dir"], d["config"]))
        lines.append("           components %s; surfaces %s" % (", ".join(d["components"]) or "none",
                                                               ", ".join(d["surfaces"]) or "none"))
    o = view.get("os3p")
    if o is not None:
        if not o.get("enabled"):
            lines.append("os3p       off (os3p.enabled is 0)")
        elif "error" in o:
            lines.append("os3p       %s" % o["error"])
        else:
            link = ["connected" if o.get("connected") else "not connected"] + (
                [o["registration"]] if o.get("registration") else [])
            lines.append("os3p       %s (%s)  %s" % (o["link"], ", ".join(link), o["url"]))
            box = o["outbox"]
            oldest = box["oldest"]
            lines.append("outbox     %d queued%s%s" % (
                box["depth"], ", oldest %s queued %s (%ss ago)" % (oldest["action"], oldest["queued"], oldest["age"])
                if oldest else "", ", %d dropped (full)" % box["dropped"] if box["dropped"] else ""))
            for h in o["history"][-5:]:
                lines.append("  link     %s %s%s" % (h["time"], h["event"], "  " + h["detail"] if h["detail"] else ""))
    transfers = view.get("transfers")
    if transfers is not None:
        if not transfers:
            lines.append("transfers  none")
        for t in transfers:
            pct = "" if t["percent"] is None else " %d%%" % t["percent"]
            lines.append("transfer   %s %s%s  %s of %s, attempt %d of %d (%d retries left)  %s%s" % (
                t["name"], t["state"], pct, _size(t["bytes_done"]), _size(t["bytes_total"]), t["attempt"],
                t["attempts"], t["retries_left"], t["url"], "  error: %s" % t["error"] if t["error"] else ""))
    errors = view.get("errors")
    if errors is not None:
        if not errors:
            lines.append("errors     none")
        for e in errors[-5:]:
            lines.append("%-10s %s %s: %s" % (e["level"], e["time"], e["source"], e["message"]))
    for e in view.get("set_aside") or []:
        if "file" in e:
            lines.append("set aside  %s%s: %s" % (e["file"], " -> %s" % e["as"] if e["as"] else "", e["why"]))
    r = view.get("reach")
    if isinstance(r, dict) and "state" in r:  # bridge/reach: the state first, then what it rests on
        m = r.get("modem") or {}
        modem = ", ".join(str(x) for x in (m.get("registration"), m.get("operator"), m.get("technology"),
                                            "RSRP %g dBm" % m["rsrp"] if "rsrp" in m else None) if x) or "none"
        lines.append("reach      %s since %s%s; modem (%s) %s; uplinks %s; %d subscription(s)%s" % (
            r["state"], r["since"], " (settling: %s)" % r["settling"] if r.get("settling") else "", r["backend"],
            modem, ", ".join(r["uplinks"]) or "none", r["subscriptions"], "; WeakSignal" if r.get("weak_signal") else ""))
    for name, value in view.items():
        if name not in ("daemon", "os3p", "transfers", "errors", "set_aside") and not (
                name == "reach" and r is value and "state" in r):
            lines.append("%-10s %s" % (name, _flat(value)))
    return "\n".join(lines)


def _flat(value):
    if isinstance(value, dict):
        return ", ".join("%s %s" % (k, _flat(v)) for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_flat(v) for v in value) or "none"
    return str(value)
