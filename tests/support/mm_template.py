"""A python-dbusmock template: ModemManager with one modem in a named case, for the real `mmcli` to read.

    python -m dbusmock --system --template tests/support/mm_template.py -p '{"case": "home-connected"}'

python-dbusmock's own `modemmanager` template serves the manager and a "simple modem" without registration,
SIM identifiers, bearer or signal; this one serves, under the paths ModemManager itself uses
(/org/freedesktop/ModemManager1/Modem/0, /SIM/0, /Bearer/0), every D-Bus property `mmcli` reads for
`--list-modems`, `--modem`, `--sim`, `--bearer` and `--signal-get`, with the types of ModemManager's
introspection data (org.freedesktop.ModemManager1.*.xml) and the values of its enums
(ModemManager-enums.h). What the cases hold (CASES) are example values of a real-world modem and network.

`SetCase(name)` on the mock interface switches the modem to another case while the mock runs (mmcli reads
everything afresh on each run). Loaded by dbusmock in its own process (which has dbus-python); nothing in
the test suite imports it.
"""

import dbus
from dbusmock import MOCK_IFACE, OBJECT_MANAGER_IFACE, mockobject

BUS_NAME = "org.freedesktop.ModemManager1"
MAIN_OBJ = "/org/freedesktop/ModemManager1"
MAIN_IFACE = "org.freedesktop.ModemManager1"
SYSTEM_BUS = True
IS_OBJECT_MANAGER = False

MODEM = MAIN_OBJ + "/Modem/0"
SIM = MAIN_OBJ + "/SIM/0"
BEARER = MAIN_OBJ + "/Bearer/0"
IFACE_MODEM = MAIN_IFACE + ".Modem"
IFACE_3GPP = IFACE_MODEM + ".Modem3gpp"
IFACE_SIGNAL = IFACE_MODEM + ".Signal"
IFACE_SIM = MAIN_IFACE + ".Sim"
IFACE_BEARER = MAIN_IFACE + ".Bearer"

# ModemManager-enums.h (1.20)
STATE = {"failed": -1, "locked": 2, "enabled": 6, "searching": 7, "registered": 8, "connected": 11}
FAILED_SIM_MISSING = 2
LOCK = {"none": 1, "sim-pin": 2}
REG = {"idle": 0, "home": 1, "searching": 2, "denied": 3, "roaming": 5}
ACCESS_LTE = 1 << 14
CAP_GSM_UMTS_LTE = (1 << 2) | (1 << 3)
MODE_2G, MODE_3G, MODE_4G = 1 << 1, 1 << 2, 1 << 3
POWER_ON = 3
PORT_NET, PORT_AT, PORT_QMI = 2, 3, 6
IP_FAMILY_IPV4, IP_FAMILY_IPV6, IP_FAMILY_IPV4V6 = 1, 2, 4
IP_METHOD_STATIC = 2
BEARER_DEFAULT = 1
SIM_PHYSICAL = 1
FACILITY_SIM = 1
PACKET_ATTACHED, PACKET_DETACHED = 2, 1

# the cases: what differs from a good SIM on its home network with a data bearer up
HOME = {"state": "connected", "reg": "home", "operator": ("26202", "Vodafone.de"), "sim": True, "locked": False,
        "bearer": True, "lte": {"rssi": -67.0, "rsrq": -9.0, "rsrp": -93.0, "snr": 12.4}, "quality": 80}
CASES = {
    "home-connected": HOME,
    "weak-signal": dict(HOME, lte={"rssi": -89.0, "rsrq": -15.0, "rsrp": -117.0, "snr": -1.2}, quality=12),
    "roaming": dict(HOME, state="registered", reg="roaming", operator=("22801", "Swisscom"), bearer=False,
                    lte={"rssi": -75.0, "rsrq": -11.0, "rsrp": -104.0, "snr": 6.0}, quality=52),
    "searching": dict(HOME, state="searching", reg="searching", operator=("", ""), bearer=None, lte=None,
                      quality=0),
    "pin-locked": dict(HOME, state="locked", reg="idle", operator=("", ""), locked=True, bearer=None, lte=None,
                       quality=0),
    "no-sim": dict(HOME, state="failed", reg=None, operator=("", ""), sim=False, bearer=None, lte=None, quality=0),
}

ICCID, IMSI, IMEI, MSISDN = "8949360000421790514", "262231017669630", "860018046114881", "+4917612345678"


def u(v):
    return dbus.UInt32(v)


def modem_properties(case):
    c = CASES[case]
    bearers = [dbus.ObjectPath(BEARER)] if c["bearer"] is not None else []
    return {
        "Sim": dbus.ObjectPath(SIM if c["sim"] else "/"),
        "SimSlots": dbus.Array([], signature="o"),
        "PrimarySimSlot": u(0),
        "Bearers": dbus.Array(bearers, signature="o"),
        "SupportedCapabilities": dbus.Array([u(CAP_GSM_UMTS_LTE)], signature="u"),
        "CurrentCapabilities": u(CAP_GSM_UMTS_LTE),
        "MaxBearers": u(1),
        "MaxActiveBearers": u(1),
        "MaxActiveMultiplexedBearers": u(0),
        "Manufacturer": "QUALCOMM INCORPORATED",
        "Model": "0",
        "Revision": "UZ801_V2.3.13",
        "CarrierConfiguration": "",
        "CarrierConfigurationRevision": "",
        "HardwareRevision": "10000",
        "DeviceIdentifier": "7a8d5c3b1e0f4a2b9c6d8e7f0a1b2c3d4e5f6a7b",
        "Device": "/sys/devices/platform/soc/78d9000.usb/ci_hdrc.0/usb1/1-1",
        "Drivers": dbus.Array(["qmi_wwan", "option"], signature="s"),
        "Plugin": "qcom-soc",
        "PrimaryPort": "cdc-wdm0",
        "Ports": dbus.Array([dbus.Struct(("cdc-wdm0", u(PORT_QMI))), dbus.Struct(("ttyUSB1", u(PORT_AT))),
                             dbus.Struct(("wwan0", u(PORT_NET)))], signature="(su)"),
        "EquipmentIdentifier": IMEI,
        "UnlockRequired": u(LOCK["sim-pin"] if c["locked"] else LOCK["none"] if c["sim"] else 0),
        "UnlockRetries": dbus.Dictionary({u(2): u(3), u(4): u(10)} if c["sim"] else {}, signature="uu"),
        "State": dbus.Int32(STATE[c["state"]]),
        "StateFailedReason": u(FAILED_SIM_MISSING if c["state"] == "failed" else 0),
        "AccessTechnologies": u(ACCESS_LTE if c["reg"] in ("home", "roaming") else 0),
        "SignalQuality": dbus.Struct((u(c["quality"]), dbus.Boolean(c["state"] != "failed")), signature="(ub)"),
        "OwnNumbers": dbus.Array([MSISDN] if c["sim"] and not c["locked"] else [], signature="s"),
        "PowerState": u(POWER_ON),
        "SupportedModes": dbus.Array([dbus.Struct((u(MODE_4G), u(MODE_4G))),
                                      dbus.Struct((u(MODE_2G | MODE_3G | MODE_4G), u(MODE_4G)))], signature="(uu)"),
        "CurrentModes": dbus.Struct((u(MODE_2G | MODE_3G | MODE_4G), u(MODE_4G)), signature="(uu)"),
        "SupportedBands": dbus.Array([u(31), u(33), u(37), u(50)], signature="u"),  # eutran-1, -3, -7, -20
        "CurrentBands": dbus.Array([u(31), u(33), u(37), u(50)], signature="u"),
        "SupportedIpFamilies": u(IP_FAMILY_IPV4 | IP_FAMILY_IPV6 | IP_FAMILY_IPV4V6),
    }


def gpp_properties(case):
    c = CASES[case]
    code, name = c["operator"]
    return {
        "Imei": IMEI,
        "RegistrationState": u(REG[c["reg"]]),
        "OperatorCode": code,
        "OperatorName": name,
        "EnabledFacilityLocks": u(FACILITY_SIM if c["locked"] else 0),
        "SubscriptionState": u(0),
        "EpsUeModeOperation": u(0),
        "Pco": dbus.Array([], signature="(ubay)"),
        "InitialEpsBearer": dbus.ObjectPath("/"),
        "InitialEpsBearerSettings": dbus.Dictionary({}, signature="sv"),
        "PacketServiceState": u(PACKET_ATTACHED if c["reg"] in ("home", "roaming") else PACKET_DETACHED),
        "Nr5gRegistrationSettings": dbus.Dictionary({}, signature="sv"),
    }


def signal_properties(case):
    lte = CASES[case]["lte"]
    empty = dbus.Dictionary({}, signature="sv")
    return {
        "Rate": u(0 if lte is None else 5),
        "RssiThreshold": u(0),
        "ErrorRateThreshold": dbus.Boolean(False),
        "Cdma": empty, "Evdo": empty, "Gsm": empty, "Umts": empty, "Nr5g": empty,
        "Lte": dbus.Dictionary({k: dbus.Double(v) for k, v in (lte or {}).items()}, signature="sv"),
    }


def sim_properties(case):
    c = CASES[case]
    return {
        "Active": dbus.Boolean(True),
        "SimIdentifier": ICCID,
        # the IMSI and the operator are read from the SIM once the PIN is given
        "Imsi": "" if c["locked"] else IMSI,
        "Eid": "",
        "OperatorIdentifier": "" if c["locked"] else "26202",
        "OperatorName": "" if c["locked"] else "Vodafone",
        "EmergencyNumbers": dbus.Array(["112", "911"], signature="s"),
        "PreferredNetworks": dbus.Array([], signature="(su)"),
        "Gid1": dbus.Array([], signature="y"),
        "Gid2": dbus.Array([], signature="y"),
        "SimType": u(SIM_PHYSICAL),
        "EsimStatus": u(0),
        "Removability": u(1),
    }


def bearer_properties(case):
    up = bool(CASES[case]["bearer"])
    ip4 = {"method": u(IP_METHOD_STATIC), "address": "10.74.182.21", "prefix": u(30), "gateway": "10.74.182.22",
           "dns1": "139.7.30.125", "dns2": "139.7.30.126", "mtu": u(1500)}
    return {
        "Interface": "wwan0" if up else "",
        "Connected": dbus.Boolean(up),
        "ConnectionError": dbus.Struct(("", ""), signature="ss"),
        "Suspended": dbus.Boolean(False),
        "Multiplexed": dbus.Boolean(False),
        "Ip4Config": dbus.Dictionary(ip4 if up else {"method": u(0)}, signature="sv"),
        "Ip6Config": dbus.Dictionary({"method": u(0)}, signature="sv"),
        "Stats": dbus.Dictionary({"rx-bytes": dbus.UInt64(8421376), "tx-bytes": dbus.UInt64(1204224),
                                  "duration": u(3600)} if up else {}, signature="sv"),
        "ReloadStatsSupported": dbus.Boolean(False),
        "IpTimeout": u(20),
        "BearerType": u(BEARER_DEFAULT),
        "ProfileId": dbus.Int32(-1),
        "Properties": dbus.Dictionary({"apn": "web.vodafone.de", "ip-type": u(IP_FAMILY_IPV4V6),
                                       "allow-roaming": dbus.Boolean(True)}, signature="sv"),
    }


def build(mock, case):
    """The modem (with its 3GPP and Signal interfaces), its SIM and its bearer as the case has them."""
    if case not in CASES:
        raise dbus.exceptions.DBusException("no case %r; one of %s" % (case, ", ".join(CASES)),
                                            name=MOCK_IFACE + ".NoSuchCase")
    for path in (MODEM, SIM, BEARER):
        if path in mockobject.objects:
            mock.RemoveObject(path)
    mock.AddObject(MODEM, IFACE_MODEM, modem_properties(case), [])
    modem = mockobject.objects[MODEM]
    if CASES[case]["reg"] is not None:  # a failed modem exports no 3GPP interface
        modem.AddProperties(IFACE_3GPP, gpp_properties(case))
    modem.AddProperties(IFACE_SIGNAL, signal_properties(case))
    modem.AddMethods(IFACE_SIGNAL, [("Setup", "u", "", "")])
    if CASES[case]["sim"]:
        mock.AddObject(SIM, IFACE_SIM, sim_properties(case), [])
    if CASES[case]["bearer"] is not None:
        mock.AddObject(BEARER, IFACE_BEARER, bearer_properties(case), [])
    mock.case = case


def load(mock, parameters):
    mock.AddMethods(MAIN_IFACE, [("ScanDevices", "", "", ""), ("SetLogging", "s", "", "")])
    mock.AddProperties(MAIN_IFACE, dbus.Dictionary({"Version": parameters.get("DaemonVersion", "1.20.4")},
                                                   signature="sv"))
    # the modems, as ModemManager's object manager lists them (SIMs and bearers are not managed objects)
    code = ("ret = {dbus.ObjectPath(k): objects[k].props for k in objects.keys() "
            "if k.startswith('%s/Modem/')}" % MAIN_OBJ)
    mock.AddMethod(OBJECT_MANAGER_IFACE, "GetManagedObjects", "", "a{oa{sa{sv}}}", code)
    build(mock, parameters.get("case", "home-connected"))


@dbus.service.method(MOCK_IFACE, in_signature="s", out_signature="")
def SetCase(self, case):
    """Switch the modem to another case (the next mmcli run reads it)."""
    build(self, case)
