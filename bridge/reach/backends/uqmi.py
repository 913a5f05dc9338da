"""uqmi (OpenWrt's QMI tool): one program run per question, each printing one JSON value.

What each option prints (uqmi/commands-*.c at openwrt/uqmi): a string ("<imei>") for --get-imei,
--get-iccid, --get-imsi, --get-msisdn and --get-data-status (cmd_wds_get_packet_service_status_cb:
connected, disconnected, suspended, authenticating, unknown); a table for --get-pin-status
(cmd_dms_get_pin_status_cb: pin1_status ...), --get-serving-system (cmd_nas_get_serving_system_cb:
registration, radio_interface, plmn_mcc, plmn_mnc, plmn_description, roaming) and --get-signal-info
(cmd_nas_get_signal_info_cb: type, rssi, rsrq, rsrp, snr; an array of two tables under 5G EN-DC). A QMI
error is printed as a string instead ("UIM uninitialized", "No SIM", "Device not ready": qmi_get_error_str).
"""

import json

from ..modem import ModemInfo
from .tools import BackendError, control_device, run

UQMI = "/sbin/uqmi"
QUESTIONS = ("--get-imei", "--get-iccid", "--get-imsi", "--get-msisdn", "--get-pin-status",
             "--get-serving-system", "--get-signal-info", "--get-data-status")
REGISTRATION = {"registered": "home", "searching": "searching", "registering_denied": "denied",
                "not_registered": "idle", "unknown": "unknown"}
SIM_ERRORS = ("UIM uninitialized", "No SIM", "SIM not inserted")
LOCKED = ("not_verified", "blocked", "permanently_blocked")


def _value(text):
    """uqmi's printed JSON value, or None for nothing / what does not parse."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def parse(outputs):
    """{option: what uqmi printed for it} -> ModemInfo. A missing option is a question not asked."""
    v = {k: _value(outputs.get(k)) for k in QUESTIONS}
    errors = [x for x in v.values() if isinstance(x, str) and x in SIM_ERRORS]

    def text(key):
        # an identifier or a status word never holds a space; QMI's error texts always do ("No effect")
        x = v[key]
        return x if isinstance(x, str) and " " not in x.strip() else None

    pin = v["--get-pin-status"] if isinstance(v["--get-pin-status"], dict) else {}
    if errors:
        sim = "missing"
    elif pin.get("pin1_status") in LOCKED:
        sim = "locked"
    elif pin.get("pin1_status") in ("verified", "disabled", "unblocked", "changed") or text("--get-iccid"):
        sim = "ready"
    else:
        sim = None

    serving = v["--get-serving-system"] if isinstance(v["--get-serving-system"], dict) else {}
    registration = REGISTRATION.get(serving.get("registration"))
    if registration == "home" and serving.get("roaming") is True:
        registration = "roaming"
    if registration is None and sim in ("missing", "locked"):
        registration = "idle"
    radios = serving.get("radio_interface")
    technology = radios[0] if isinstance(radios, list) and radios and isinstance(radios[0], str) else None
    operator_code = None
    if isinstance(serving.get("plmn_mcc"), int) and isinstance(serving.get("plmn_mnc"), int):
        operator_code = "%03d%02d" % (serving["plmn_mcc"], serving["plmn_mnc"])

    signal = v["--get-signal-info"]
    if isinstance(signal, list):  # EN-DC: LTE and NR; the LTE anchor carries rssi
        signal = next((s for s in signal if isinstance(s, dict) and s.get("type") == "lte"),
                      signal[0] if signal and isinstance(signal[0], dict) else {})
    signal = signal if isinstance(signal, dict) else {}
    if technology is None and isinstance(signal.get("type"), str):
        technology = signal["type"]

    sinr = signal.get("snr")
    if isinstance(sinr, int) and not isinstance(sinr, bool):
        sinr = sinr / 10  # uqmi before 2018 (d647f8d) printed QMI's tenths of a dB; since then dB as a double
    data = text("--get-data-status")
    return ModemInfo(
        imei=text("--get-imei"), iccid=text("--get-iccid"), imsi=text("--get-imsi"),
        msisdn=text("--get-msisdn"), operator=serving.get("plmn_description"), operator_code=operator_code,
        registration=registration, technology=technology,
        rssi=signal.get("rssi"), rsrp=signal.get("rsrp"), rsrq=signal.get("rsrq"), sinr=sinr,
        bearer=None if data is None else data == "connected", sim=sim)


class Uqmi:
    name = "uqmi"

    def __init__(self, options):
        self.device = control_device(options)

    def read(self):
        outputs = {}
        for question in QUESTIONS:
            # -s: one line; -t: uqmi's own timeout in ms, below ours; one question per run, as qmi.sh asks
            _code, out, _err = run([UQMI, "-s", "-t", "5000", "-d", self.device, question])
            outputs[question] = out
        if all(not o.strip() for o in outputs.values()):
            raise BackendError("uqmi on %s answered nothing" % self.device)
        return parse(outputs)
