"""What every modem backend uses: one program run or one ubus call, bounded in time and bytes, and the
error they raise. Beside the backends' table (__init__.py), which imports each backend only when chosen."""

RUN_TIMEOUT = 10.0  # seconds for one program or ubus call: a hung modem tool must not hold the worker
MAX_OUTPUT = 256 * 1024  # bytes of one program's output read at most


class BackendError(Exception):
    pass


def run(argv, timeout=RUN_TIMEOUT, limit=MAX_OUTPUT):
    """A program's stdout and stderr (text), bounded in time and bytes; BackendError when it cannot be run
    or does not end in time. The exit status is the caller's to judge (uqmi and umbim print on failure)."""
    import subprocess  # only where a modem tool is used

    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout, close_fds=True)
    except FileNotFoundError:
        raise BackendError("%s is not installed" % argv[0]) from None
    except subprocess.TimeoutExpired:
        raise BackendError("%s did not answer within %g s" % (" ".join(argv[:3]), timeout)) from None
    except OSError as e:
        raise BackendError("%s: %s" % (argv[0], e.strerror or e)) from None
    out = proc.stdout[:limit].decode("utf-8", "replace")
    err = proc.stderr[:limit].decode("utf-8", "replace")
    return proc.returncode, out, err


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
