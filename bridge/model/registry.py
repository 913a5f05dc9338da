"""The rows of the model and the tree they make.

A row is an object or a parameter, named by its template path ("{i}" for the instance number of a
multi-instance object). rows.py lists them; Registry indexes them as a tree of nodes:

    object    Device.ManagementServer.              one instance, always there (or absent with its group)
    table     Device.IP.Interface.                  the multi-instance object itself (AddObject names it)
    instance  Device.IP.Interface.{i}.              one node for all of its instances
    param     Device.IP.Interface.{i}.Name          a leaf

Objects without a row of their own (Device., Device.IP.) are made as the paths need them.
"""

from .paths import I, template_segments

# where a parameter's value comes from, and where a write goes (the docs' table shows it)
BINDINGS = ("uci", "fact", "state", "computed", "model")


class Object:
    """An object row. group: the getter group whose data says which instances exist (None: always one);
    add / delete: whether AddObject / DeleteObject may make or remove instances (multi-instance only);
    numbered: "auto" (numbers assigned in order, never reused) or "key" (the instance's key is its number:
    contactorId 1-4 is Contactor.1-4)."""

    __slots__ = ("path", "group", "add", "delete", "numbered", "doc")

    def __init__(self, path, group=None, add=False, delete=False, numbered="auto", doc=""):
        self.path = path
        self.group = group
        self.add = add
        self.delete = delete
        self.numbered = numbered
        self.doc = doc

    @property
    def multi(self):
        return self.path.endswith(".{i}.")

    def __repr__(self):
        return "Object(%s)" % self.path


class Param:
    """A parameter row.

    type       a bridge.model.types type
    writable   read-write (else read-only: SetParameterValues answers 9008)
    group      the getter group it is read with: one backend read per group per request
    binding    (kind, name): ("uci", KEYS name), ("fact", name), ("state", name), ("computed", name),
               ("model", name): the model's own state (ParameterKey)
    source     the name of its value in the group's data (default: its own last name)
    forced     forced inform: in every value-change notification; its Notification is fixed at 2
               (TR-181 activeNotify forceEnabled), and SetParameterAttributes naming it otherwise is 9009
    volatile   changes all the time (counters, readings, clocks): active notification is refused (9009,
               TR-181 activeNotify canDeny) and not inherited from a partial path
    secret     write-only: read as "" (TR-181 for passwords)
    reboot     a write takes effect after a restart (SetParameterValues answers Status 1)
    count      for a NumberOfEntries parameter: the table template it counts (computed by the core)
    """

    __slots__ = ("path", "type", "writable", "group", "binding", "source", "forced", "volatile", "secret",
                 "reboot", "count", "doc", "object", "name")

    def __init__(self, path, type, writable=False, group=None, binding=("fact", None), source=None,
                 forced=False, volatile=False, secret=False, reboot=False, count=None, doc=""):
        self.path = path
        self.type = type
        self.writable = writable
        self.group = group
        self.binding = binding
        self.object, _, self.name = path.rpartition(".")
        self.object += "."
        self.source = source or self.name
        self.forced = forced
        self.volatile = volatile
        self.secret = secret
        self.reboot = reboot
        self.count = count
        self.doc = doc

    def __repr__(self):
        return "Param(%s)" % self.path


class Node:
    __slots__ = ("name", "kind", "template", "parent", "children", "instance", "row", "depth", "lookup")

    def __init__(self, name, kind, template, parent, row=None):
        self.name = name
        self.kind = kind  # object | table | instance | param
        self.template = template
        self.parent = parent
        self.children = {}  # name -> Node (objects and instances)
        self.instance = None  # a table's instance node
        self.row = row
        # how many {i} are in the template: the length of the keys of one instance
        self.depth = (parent.depth if parent is not None else 0) + (kind == "instance")
        # a parameter's value is looked for under its object's template, then under the objects above it
        # up to its instance (a reader may give Stats.BytesSent in its interface's entry)
        self.lookup = ()
        if kind == "param":
            found, n = [], parent
            while n is not None:
                found.append(n.template)
                if n.kind != "object":
                    break
                n = n.parent
            self.lookup = tuple(found)

    def __repr__(self):
        return "Node(%s %s)" % (self.kind, self.template)


class RegistryError(ValueError):
    """A table that does not make a tree (a bug in rows.py; the tests catch it)."""


class Registry:
    def __init__(self, rows):
        self.root = Node("Device", "object", "Device.", None, Object("Device."))
        self.objects = {"Device.": self.root}  # template -> node (object and instance nodes)
        self.params = {}  # template -> node
        self.order = []  # every param node in table order: what a partial path answers, in that order
        for row in rows:
            if isinstance(row, Object):
                node = self._object(row.path)
                if node.row is not None and node.row.path == row.path and node is not self.root:
                    raise RegistryError("object %s listed twice" % row.path)
                if row.multi != (node.kind == "instance") or node.kind == "table":
                    raise RegistryError("object %s: {i} only for multi-instance objects" % row.path)
                node.row = row
            elif isinstance(row, Param):
                if row.path in self.params:
                    raise RegistryError("parameter %s listed twice" % row.path)
                parent = self._object(row.object)
                if parent.kind == "table":
                    raise RegistryError("parameter %s: a table holds instances, not parameters" % row.path)
                if row.name in parent.children:
                    raise RegistryError("parameter %s clashes with an object" % row.path)
                node = Node(row.name, "param", row.path, parent, row)
                parent.children[row.name] = node
                self.params[row.path] = node
                self.order.append(node)
            else:
                raise RegistryError("not a row: %r" % (row,))
        for node in self.params.values():
            row = node.row
            if row.group is None and row.count is None and row.binding[0] != "model":
                row.group = self._group_of(node.parent)
            if row.count is not None and row.count not in self.objects:
                raise RegistryError("%s counts %s, which is not an object" % (row.path, row.count))

    def _group_of(self, node):
        while node is not None:
            if node.row is not None and node.row.group is not None:
                return node.row.group
            node = node.parent
        return None

    def _object(self, template):
        """The object or instance node of a template ("Device.IP.Interface.{i}."), made as needed."""
        node = self.objects.get(template)
        if node is not None:
            return node
        segments = template_segments(template)
        if segments[0] != "Device":
            raise RegistryError("%s: every path starts with Device." % template)
        node = self.root
        path = "Device."
        for seg in segments[1:]:
            if seg == I:
                if node.kind != "table":
                    # the object before {i} becomes a table: Device.IP.Interface. is Interface's table
                    if node.children or (node.row is not None and node.row.path == path):
                        raise RegistryError("%s: %s is not a multi-instance object" % (template, path))
                    node.kind = "table"
                path += I + "."
                if node.instance is None:
                    node.instance = Node(I, "instance", path, node)
                    self.objects[path] = node.instance
                node = node.instance
                continue
            if node.kind == "table":
                raise RegistryError("%s: a table is followed by {i}" % template)
            path += seg + "."
            child = node.children.get(seg)
            if child is None:
                child = Node(seg, "object", path, node)
                node.children[seg] = child
                self.objects[path] = child
            elif child.kind == "param":
                raise RegistryError("%s: %s is a parameter" % (template, path))
            node = child
        return node

    def rows(self):
        """Every row in tree order (objects before what is under them)."""
        out = []

        def walk(node):
            if node.kind == "param":
                out.append(node.row)
                return
            if node.kind != "table" and node.row is not None:
                out.append(node.row)
            if node.kind == "table":
                walk(node.instance)
                return
            for child in node.children.values():
                walk(child)

        walk(self.root)
        return out

    def groups(self):
        """{group: [param rows]}: what each getter group serves."""
        out = {}
        for node in self.params.values():
            if node.row.group is not None:
                out.setdefault(node.row.group, []).append(node.row)
        return out
