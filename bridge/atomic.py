"""Crash-safe file writes: write a temporary file, fsync it, rename it over, fsync the directory.

After a power cut the file holds either the old or the new content, never a mix.

And the way back: a state file read at start is checked for shape, not only for syntax (load_json with a
check of its owner's). What does not fit is set aside, renamed <name>.bad (then .bad.1, ...), with one log
line naming the file and why, and its owner starts on defaults for that part: start never depends on what
was stored. What was set aside since the start is listed in SET_ASIDE (the state view and `status` show it).
"""

import json
import os

from .logger import getLogger

log = getLogger(__name__)

SET_ASIDE = []  # [{"file", "as", "why"}]: what this process set aside (the state view, `status`)
SET_ASIDE_MAX = 32  # entries kept in that list (a directory of bad entries is not a memory leak)


def write_atomic(path, data, mode=0o600):
    if isinstance(data, str):
        data = data.encode()
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, ".%s.tmp" % os.path.basename(path))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        try:
            view = memoryview(data)
            while view:  # os.write may write less than asked (a nearly full disk)
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)  # no half-written file left to fill the disk
        except OSError:
            pass
        raise
    fsync_dir(directory)


def fsync_dir(directory):
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path, obj, mode=0o600):
    write_atomic(path, json.dumps(obj, separators=(",", ":"), sort_keys=True), mode)


class StateFile:
    """A state file its owner writes whole (write_json) after each change: a directory that is missing, full
    or read-only is one error line until it mends and one line when it does, never an exception into the
    caller (what is in memory stays right and the next write retries). `log` is the owner's, so the lines
    say whose state it is."""

    def __init__(self, path, what, log):
        self.path = path
        self.what = what
        self.log = log
        self.saved = True  # the last write succeeded

    def write(self, obj):
        """-> True when written."""
        try:
            write_json(self.path, obj)
        except OSError as e:
            if self.saved:
                self.log.error("%s not saved to %s: %s", self.what, self.path, e.strerror or e)
            self.saved = False
            return False
        if not self.saved:
            self.log.warning("%s saved to %s again", self.what, self.path)
        self.saved = True
        return True


def read_json(path, default=None):
    try:
        with open(path, "rb") as f:
            return json.loads(f.read())
    except FileNotFoundError:
        return default
    except ValueError:
        return default  # a torn file cannot happen with write_atomic; a hand-edited one can


class Misfit(ValueError):
    """What a shape check raises: the stored data does not fit (str(): why, in words)."""


def load_json(path, check, default=None, max_bytes=4 * 1024 * 1024):
    """A state file read at start -> check(data) (which returns what to use, or raises Misfit, or any
    ValueError, TypeError, KeyError or AttributeError a wrong shape causes); default when there is no file.
    A file that cannot be read, is not JSON, is larger than max_bytes or does not fit is set aside."""
    try:
        with open(path, "rb") as f:
            raw = f.read(max_bytes + 1)
    except FileNotFoundError:
        return default
    except OSError as e:  # a directory where the file belongs, no permission, an I/O error
        set_aside(path, "cannot be read: %s" % (e.strerror or e))
        return default
    if len(raw) > max_bytes:
        set_aside(path, "larger than %d bytes" % max_bytes)
        return default
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        set_aside(path, "not JSON")
        return default
    try:
        return check(data)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as e:
        set_aside(path, "does not fit: %s" % (str(e)[:200] or e.__class__.__name__))
        return default


def set_aside(path, why):
    """Rename what does not fit out of the way (<path>.bad, .bad.1, ...: never over an earlier one), one
    error line; where even that fails (a read-only directory) it stays, and is not used all the same."""
    target = path + ".bad"
    n = 0
    while os.path.lexists(target) and n < 100:
        n += 1
        target = "%s.bad.%d" % (path, n)
    try:
        os.rename(path, target)
    except OSError as e:
        target = None
        log.error("%s does not fit (%s) and cannot be set aside (%s): not used; starting on defaults for it",
                  path, why, e.strerror or e)
    else:
        log.error("%s set aside as %s: %s; starting on defaults for it", path, os.path.basename(target), why)
    if len(SET_ASIDE) < SET_ASIDE_MAX:
        SET_ASIDE.append({"file": path, "as": target, "why": why})


def state_dir(path):
    """A directory the daemon keeps state in, made where missing; a file (or anything else) where it belongs
    is set aside first, as a file that does not fit is: start never depends on what was stored."""
    if os.path.lexists(path) and not os.path.isdir(path):
        set_aside(path, "not a directory")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def need(condition, why):
    """A shape check's one step: Misfit(why) unless condition holds."""
    if not condition:
        raise Misfit(why)


def is_number(v):
    """A finite JSON number (not a boolean, NaN or an infinity)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf")
