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
from .tools import BackendError, run, ubus_call  # noqa: F401  (what the reachability service uses)


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
