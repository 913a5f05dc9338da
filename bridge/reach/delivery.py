"""Notifications POSTed to the sinks, each sink on its own: a down sink never delays another.

Nothing lost: with a directory (<state>/reach-outbox), each notification is written there, one file
<seq>.json (write + fsync + rename, bridge/atomic.py, mode 0600: it holds the sink's access token), before
it is queued, and removed once the sink answered it (delivered, or refused for good) or it was dropped; a
restart loads what is left and resumes each sink's deliveries in order (the sequence number in the file
name), as the OS3P outbox does. An entry that does not fit (or whose sink reach.plain_http_sinks no
longer allows) is set aside (<seq>.json.bad, one log line); a directory that refuses writes (full,
read-only) leaves the notification in memory only, said once in the log.

Per sink (scheme, host, port): a FIFO of at most `queue_limit` notifications (the oldest is dropped and
counted when a new one finds it full: the newest state matters most), and at most one attempt in flight,
in a worker thread that exists only for that attempt (bounded by `timeout`). Between attempts nothing is
held but a loop timer: a failed attempt waits the shared backoff (bridge/backoff.py, base 1 s doubling to
`retry_max`) and tries the same notification again, so a sink's notifications arrive in order. So the
threads are at most one per sink with something to send, and the memory at most queue_limit notifications
per sink.

What an answer means: 2xx delivered; 410 Gone: the sink says its callback is gone for good (the
subscription is ended, on_gone); any other 4xx but 408 and 429: refused for good (dropped, logged); 408,
429, 5xx, no answer: tried again. Redirects are not followed. https verifies the certificate (the system
store, or `ca_file`); the request carries `Content-Type: application/cloudevents+json`, the access token
as `Authorization: Bearer`, and `x-correlator`.
"""

import json
import os
import re
from collections import deque

from ..atomic import load_json, need, write_json
from ..backoff import Backoff
from ..logger import getLogger

log = getLogger(__name__)

MAX_ANSWER = 65536  # bytes of a sink's answer read at most
_NAME = re.compile(r"^(\d{12})\.json$")


class Notification:
    __slots__ = ("url", "event", "body", "token", "correlator", "subscription", "seq")

    def __init__(self, url, event, token=None, subscription=None):
        self.url = url
        self.event = event
        self.body = json.dumps(event, separators=(",", ":")).encode()
        self.token = token
        self.correlator = event["id"]
        self.subscription = subscription
        self.seq = None  # its file's number once written

    def record(self):
        return {"url": self.url, "event": self.event, "token": self.token, "subscription": self.subscription}


def sink_key(url):
    from urllib.parse import urlsplit

    u = urlsplit(url)
    return u.scheme, u.hostname, u.port or (443 if u.scheme == "https" else 80)


def post(note, timeout, ca_file=None):
    """One attempt: the HTTP status, or None when there was no answer (refused, reset, timeout, TLS)."""
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(note.url)
    path = (u.path or "/") + ("?" + u.query if u.query else "")
    if u.scheme == "https":
        import ssl

        ctx = ssl.create_default_context(cafile=ca_file or None)
        conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    headers = {"Content-Type": "application/cloudevents+json", "x-correlator": note.correlator,
               "Connection": "close"}
    if note.token:
        headers["Authorization"] = "Bearer " + note.token
    try:
        conn.request("POST", path, note.body, headers)
        resp = conn.getresponse()
        resp.read(MAX_ANSWER)
        return resp.status
    except (OSError, http.client.HTTPException) as e:
        log.debug("reach: %s: %s", sink_label(note.url), e)
        return None
    finally:
        conn.close()


def sink_label(url):
    scheme, host, port = sink_key(url)
    return "%s://%s:%d" % (scheme, host, port)


class Sink:
    __slots__ = ("key", "queue", "busy", "backoff", "timer", "dropped", "delivered", "failed", "last_error")

    def __init__(self, key, backoff):
        self.key = key
        self.queue = deque()
        self.busy = False  # an attempt is in flight, or its retry timer waits
        self.backoff = backoff
        self.timer = None
        self.dropped = 0
        self.delivered = 0
        self.failed = 0
        self.last_error = None


class Delivery:
    def __init__(self, loop, queue_limit=64, timeout=10.0, retry_max=300.0, ca_file=None, attempt=None,
                 start_thread=None, directory=None, on_gone=None, sink_allowed=None):
        """attempt(note) -> status or None, run in a worker thread (default: post); start_thread(fn)
        starts one (default: a daemon thread). Both are parameters so the core is tested without sockets.
        directory: where waiting notifications are kept across restarts (None: memory only); on_gone(note)
        when a sink answers 410; sink_allowed(url) -> whether a kept notification's sink may still be used."""
        self.loop = loop
        self.queue_limit = max(1, queue_limit)
        self.timeout = timeout
        self.retry_max = retry_max
        self.ca_file = ca_file
        self.attempt = attempt or (lambda note: post(note, self.timeout, self.ca_file))
        self.start_thread = start_thread or _thread
        self.on_gone = on_gone
        self.sinks = {}
        self.stopped = False
        self.directory = directory
        self.next_seq = 1
        self.unwritable = False  # the directory refused a write: said once until one succeeds
        self.kept = self._load(sink_allowed) if directory else []

    # --- the directory ------------------------------------------------------------------------------------
    def _load(self, sink_allowed):
        """The notifications a previous run left, oldest first (start() queues them)."""
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            names = sorted(n for n in os.listdir(self.directory) if _NAME.match(n))
        except OSError as e:
            log.error("reach: %s: %s; waiting notifications are kept in memory only", self.directory,
                      e.strerror or e)
            self.directory = None
            return []

        def fits(record):
            return _fits(record, sink_allowed)

        kept = []
        for name in names:
            record = load_json(os.path.join(self.directory, name), fits)  # set aside when it does not fit
            if record is not None:
                note = Notification(record["url"], record["event"], record["token"], record["subscription"])
                note.seq = int(name[:12])
                kept.append(note)
        if names:
            self.next_seq = int(names[-1][:12]) + 1
        return kept

    def start(self):
        """Resume what a previous run left waiting, each sink in order."""
        kept, self.kept = self.kept, []
        for note in kept:
            self._queue(note)
        if kept:
            log.info("reach: %d notification(s) left waiting by the last run resumed", len(kept))

    def _path(self, seq):
        return os.path.join(self.directory, "%012d.json" % seq)

    def _write(self, note):
        if self.directory is None:
            return
        seq = self.next_seq
        try:
            write_json(self._path(seq), note.record())
        except OSError as e:
            if not self.unwritable:
                log.error("reach: %s refuses notifications (%s): they wait in memory only until it takes them",
                          self.directory, e.strerror or e)
            self.unwritable = True
            return
        self.unwritable = False
        self.next_seq += 1
        note.seq = seq

    def _forget(self, note):
        if note.seq is None or self.directory is None:
            return
        try:
            os.unlink(self._path(note.seq))  # a lost unlink only sends it once more after a restart
        except FileNotFoundError:
            pass
        except OSError as e:
            log.warning("reach: cannot remove %012d.json: %s", note.seq, e.strerror or e)
        note.seq = None

    # --- the queues -----------------------------------------------------------------------------------------
    def send(self, note):
        """Keep the notification (written before it is queued), then queue it behind its sink's others."""
        self._write(note)
        self._queue(note)

    def _queue(self, note):
        key = sink_key(note.url)
        sink = self.sinks.get(key)
        if sink is None:
            sink = self.sinks[key] = Sink(key, Backoff(1.0, self.retry_max))
        if len(sink.queue) >= self.queue_limit:
            victim = 1 if sink.busy and len(sink.queue) > 1 else 0  # not the one on the wire
            if sink.busy and len(sink.queue) == 1:
                victim = None
            if victim is not None:
                self._forget(sink.queue[victim])
                del sink.queue[victim]
                sink.dropped += 1
                if sink.dropped == 1 or sink.dropped % 100 == 0:  # once an episode, not a line each
                    log.warning("reach: sink %s: %d notifications waiting; the oldest dropped (%d so far)",
                                sink_label(note.url), len(sink.queue) + 1, sink.dropped)
        sink.queue.append(note)
        self._next(sink)

    def _next(self, sink):
        if sink.busy or not sink.queue or self.stopped:
            if not sink.queue and not sink.busy:
                self.sinks.pop(sink.key, None)  # nothing held for an idle sink
            return
        sink.busy = True
        note = sink.queue[0]

        def work():
            try:
                status = self.attempt(note)
            except Exception as e:  # a bug must not leave the sink busy for ever
                log.exception("reach: delivery to %s failed", sink_label(note.url))
                status = None
                del e
            self.loop.call_soon_threadsafe(self._done, sink, note, status)

        self.start_thread(work)

    def _done(self, sink, note, status):
        if self.stopped:
            return
        if status is not None and 200 <= status < 300:
            sink.backoff.reset()
            sink.delivered += 1
            self._pop(sink, note)
        elif status == 410 or status is not None and 400 <= status < 500 and status not in (408, 429):
            sink.failed += 1
            sink.last_error = "HTTP %d" % status
            log.warning("reach: sink %s answered %d: notification %s dropped%s", sink_label(note.url), status,
                        note.correlator, "; the sink is gone, its subscription ends" if status == 410 else "")
            self._pop(sink, note)
            if status == 410 and self.on_gone is not None:
                self.on_gone(note)
        else:
            sink.failed += 1
            sink.last_error = "no answer" if status is None else "HTTP %d" % status
            delay = sink.backoff.next()
            if sink.backoff.failures == 1 or sink.backoff.failures % 10 == 0:
                log.warning("reach: sink %s: %s; trying again in %.1f s", sink_label(note.url), sink.last_error, delay)
            sink.timer = self.loop.call_later(delay, self._retry, sink)
            return
        sink.busy = False
        self._next(sink)

    def _pop(self, sink, note):
        if sink.queue and sink.queue[0] is note:
            sink.queue.popleft()
        self._forget(note)

    def _retry(self, sink):
        sink.timer = None
        sink.busy = False
        self._next(sink)

    def pending(self):
        return sum(len(s.queue) for s in self.sinks.values())

    def view(self):
        return {sink_label("%s://%s:%d/" % s.key): {"waiting": len(s.queue), "delivered": s.delivered,
                                                     "failed": s.failed, "dropped": s.dropped,
                                                     "last_error": s.last_error}
                for s in self.sinks.values()}

    def stop(self):
        self.stopped = True
        for sink in self.sinks.values():
            if sink.timer is not None:
                sink.timer.cancel()


def _fits(record, sink_allowed=None):
    """A kept notification's shape: what Notification.record() writes, its sink still allowed."""
    need(isinstance(record, dict), "not an object")
    url = record.get("url")
    need(isinstance(url, str) and url.startswith(("http://", "https://")) and len(url) <= 2048, "url")
    need(sink_allowed is None or sink_allowed(url), "its sink is no longer allowed (reach.plain_http_sinks)")
    event = record.get("event")
    need(isinstance(event, dict) and isinstance(event.get("id"), str) and 0 < len(event["id"]) <= 64, "event")
    token = record.get("token")
    need(token is None or isinstance(token, str) and 0 < len(token) <= 4096 and token.isprintable()
         and " " not in token, "token")
    need(record.get("subscription") is None or isinstance(record["subscription"], str), "subscription")
    return record


def _thread(fn):
    import threading

    threading.Thread(target=fn, name="reach-delivery", daemon=True).start()
