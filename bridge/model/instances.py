"""Instance numbers: each instance of a multi-instance object gets a number once, and keeps it.

The backends know instances by a key of their own (an interface's name, a profile's id, a meter's
name); the DMS knows them by number. The first time a key is seen it gets the table's next number; the
number stays with the key across requests and restarts (the map is part of the model's state), and a
number is never given again, not even after its instance was deleted (TR-069 A.3.2.6: "the CPE MUST NOT
reuse" instance numbers). Tables numbered by key (Contactor: contactorId 1-4) use the key itself.

Numbers count per table instance: each interface's IPv4Address table starts at 1 (the map is kept per
template and parent instance).

A key that disappears without a DeleteObject (an interface gone for a while) keeps its number, so it
comes back as itself; the map of such keys is bounded (KEPT per table, the oldest absent ones go first).
"""

SEP = "\x1f"  # between the keys of nested instances ("1" + SEP + "7": profile 7 of contactor 1)
KEPT = 512


def key_text(keys):
    return SEP.join(str(k) for k in keys)


class Instances:
    def __init__(self, data=None):
        """data: {table template: {"next": n, "keys": {key text: number}}} as state() gave it."""
        self.tables = {}
        for template, table in (data or {}).items():
            if not isinstance(table, dict):
                continue
            keys = table.get("keys")
            nxt = table.get("next")
            if not isinstance(keys, dict) or not isinstance(nxt, int):
                continue
            keys = {k: n for k, n in keys.items() if isinstance(k, str) and isinstance(n, int) and 0 < n < nxt}
            self.tables[template] = {"next": nxt, "keys": keys}
        self.dirty = False

    def state(self):
        return self.tables

    def _table(self, template, parent_keys):
        name = template + SEP + key_text(parent_keys) if parent_keys else template
        table = self.tables.get(name)
        if table is None:
            table = self.tables[name] = {"next": 1, "keys": {}}
        return table

    def number(self, template, keys, numbered="auto"):
        """The instance number of keys (a tuple: the parents' keys, then this instance's own)."""
        if numbered == "key":
            return int(keys[-1])
        table = self._table(template, keys[:-1])
        text = key_text(keys[-1:])
        n = table["keys"].get(text)
        if n is None:
            n = table["keys"][text] = table["next"]
            table["next"] += 1
            self.dirty = True
        return n

    def reserve(self, template, parent_keys):
        """A number for an instance AddObject is about to make (spent even if the backend then fails)."""
        table = self._table(template, parent_keys)
        n = table["next"]
        table["next"] += 1
        self.dirty = True
        return n

    def bind(self, template, keys, number):
        self._table(template, keys[:-1])["keys"][key_text(keys[-1:])] = number
        self.dirty = True

    def forget(self, template, keys):
        """The instance was deleted: its key goes; its number is never given again."""
        table = self._table(template, keys[:-1])
        if table["keys"].pop(key_text(keys[-1:]), None) is not None:
            self.dirty = True

    def prune(self, template, parent_keys, present):
        """Bound the keys kept for one table: past KEPT, the oldest keys not present now go."""
        table = self._table(template, parent_keys)
        if len(table["keys"]) <= KEPT:
            return
        present = {key_text(k[-1:]) for k in present}
        gone = sorted((n, k) for k, n in table["keys"].items() if k not in present)
        for _n, k in gone[:len(table["keys"]) - KEPT]:
            del table["keys"][k]
        self.dirty = True
