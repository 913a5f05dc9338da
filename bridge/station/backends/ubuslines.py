"""Lines behind a ubus object of another daemon (a relay board's own service, an I/O expander daemon).

The object answers two methods, the contract this backend expects:
    ubus call <object> get '{"name":"<line>"}'               -> {"value": 0 or 1}
    ubus call <object> set '{"name":"<line>","value":0|1}'   -> {}
Values are logical; `active_low` inverts them here for an object that speaks raw levels. Such lines have
no descriptor to watch: a feedback on ubus is read when the daemon switches and at start, and a change
it makes on its own is seen at the next of those, not at once (use a GPIO feedback input for that).
"""


TIMEOUT = 5.0  # seconds: a relay daemon that does not answer must not hold the loop for ubus's 30


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
