"""Where the daemon's log lines go: syslog on a device, stderr (and a bounded file logread can show)
on the host. Sinks of bridge.logger, none of them needing the logging package (see there why).
"""

import _thread
import os

from . import logger

LEVELS = {"error": logger.ERROR, "warning": logger.WARNING, "info": logger.INFO, "debug": logger.DEBUG}
LOG_FILE_LIMIT = 256 * 1024
# syslog severities (RFC 5424) for the daemon facility (3)
_SEVERITY = {logger.DEBUG: 7, logger.INFO: 6, logger.WARNING: 4, logger.ERROR: 3, logger.CRITICAL: 2}


def short_line(created, levelno, name, message, exc_text):
    """'%(name)s: %(message)s', the traceback on the lines after: syslog stamps the time and the
    severity itself."""
    text = "%s: %s" % (name, message)
    return text + "\n" + exc_text if exc_text else text


def full_line(created, levelno, name, message, exc_text):
    """'%(asctime)s %(levelname)s %(name)s: %(message)s', the traceback on the lines after."""
    return "%s %s %s" % (logger.asctime(created), logger.level_name(levelno),
                         short_line(created, levelno, name, message, exc_text))


class Sink:
    """Every line, formatted by `fmt` (full_line or short_line), written whole by write()."""

    outputs = True    # one of setup()'s: replaced by the next setup()

    def __init__(self, fmt=full_line):
        self.fmt = fmt
        # worker threads (a meter read, a transfer) log beside the loop: one line at a time, whole
        self.lock = _thread.allocate_lock()

    def emit(self, created, levelno, name, message, exc_text=None):
        text = self.fmt(created, levelno, name, message, exc_text)
        with self.lock:
            self.write(text, levelno)


class SyslogSink(Sink):
    """RFC 3164 datagrams to /dev/log, as logd on OpenWrt reads them (`logread` shows them)."""

    def __init__(self, address="/dev/log", tag="tr069-bridge"):
        super().__init__(short_line)
        self.address = address
        self.tag = "%s[%d]" % (tag, os.getpid())
        import _socket  # the C module: socket.py costs ~0.5 MiB for wrappers a datagram needs none of

        self.sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM)

    def write(self, text, levelno):
        try:
            pri = 3 * 8 + _SEVERITY.get(levelno, 6)
            msg = "<%d>%s: %s" % (pri, self.tag, text)
            self.sock.sendto(msg.encode("utf-8", "replace")[:4096], self.address)
        except OSError:
            pass  # logd restarting: drop the line rather than block the loop


class StderrSink(Sink):
    """stderr that never blocks the daemon: a line the reader cannot take now (a pipe nobody drains,
    a stopped terminal) is dropped and counted, and the count is said once writing works again.

    A blocking write here would stop the loop for good: no call answered, and SIGTERM's handler
    runs but the write it interrupted is retried, so the daemon would not stop either.
    """

    def __init__(self, stream=None, fmt=full_line):
        super().__init__(fmt)
        if stream is None:
            import sys

            stream = sys.stderr
        self.stream = stream
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

    def write(self, text, levelno):
        text += "\n"
        try:
            fd = self.stream.fileno()
        except (AttributeError, OSError, ValueError):  # not a real descriptor (a test's capture)
            try:
                self.stream.write(text)
                self.stream.flush()
            except (OSError, ValueError):
                pass
            return
        try:
            self.stream.flush()  # whatever print() left in the buffer goes first
        except OSError:
            pass
        try:
            if self.dropped:
                text = "(%d log lines not written: stderr was not read)\n%s" % (self.dropped, text)
            if self._write(fd, text.encode("utf-8", "replace")):
                self.dropped = 0
            else:
                self.dropped += 1
        except OSError:
            self.dropped += 1


class BoundedFileSink(Sink):
    """A log file that starts over (keeping one .1 copy) when it passes LOG_FILE_LIMIT."""

    def __init__(self, path, fmt=full_line):
        super().__init__(fmt)
        self.path = path
        self.fd = self._open()

    def _open(self):
        # mode 0600 like every file of the state directory: GetFile uploads what logread shows, and
        # nobody else on the host should read it
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        os.fchmod(fd, 0o600)  # a file an older version left readable
        self.size = os.fstat(fd).st_size  # then counted: no fstat a line
        return fd

    def write(self, text, levelno):
        try:
            self.size += os.write(self.fd, (text + "\n").encode("utf-8", "replace"))
            if self.size > LOG_FILE_LIMIT:
                os.close(self.fd)
                os.replace(self.path, self.path + ".1")
                self.fd = self._open()
        except OSError:
            pass

    def close(self):
        try:
            os.close(self.fd)
        except OSError:
            pass


def setup(backend, level="info", log_file=None):
    """Replace the sinks an earlier setup() installed (others, such as the state view's, stay)."""
    for sink in logger.sinks():
        if getattr(sink, "outputs", False):
            logger.remove_sink(sink)
            if hasattr(sink, "close"):
                sink.close()
    if backend == "ubus" and os.path.exists("/dev/log"):
        logger.add_sink(SyslogSink())
    else:
        logger.add_sink(StderrSink())
        if log_file:
            try:
                sink = BoundedFileSink(log_file)
            except OSError as e:  # a read-only or full state directory: stderr only, said once
                logger.getLogger(__name__).warning("log file %s not written: %s", log_file, e.strerror or e)
            else:
                logger.add_sink(sink)
    set_level(level)


def set_level(level):
    logger.set_level(LEVELS.get(level, logger.INFO))
