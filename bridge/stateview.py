"""What the daemon is doing now, for people and scripts: named sections, each from the part that knows it.

The composition root (bridge/wiring.py) gives the sections: {name: fn() -> a JSON value, or None to leave
the section out}, in the order they are shown (daemon, os3p, transfers, errors, then one per running
component: its state() method). A new component adds its section there.

The view is served three ways: `tr069-bridge state` (text: bridge/statetext.py, or --json), the ubus object `tr069.bridge`
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
        self.methods = {"state": lambda _args: collect(self.sections)}

    @property
    def schema(self):
        """schemas/tr069.bridge.json, read on the first call: ~50 KiB of objects that a daemon nobody asks
        for its state never holds (the tr069 object's schema, read at start, finds a missing folder)."""
        return schema.load(SCHEMA_NAME)

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
