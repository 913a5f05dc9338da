"""The host backend's modem and uplink (`make run`, tests): never used on a device.

Their state is a small JSON file, <state>/reach-simulation.json, that a person (or a test) changes with

    tr069-bridge simulate modem home|roaming|searching|denied|nosim|locked|off
    tr069-bridge simulate bearer up|down
    tr069-bridge simulate uplink up|down
    tr069-bridge simulate signal <RSRP in dBm>

Without the file: a registered modem (home network) with a data bearer, RSRP -90 dBm, and the uplink up
with an address. The daemon looks at the file's modification time every second (one stat).
"""

import json

from ..modem import ModemInfo

FILE = "reach-simulation.json"
MODEM_STATES = ("home", "roaming", "searching", "denied", "nosim", "locked", "off")
DEFAULTS = {"modem": "home", "bearer": True, "uplink": True, "rsrp": -90.0}
# what a real modem would say, fixed: a test SIM's identity (ITU-T E.118 test ICCID, MCC 001 test network)
IDENTITY = {"imei": "356938035643809", "iccid": "8900100000000000001", "imsi": "001010000000001",
            "msisdn": "+15550100001"}
UPLINK_ADDRESS = "100.64.0.2"  # shared address space (RFC 6598), as a carrier-grade NAT hands out


def read_file(path):
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = {}
    out = dict(DEFAULTS)
    if isinstance(data, dict):
        if data.get("modem") in MODEM_STATES:
            out["modem"] = data["modem"]
        for key in ("bearer", "uplink"):
            if isinstance(data.get(key), bool):
                out[key] = data[key]
        if isinstance(data.get("rsrp"), (int, float)) and not isinstance(data.get("rsrp"), bool):
            out["rsrp"] = float(data["rsrp"])
    return out


def set_value(path, key, value):
    """What `tr069-bridge simulate modem|bearer|uplink|signal` does, written atomically; ValueError names
    what is expected."""
    from ...atomic import write_json

    if key == "modem":
        if value not in MODEM_STATES:
            raise ValueError("modem is one of %s" % ", ".join(MODEM_STATES))
    elif key in ("bearer", "uplink"):
        if value not in ("up", "down"):
            raise ValueError("%s is up or down" % key)
        value = value == "up"
    elif key == "signal":
        try:
            value = float(value)
        except ValueError:
            raise ValueError("signal is the RSRP in dBm, e.g. -95") from None
        if not -160 <= value <= 0:
            raise ValueError("signal is the RSRP in dBm, -160 to 0")
        key = "rsrp"
    else:
        raise ValueError("one of modem, bearer, uplink, signal")
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    data[key] = value
    write_json(path, data)
    return read_file(path)


def modem_info(sim):
    """The simulated file's state -> what a ModemManager modem in that state reports."""
    state = sim["modem"]
    if state == "off":
        return ModemInfo()
    if state == "nosim":
        return ModemInfo(imei=IDENTITY["imei"], sim="missing", registration="idle", bearer=False, state="failed")
    if state == "locked":
        return ModemInfo(imei=IDENTITY["imei"], sim="locked", registration="idle", bearer=False, state="locked")
    registered = state in ("home", "roaming")
    bearer = registered and sim["bearer"]
    return ModemInfo(
        operator="Simulated" if registered else None, operator_code="00101" if registered else None,
        registration=state, technology="lte" if registered else None, bearer=bearer, sim="ready",
        rsrp=sim["rsrp"] if registered else None, rssi=sim["rsrp"] + 25 if registered else None,
        rsrq=-10.0 if registered else None, sinr=12.0 if registered else None,
        state="connected" if bearer else "registered" if registered else state, **IDENTITY)


def uplink_interfaces(sim, names):
    """netifd's view of the simulated uplink: {interface: [addresses]} for those up, as a dump would say."""
    return {name: [UPLINK_ADDRESS] for name in names[:1]} if sim["uplink"] else {}


class SimulatedModem:
    name = "host"

    def __init__(self, path):
        self.path = path

    def read(self):
        return modem_info(read_file(self.path))
