"""Parameter attributes (TR-069 Amendment 6, A.3.2.4/A.3.2.5): Notification 0-6 and AccessList.

An attribute is kept where SetParameterAttributes set it: on a parameter, or on a partial path, which
then holds for every parameter below it, those that come later included (a new interface under
Device.IP.Interface. is watched as its siblings are). A parameter's attribute is the one set nearest to
it: its own, else its object's, and so on up to Device. Setting a partial path replaces what was set
below it (TR-069: the attributes apply to the whole subtree). Notification and AccessList are kept
apart, so changing one on a subtree leaves the other where it was set.

Notification: 0 off, 1 passive, 2 active, 3 passive lightweight, 4 passive + passive lightweight,
5 active lightweight, 6 passive + active lightweight. OS3P has no lightweight channel: 3 and 4 go as
passive, 5 and 6 as active (docs/notifications.md).
"""

NOTIFICATIONS = range(0, 7)
ACTIVE = frozenset((2, 5, 6))
PASSIVE = frozenset((1, 3, 4))
ACCESS = ("Subscriber",)


def is_active(n):
    return n in ACTIVE


def prefixes(path):
    """'Device.A.1.B' -> 'Device.A.1.B', 'Device.A.1.', 'Device.A.', 'Device.' (nearest first)."""
    yield path
    end = len(path) - 1 if path.endswith(".") else len(path)
    while True:
        end = path.rfind(".", 0, end)
        if end < 0:
            return
        yield path[:end + 1]


class Attributes:
    def __init__(self, data=None):
        """data: {"notification": {path: n}, "access": {path: [entity]}} as state() gave it."""
        data = data if isinstance(data, dict) else {}
        notify = data.get("notification") if isinstance(data.get("notification"), dict) else {}
        access = data.get("access") if isinstance(data.get("access"), dict) else {}
        self.notify = {p: n for p, n in notify.items() if isinstance(p, str) and n in NOTIFICATIONS
                       and not isinstance(n, bool)}
        self.access = {p: list(a) for p, a in access.items() if isinstance(p, str) and isinstance(a, list)
                       and all(e in ACCESS for e in a)}

    def state(self):
        return {"notification": self.notify, "access": self.access}

    def copy(self):
        return Attributes({"notification": dict(self.notify), "access": {p: list(a) for p, a in self.access.items()}})

    def notification(self, path):
        """(value, where it was set) for a parameter path: the nearest setting, (0, None) without one."""
        for p in prefixes(path):
            n = self.notify.get(p)
            if n is not None:
                return n, p
        return 0, None

    def access_list(self, path):
        for p in prefixes(path):
            a = self.access.get(p)
            if a is not None:
                return a
        return []

    def set_notification(self, path, n):
        _replace_below(self.notify, path)
        self.notify[path] = n

    def set_access(self, path, entities):
        _replace_below(self.access, path)
        self.access[path] = list(entities)

    def forget(self, path):
        """An instance was deleted: what was set on it and below goes."""
        _replace_below(self.notify, path)
        _replace_below(self.access, path)

    def watched_roots(self):
        """The paths whose notification is on (1-6): where to look for watched parameters."""
        return [p for p, n in self.notify.items() if n]


def _replace_below(table, path):
    if path.endswith("."):
        for p in [p for p in table if p.startswith(path)]:
            del table[p]
    else:
        table.pop(path, None)
