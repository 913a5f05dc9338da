"""The model's operations, TR-069 Amendment 6 A.3.2, over the registry and a backend passed in.

Pure: no sockets, threads, files or clock. What it reads and writes goes through two objects given to
its constructor:

    backend.read(group)                  -> {object template: {instance keys: {name: value}}}: one read of
                                            a getter group (the config, the board, the station, ...)
    backend.check(row, keys, value)      raises Fault (9007) when the binding's validator refuses a value
    backend.check_all(writes)            -> [Fault] of writes that hold one by one but not together
                                            (optional; writes are (row, keys, value, path))
    backend.apply([(row, keys, value)])  -> True when a write takes effect only after a restart; all of
                                            them or none (raises Fault 9002 when it could not)
    backend.add(row, parent keys)        -> the new instance's key (AddObject)
    backend.delete(row, keys)            removes an instance (DeleteObject)
    store.load() -> dict | None, store.save(dict)   the model's own state: instance numbers,
                                            attributes, ParameterKey, the last values of watched
                                            parameters and the changes not sent yet

One request, one snapshot: every value an operation answers comes from one read per getter group made
for that request, never one read per parameter, so a partial path answers values that belong together.

Value changes: check(groups) reads the given groups (all of them by default), compares the watched
parameters (Notification 1-6, and the forced ones) with their last values and returns the changes; the
shell calls it on the events of the sources that can tell (a config reload, a contactor switching, a
sample) and on a timer for those that cannot. Changes wait in `pending` (saved) until
take_notification() hands them to the next session (passive) or at once (active).
"""

from ..logger import getLogger
from . import attributes as attrs
from .attributes import Attributes
from .faults import (INTERNAL_ERROR, INVALID_ARGUMENTS, INVALID_NAME, NOT_WRITABLE, NOTIFICATION_REJECTED,
                     Fault)
from .instances import Instances
from .paths import ROOT, is_number, normal, split

log = getLogger(__name__)

MODEL_GROUP = "model"  # answered by the core itself (RootDataModelVersion, ParameterKey)
DATA_MODEL_VERSION = "2.15"  # TR-181 Issue 2 Amendment 15: the names of the standard rows
PARAMETER_KEY_MAX = 32  # TR-069 A.3.2.1: ParameterKey is string(32)


class Change:
    """A watched parameter's new value. active: the notification asks for a session now."""

    __slots__ = ("path", "value", "type", "active")

    def __init__(self, path, value, type_name, active):
        self.path, self.value, self.type, self.active = path, value, type_name, active

    def __repr__(self):
        return "Change(%s=%r%s)" % (self.path, self.value, ", active" if self.active else "")


class Snapshot:
    """One request's view: each getter group read once, instance lists worked out once."""

    def __init__(self, model):
        self.model = model
        self.data = {}
        self.lists = {}

    def group(self, name):
        data = self.data.get(name)
        if data is None:
            data = self.data[name] = self.model._read(name)
        return data

    def instances(self, node, parent_keys):
        """[(number, keys)] of an instance node under its parent's keys, by number."""
        cache = (node.template, parent_keys)
        found = self.lists.get(cache)
        if found is not None:
            return found
        row = node.row
        found = []
        if row is not None and row.group is not None:
            table = self.group(row.group).get(node.template) or {}
            numbers = self.model.instances
            depth = node.depth
            for keys in table:
                if isinstance(keys, tuple) and len(keys) == depth and keys[:-1] == parent_keys:
                    found.append((numbers.number(node.template, keys, row.numbered), keys))
            found.sort()
            if row.numbered == "auto":
                numbers.prune(node.template, parent_keys, [k for _n, k in found])
        self.lists[cache] = found
        return found

    def present(self, node, keys):
        """A single-instance object with a getter group is there when its group says so."""
        row = node.row
        if row is None or row.group is None:
            return True
        table = self.group(row.group).get(node.template)
        return table is not None and keys in table

    def value(self, node, keys):
        """A parameter's value in this snapshot; None: absent (the device answers nothing for it)."""
        row = node.row
        if row.count is not None:
            counted = self.model.registry.objects[row.count]
            return len(self.instances(counted, keys[:counted.depth - 1]))
        if row.secret:
            return ""  # write-only: read as an empty string (TR-181 for passwords)
        data = self.group(row.group or MODEL_GROUP)
        value = None
        for template in node.lookup:
            table = data.get(template)
            entry = table.get(keys) if table else None
            if entry is not None:
                value = entry.get(row.source)
                if value is not None:
                    break
        if isinstance(value, float) and value != value:
            return None  # NaN is no value
        return value


class Model:
    def __init__(self, registry, backend, store=None):
        self.registry = registry
        self.backend = backend
        self.store = store
        state = self._load()
        self.instances = Instances(state.get("instances"))
        self.attributes = Attributes(state.get("attributes"))
        key = state.get("parameter_key")
        self.parameter_key = key if isinstance(key, str) and len(key) <= PARAMETER_KEY_MAX else ""
        last = state.get("last")
        self.last = {p: v for p, v in last.items() if isinstance(p, str) and isinstance(v, str)} \
            if isinstance(last, dict) else {}
        pending = state.get("pending")
        self.pending = {p: v for p, v in pending.items() if isinstance(p, str) and isinstance(v, list)
                        and len(v) == 2} if isinstance(pending, dict) else {}
        self.failing = set()  # getter groups whose last read failed (said once, and when they answer again)
        self.reads = 0  # backend reads made (the tests count them: one per group per request)

    # --- state -----------------------------------------------------------------------------------------
    def _load(self):
        if self.store is None:
            return {}
        state = self.store.load()
        return state if isinstance(state, dict) else {}

    def state(self):
        return {"instances": self.instances.state(), "attributes": self.attributes.state(),
                "parameter_key": self.parameter_key, "last": self.last, "pending": self.pending}

    def _save(self):
        """Raises OSError when the state cannot be written (the caller decides what that costs)."""
        if self.store is not None:
            self.store.save(self.state())
        self.instances.dirty = False

    def _save_quietly(self, why):
        try:
            self._save()
        except OSError as e:
            log.error("model state not saved (%s): %s", why, e)

    def _read(self, group):
        if group == MODEL_GROUP:
            return {"Device.": {(): {"RootDataModelVersion": DATA_MODEL_VERSION}},
                    "Device.ManagementServer.": {(): {"ParameterKey": self.parameter_key}}}
        self.reads += 1
        try:
            data = self.backend.read(group)
            if not isinstance(data, dict):
                raise TypeError("group %s gave %s" % (group, type(data).__name__))
        except Exception as e:  # the device answers nothing: its parameters are absent, never an error
            if group not in self.failing:
                self.failing.add(group)
                log.warning("model: %s answers nothing (%s: %s); its parameters are absent",
                            group, e.__class__.__name__, e)
            return {}
        if group in self.failing:
            self.failing.discard(group)
            log.info("model: %s answers again", group)
        return data

    def snapshot(self):
        return Snapshot(self)

    # --- paths -----------------------------------------------------------------------------------------
    def resolve(self, snap, path):
        """-> (node, keys, the path as answered); Fault 9005 naming the path when there is no such thing."""
        if path == "":
            path = ROOT
        segments, partial = split(path)
        shown = normal(path)
        if segments[0] != "Device":
            raise Fault(INVALID_NAME, "the root is Device.", shown)
        node, keys = self.registry.root, ()
        last = len(segments) - 1
        for i, seg in enumerate(segments[1:], 1):
            if node.kind == "param":
                raise Fault(INVALID_NAME, "no such parameter", shown)
            if node.kind == "table":
                if not is_number(seg):
                    raise Fault(INVALID_NAME, "an instance number is expected after %s" % node.template, shown)
                number = int(seg)
                match = [k for n, k in snap.instances(node.instance, keys) if n == number]
                if not match:
                    raise Fault(INVALID_NAME, "no instance %d" % number, shown)
                node, keys = node.instance, match[0]
                continue
            child = node.children.get(seg)
            if child is None:
                raise Fault(INVALID_NAME, "no such parameter or object", shown)
            node = child
            if node.kind == "object" and not snap.present(node, keys):
                raise Fault(INVALID_NAME, "not on this device", shown)
            if node.kind == "param" and i != last:
                raise Fault(INVALID_NAME, "no such parameter or object", shown)
        if node.kind == "param":
            if partial:
                raise Fault(INVALID_NAME, "a parameter name has no trailing dot", shown)
            if snap.value(node, keys) is None:
                raise Fault(INVALID_NAME, "not available on this device now", shown)
        elif not partial:
            raise Fault(INVALID_NAME, "an object's name ends with a dot", shown)
        return node, keys, shown

    def _walk(self, snap, node, keys, prefix, params, objects=None):
        """Every present parameter (path, node, keys, value) under a node, in table order; and, when a
        list is given, every object and parameter as (path, node) in tree order (objects first)."""
        kind = node.kind
        if kind == "param":
            value = snap.value(node, keys)
            if value is not None:
                params.append((prefix, node, keys, value))
                if objects is not None:
                    objects.append((prefix, node))
            return
        if kind == "table":
            if objects is not None:
                objects.append((prefix, node))
            inst = node.instance
            for number, ikeys in snap.instances(inst, keys):
                self._walk(snap, inst, ikeys, "%s%d." % (prefix, number), params, objects)
            return
        if kind == "object" and not snap.present(node, keys):
            return
        if objects is not None:
            objects.append((prefix, node))
        for child in node.children.values():
            if child.kind == "param":
                value = snap.value(child, keys)
                if value is not None:
                    params.append((prefix + child.name, child, keys, value))
                    if objects is not None:
                        objects.append((prefix + child.name, child))
            else:
                self._walk(snap, child, keys, prefix + child.name + ".", params, objects)

    def _params(self, snap, name):
        """The parameters a full or partial path names: [(path, node, keys, value)]; 9005 when none."""
        node, keys, shown = self.resolve(snap, name)
        found = []
        self._walk(snap, node, keys, shown, found)
        if not found:
            raise Fault(INVALID_NAME, "no parameter under it", shown)
        return found

    def _expand(self, snap, node):
        """[(path, keys)] of every instance of a parameter template now."""
        chain = []
        n = node.parent
        while n is not None:
            chain.append(n)
            n = n.parent
        chain.reverse()
        paths = [("", ())]
        for n in chain:
            nxt = []
            for prefix, keys in paths:
                if n.kind == "instance":
                    nxt += [("%s%d." % (prefix, num), k) for num, k in snap.instances(n, keys)]
                elif n.kind == "object":
                    if snap.present(n, keys):
                        nxt.append((prefix + n.name + ".", keys))
                # a table adds nothing: its instances follow
            paths = nxt
        return [(prefix + node.name, keys) for prefix, keys in paths]

    # --- GetParameterValues / GetParameterNames ---------------------------------------------------------------
    def _named(self, names):
        """[(path, row, value)]: every parameter the names name, each once, from one snapshot."""
        names = _strings(names, "ParameterNames")
        snap = Snapshot(self)
        out, seen = [], set()
        for name in names:
            for path, node, _keys, value in self._params(snap, name):
                if path not in seen:
                    seen.add(path)
                    out.append((path, node.row, value))
        self._save_numbers()
        return out

    def values_by_name(self, names):
        """[(name, [(path, row, value)] or the Fault it gives)]: each name on its own, one snapshot for all
        (GetConfiguration lists a name that names nothing as unknown and answers the others)."""
        names = _strings(names, "ParameterNames")
        snap = Snapshot(self)
        out = []
        for name in names:
            try:
                out.append((name, [(p, n.row, v) for p, n, _k, v in self._params(snap, name)]))
            except Fault as f:
                out.append((name, f))
        self._save_numbers()
        return out

    def get_parameter_values(self, names):
        """[(path, row, value)] of every parameter the names (full or partial paths) name."""
        return self._named(names)

    def get_parameter_names(self, path, next_level):
        """[(name, writable)]: ParameterInfoStruct. An object's name ends with a dot; a table is
        writable when AddObject may add to it, an instance when DeleteObject may remove it."""
        if not isinstance(path, str):
            raise Fault(INVALID_ARGUMENTS, "ParameterPath is a string")
        next_level = _boolean(next_level, "NextLevel")
        if path == "" and next_level:
            return [(ROOT, False)]  # A.3.2.3: the empty path's next level is the root object alone
        snap = Snapshot(self)
        node, keys, shown = self.resolve(snap, path)
        if node.kind == "param":
            if next_level:
                raise Fault(INVALID_ARGUMENTS, "NextLevel true names a parameter", shown)
            return [(shown, node.row.writable)]
        items = []
        self._walk(snap, node, keys, shown, [], items)
        self._save_numbers()
        if next_level:  # the direct children: objects one dot deeper, parameters at the same depth
            depth = shown.count(".")
            items = [(p, n) for p, n in items
                     if p != shown and (p.count(".") == depth + 1 if p.endswith(".") else p.count(".") == depth)]
        return [(p, _writable(n)) for p, n in items]

    # --- SetParameterValues ------------------------------------------------------------------------------
    def set_parameter_values(self, entries, parameter_key="", origin="acs"):
        """entries: [(name, value, declared type or None)]. All or nothing: every entry is checked first,
        and one that does not hold changes nothing (9003 listing each bad one). -> Status: 0 applied,
        1 applied but takes effect after a restart. origin "acs": the change came from the central
        system itself, so it is not notified back to it (TR-069 A.3.3.1, 4 VALUE CHANGE)."""
        key = _parameter_key(parameter_key)
        if not isinstance(entries, (list, tuple)):
            raise Fault(INVALID_ARGUMENTS, "ParameterList is a list")
        snap = Snapshot(self)
        faults, writes, names = [], [], set()
        for entry in entries:
            if not isinstance(entry, (list, tuple)) or len(entry) != 3 or not isinstance(entry[0], str):
                raise Fault(INVALID_ARGUMENTS, "each ParameterValueStruct has a Name and a Value")
            name, value, declared = entry
            if normal(name) in names:
                raise Fault(INVALID_ARGUMENTS, "the same parameter twice", normal(name))
            names.add(normal(name))
            try:
                node, keys, shown = self.resolve(snap, name)
                if node.kind != "param":
                    raise Fault(INVALID_NAME, "a parameter name has no trailing dot", shown)
                row = node.row
                if not row.writable:
                    raise Fault(NOT_WRITABLE, "read-only", shown)
                row.type.check_declared(declared)
                parsed = row.type.parse(value)
                self.backend.check(row, keys, parsed)
                writes.append((row, keys, parsed, shown))
            except Fault as f:
                if f.parameter is None:
                    f.parameter = normal(name)
                faults.append(f)
        if not faults and writes and hasattr(self.backend, "check_all"):
            faults = self.backend.check_all(writes)  # what holds one by one but not together
        if faults:
            raise Fault(INVALID_ARGUMENTS, "%d parameter(s) refused; nothing changed" % len(faults),
                        faults=faults)
        if not writes:
            self._set_key(key)
            return 0
        try:
            later = self.backend.apply([(row, keys, value) for row, keys, value, _shown in writes])
        except Fault:
            raise
        except Exception as e:
            log.error("SetParameterValues: the write failed (%s: %s); nothing changed", e.__class__.__name__, e)
            raise Fault(INTERNAL_ERROR, "the write failed: %s" % e) from None
        if origin == "acs":
            # the baseline is the value as the device holds it now: a value stored in its own form (a
            # profile's ValidFrom is a local date) reads back otherwise than it was written, and is no change
            after = Snapshot(self)
            for row, _keys, value, shown in writes:
                if shown in self.last:
                    self.last[shown] = _text(row, self._read_back(after, shown, value))
                self.pending.pop(shown, None)
        self._set_key(key)
        return 1 if later else 0

    def _read_back(self, snap, shown, written):
        try:
            node, keys, _shown = self.resolve(snap, shown)
            value = snap.value(node, keys)
        except Fault:
            value = None
        return written if value is None else value

    def _set_key(self, key):
        self.parameter_key = key
        self._save_quietly("ParameterKey")

    # --- AddObject / DeleteObject ---------------------------------------------------------------------------
    def _object_named(self, name, parameter_key):
        """(ParameterKey, node, keys, path) of an AddObject / DeleteObject request."""
        key = _parameter_key(parameter_key)
        if not isinstance(name, str):
            raise Fault(INVALID_ARGUMENTS, "ObjectName is a string")
        snap = Snapshot(self)
        node, keys, shown = self.resolve(snap, name)
        if node.kind == "table":
            snap.instances(node.instance, keys)  # the instances there now are numbered before a new one
        return key, node, keys, shown

    def _backend_call(self, what, shown, fn, *args):
        try:
            return fn(*args)
        except Fault as f:
            f.parameter = f.parameter or shown
            raise
        except Exception as e:
            log.error("%s %s failed: %s: %s", what, shown, e.__class__.__name__, e)
            raise Fault(INTERNAL_ERROR, "%s failed: %s" % (what, e), shown) from None

    def add_object(self, name, parameter_key=""):
        """-> (instance number, status 0). The number is new: never given before in that table."""
        key, node, keys, shown = self._object_named(name, parameter_key)
        row = node.instance.row if node.kind == "table" else None
        if row is None or not row.add or row.numbered != "auto":
            raise Fault(INVALID_NAME, "not a table AddObject may add to", shown)
        number = self.instances.reserve(node.instance.template, keys)
        self._save_quietly("instance numbers")
        new = self._backend_call("AddObject", shown, self.backend.add, row, keys)
        self.instances.bind(node.instance.template, keys + (new,), number)
        self._set_key(key)
        return number, 0

    def delete_object(self, name, parameter_key=""):
        """-> status 0. The instance's number is not given again."""
        key, node, keys, shown = self._object_named(name, parameter_key)
        if node.kind != "instance" or node.row is None or not node.row.delete:
            raise Fault(INVALID_NAME, "not an instance DeleteObject may remove", shown)
        self._backend_call("DeleteObject", shown, self.backend.delete, node.row, keys)
        self.instances.forget(node.template, keys)
        self.attributes.forget(shown)
        for table in (self.last, self.pending):
            for p in [p for p in table if p.startswith(shown)]:
                del table[p]
        self._set_key(key)
        return 0

    # --- attributes ---------------------------------------------------------------------------------------
    def notification(self, path, row):
        """The Notification a parameter has: forced ones 2; a volatile one never takes active from above."""
        if row.forced:
            return 2
        n, where = self.attributes.notification(path)
        if row.volatile and attrs.is_active(n) and where != path:
            return 0
        return n

    def get_parameter_attributes(self, names):
        """[(path, notification, access list)] for every parameter the names name."""
        return [(path, self.notification(path, row), self.attributes.access_list(path))
                for path, row, _value in self._named(names)]

    def set_parameter_attributes(self, entries):
        """entries: [{"Name", "NotificationChange", "Notification", "AccessListChange", "AccessList"}].
        All or nothing; saved before the answer (an accepted attribute survives a restart)."""
        if not isinstance(entries, (list, tuple)):
            raise Fault(INVALID_ARGUMENTS, "ParameterList is a list")
        snap = Snapshot(self)
        new = self.attributes.copy()
        for e in entries:
            if not isinstance(e, dict) or not isinstance(e.get("Name"), str):
                raise Fault(INVALID_ARGUMENTS, "each SetParameterAttributesStruct has a Name")
            n_change = _boolean(e.get("NotificationChange", False), "NotificationChange")
            a_change = _boolean(e.get("AccessListChange", False), "AccessListChange")
            node, _keys, shown = self.resolve(snap, e["Name"])
            if n_change:
                n = e.get("Notification")
                if isinstance(n, str) and n.isdigit():
                    n = int(n)
                if isinstance(n, bool) or n not in attrs.NOTIFICATIONS:
                    raise Fault(INVALID_ARGUMENTS, "Notification is 0-6", shown)
                if node.kind == "param":
                    if node.row.forced and n != 2:
                        raise Fault(NOTIFICATION_REJECTED, "its notification is forced on", shown)
                    if node.row.volatile and attrs.is_active(n):
                        raise Fault(NOTIFICATION_REJECTED, "it changes all the time: active notification "
                                    "is refused (passive is allowed)", shown)
                new.set_notification(shown, n)
            if a_change:
                access = e.get("AccessList")
                if access is None:
                    access = []
                if not isinstance(access, list) or any(a not in attrs.ACCESS for a in access):
                    raise Fault(INVALID_ARGUMENTS, "AccessList holds only Subscriber", shown)
                new.set_access(shown, access)
        old = self.attributes
        self.attributes = new
        try:
            self._watch(snap)
            self._save()
        except OSError as e:
            self.attributes = old
            log.error("SetParameterAttributes not saved: %s", e)
            raise Fault(INTERNAL_ERROR, "the attributes could not be saved: %s" % e) from None

    # --- value changes ----------------------------------------------------------------------------------
    def _watched(self, snap, groups=None):
        """{path: (row, value, notification)} of the parameters to watch now (of the given groups)."""
        out = {}
        for root in self.attributes.watched_roots():
            try:
                node, keys, shown = self.resolve(snap, root)
            except Fault:
                continue  # an instance that is gone for now
            found = []
            self._walk(snap, node, keys, shown, found)
            for path, pnode, _k, value in found:
                row = pnode.row
                if groups is not None and self._news_group(row) not in groups:
                    continue
                n = self.notification(path, row)
                if n:
                    out[path] = (row, value, n)
        for path, row, value in self._forced(snap, groups):
            out[path] = (row, value, 2)
        return out

    def _news_group(self, row):
        """The getter group whose news can change the row's value: a NumberOfEntries changes with its table
        (a profile cleared is the streetlights' news), not with a group of its own."""
        if row.count is not None:
            counted = self.registry.objects[row.count].row
            return counted.group if counted is not None else None
        return row.group

    def _forced(self, snap, groups=None):
        """[(path, row, value)] of the forced-inform parameters (of the given groups) now."""
        out = []
        for node in self.registry.order:
            row = node.row
            if row.forced and (groups is None or row.group in groups):
                for path, keys in self._expand(snap, node):
                    value = snap.value(node, keys)
                    if value is not None:
                        out.append((path, row, value))
        return out

    def _watch(self, snap):
        """Take the current values of what is watched as the baseline (after attributes changed): a
        parameter just watched is not a change, one no longer watched is forgotten."""
        watched = self._watched(snap)
        self.last = {p: _text(row, v) for p, (row, v, _n) in watched.items()}
        self.pending = {p: v for p, v in self.pending.items() if p in watched}

    def check(self, groups=None):
        """Compare what is watched (in these getter groups; all by default) with its last value -> [Change].
        A parameter seen for the first time is a baseline, not a change."""
        snap = Snapshot(self)
        watched = self._watched(snap, groups)
        changes = []
        dirty = self.instances.dirty
        for path, (row, value, n) in watched.items():
            text = _text(row, value)
            old = self.last.get(path)
            if old == text:
                continue
            self.last[path] = text
            dirty = True
            if old is None:
                continue
            self.pending[path] = [row.type.json(value), row.type.name]
            changes.append(Change(path, row.type.json(value), row.type.name, attrs.is_active(n)))
        if groups is None:
            for p in [p for p in self.last if p not in watched]:
                del self.last[p]
                dirty = True
        if dirty:
            self._save_quietly("value changes")
        return changes

    def has_pending(self):
        return bool(self.pending)

    def take_notification(self):
        """The parameter list of a value-change notification ([{"Name", "Value", "Type"}]: the changed
        parameters, then the forced ones), clearing what was pending; None when nothing is."""
        if not self.pending:
            return None
        params = [{"Name": p, "Value": v, "Type": t} for p, (v, t) in self.pending.items()]
        params += [{"Name": path, "Value": row.type.json(value), "Type": row.type.name}
                   for path, row, value in self._forced(Snapshot(self)) if path not in self.pending]
        self.pending = {}
        self._save_quietly("value changes sent")
        return params

    def restore(self, params):
        """A notification that could not be queued: its changes wait again."""
        for p in params:
            self.pending.setdefault(p["Name"], [p["Value"], p["Type"]])
        self._save_quietly("value changes kept")

    def _save_numbers(self):
        if self.instances.dirty:
            self._save_quietly("instance numbers")


def _text(row, value):
    return "" if row.secret else row.type.text(value)


def _writable(node):
    if node.kind == "param":
        return node.row.writable
    if node.kind == "table":
        return bool(node.instance.row is not None and node.instance.row.add)
    if node.kind == "instance":
        return bool(node.row is not None and node.row.delete)
    return False


def _strings(names, what):
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise Fault(INVALID_ARGUMENTS, "%s is a list of strings" % what)
    return names


def _boolean(value, what):
    if isinstance(value, bool):
        return value
    if value in (0, 1) or value in ("0", "1", "true", "false"):
        return value in (1, "1", "true")
    raise Fault(INVALID_ARGUMENTS, "%s is a boolean" % what)


def _parameter_key(key):
    if key is None:
        return ""
    if not isinstance(key, str) or len(key) > PARAMETER_KEY_MAX:
        raise Fault(INVALID_ARGUMENTS, "ParameterKey is a string of at most %d characters" % PARAMETER_KEY_MAX)
    return key
