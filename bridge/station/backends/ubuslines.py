"""Lines behind a ubus object of another daemon (a relay board's own service, an I/O expander daemon).

The object answers two methods, the contract this backend expects:
    ubus call <object> get '{"name":"<line>"}'               -> {"value": 0 or 1}
    ubus call <object> set '{"name":"<line>","value":0|1}'   -> {}
Values are logical; `active_low` inverts them here for an object that speaks raw levels. Such lines have
no descriptor to watch: a Poller reads the inputs among them every POLL seconds (a feedback contact or a
local switch behind ubus is seen within a second, not at once: use a GPIO input for that), and backs off
to FAILED_POLL while the object does not answer, so a dead relay daemon does not hold the loop each second.
"""

from ...logger import getLogger

log = getLogger(__name__)


TIMEOUT = 5.0  # seconds: a relay daemon that does not answer must not hold the loop for ubus's 30
POLL = 1.0          # seconds between two reads of a polled input
FAILED_POLL = 30.0  # after a read that failed


class UbusLine:
    kind = "ubus"

    def __init__(self, name, output, obj, active_low=False, socket_path=None):
        if not obj:
            raise ValueError("a ubus line needs the object's name (option object)")
        self.name = "%s:%s" % (obj, name)
        self.line = name
        self.output = output
        self.obj = obj
        self.active_low = bool(active_low)
        self.socket_path = socket_path

    def fileno(self):
        return None

    def _call(self, method, args):
        from ...ubus import client

        try:
            status, data = client.call(self.obj, method, args, socket_path=self.socket_path, timeout=TIMEOUT)
        except (client.UbusError, OSError) as e:
            raise OSError("ubus %s %s: %s" % (self.obj, method, e)) from None
        if status != 0:
            raise OSError("ubus %s %s %s: status %d" % (self.obj, method, self.line, status))
        return data

    def get(self):
        reply = self._call("get", {"name": self.line}) or {}
        value = reply.get("value")
        if value not in (0, 1, True, False):
            raise OSError("ubus %s get %s answered %r" % (self.obj, self.line, reply))
        return bool(value) != self.active_low

    def set(self, on):
        if not self.output:
            raise OSError("%s is an input" % self.name)
        self._call("set", {"name": self.line, "value": int(bool(on) != self.active_low)})

    def close(self):
        pass


def open_line(name, output, active_low=False, initial=False, obj="", socket_path=None):
    return UbusLine(name, output, obj, active_low, socket_path)


class Poller:
    """Inputs without a descriptor, read on the loop: changed(line, value) for each change seen (and for
    the first reading, which a handler that ignores what it knows already takes as nothing new)."""

    def __init__(self, call_later, lines, changed, every=POLL):
        self.call_later = call_later
        self.lines = list(lines)
        self.changed = changed
        self.every = every
        self.last = {}
        self.failing = set()
        self.timer = None
        self.stopped = False

    def start(self):
        self._arm(self.every)
        return self

    def _arm(self, delay):
        if not self.stopped:
            self.timer = self.call_later(delay, self.poll)

    def poll(self):
        self.timer = None
        failed = False
        for line in self.lines:
            try:
                value = line.get()
            except OSError as e:
                failed = True
                if line not in self.failing:
                    self.failing.add(line)
                    log.error("%s: %s; read again every %.0f s until it answers", line.name, e, FAILED_POLL)
                continue
            if line in self.failing:
                self.failing.discard(line)
                log.info("%s answers again", line.name)
            if self.last.get(line) != value:
                self.last[line] = value
                self.changed(line, value)
        self._arm(FAILED_POLL if failed else self.every)

    def stop(self):
        self.stopped = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
