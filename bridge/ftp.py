"""FTP transfers (ftplib, standard library): download a file, upload a stream. No protocol of ours here;
bridge/os3p/transfers.py calls these for ftp:// and ftps:// locations as it calls requests for http(s).

- Passive mode; user and password from the URL (anonymous without them); binary transfers.
- Bounded memory: data moves in CHUNK-sized blocks between the socket and a file.
- TLS: ftps:// requires explicit FTPS (AUTH TLS, protected data channel) with the certificate verified.
  ftp:// tries AUTH TLS first and uses it when the server offers it; a server that refuses AUTH gets
  plain FTP. A failed TLS handshake or certificate check is an error, never a silent downgrade.
- Plain FTP with credentials sends the password in clear: that is logged as a warning once per host
  and user, never with the password. A server reply that echoes the password (a 530 that repeats the
  login) is redacted before it is logged or shown.
- Bounded in bytes, time and threads, whatever the server does: a control line is at most MAX_LINE bytes
  and a reply at most REPLY_LINES lines and REPLY_BYTES bytes; the control exchange before the data
  (connect, TLS, login, SIZE) has CONTROL_DEADLINE timeouts in all; a transfer has an overall deadline
  from the size it announced at the FLOOR rate (or the most it may take, unannounced) and must move FLOOR
  bytes a second over every WINDOW seconds. One watchdog thread per transfer shuts its sockets at a
  deadline, so no blocked read outlives it. SIZE is read as ASCII digits or not at all.
"""

import ftplib
import os
import posixpath
import socket
import ssl
import threading
import time
from urllib.parse import unquote, urlsplit

from .logger import getLogger
from .redact import redact

log = getLogger(__name__)

SCHEMES = ("ftp", "ftps")
CHUNK = 64 * 1024
MAX_LINE = 2048  # bytes in one control line (RFC 959 lines are short; ftplib allows 8192)
REPLY_LINES = 100  # lines in one (multi-line) reply: a banner or FEAT list is a few dozen
REPLY_BYTES = 16 * 1024  # bytes in one reply
CONTROL_DEADLINE = 4  # timeouts: connect, TLS, login, SIZE all together
FLOOR = 2048  # bytes a second a data connection must keep up, over every WINDOW (16 kbit/s: below GPRS)
WINDOW = 60.0
_warned = set()
_warned_lock = threading.Lock()


class FtpError(Exception):
    pass


class TooLarge(FtpError):
    """A download bigger than the room it may take."""


class _Ftp(ftplib.FTP_TLS):
    """ftplib's FTP_TLS with its replies bounded, and the data connection kept where a deadline finds it."""

    maxline = MAX_LINE
    data = None

    def getmultiline(self):
        line = self.getline()
        if line[3:4] == "-":
            code, lines, size = line[:3], 1, len(line)
            while True:
                nextline = self.getline()
                lines, size = lines + 1, size + len(nextline) + 1
                if lines > REPLY_LINES or size > REPLY_BYTES:
                    raise ftplib.Error("a reply of more than %d lines or %d bytes" % (REPLY_LINES, REPLY_BYTES))
                line = line + "\n" + nextline
                if nextline[:3] == code and nextline[3:4] != "-":
                    break
        return line

    def ntransfercmd(self, cmd, rest=None):
        conn, size = super().ntransfercmd(cmd, rest)
        self.data = conn
        return conn, size


class _Watchdog:
    """One timer thread at a time: at the deadline it shuts the control and data sockets, so whatever
    waits on them (a reply that never ends, a data connection dripping a byte a second) returns at once."""

    def __init__(self, ftp):
        self.ftp = ftp
        self.timer = None
        self.expired = None  # what ran out of time, once one did

    def arm(self, seconds, what):
        self.cancel()
        self.timer = threading.Timer(seconds, self._fire, (what, seconds))
        self.timer.daemon = True
        self.timer.start()

    def _fire(self, what, seconds):
        self.expired = "%s took more than %d s" % (what, seconds)
        for sock in (self.ftp.sock, self.ftp.data):
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cancel(self):
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class _Floor:
    """FLOOR bytes a second over every WINDOW seconds, or the transfer is given up."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.start = clock()
        self.moved = 0

    def add(self, n):
        self.moved += n
        elapsed = self.clock() - self.start
        if elapsed >= WINDOW:
            if self.moved < FLOOR * elapsed:
                raise FtpError("slower than %d bytes/s over %d s (%d bytes)" % (FLOOR, elapsed, self.moved))
            self.start, self.moved = self.clock(), 0


def _scrub(text, password):
    """A server's words without the password (a 530 reply may echo the login)."""
    if password and password not in ("anonymous@",):
        for form in {password, quote_form(password)}:
            text = text.replace(form, "********")
    return text


def quote_form(password):
    from urllib.parse import quote

    return quote(password, safe="")


def _parts(url):
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        raise FtpError("not an ftp location: %s" % parts.scheme)
    if not parts.hostname:
        raise FtpError("no host in the location")
    user = unquote(parts.username) if parts.username else "anonymous"
    password = unquote(parts.password) if parts.password is not None else ("" if parts.username else "anonymous@")
    path = unquote(parts.path or "/")
    if any(c in path or c in user or c in password for c in "\r\n\0"):  # one FTP command is one line
        raise FtpError("the location holds a line break or NUL")
    try:
        parts.port
    except ValueError:
        raise FtpError("the location's port is not a port number") from None
    return parts, user, password, path


def _connect(url, timeout, cafile=None):
    """-> (_Ftp logged in, in passive binary mode, path, watchdog, password); raises FtpError."""
    parts, user, password, path = _parts(url)
    host, port = parts.hostname, parts.port or 21
    require_tls = parts.scheme.lower() == "ftps"
    context = ssl.create_default_context(cafile=cafile or None)
    ftp = _Ftp(context=context, timeout=timeout)
    watchdog = _Watchdog(ftp)
    watchdog.arm(CONTROL_DEADLINE * timeout, "connecting and logging in")
    try:
        ftp.connect(host, port)
        tls = True
        try:
            ftp.auth()
        except (ftplib.error_perm, ftplib.error_reply) as e:  # 5xx: the server does not offer TLS
            if require_tls:
                raise FtpError("%s does not offer TLS (%s)" % (host, _scrub(str(e).strip(), password))) from None
            tls = False
        if not tls and user != "anonymous":
            key = (host, port, user)
            with _warned_lock:
                first = key not in _warned
                _warned.add(key)
            if first:
                log.warning("ftp %s:%d offers no TLS: the password of %s goes over the network in clear",
                            host, port, user)
        ftp.login(user, password, secure=False)  # AUTH was tried above
        if tls:
            ftp.prot_p()
        ftp.set_pasv(True)
        ftp.voidcmd("TYPE I")
    except FtpError:
        _close(ftp, watchdog)
        raise
    except Exception as e:  # ftplib.Error, OSError, EOFError, and whatever a hostile reply causes
        _close(ftp, watchdog)
        raise FtpError("%s: %s" % (redact(url), _why(e, watchdog, password))) from None
    return ftp, path, watchdog, password


def _why(e, watchdog, password):
    if watchdog.expired:
        return watchdog.expired
    return _scrub(("%s: %s" % (e.__class__.__name__, e)).strip(), password)[:300]


def _close(ftp, watchdog):
    watchdog.arm(5, "closing")  # QUIT's answer is bounded too
    try:
        ftp.quit()
    except Exception:
        try:
            ftp.close()
        except Exception:
            pass
    watchdog.cancel()


def _size(ftp, path):
    """The file's size by SIZE (RFC 3659), read as ASCII digits; None when the server has none to say."""
    try:
        resp = ftp.sendcmd("SIZE " + path)
    except ftplib.error_perm:
        return None  # no SIZE on this server
    text = resp[3:].strip()
    if resp[:3] != "213" or not (text.isascii() and text.isdigit()) or len(text) > 15:
        log.warning("ftp: SIZE answered %r: not a size, the transfer goes on without it", resp[:40])
        return None
    return int(text)


def download(url, target, timeout=30, cafile=None, cancel=None, progress=None, limit=None):
    """Fetch url into the file `target` (created 0600, fsync'd). Returns the byte count.
    progress: told the size (sized(n)) and each block (add(n)), as bridge/progress.Progress takes them;
    limit: TooLarge when the file (its SIZE, or what arrives) is bigger."""
    ftp, path, watchdog, password = _connect(url, timeout, cafile)
    done = [0]
    floor = _Floor()

    def write(block):
        if cancel is not None and cancel.is_set():
            raise FtpError("cancelled")
        done[0] += len(block)
        if limit is not None and done[0] > limit:
            raise TooLarge("the file passed %d bytes" % limit)
        f.write(block)
        floor.add(len(block))
        if progress is not None:
            progress.add(len(block))

    try:
        expected = _size(ftp, path)  # a data connection that just closes looks like the end of the file
        if progress is not None:
            progress.sized(expected)
        if limit is not None and expected is not None and expected > limit:
            raise TooLarge("the file (%d bytes) is bigger than the room for it (%d)" % (expected, limit))
        most = expected if expected is not None else limit
        watchdog.arm(2 * timeout + (most or 0) / FLOOR if most is not None else 2 * timeout + 3600,
                     "the transfer")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            ftp.retrbinary("RETR " + path, write, blocksize=CHUNK)
            f.flush()
            os.fsync(f.fileno())
        if expected is not None and done[0] != expected:
            raise FtpError("%s: transfer cut after %d of %d bytes" % (redact(url), done[0], expected))
    except FtpError as e:
        if watchdog.expired:
            raise FtpError("%s: %s" % (redact(url), watchdog.expired)) from None
        raise FtpError(_scrub(str(e), password)) from None
    except Exception as e:  # ftplib.Error, OSError, EOFError, and whatever a hostile reply causes
        raise FtpError("%s: %s" % (redact(url), _why(e, watchdog, password))) from None
    finally:
        _close(ftp, watchdog)
    return done[0]


def upload(url, name, source, timeout=30, cafile=None, size=None):
    """Store the file object `source` (read in blocks; `size` bytes where known) as `name` in the
    directory the url names."""
    ftp, path, watchdog, password = _connect(url, timeout, cafile)
    floor = _Floor()
    try:
        remote = posixpath.join(path or "/", name)
        watchdog.arm(2 * timeout + (size / FLOOR if size is not None else 3600), "the transfer")
        ftp.storbinary("STOR " + remote, source, blocksize=CHUNK, callback=lambda block: floor.add(len(block)))
    except Exception as e:  # ftplib.Error, OSError, EOFError, FtpError (too slow), a hostile reply
        raise FtpError("%s: %s" % (redact(url), _why(e, watchdog, password))) from None
    finally:
        _close(ftp, watchdog)
