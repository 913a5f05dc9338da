"""Notifications POSTed to the sinks, each sink on its own: a down sink never delays another.

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
from collections import deque

from ..backoff import Backoff
from ..logger import getLogger

log = getLogger(__name__)

MAX_ANSWER = 65536  # bytes of a sink's answer read at most


class Notification:
    __slots__ = ("url", "body", "token", "correlator", "subscription", "on_gone")

    def __init__(self, url, event, token=None, subscription=None, on_gone=None):
        self.url = url
        self.body = json.dumps(event, separators=(",", ":")).encode()
        self.token = token
        self.correlator = event["id"]
        self.subscription = subscription
        self.on_gone = on_gone


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
                 start_thread=None):
        """attempt(note) -> status or None, run in a worker thread (default: post); start_thread(fn)
        starts one (default: a daemon thread). Both are parameters so the core is tested without sockets."""
        self.loop = loop
        self.queue_limit = max(1, queue_limit)
        self.timeout = timeout
        self.retry_max = retry_max
        self.ca_file = ca_file
        self.attempt = attempt or (lambda note: post(note, self.timeout, self.ca_file))
        self.start_thread = start_thread or _thread
        self.sinks = {}
        self.stopped = False

    def send(self, note):
        key = sink_key(note.url)
        sink = self.sinks.get(key)
        if sink is None:
            sink = self.sinks[key] = Sink(key, Backoff(1.0, self.retry_max))
        if len(sink.queue) >= self.queue_limit:
            victim = 1 if sink.busy and len(sink.queue) > 1 else 0  # not the one on the wire
            if sink.busy and len(sink.queue) == 1:
                victim = None
            if victim is not None:
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
            if status == 410 and note.on_gone is not None:
                note.on_gone(note)
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


def _thread(fn):
    import threading

    threading.Thread(target=fn, name="reach-delivery", daemon=True).start()
