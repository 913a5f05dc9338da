"""uqmid (the QMI daemon in openwrt/uqmi): `ubus call uqmid.modem.<name> dump`.

What dump answers (uqmid/ubus.c, modem_dump_state): name, device, state and state_name (the modem state
machine, uqmid/modem_fsm.c: UNCONFIGURED ... NETSEARCH, REGISTERED, START_IFACE, LIVE, FAILED), manufactor,
model, rev, imei, imeisv, meid, imsi, iccid ("" when not known), config_apn, roaming (whether roaming is
*allowed* by the configuration, not whether the modem roams), ipv4_addr ... dns2, sim_state and
sim_state_name (uqmid/sim_fsm.c: IDLE, WAIT UIM PRESENT, GET_INFO, READY, CHV_PIN, FAIL_PIN_REQUIRED,
FAIL_PUK_REQUIRED, NO_SIM_PRESENT, FAILED), sim_use_upin, sim_pin_retries, sim_puk_retries. No signal, no
operator, no home/roaming: those stay absent.
"""

from ..modem import ModemInfo
from .tools import BackendError, ubus_call

# modem state machine -> (registration, bearer up)
MODEM_STATES = {"LIVE": ("registered", True), "START_IFACE": ("registered", False),
                "REGISTERED": ("registered", False), "NETSEARCH": ("searching", False)}
SIM_STATES = {"READY": "ready", "GET_INFO": "ready", "CHV_PIN": "locked", "FAIL_PIN_REQUIRED": "locked",
              "FAIL_PUK_REQUIRED": "locked", "NO_SIM_PRESENT": "missing"}


def parse_dump(dump):
    if not isinstance(dump, dict):
        return ModemInfo()
    state = dump.get("state_name") if isinstance(dump.get("state_name"), str) else None
    registration, bearer = MODEM_STATES.get(state, ("idle", False) if state else (None, None))
    return ModemInfo(imei=dump.get("imei"), iccid=dump.get("iccid"), imsi=dump.get("imsi"),
                     registration=registration, bearer=bearer,
                     sim=SIM_STATES.get(dump.get("sim_state_name")), state=state)


class Uqmid:
    name = "uqmid"

    def __init__(self, options):
        self.socket = options.get("ubus_socket")
        self.object = "uqmid.modem.%s" % (options.get("modem_name") or "modem1")

    def read(self):
        code, dump = ubus_call(self.socket, self.object, "dump")
        if code != 0:
            raise BackendError("ubus call %s dump: status %d" % (self.object, code))
        return parse_dump(dump)
