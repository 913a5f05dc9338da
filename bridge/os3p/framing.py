"""OS3P RPC framing (implementation guide, chapter 4): pure functions over text.

  CALL        [2, "<id>", "<Action>", {payload}]
  CALLRESULT  [3, "<id>", {payload}]
  CALLERROR   [4, "<id>", "<errorCode>", "<errorDescription>", {errorDetails}]

parse() returns a Call, CallResult or CallErrorMessage, None for what the spec says to ignore (unknown
message type numbers, anything that names no message id), and raises FrameError for a malformed CALL
whose id could be found, so that the caller answers it with a CALLERROR.
"""

import itertools
import json
import os
import re
from collections import namedtuple

from . import errors

CALL, CALLRESULT, CALLERROR = 2, 3, 4
MAX_ID = 36  # "to allow for GUIDs"
# Inbound limits, checked before the text is parsed: the largest message the spec's actions need
# is a SetStreetlightProfile of a few KiB, and its deepest nesting is under 10 levels.
MAX_FRAME = 256 * 1024  # characters
MAX_DEPTH = 32  # nested arrays and objects, the frame's own array counted
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")

# the id of a CALL that is not valid JSON, if its head is intact: [2, "id", ...
_CALL_HEAD = re.compile(r'\s*\[\s*2\s*,\s*"([^"\\]{1,%d})"' % MAX_ID)


# plain tuples with names (collections.namedtuple: typing.NamedTuple would load typing, ~1 MiB of RSS)
Call = namedtuple("Call", "id action payload")
CallResult = namedtuple("CallResult", "id payload")  # payload is a dict when well formed; the waiter validates
CallErrorMessage = namedtuple("CallErrorMessage", "id code description details")


class FrameError(Exception):
    def __init__(self, id, code, description):
        super().__init__(code, description)
        self.id = id
        self.code = code
        self.description = description


def _dumps(message):
    return json.dumps(message, separators=(",", ":"))


def call(id, action, payload=None):
    return _dumps([CALL, id, action, {} if payload is None else payload])


def result(id, payload=None):
    return _dumps([CALLRESULT, id, {} if payload is None else payload])


def error(id, code, description="", details=None):
    return _dumps([CALLERROR, id, code, description or "", details or {}])


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _too_deep(text):
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False  # cannot be: the common case costs two counts
    depth = 0
    for b in _BRACKETS.findall(_STRING.sub("", text)):
        if b in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        else:
            depth -= 1
    return False


def _refused(text, why):
    """FrameError for a CALL whose id can be read, else None (nothing to answer)."""
    m = _CALL_HEAD.match(text) if isinstance(text, str) else None
    if m:
        raise FrameError(m.group(1), errors.FORMATION_VIOLATION, why) from None
    return None


def parse(text):
    if not isinstance(text, str):
        return None
    if len(text) > MAX_FRAME:
        return _refused(text, "message longer than %d characters" % MAX_FRAME)
    if _too_deep(text):
        return _refused(text, "message nested deeper than %d levels" % MAX_DEPTH)
    try:
        msg = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return _refused(text, "message is not valid JSON")
    if not isinstance(msg, list) or not msg or not _is_int(msg[0]):
        return None
    kind = msg[0]
    if kind not in (CALL, CALLRESULT, CALLERROR):
        return None  # spec 4.1.1: ignore unknown message type numbers
    if len(msg) < 2 or not isinstance(msg[1], str) or not msg[1]:
        return None  # no id to answer to
    id = msg[1]
    if kind == CALL:
        return _parse_call(msg, id)
    if kind == CALLRESULT:
        if len(msg) != 3:
            return None
        return CallResult(id, {} if msg[2] is None else msg[2])
    code = msg[2] if len(msg) > 2 and isinstance(msg[2], str) else errors.GENERIC_ERROR
    description = msg[3] if len(msg) > 3 and isinstance(msg[3], str) else ""
    details = msg[4] if len(msg) > 4 and isinstance(msg[4], dict) else {}
    return CallErrorMessage(id, code, description, details)


def _parse_call(msg, id):
    if len(id) > MAX_ID:
        raise FrameError(id, errors.FORMATION_VIOLATION, "message id longer than %d characters" % MAX_ID)
    if len(msg) < 4:
        raise FrameError(id, errors.PROTOCOL_ERROR, "CALL is incomplete: expected [2, id, action, payload]")
    if len(msg) > 4:
        raise FrameError(id, errors.FORMATION_VIOLATION, "CALL has %d elements, expected 4" % len(msg))
    action, payload = msg[2], msg[3]
    if not isinstance(action, str) or not action:
        raise FrameError(id, errors.FORMATION_VIOLATION, "action must be a non-empty string")
    if payload is None:
        payload = {}  # the guide allows null for "no payload"; we read it as {}
    if not isinstance(payload, dict):
        raise FrameError(id, errors.FORMATION_VIOLATION, "payload must be a JSON object")
    return Call(id, action, payload)


class IdSource:
    """Message ids unique for this process's lifetime: a random prefix and a counter (short, no uuid cost)."""

    def __init__(self):
        self.prefix = os.urandom(4).hex()
        self.counter = itertools.count(1)

    def __call__(self):
        return "%s-%d" % (self.prefix, next(self.counter))
