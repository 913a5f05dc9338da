"""The protocol core's vocabulary: the outputs it gives the supervisor, and the decorator of its events.

Outputs are carried out in the order given: Send (a text frame; after() once it is written), Connect (a
connection attempt; opened() or closed() follows), Ping, Close (a polite close frame), Abort (drop the
connection now), SessionDone (the tr069 session ended), HeartbeatInterval (keep it, None: reschedule only).
"""

from collections import namedtuple

# outputs: what the supervisor does, in the order given
Send = namedtuple("Send", "text after")  # a text frame; after() once it is written (or None)
Connect = namedtuple("Connect", "")  # start a connection attempt; opened() or closed() follows
Ping = namedtuple("Ping", "")
Close = namedtuple("Close", "")  # a polite close frame; closed() follows
Abort = namedtuple("Abort", "why")  # drop the connection now; closed() follows
SessionDone = namedtuple("SessionDone", "success")  # the tr069 session ended
HeartbeatInterval = namedtuple("HeartbeatInterval", "seconds")  # keep it (None: reschedule only)


def event(method):
    """A public event: the outbox is pumped and the session checked once the event is handled."""

    def run(self, *args, **kwargs):
        self._depth += 1
        try:
            return method(self, *args, **kwargs)
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._pump()
                self._check_session()
                if self._out and self.wake is not None:
                    self.wake()

    run.__name__, run.__doc__ = method.__name__, method.__doc__
    return run
