"""Modem backends: one interface, many tools, one table.

A backend has `name` and `read() -> ModemInfo`, which blocks (it runs a program or a ubus call) and is
only ever called from the reachability worker thread, never on the loop; `read` raises BackendError
when the tool is not there or does not answer (the station then knows nothing of its modem: every field
absent). Each parser is a pure function of the tool's output, tested on recorded output
(tests/data/modem/).

    none          no modem: every field absent, nothing run
    modemmanager  ModemManager: rpcd's `modemmanager dump` over ubus, else `mmcli -J`
    uqmi          uqmi on a QMI device (reach.device, /dev/cdc-wdm0)
    uqmid         uqmid's ubus object uqmid.modem.<reach.modem_name>
    umbim         umbim on an MBIM device (reach.device)
    host          the host's simulated modem (<state>/reach-simulation.json, `tr069-bridge simulate`)
    auto          host with the host backend; on a device the first whose tool is installed, else none
"""

import os

from ..modem import ModemInfo

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


class NoModem:
    name = "none"

    def read(self):
        return ModemInfo()


def _modemmanager(options):
    from .mm import ModemManager

    return ModemManager(options)


def _uqmi(options):
    from .uqmi import Uqmi

    return Uqmi(options)


def _uqmid(options):
    from .uqmid import Uqmid

    return Uqmid(options)


def _umbim(options):
    from .umbim import Umbim

    return Umbim(options)


def _host(options):
    from .simulated import SimulatedModem

    return SimulatedModem(options["simulation"])


# backend name -> factory(options); options: device, modem_name, ubus_socket, simulation (a path)
BACKENDS = {
    "none": lambda options: NoModem(),
    "modemmanager": _modemmanager,
    "uqmi": _uqmi,
    "uqmid": _uqmid,
    "umbim": _umbim,
    "host": _host,
}
# what "auto" tries on a device, in order: the program whose presence says the tool is installed
AUTO = (("modemmanager", "/usr/bin/mmcli"), ("uqmid", "/usr/sbin/uqmid"), ("uqmi", "/sbin/uqmi"),
        ("umbim", "/sbin/umbim"))


def choose(name, device_backend, exists=os.path.exists):
    """The backend name `auto` stands for, or `name` itself."""
    if name != "auto":
        return name
    if device_backend == "host":
        return "host"
    for backend, program in AUTO:
        if exists(program):
            return backend
    return "none"


def open_backend(name, options):
    return BACKENDS[name](options)
