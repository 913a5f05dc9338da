"""FTP transfers (ftplib, standard library): download a file, upload a stream. No protocol of ours here;
bridge/os3p/transfers.py calls these for ftp:// and ftps:// locations as it calls requests for http(s).

- Passive mode; user and password from the URL (anonymous without them); binary transfers.
- Bounded memory: data moves in CHUNK-sized blocks between the socket and a file.
- TLS: ftps:// requires explicit FTPS (AUTH TLS, protected data channel) with the certificate verified.
  ftp:// tries AUTH TLS first and uses it when the server offers it; a server that refuses AUTH gets
  plain FTP. A failed TLS handshake or certificate check is an error, never a silent downgrade.
- Plain FTP with credentials sends the password in clear: that is logged as a warning once per host
  and user, never with the password.
"""

import ftplib
import os
import posixpath
import ssl
import threading
from urllib.parse import unquote, urlsplit

from .logger import getLogger
from .redact import redact

log = getLogger(__name__)

SCHEMES = ("ftp", "ftps")
CHUNK = 64 * 1024
_warned = set()
_warned_lock = threading.Lock()


class FtpError(Exception):
    pass


class TooLarge(FtpError):
    """A download bigger than the room it may take."""


def _parts(url):
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        raise FtpError("not an ftp location: %s" % parts.scheme)
    if not parts.hostname:
        raise FtpError("no host in the location")
    user = unquote(parts.username) if parts.username else "anonymous"
    password = unquote(parts.password) if parts.password is not None else ("" if parts.username else "anonymous@")
    return parts, user, password, unquote(parts.path or "/")


def _connect(url, timeout, cafile=None):
    """-> (ftplib object logged in, in passive binary mode, path); raises FtpError."""
    parts, user, password, path = _parts(url)
    host, port = parts.hostname, parts.port or 21
    require_tls = parts.scheme.lower() == "ftps"
    context = ssl.create_default_context(cafile=cafile or None)
    ftp = ftplib.FTP_TLS(context=context, timeout=timeout)
    try:
        ftp.connect(host, port)
        tls = True
        try:
            ftp.auth()
        except (ftplib.error_perm, ftplib.error_reply) as e:  # 5xx: the server does not offer TLS
            if require_tls:
                raise FtpError("%s does not offer TLS (%s)" % (host, str(e).strip())) from None
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
        _close(ftp)
        raise
    except (ftplib.Error, OSError, EOFError) as e:
        _close(ftp)
        raise FtpError("%s: %s" % (redact(url), _why(e))) from None
    return ftp, path


def _why(e):
    return ("%s: %s" % (e.__class__.__name__, e)).strip()


def _close(ftp):
    try:
        ftp.quit()
    except Exception:
        try:
            ftp.close()
        except Exception:
            pass


def download(url, target, timeout=30, cafile=None, cancel=None, progress=None, limit=None):
    """Fetch url into the file `target` (created 0600, fsync'd). Returns the byte count.
    progress: told the size (sized(n)) and each block (add(n)), as bridge/progress.Progress takes them;
    limit: TooLarge when the file (its SIZE, or what arrives) is bigger."""
    ftp, path = _connect(url, timeout, cafile)
    done = [0]

    def write(block):
        if cancel is not None and cancel.is_set():
            raise FtpError("cancelled")
        done[0] += len(block)
        if limit is not None and done[0] > limit:
            raise TooLarge("the file passed %d bytes" % limit)
        f.write(block)
        if progress is not None:
            progress.add(len(block))

    try:
        try:
            expected = ftp.size(path)  # a data connection that just closes looks like the end of the file
        except ftplib.error_perm:
            expected = None  # no SIZE (RFC 3659) on this server
        if progress is not None:
            progress.sized(expected)
        if limit is not None and expected is not None and expected > limit:
            raise TooLarge("the file (%d bytes) is bigger than the room for it (%d)" % (expected, limit))
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            ftp.retrbinary("RETR " + path, write, blocksize=CHUNK)
            f.flush()
            os.fsync(f.fileno())
        if expected is not None and done[0] != expected:
            raise FtpError("%s: transfer cut after %d of %d bytes" % (redact(url), done[0], expected))
    except FtpError:
        raise
    except (ftplib.Error, OSError, EOFError) as e:
        raise FtpError("%s: %s" % (redact(url), _why(e))) from None
    finally:
        _close(ftp)
    return done[0]


def upload(url, name, source, timeout=30, cafile=None):
    """Store the file object `source` (read in blocks) as `name` in the directory the url names."""
    ftp, path = _connect(url, timeout, cafile)
    try:
        remote = posixpath.join(path or "/", name)
        ftp.storbinary("STOR " + remote, source, blocksize=CHUNK)
    except (ftplib.Error, OSError, EOFError) as e:
        raise FtpError("%s: %s" % (redact(url), _why(e))) from None
    finally:
        _close(ftp)
