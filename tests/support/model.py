"""A small parameter model in memory for the model's tests: rows of every kind, getter groups as dicts, a
store as a dict (the core takes its backend and store through its constructor)."""

import copy

from bridge.model.faults import Fault
from bridge.model.registry import Object, Param
from bridge.model.types import BOOLEAN, DECIMAL, STRING, UNSIGNED_INT, String, UnsignedInt

ROWS = [
    Object("Device.Box.", group="box"),
    Param("Device.Box.Name", String(16), writable=True, group="box", binding=("uci", "box.name")),
    Param("Device.Box.Secret", STRING, writable=True, group="box", binding=("uci", "box.secret"), secret=True),
    Param("Device.Box.Version", STRING, group="box", forced=True),
    Param("Device.Box.Counter", UNSIGNED_INT, group="box", volatile=True),
    Param("Device.Box.Later", UnsignedInt(1, 10), writable=True, group="box", reboot=True),
    Param("Device.Box.Reading", DECIMAL, group="box"),
    Param("Device.Box.ItemNumberOfEntries", UNSIGNED_INT, count="Device.Box.Item.{i}."),
    Object("Device.Box.Item.{i}.", group="items", add=True, delete=True),
    Param("Device.Box.Item.{i}.Label", STRING, writable=True, group="items"),
    Param("Device.Box.Item.{i}.On", BOOLEAN, writable=True, group="items"),
    Object("Device.Box.Item.{i}.Part.{i}.", group="items"),
    Param("Device.Box.Item.{i}.Part.{i}.Size", UNSIGNED_INT, group="items"),
    Object("Device.Slot.{i}.", group="slots", numbered="key"),
    Param("Device.Slot.{i}.Id", UNSIGNED_INT, group="slots"),
    Object("Device.Gone.", group="gone"),
    Param("Device.Gone.Thing", STRING, group="gone"),
]


class Backend:
    """Getter groups as dicts; writes recorded; the 'validator' refuses the word 'bad'."""

    def __init__(self):
        self.box = {"Name": "box", "Version": "1.0", "Counter": 7, "Later": 3, "Reading": 1.5}
        self.items = {("a",): {"Label": "A", "On": True}, ("b",): {"Label": "B", "On": False}}
        self.parts = {("a", "x"): {"Size": 1}, ("a", "y"): {"Size": 2}}
        self.slots = {("2",): {"Id": 2}, ("4",): {"Id": 4}}
        self.reads = []
        self.applied = []
        self.fail_apply = None
        self.made = 0

    def read(self, group):
        self.reads.append(group)
        if group == "box":
            return {"Device.Box.": {(): dict(self.box)}}
        if group == "items":
            return {"Device.Box.Item.{i}.": copy.deepcopy(self.items),
                    "Device.Box.Item.{i}.Part.{i}.": copy.deepcopy(self.parts)}
        if group == "slots":
            return {"Device.Slot.{i}.": dict(self.slots)}
        if group == "gone":
            raise OSError("no such device")
        raise KeyError(group)

    def check(self, row, keys, value):
        if value == "bad":
            raise Fault(9007, "the validator says no")

    def apply(self, writes):
        if self.fail_apply:
            raise self.fail_apply
        later = False
        for row, keys, value in writes:
            self.applied.append((row.path, keys, value))
            if row.object == "Device.Box.":
                self.box[row.source] = value
            else:
                self.items[keys][row.source] = value
            later = later or row.reboot
        return later

    def add(self, row, parent_keys):
        self.made += 1
        key = "new%d" % self.made
        self.items[(key,)] = {"Label": "", "On": False}
        return key

    def delete(self, row, keys):
        del self.items[keys]


class Store:
    def __init__(self):
        self.data = None
        self.saves = 0
        self.fail = False

    def load(self):
        return copy.deepcopy(self.data)

    def save(self, state):
        if self.fail:
            raise OSError(28, "No space left on device")
        self.data = copy.deepcopy(state)
        self.saves += 1


