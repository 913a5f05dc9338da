"""ModemManager: what `mmcli -J` prints, read as rpcd's `modemmanager dump` returns it.

OpenWrt's modemmanager package ships an rpcd plugin (usr/libexec/rpcd/modemmanager) whose `dump` method
answers {"modem": [<modem>, ...]}: each <modem> is what `mmcli --modem=<path> --output-json` prints under
"modem", with `generic.sim` replaced by what `mmcli --sim=<path> --output-json` prints under "sim" ({} when
the modem has no SIM), `generic.bearers` by the bearers' `mmcli --bearer=<path> --output-json` objects, and
`signal` by `mmcli --modem=<path> --signal-get --output-json`'s "signal". Where rpcd does not have that
object, the same shape is built here from the same mmcli calls. mmcli prints "--" for a value it does not
have; every value is a string (mmcli-output.c, dump_output_json).
"""

import json

from ..modem import ModemInfo
from .tools import BackendError, run, ubus_call

MMCLI = "/usr/bin/mmcli"

# ModemManager's MMModem3gppRegistrationState nicks -> ours
REGISTRATION = {
    "home": "home", "home-sms-only": "home", "home-csfb-not-preferred": "home",
    "roaming": "roaming", "roaming-sms-only": "roaming", "roaming-csfb-not-preferred": "roaming",
    "searching": "searching", "denied": "denied", "idle": "idle", "emergency-only": "idle",
    "attached-rlos": "idle", "unknown": "unknown",
}
# MMModemState nicks in which the modem cannot register (no SIM, locked, off)
NOT_REGISTERING = ("failed", "locked", "disabled", "disabling", "initializing", "enabling")
# MMModemAccessTechnology nick -> the key of its values in `signal` (mmcli --signal-get)
SIGNAL_KEY = {"lte": "lte", "5gnr": "5g", "umts": "umts", "hsdpa": "umts", "hsupa": "umts", "hspa": "umts",
              "hspa-plus": "umts", "gsm": "gsm", "gprs": "gsm", "edge": "gsm", "lte-cat-m": "lte",
              "lte-nb-iot": "lte"}


def _text(value):
    return value if isinstance(value, str) and value != "--" else None


def _first(values):
    if isinstance(values, list):
        for v in values:
            if _text(v):
                return v
    return None


def parse_modem(modem):
    """One modem of `modemmanager dump` (or the same shape built from mmcli) -> ModemInfo."""
    if not isinstance(modem, dict):
        return ModemInfo()
    generic = modem.get("generic") if isinstance(modem.get("generic"), dict) else {}
    gpp = modem.get("3gpp") if isinstance(modem.get("3gpp"), dict) else {}
    state = _text(generic.get("state"))
    reason = _text(generic.get("state-failed-reason"))

    sim = generic.get("sim")
    props = sim.get("properties") if isinstance(sim, dict) and isinstance(sim.get("properties"), dict) else {}
    if state == "locked":
        sim_state = "locked"
    elif reason == "sim-missing" or sim in ("--", {}, None) and not props:
        sim_state = "missing" if reason == "sim-missing" or sim in ("--", {}) else None
    else:
        sim_state = "ready" if props else None

    registration = REGISTRATION.get(_text(gpp.get("registration-state")) or "")
    if registration in (None, "unknown") and state in NOT_REGISTERING:
        registration = "idle"

    technology = _first(generic.get("access-technologies"))
    rssi = rsrp = rsrq = sinr = None
    signal = modem.get("signal") if isinstance(modem.get("signal"), dict) else {}
    order = [SIGNAL_KEY.get(technology or "")] + ["5g", "lte", "umts", "gsm"]
    for key in order:
        values = signal.get(key) if key else None
        if isinstance(values, dict) and any(_text(values.get(k)) for k in ("rssi", "rsrp", "rscp")):
            rssi, rsrp, rsrq, sinr = (values.get("rssi"), values.get("rsrp"), values.get("rsrq"),
                                      values.get("snr") if "snr" in values else values.get("sinr"))
            break

    bearers = generic.get("bearers")
    bearer = None
    if isinstance(bearers, list) and any(isinstance(b, dict) for b in bearers):
        bearer = any(isinstance(b, dict) and isinstance(b.get("status"), dict)
                     and b["status"].get("connected") == "yes" for b in bearers)
    if state == "connected":
        bearer = True
    elif bearer is None and state is not None:
        bearer = False

    return ModemInfo(
        imei=_text(gpp.get("imei")) or _text(generic.get("equipment-identifier")),
        iccid=props.get("iccid"), imsi=props.get("imsi"),
        msisdn=_first(generic.get("own-numbers")),
        operator=gpp.get("operator-name"), operator_code=gpp.get("operator-code"),
        registration=registration, technology=technology,
        rssi=rssi, rsrp=rsrp, rsrq=rsrq, sinr=sinr,
        bearer=bearer, sim=sim_state, state=state)


def parse_dump(dump, index=0):
    """`ubus call modemmanager dump` -> the ModemInfo of its modem number `index` (none: every field absent)."""
    modems = dump.get("modem") if isinstance(dump, dict) else None
    if not isinstance(modems, list) or len(modems) <= index:
        return ModemInfo()
    return parse_modem(modems[index])


def _mmcli_json(*args):
    code, out, err = run([MMCLI, *args, "--output-json"])
    if code != 0:
        raise BackendError("mmcli %s: %s" % (" ".join(args), (err or out).strip()[:200]))
    try:
        return json.loads(out)
    except ValueError:
        raise BackendError("mmcli %s: not JSON" % " ".join(args)) from None


def dump_from_mmcli(index=0):
    """The shape of rpcd's `modemmanager dump` for one modem, from mmcli (as the rpcd plugin builds it)."""
    listing = _mmcli_json("--list-modems")
    paths = listing.get("modem-list") if isinstance(listing, dict) else None
    if not isinstance(paths, list) or len(paths) <= index:
        return {"modem": []}
    path = paths[index]
    modem = (_mmcli_json("--modem=%s" % path) or {}).get("modem") or {}
    generic = modem.get("generic") if isinstance(modem.get("generic"), dict) else {}
    sim = generic.get("sim")
    if isinstance(sim, str) and sim.startswith("/"):
        try:
            generic["sim"] = _mmcli_json("--sim=%s" % sim).get("sim") or {}
        except BackendError:
            generic["sim"] = {}
    else:
        generic["sim"] = {}
    bearers = []
    for b in generic.get("bearers") or []:
        try:
            bearers.append(_mmcli_json("--bearer=%s" % b).get("bearer"))
        except BackendError:
            pass
    if bearers:
        generic["bearers"] = bearers
    try:
        modem["signal"] = (_mmcli_json("--modem=%s" % path, "--signal-get").get("modem") or {}).get("signal") or {}
    except BackendError:
        modem["signal"] = {}
    return {"modem": [modem]}


class ModemManager:
    name = "modemmanager"

    def __init__(self, options):
        self.socket = options.get("ubus_socket")
        self.index = options.get("modem_index", 0)
        self.via_ubus = True  # until rpcd says it has no such object

    def read(self):
        if self.via_ubus:
            code, dump = ubus_call(self.socket, "modemmanager", "dump")
            if code == 0:
                return parse_dump(dump, self.index)
            self.via_ubus = code != 4  # rpcd has no such object here: mmcli from now on
        return parse_dump(dump_from_mmcli(self.index), 0)
