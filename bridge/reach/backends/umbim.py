"""umbim (OpenWrt's MBIM tool): text, one `  key: value` line each (openwrt/umbim cli.c).

    caps          mbim_device_caps_response: deviceid (the IMEI on 3GPP devices), firmwareinfo, ...
    pinstate      mbim_pin_state_response, on stderr: "Pin Unlocked", or "required pin: <n> - <type>" and
                  "remaining attempts: <n>" (the PIN1/PUK1 a locked SIM needs; many Qualcomm modems report
                  pin2 there once pin1 is verified, which locks nothing)
    registration  mbim_registration_response: registerstate: <hex> - <nick> (unknown, deregistered, searching,
                  home, roaming, partner, denied), provider_id, provider_name, availabledataclasses, ...
    subscriber    mbim_subscriber_response: readystate: <hex> - <nick> (initialized, sim-not-inserted,
                  device-locked, ...), simiccid, subscriberid (the IMSI), number: <msisdn> (one per number)
    config        mbim_config_response: ipv4address: <a>/<len> ... when session 0 holds an address
umbim has no signal query: rssi, rsrp, rsrq, sinr stay absent.
"""

from ..modem import ModemInfo
from .tools import BackendError, control_device, run

UMBIM = "/sbin/umbim"
QUESTIONS = ("caps", "pinstate", "registration", "subscriber", "config")
REGISTRATION = {"home": "home", "roaming": "roaming", "partner": "roaming", "searching": "searching",
                "denied": "denied", "deregistered": "idle", "unknown": "unknown"}
READY = {"initialized": "ready", "sim-not-inserted": "missing", "device-locked": "locked"}
LOCKING_PINS = ("pin1", "puk1", "network-pin", "network-puk")


def fields(text):
    """'  key: value' lines -> {key: [values]} (a key may repeat: number)."""
    out = {}
    for line in (text or "").splitlines():
        key, sep, value = line.strip().partition(": ")
        if sep:
            out.setdefault(key, []).append(value.strip())
    return out


def _one(f, key):
    values = f.get(key)
    return values[0] if values else None


def _nick(value):
    """'0003 - home' -> 'home'."""
    return value.partition(" - ")[2] if value and " - " in value else None


def parse(outputs):
    """{question: what umbim printed (stdout and stderr together)} -> ModemInfo."""
    caps = fields(outputs.get("caps"))
    reg = fields(outputs.get("registration"))
    sub = fields(outputs.get("subscriber"))
    cfg = fields(outputs.get("config"))
    pin = fields(outputs.get("pinstate"))

    sim = READY.get(_nick(_one(sub, "readystate")))
    required = _nick(_one(pin, "required pin"))
    if required in LOCKING_PINS:
        sim = "locked"
    registration = REGISTRATION.get(_nick(_one(reg, "registerstate")))
    if registration is None and sim in ("missing", "locked"):
        registration = "idle"
    bearer = None
    if outputs.get("config") is not None:
        bearer = any(cfg.get(k) for k in ("ipv4address", "ipv6address"))
    technology = _nick(_one(reg, "availabledataclasses"))
    return ModemInfo(
        imei=_one(caps, "deviceid"), iccid=_one(sub, "simiccid"), imsi=_one(sub, "subscriberid"),
        msisdn=_one(sub, "number"), operator=_one(reg, "provider_name"), operator_code=_one(reg, "provider_id"),
        registration=registration, technology=technology, bearer=bearer, sim=sim)


class Umbim:
    name = "umbim"

    def __init__(self, options):
        self.device = control_device(options)
        self.transaction = 0

    def read(self):
        outputs = {}
        for question in QUESTIONS:
            # -n -t: no MBIM open or close around the query, a transaction id of its own: the device stays
            # as netifd's mbim proto handler opened it (it counts its ids from 1; ours start far above)
            self.transaction = self.transaction % 60000 + 1
            _code, out, err = run([UMBIM, "-n", "-t", str(1000 + self.transaction), "-d", self.device, question])
            if out.strip() or err.strip():
                outputs[question] = out + err
        if not outputs:
            raise BackendError("umbim on %s answered nothing" % self.device)
        return parse(outputs)
