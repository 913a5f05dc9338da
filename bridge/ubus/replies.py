"""Replies an object keeps while nothing they show changes, kept encoded here, on the ubus side.

An object may offer cached_reply(method, args) -> the reply dict it keeps (the same dict while nothing it
shows has changed), or None for a call its call() must answer; and REPLY_SHAPES, {method: {name: blobmsg
type or a nested table}} in the reply's order, for the encoder of that one shape (blob.Shape). The ubus
connection sends the bytes kept here for as long as the object gives the same dict: the tr069 object's
status reply is encoded once per change, not once per call, and the object itself knows no wire format.
"""

from . import blob


class Replies:
    def __init__(self, obj):
        self.cached_reply = obj.cached_reply
        self.shapes = {m: (blob.Shape(spec), spec) for m, spec in getattr(obj, "REPLY_SHAPES", {}).items()}
        self._last = {}  # method -> (the dict, its blobmsg table children)

    def encoded(self, method, args):
        """The reply's blobmsg table children, or None when the object's call() answers."""
        data = self.cached_reply(method, args)
        if data is None:
            return None
        last = self._last.get(method)
        if last is not None and last[0] is data:
            return last[1]
        encoded = self.encode(method, data)
        self._last[method] = (data, encoded)
        return encoded

    def encode(self, method, data):
        shape = self.shapes.get(method)
        leaves = None if shape is None else _leaves(shape[1], data)
        if leaves is None:
            return blob.encode_table(data)  # not the shape's (a reply with more in it): the generic encoder
        return shape[0].encode(leaves)


def _leaves(spec, data):
    """data's leaves in the spec's order, or None when its names are not exactly the spec's, in its order."""
    if not isinstance(data, dict) or len(data) != len(spec):
        return None
    out = []
    for (name, kind), (key, value) in zip(spec.items(), data.items()):
        if name != key:
            return None
        if isinstance(kind, dict):
            inner = _leaves(kind, value)
            if inner is None:
                return None
            out += inner
        else:
            out.append(value)
    return out
