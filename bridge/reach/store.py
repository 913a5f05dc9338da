"""The subscriptions and the last reachability state on disk: <state>/reach.json, mode 0600 (it holds the
sinks' access tokens), written whole with write + fsync + rename (bridge/atomic.py) before the change is
answered or acted on, as the OS3P outbox writes its entries.

    {"version": 1, "subscriptions": [{"id", "request", "starts", "events"}], "state": {"state", "since"}}

Start never depends on it: a file that does not parse, or a record that does not pass the same validator a
request passes on the way in (camara.validate), is set aside (the file as reach.json.bad) with one log line.
"""

import os

from ..atomic import read_json, write_json
from ..logger import getLogger
from . import camara
from .state import STATES

log = getLogger(__name__)

FILE = "reach.json"
VERSION = 1


class Store:
    def __init__(self, directory, plain_http_allowed):
        self.path = os.path.join(directory, FILE)
        self.subscriptions = {}  # id -> {"id", "request", "starts", "events"}, in creation order
        self.state = None  # {"state", "since"} of the last reachability state, or None
        self._load(plain_http_allowed)

    def _load(self, plain_http_allowed):
        if not os.path.exists(self.path):
            return
        doc = read_json(self.path)
        problem = None
        if not isinstance(doc, dict) or doc.get("version") != VERSION or not isinstance(doc.get("subscriptions"), list):
            problem = "not a subscriptions file of version %d" % VERSION
        else:
            records = {}
            for rec in doc["subscriptions"]:
                why = _record_problem(rec, plain_http_allowed)
                if why:
                    problem = why
                    break
                records[rec["id"]] = rec
            state = doc.get("state")
            if problem is None and state is not None and not (
                    isinstance(state, dict) and state.get("state") in STATES and _number(state.get("since"))):
                problem = "the last state does not hold"
            if problem is None:
                self.subscriptions, self.state = records, state
                return
        log.error("reach: %s set aside as %s.bad: %s; starting without subscriptions", self.path,
                  os.path.basename(self.path), problem)
        try:
            os.replace(self.path, self.path + ".bad")
        except OSError as e:
            log.error("reach: cannot set %s aside: %s", self.path, e.strerror or e)

    def save(self):
        """Write everything; OSError (full, read-only) is the caller's to answer."""
        write_json(self.path, {"version": VERSION, "subscriptions": list(self.subscriptions.values()),
                               "state": self.state})


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _record_problem(rec, plain_http_allowed):
    if not isinstance(rec, dict) or not isinstance(rec.get("id"), str) or not camara.CORRELATOR.match(rec["id"]):
        return "a subscription without a valid id"
    if not _number(rec.get("starts")) or isinstance(rec.get("events"), bool) or not isinstance(rec.get("events"), int):
        return "subscription %s: starts or events do not hold" % rec["id"]
    try:
        kept = camara.validate(rec.get("request"), 0, plain_http_allowed, check_expiry=False)
    except camara.ApiError as e:
        return "subscription %s: %s" % (rec["id"], e.message)
    if kept != rec["request"]:
        return "subscription %s: its request is not as the validator keeps it" % rec["id"]
    return None
