"""Crash-safe file writes: write a temporary file, fsync it, rename it over, fsync the directory.

After a power cut the file holds either the old or the new content, never a mix.
"""

import json
import os


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


def read_json(path, default=None):
    try:
        with open(path, "rb") as f:
            return json.loads(f.read())
    except FileNotFoundError:
        return default
    except ValueError:
        return default  # a torn file cannot happen with write_atomic; a hand-edited one can
