"""One retry policy for everything that tries again: exponential, capped, with jitter.

Used by the ubus reconnect, the OS3P reconnect and the tr069 session retry. The n-th consecutive
failure waits min(cap, base * 2^(n-1)) seconds, "equal jitter": a random point in the upper half of that
step, never below half of it, so that a fleet that lost its central system at once does not come back
in lock-step. The random source is a parameter: tests pass a fixed one.
"""

import os


def uniform():
    """A random float in [0, 1] (os.urandom: the random module costs RSS on a router)."""
    return int.from_bytes(os.urandom(2), "big") / 65535.0


class Backoff:
    def __init__(self, base, cap, rand=uniform):
        self.base = base
        self.cap = cap
        self.rand = rand
        self.failures = 0  # consecutive failures since the last reset()

    def step(self):
        """The un-jittered delay of the next failure."""
        return min(max(self.base, self.cap), self.base * 2 ** min(self.failures, 16))

    def next(self):
        """Count one more failure; the delay to wait before the next attempt."""
        delay = self.step()
        self.failures += 1
        return delay / 2 + self.rand() * delay / 2

    def reset(self):
        self.failures = 0
