"""The daemon's single event loop: selectors for sockets, a heap for timers.

One thread owns every socket; other threads (the WebSocket reader) hand work
over with call_soon_threadsafe, which wakes the loop through a self-pipe.
Small and dependency-free on purpose: asyncio costs memory and start-up time
that a router does not need to pay for a handful of sockets.
"""

import heapq
import os
import selectors
import time
from collections import deque

from .logger import getLogger

log = getLogger(__name__)


class Timer:
    __slots__ = ("when", "callback", "cancelled")

    def __init__(self, when, callback):
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self):
        self.cancelled = True

    def __lt__(self, other):
        return self.when < other.when


class Loop:
    def __init__(self):
        self._sel = selectors.DefaultSelector()
        self._timers = []
        self._ready = deque()
        self._threadsafe = deque()
        self._running = False
        self._stop_pending = False
        self._rpipe, self._wpipe = os.pipe()
        os.set_blocking(self._rpipe, False)
        os.set_blocking(self._wpipe, False)
        self._sel.register(self._rpipe, selectors.EVENT_READ, (self._drain_wakeup, None))

    time = staticmethod(time.monotonic)

    # --- file descriptors -------------------------------------------------
    def _modify(self, fd, reader=None, writer=None, set_reader=False, set_writer=False):
        try:
            key = self._sel.get_key(fd)
            cur_r, cur_w = key.data
        except KeyError:
            key, cur_r, cur_w = None, None, None
        r = reader if set_reader else cur_r
        w = writer if set_writer else cur_w
        mask = (selectors.EVENT_READ if r else 0) | (selectors.EVENT_WRITE if w else 0)
        if key is None:
            if mask:
                self._sel.register(fd, mask, (r, w))
        elif mask:
            self._sel.modify(fd, mask, (r, w))
        else:
            self._sel.unregister(fd)

    def add_reader(self, fd, callback):
        self._modify(fd, reader=callback, set_reader=True)

    def remove_reader(self, fd):
        self._modify(fd, reader=None, set_reader=True)

    def add_writer(self, fd, callback):
        self._modify(fd, writer=callback, set_writer=True)

    def remove_writer(self, fd):
        self._modify(fd, writer=None, set_writer=True)

    # --- callbacks and timers ----------------------------------------------
    def call_soon(self, callback, *args):
        self._ready.append((callback, args))

    def call_later(self, delay, callback, *args):
        t = Timer(self.time() + max(0.0, delay), (lambda: callback(*args)) if args else callback)
        heapq.heappush(self._timers, t)
        return t

    def call_soon_threadsafe(self, callback, *args):
        self._threadsafe.append((callback, args))
        try:
            os.write(self._wpipe, b"\0")
        except BlockingIOError:
            pass  # a wake-up is already pending

    def _drain_wakeup(self):
        try:
            while os.read(self._rpipe, 512):
                pass
        except BlockingIOError:
            pass

    # --- running -------------------------------------------------------------
    def stop(self):
        self._running = False
        self._stop_pending = True  # a stop asked for before run() (SIGTERM during start-up) still counts
        # wake select() even from a signal handler: PEP 475 would otherwise resume the wait
        self.call_soon_threadsafe(lambda: None)

    def _run_callback(self, callback, args=()):
        try:
            callback(*args)
        except Exception:  # one faulty callback must not take the daemon down
            log.exception("callback %r failed", callback)

    def run_once(self, max_timeout=None):
        while self._threadsafe:
            self._ready.append(self._threadsafe.popleft())
        timeout = max_timeout
        if self._ready:
            timeout = 0
        elif self._timers:
            delay = max(0.0, self._timers[0].when - self.time())
            timeout = delay if timeout is None else min(timeout, delay)
        for key, mask in self._sel.select(timeout):
            reader, writer = key.data
            if mask & selectors.EVENT_READ and reader:
                self._run_callback(reader)
            if mask & selectors.EVENT_WRITE and writer:
                # the reader may have unregistered the fd meanwhile
                try:
                    if self._sel.get_key(key.fd).data[1] is writer:
                        self._run_callback(writer)
                except KeyError:
                    pass
        now = self.time()
        while self._timers and (self._timers[0].when <= now or self._timers[0].cancelled):
            t = heapq.heappop(self._timers)
            if not t.cancelled:
                self._ready.append((t.callback, ()))
        for _ in range(len(self._ready)):
            callback, args = self._ready.popleft()
            self._run_callback(callback, args)

    def run(self):
        self._running = not self._stop_pending
        self._stop_pending = False
        while self._running:
            self.run_once()
        self._stop_pending = False

    def close(self):
        self._sel.close()
        os.close(self._rpipe)
        os.close(self._wpipe)
