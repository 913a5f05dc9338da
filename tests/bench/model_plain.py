"""The peer of the parameter model's bench: the same model written the plain way.

Same rows, same readers, same instance numbers, same types; but each parameter's value is one call of its
getter (its getter group's reader), each table's instances one more call, nothing kept between two of
them, and a SetParameterValues writes each parameter on its own (one UCI commit each): what an
implementation does that maps a path to a getter and a setter and nothing else (easycwmp's shell
function per object, a bbfdm-style get callback per parameter). It answers the same values (the bench
checks it before it times anything).
"""

from bridge.model.faults import INVALID_NAME, Fault
from bridge.model.paths import split


class PlainModel:
    def __init__(self, registry, backend, instances, own):
        self.registry = registry
        self.backend = backend
        self.instances = instances  # the model's own numbers, so that both answer the same paths
        self.own = own  # () -> the model's own values (RootDataModelVersion, ParameterKey)

    def _read(self, group):
        if group == "model":
            return self.own()
        try:
            return self.backend.read(group)
        except Exception:
            return {}

    def _instances(self, node, parent_keys):
        table = self._read(node.row.group).get(node.template) or {}
        found = [(self.instances.number(node.template, k, node.row.numbered), k) for k in table
                 if len(k) == node.depth and k[:-1] == parent_keys]
        return sorted(found)

    def _value(self, node, keys):
        """One call of the parameter's getter."""
        row = node.row
        if row.count is not None:
            counted = self.registry.objects[row.count]
            return len(self._instances(counted, keys[:counted.depth - 1]))
        if row.secret:
            return ""
        data = self._read(row.group or "model")
        for template in node.lookup:
            entry = (data.get(template) or {}).get(keys)
            if entry is not None and entry.get(row.source) is not None:
                return entry[row.source]
        return None

    def _present(self, node, keys):
        row = node.row
        if row is None or row.group is None:
            return True
        return keys in (self._read(row.group).get(node.template) or {})

    def _walk(self, node, keys, prefix, out):
        if node.kind == "param":
            value = self._value(node, keys)
            if value is not None:
                out.append((prefix, node.row, value))
            return
        if node.kind == "table":
            for number, k in self._instances(node.instance, keys):
                self._walk(node.instance, k, "%s%d." % (prefix, number), out)
            return
        if node.kind == "object" and not self._present(node, keys):
            return
        for child in node.children.values():
            self._walk(child, keys, prefix + child.name + ("." if child.kind != "param" else ""), out)

    def _resolve(self, path):
        segments, _partial = split(path)
        node, keys = self.registry.root, ()
        for seg in segments[1:]:
            if node.kind == "table":
                match = [k for n, k in self._instances(node.instance, keys) if n == int(seg)]
                if not match:
                    raise Fault(INVALID_NAME, "no instance", path)
                node, keys = node.instance, match[0]
            else:
                node = node.children.get(seg)
                if node is None:
                    raise Fault(INVALID_NAME, "no such name", path)
        return node, keys

    def get_parameter_values(self, names):
        out = []
        for name in names:
            node, keys = self._resolve(name)
            self._walk(node, keys, name, out)
        return out

    def set_parameter_values(self, entries):
        """Each parameter checked and written on its own."""
        for name, value, _declared in entries:
            node, keys = self._resolve(name)
            parsed = node.row.type.parse(value)
            self.backend.check(node.row, keys, parsed)
            self.backend.apply([(node.row, keys, parsed)])
        return 0
