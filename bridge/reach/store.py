"""The subscriptions and the last reachability state on disk: <state>/reach.json, mode 0600 (it holds the
sinks' access tokens), written whole with write + fsync + rename (bridge/atomic.py) before the change is
answered or acted on, as the OS3P outbox writes its entries.

    {"version": 1, "subscriptions": [{"id", "request", "starts", "events"}], "state": {"state", "since"}}

Start never depends on it: a file that does not parse, or a record that does not pass the same validator a
request passes on the way in (camara.validate), is set aside (bridge/atomic.py load_json: reach.json.bad,
one log line, named in the state view) and the daemon starts without subscriptions.
"""

import os

from ..atomic import is_number, load_json, need, write_json
from ..logger import getLogger
from . import camara
from .state import STATES

log = getLogger(__name__)

FILE = "reach.json"
OUTBOX = "reach-outbox"  # the notifications waiting for their sinks, one file each (delivery.py)
VERSION = 1


class Store:
    def __init__(self, directory, plain_http_allowed):
        self.path = os.path.join(directory, FILE)
        self.subscriptions = {}  # id -> {"id", "request", "starts", "events"}, in creation order
        self.state = None  # {"state", "since"} of the last reachability state, or None
        self._load(plain_http_allowed)

    def _load(self, plain_http_allowed):
        def check(doc):
            need(isinstance(doc, dict) and doc.get("version") == VERSION and isinstance(doc.get("subscriptions"), list),
                 "not a subscriptions file of version %d" % VERSION)
            records = {}
            for rec in doc["subscriptions"]:
                why = _record_problem(rec, plain_http_allowed)
                need(why is None, why)
                records[rec["id"]] = rec
            state = doc.get("state")
            need(state is None or isinstance(state, dict) and state.get("state") in STATES
                 and is_number(state.get("since")), "the last state does not hold")
            return records, state

        self.subscriptions, self.state = load_json(self.path, check, ({}, None))

    def save(self):
        """Write everything; OSError (full, read-only) is the caller's to answer."""
        write_json(self.path, {"version": VERSION, "subscriptions": list(self.subscriptions.values()),
                               "state": self.state})


def _record_problem(rec, plain_http_allowed):
    if not isinstance(rec, dict) or not isinstance(rec.get("id"), str) or not camara.CORRELATOR.match(rec["id"]):
        return "a subscription without a valid id"
    if not is_number(rec.get("starts")) or isinstance(rec.get("events"), bool) or not isinstance(rec.get("events"), int):
        return "subscription %s: starts or events do not hold" % rec["id"]
    try:
        kept = camara.validate(rec.get("request"), 0, plain_http_allowed, check_expiry=False)
    except camara.ApiError as e:
        return "subscription %s: %s" % (rec["id"], e.message)
    if kept != rec["request"]:
        return "subscription %s: its request is not as the validator keeps it" % rec["id"]
    return None
