"""Logging: syslog on a device, stderr (and a bounded file logread can show) on the host.

Own syslog and file handlers: logging.handlers costs ~0.7 MiB at import for
two small classes.
"""

import logging
import os

LEVELS = {"error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO, "debug": logging.DEBUG}
LOG_FILE_LIMIT = 256 * 1024
# syslog severities (RFC 5424) for the daemon facility (3)
_SEVERITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class SyslogHandler(logging.Handler):
    """RFC 3164 datagrams to /dev/log, as logd on OpenWrt reads them (`logread` shows them)."""

    def __init__(self, address="/dev/log", tag="tr069-bridge"):
        super().__init__()
        self.address = address
        self.tag = "%s[%d]" % (tag, os.getpid())
        import _socket  # the C module: socket.py costs ~0.5 MiB for wrappers a datagram needs none of

        self.sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM)

    def emit(self, record):
        try:
            pri = 3 * 8 + _SEVERITY.get(record.levelno, 6)
            msg = "<%d>%s: %s" % (pri, self.tag, self.format(record))
            self.sock.sendto(msg.encode("utf-8", "replace")[:4096], self.address)
        except OSError:
            pass  # logd restarting: drop the line rather than block the loop


class StderrHandler(logging.StreamHandler):
    """stderr that never blocks the daemon: a line the reader cannot take now (a pipe nobody drains,
    a stopped terminal) is dropped and counted, and the count is said once writing works again.

    A blocking write here would stop the loop for good: no call answered, and SIGTERM's handler
    runs but the write it interrupted is retried, so the daemon would not stop either.
    """

    def __init__(self, stream=None):
        super().__init__(stream)
        self.dropped = 0

    def _write(self, fd, data):
        """All of data, in pieces the pipe takes whole, or False (nothing more written) when fd
        would block."""
        import select  # a C module, as small as the check it makes

        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        while data:
            # a pipe reports writable with at least a page free, and a write of up to PIPE_BUF
            # bytes into a free page does not block
            if not any(ev & select.POLLOUT for _, ev in poller.poll(0)):
                return False
            data = data[os.write(fd, data[:select.PIPE_BUF]):]
        return True

    def emit(self, record):
        try:
            fd = self.stream.fileno()
        except (AttributeError, OSError, ValueError):  # not a real descriptor (a test's capture)
            return super().emit(record)
        try:
            self.stream.flush()  # whatever print() left in the buffer goes first
        except OSError:
            pass
        try:
            text = self.format(record) + self.terminator
            if self.dropped:
                text = "(%d log lines not written: stderr was not read)\n%s" % (self.dropped, text)
            if self._write(fd, text.encode("utf-8", "replace")):
                self.dropped = 0
            else:
                self.dropped += 1
        except OSError:
            self.dropped += 1
        except Exception:  # noqa: BLE001 - a record that does not format, as StreamHandler reports it
            self.handleError(record)


class BoundedFileHandler(logging.FileHandler):
    """A log file that starts over (keeping one .1 copy) when it passes LOG_FILE_LIMIT."""

    def _open(self):
        # mode 0600 like every file of the state directory: GetFile uploads what logread shows, and
        # nobody else on the host should read it
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)  # a file an older version left readable
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)

    def emit(self, record):
        super().emit(record)
        try:
            if self.stream is not None and self.stream.tell() > LOG_FILE_LIMIT:
                self.close()
                os.replace(self.baseFilename, self.baseFilename + ".1")
                self.stream = self._open()
        except OSError:
            pass


def setup(backend, level="info", log_file=None):
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    if backend == "ubus" and os.path.exists("/dev/log"):
        handler = SyslogHandler()
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        root.addHandler(handler)
    else:
        handler = StderrHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        if log_file:
            try:
                fh = BoundedFileHandler(log_file)
            except OSError as e:  # a read-only or full state directory: stderr only, said once
                logging.getLogger(__name__).warning("log file %s not written: %s", log_file,
                                                    e.strerror or e)
            else:
                fh.setFormatter(handler.formatter)
                root.addHandler(fh)
    set_level(level)


def set_level(level):
    logging.getLogger().setLevel(LEVELS.get(level, logging.INFO))
