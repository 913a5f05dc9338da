"""What both file transfers share (firmware.py: UpdateFirmware; logupload.py: GetFile): the locations we
accept, the room for an image, one download, one retry loop, timeouts and TLS verification.

Both run their network part in a worker thread (requests for http/https and bridge/ftp.py for
ftp/ftps, imported there: only these paths need them) and report progress with notifications that go
through the persistent outbox.
"""

import os
from urllib.parse import urlsplit

from .. import logger
from ..redact import redact
from . import errors

log = logger.getLogger(__name__)

SCHEMES = ("http", "https", "ftp", "ftps")
FTP = ("ftp", "ftps")
CHUNK = 64 * 1024
# UpdateFirmware's retries and retryInterval are the central system's; a station lives with at most these
MAX_ATTEMPTS = 10
MAX_RETRY_INTERVAL = 86400  # seconds
MIN_RETRY_INTERVAL = 1  # seconds between two attempts at least: a refused port is not hammered
MAX_IMAGE = 256 * 1024 * 1024  # no router image comes near it
RESERVE = 4 * 1024 * 1024  # left free in the download directory


def check_location(location):
    """None when we can fetch/put there, else (error code, description).

    Credentials in a plain http URL are refused; in an ftp URL they are how FTP logs in (the spec's own
    examples send ftp://root:root@...): bridge/ftp.py uses TLS where the server offers it and warns once
    where it does not."""
    from urllib.parse import unquote

    try:
        parts = urlsplit(location)
        parts.port  # ValueError: not a port number
    except ValueError as e:
        return errors.PROPERTY_CONSTRAINT_VIOLATION, "location: %s" % e
    if parts.scheme.lower() not in SCHEMES:
        return errors.NOT_SUPPORTED, "only http, https, ftp and ftps locations are supported, not %s" % parts.scheme[:16]
    if not parts.hostname:
        return errors.PROPERTY_CONSTRAINT_VIOLATION, "location: no host"
    if any(c in unquote(location) for c in "\r\n\0") or not location.isprintable():
        return errors.PROPERTY_CONSTRAINT_VIOLATION, "location: a line break, NUL or control character"
    if parts.scheme.lower() == "http" and (parts.username or parts.password):
        return errors.SECURITY_ERROR, "refusing to send credentials over plain http"
    return None


def retry_policy(retries, interval):
    """UpdateFirmware's (retries, retryInterval) -> (attempts, seconds between), within the caps."""
    def number(v, default):
        return v if isinstance(v, (int, float)) and not isinstance(v, bool) and v - v == 0 else default

    attempts = int(min(max(1, number(retries, 1)), MAX_ATTEMPTS))
    wait = float(min(max(MIN_RETRY_INTERVAL, number(interval, 0)), MAX_RETRY_INTERVAL))
    return attempts, wait


class TooBig(Exception):
    """The image does not fit where it is downloaded to."""


def room_for_image(directory):
    """Bytes a download may write to `directory`: its free space less RESERVE, at most MAX_IMAGE.
    On OpenWrt the default, /tmp, is RAM: filling it would starve everything else."""
    try:
        st = os.statvfs(directory)
    except OSError:
        return MAX_IMAGE
    return max(0, min(MAX_IMAGE, st.f_bavail * st.f_frsize - RESERVE))


def is_ftp(location):
    return urlsplit(location).scheme.lower() in FTP


def fetch(location, part, timeouts, verify, cancel, shown):
    """One download attempt into `part`, progress told to `shown`; False when cancelled. Raises on failure
    (TooBig when the image would not fit in the download directory)."""
    directory = os.path.dirname(part)
    room = room_for_image(directory)
    if is_ftp(location):
        from .. import ftp

        try:
            ftp.download(location, part, timeout=timeouts[1], cafile=verify if isinstance(verify, str) else None,
                         cancel=cancel, progress=shown, limit=room)
        except ftp.TooLarge as e:
            raise TooBig("%s (room in %s)" % (e, directory)) from None
        return not cancel.is_set()
    import requests

    logger.route_std()  # requests (urllib3) logs through the logging package: to our sinks too

    from .. import progress

    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f, requests.get(location, stream=True, timeout=timeouts, verify=verify) as r:
        r.raise_for_status()
        announced = progress.announced_size(r.headers)
        shown.sized(announced)
        if announced and announced > room:
            raise TooBig("the image (%d bytes) does not fit in %s (room for %d)" % (announced, directory, room))
        written = 0
        for chunk in r.iter_content(CHUNK):
            if cancel.is_set():
                return False
            written += len(chunk)
            if written > room:  # no size announced, or a server that sends more than it said
                raise TooBig("the image passed %d bytes, the room in %s" % (room, directory))
            f.write(chunk)
            shown.add(len(chunk))
        if announced is not None and written < announced and not r.headers.get("Content-Encoding"):
            # urllib3 1.x ends a body cut short without a word (2.x raises): never an image that is cut
            raise ShortBody("the connection ended after %d of the %d bytes announced" % (written, announced))
        f.flush()
        os.fsync(f.fileno())
    return True


class ShortBody(OSError):
    """A transfer that ended before the length its server announced."""


def attempts(what, attempts, interval, cancel, shown, attempt):
    """attempt() up to `attempts` times, `interval` seconds apart (a worker thread waits; cancel ends the
    wait) -> (True, None) | (False, reason of the last failure) | (False, None) when cancelled.
    attempt() returns False when it saw the cancel itself."""
    failures = _transfer_errors()
    reason = None
    for n in range(1, attempts + 1):
        if cancel.is_set():
            return False, None
        shown.begin_attempt()
        try:
            if not attempt():
                return False, None
            return True, None
        except Exception as e:  # whatever a peer makes a library raise is a failed attempt, never a dead worker
            # one sentence, not the libraries' chain of reprs (bridge/errortext.py); an unexpected one with its
            # class; their texts carry the URL, with its password: never in the log or the state view
            from ..errortext import sentence

            reason = redact(sentence(e) if isinstance(e, failures) else "%s: %s" % (e.__class__.__name__, e))[:300]
            shown.failed_attempt(reason)
            if isinstance(e, failures):
                log.warning("%s attempt %d/%d failed: %s", what, n, attempts, reason)
            else:  # not one the transfer expects: a bug of ours or of a library, said once with its cause
                log.error("%s attempt %d/%d failed unexpectedly: %s", what, n, attempts, reason)
        if n < attempts and cancel.wait(interval):
            return False, None
    return False, reason


def _transfer_errors():
    """What a failed attempt raises (imported lazily: requests only where it is installed and needed)."""
    from ..ftp import FtpError

    kinds = [OSError, FtpError, TooBig]
    try:
        import requests

        kinds.append(requests.RequestException)
    except ImportError:
        pass
    return tuple(kinds)


def timeouts(ctx):
    return (ctx.config.get("os3p.connect_timeout"), ctx.config.get("os3p.call_timeout"))


def tls_verify(ctx):
    return ctx.config.get("acs.ca_file") or True



def unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass
