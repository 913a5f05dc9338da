"""The daemon's single event loop: epoll for sockets, a sorted list for timers.

One thread owns every socket; other threads (the WebSocket reader) hand work
over with call_soon_threadsafe, which wakes the loop through a self-pipe.
Small and dependency-free on purpose: asyncio costs memory and start-up time
that a router does not need to pay for a handful of sockets. select.epoll is
used as it is, not through the selectors module: its wrapper objects per call
and its imports (selectors, math) cost a router ~0.15 MiB and each ubus call
a little time. Readiness is read as selectors reads it: a hang-up or an error
wakes the reader and the writer alike. Timers are a list kept sorted, latest
first (a daemon has tens of them: an insertion is a binary search and a short
move, taking the next one a pop from the end), not heapq, which the ubus
surface alone would load for them (its C part and its Python part, ~60 KiB);
two timers due at the same time run in the order they were set.
"""

import os
import select
import time
from collections import deque

from .logger import getLogger

log = getLogger(__name__)

_READ, _WRITE = select.EPOLLIN, select.EPOLLOUT
_WAKES_READER = ~select.EPOLLOUT  # selectors' reading: any event but writable alone wakes the reader
_WAKES_WRITER = ~select.EPOLLIN   # and any but readable alone the writer


class Timer:
    __slots__ = ("when", "callback", "cancelled")

    def __init__(self, when, callback):
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


class Loop:
    def __init__(self):
        self._sel = select.epoll()
        self._fds = {}  # fd -> (reader, writer) callbacks, either None
        self._timers = []
        self._ready = deque()
        self._threadsafe = deque()
        self._running = False
        self._stop_pending = False
        self._rpipe, self._wpipe = os.pipe()
        os.set_blocking(self._rpipe, False)
        os.set_blocking(self._wpipe, False)
        self.add_reader(self._rpipe, self._drain_wakeup)

    time = staticmethod(time.monotonic)

    # --- file descriptors -------------------------------------------------
    def _modify(self, fd, reader=None, writer=None, set_reader=False, set_writer=False):
        cur_r, cur_w = self._fds.get(fd, (None, None))
        r = reader if set_reader else cur_r
        w = writer if set_writer else cur_w
        mask = (_READ if r else 0) | (_WRITE if w else 0)
        if fd not in self._fds:
            if mask:
                self._sel.register(fd, mask)
                self._fds[fd] = (r, w)
        elif mask:
            self._sel.modify(fd, mask)
            self._fds[fd] = (r, w)
        else:
            del self._fds[fd]
            try:
                self._sel.unregister(fd)
            except OSError:  # closed already: epoll forgot it with its last descriptor
                pass

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
        timers, when = self._timers, t.when
        lo, hi = 0, len(timers)
        while lo < hi:  # before the first one due no later than this one: taken after those
            mid = (lo + hi) // 2
            if timers[mid].when <= when:
                hi = mid
            else:
                lo = mid + 1
        timers.insert(lo, t)
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
            delay = max(0.0, self._timers[-1].when - self.time())
            timeout = delay if timeout is None else min(timeout, delay)
        # as many events as there are descriptors, as selectors asks (the default, 1023, is an array per call)
        for fd, mask in self._sel.poll(-1 if timeout is None else timeout, len(self._fds)):
            callbacks = self._fds.get(fd)
            if callbacks is None:  # unregistered by a callback of this round
                continue
            reader, writer = callbacks
            if mask & _WAKES_READER and reader:
                self._run_callback(reader)
            if mask & _WAKES_WRITER and writer:
                # the reader may have unregistered the fd meanwhile
                if self._fds.get(fd, (None, None))[1] is writer:
                    self._run_callback(writer)
        now = self.time()
        while self._timers and (self._timers[-1].when <= now or self._timers[-1].cancelled):
            t = self._timers.pop()
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
