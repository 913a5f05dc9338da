"""Random identifiers without the uuid module (its import costs a router's memory)."""

import os


def uuid4():
    """A random (version 4) UUID string, 36 characters."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return "%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:])
