"""The persistent outbound queue: notifications that must reach the central system.

One file per entry, <seq>.json, written with write_atomic (tmp + fsync + rename + dir fsync) BEFORE the
message is sent, removed (unlink + dir fsync) only when its CALLRESULT has arrived. The sequence number in
the file name keeps the order across restarts and reboots. Each entry keeps the message id it was first
sent with: a resend after a crash carries the same id, so the central system can tell a repeat.

Bounded: beyond `limit` entries the oldest one that is not in flight is dropped (and logged); a queue that
long means the central system has been gone for days and the newest state matters most.

A state directory full or read-only refuses new entries (put() answers None with one error line naming the
message and the cause) and loses none already queued: they stay in memory and on disk and go out as usual;
an acknowledged entry whose file cannot be unlinked is sent again after a restart, with its own id.
"""

import os
import re
import time

from ..atomic import fsync_dir, is_number, load_json, need, state_dir, write_json
from ..ids import uuid4
from ..logger import getLogger

log = getLogger(__name__)

_NAME = re.compile(r"^(\d{12})\.json$")


class Outbox:
    def __init__(self, directory, limit=1000, clock=time.time):
        self.dir = directory
        self.limit = max(1, limit)
        self.clock = clock
        self.dropped = 0
        self.refused = 0  # entries not queued: the state directory was full or read-only
        state_dir(directory)
        self.entries = []  # [(seq, record)] oldest first
        for name in sorted(os.listdir(directory)):
            m = _NAME.match(name)
            if not m:
                continue
            record = load_json(os.path.join(directory, name), _fits)  # set aside (.bad) when it does not fit
            if record is not None:
                self.entries.append((int(m.group(1)), record))
        self.next_seq = self.entries[-1][0] + 1 if self.entries else 1
        self.in_flight = None  # message id of the head while it waits for its CALLRESULT

    def __len__(self):
        return len(self.entries)

    def _path(self, seq):
        return os.path.join(self.dir, "%012d.json" % seq)

    def put(self, action, payload):
        """Persist a notification; returns its record {id, action, payload, queued}, None when the state
        directory refuses it (full, read-only): not queued, logged, the queue as it was."""
        record = {"id": uuid4(), "action": action, "payload": payload, "queued": self.clock()}
        seq = self.next_seq
        try:
            write_json(self._path(seq), record)
        except OSError as e:
            self.refused += 1
            log.error("outbox: %s not queued, the state directory refuses it (full or read-only): %s",
                      action, e.strerror or e)
            return None
        self.next_seq += 1
        self.entries.append((seq, record))
        while len(self.entries) > self.limit:
            victim = 1 if self.entries[0][1]["id"] == self.in_flight else 0
            vseq, vrec = self.entries.pop(victim)
            self._unlink(vseq)
            self.dropped += 1
            log.warning("outbox full (%d): dropped %s queued at %s", self.limit, vrec["action"], vrec["queued"])
        return record

    def head(self):
        return self.entries[0][1] if self.entries else None

    def remove(self, message_id):
        """Drop the entry with this id (acknowledged, or refused for good); False when it is not queued."""
        for i, (seq, record) in enumerate(self.entries):
            if record["id"] == message_id:
                del self.entries[i]
                self._unlink(seq)
                if self.in_flight == message_id:
                    self.in_flight = None
                return True
        return False

    def _unlink(self, seq):
        try:
            os.unlink(self._path(seq))
            fsync_dir(self.dir)
        except FileNotFoundError:
            pass
        except OSError as e:  # read-only: the entry is done in memory; a restart sends it once more
            log.warning("outbox: cannot remove %012d.json: %s", seq, e.strerror or e)

    def records(self):
        return [r for _, r in self.entries]


def _fits(record):
    """An outbox entry's shape: what put() writes."""
    need(isinstance(record, dict), "not an object")
    need(isinstance(record.get("id"), str) and 0 < len(record["id"]) <= 36, "id")
    action = record.get("action")
    need(isinstance(action, str) and 0 < len(action) <= 64 and action.isascii() and action.isalnum(), "action")
    need(isinstance(record.get("payload"), dict), "payload")
    need(is_number(record.get("queued", 0)), "queued")
    return record
