"""A state directory that is full (ENOSPC) or read-only (EROFS), injected at the system calls
bridge.atomic makes, so that it hits whoever runs the test (root too)."""

import errno
import os

from bridge import atomic

FAULTS = {"full": (errno.ENOSPC, "No space left on device"), "read-only": (errno.EROFS, "Read-only file system")}


def break_disk(monkeypatch, code, text):
    def refuse(*args, **kwargs):
        raise OSError(code, text)

    monkeypatch.setattr(atomic.os, "write", refuse)
    if code == errno.EROFS:  # a read-only file system refuses the file before any write
        real_open = os.open

        def ro_open(path, flags, *args):
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                raise OSError(code, text)
            return real_open(path, flags, *args)

        monkeypatch.setattr(atomic.os, "open", ro_open)
        monkeypatch.setattr("bridge.os3p.outbox.os.unlink", refuse)
