"""What every modem backend uses: one program run or one ubus call, bounded in time and bytes, and the
error they raise. Beside the backends' table (__init__.py), which imports each backend only when chosen."""

import os
import time
from _signal import SIGKILL  # not signal.py, which makes an IntEnum of every signal

RUN_TIMEOUT = 10.0  # seconds for one program or ubus call: a hung modem tool must not hold the worker
MAX_OUTPUT = 256 * 1024  # bytes of one program's output read at most


class BackendError(Exception):
    pass


def control_device(options):
    """The modem's control device (QMI or MBIM, the cdc-wdm character device netifd's proto handlers use):
    `reach.device`, /dev/cdc-wdm0 by default; only a /dev path, since it goes on a tool's command line."""
    device = options.get("device") or "/dev/cdc-wdm0"
    if not device.startswith("/dev/"):
        raise ValueError("reach.device must be a /dev path, got %r" % device)
    return device


def run(argv, timeout=RUN_TIMEOUT, limit=MAX_OUTPUT):
    """A program's stdout and stderr (text), bounded in time and bytes; BackendError when it cannot be run
    or does not end in time (it is killed). The exit status is the caller's to judge (uqmi and umbim print
    on failure).

    Spawned with os.posix_spawnp and read with poll, not the subprocess module: that one (with the locale,
    signal and threading modules it loads) costs a router ~0.5 MiB of RAM for as long as the daemon runs,
    for a program run now and then. Every descriptor of ours is close-on-exec (PEP 446), so the program
    gets only its stdin (/dev/null), stdout and stderr, as subprocess' close_fds gives it; one this process
    was started with and left open (not close-on-exec) is closed in the program."""
    import select  # loaded with the loop already

    pipes = [os.pipe(), os.pipe()]  # stdout, stderr
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_DUP2, pipes[0][1], 1), (os.POSIX_SPAWN_DUP2, pipes[1][1], 2)]
    actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in _inherited()]
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    except FileNotFoundError:
        raise BackendError("%s is not installed" % argv[0]) from None
    except OSError as e:
        raise BackendError("%s: %s" % (argv[0], e.strerror or e)) from None
    finally:
        for _r, w in pipes:
            os.close(w)
    chunks = {r: [] for r, _w in pipes}
    kept = dict.fromkeys(chunks, 0)
    poller = select.poll()
    for r in chunks:
        poller.register(r, select.POLLIN)
    deadline = time.monotonic() + timeout
    try:
        open_fds = len(chunks)
        while open_fds:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, SIGKILL)
                raise BackendError("%s did not answer within %g s" % (" ".join(argv[:3]), timeout))
            for fd, _event in poller.poll(left * 1000):
                data = os.read(fd, 65536)
                if not data:
                    poller.unregister(fd)
                    open_fds -= 1
                elif kept[fd] < limit:  # beyond the limit it is read and dropped: the program is not held up
                    chunks[fd].append(data[:limit - kept[fd]])
                    kept[fd] += len(chunks[fd][-1])
    finally:
        for r in chunks:
            os.close(r)
        _pid, status = os.waitpid(pid, 0)
    out, err = (b"".join(chunks[r]).decode("utf-8", "replace") for r, _w in pipes)
    return os.waitstatus_to_exitcode(status), out, err


def _inherited():
    """The descriptors above 2 that a program would inherit (what this process was started with)."""
    out = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if fd > 2 and os.get_inheritable(fd):
                out.append(fd)
        except OSError:  # listdir's own descriptor, closed by now
            pass
    return out


def ubus_call(socket_path, path, method, args=None, timeout=RUN_TIMEOUT):
    """(status, data) of one ubus call on a connection of its own; status 10 (connection failed) when ubusd
    is not there. Blocking: the worker's."""
    from ...ubus.client import Client, UbusError

    try:
        with Client(socket_path, timeout) as c:
            return c.call(path, method, args or {})
    except UbusError as e:
        return e.code, None
    except OSError:
        return 10, None
