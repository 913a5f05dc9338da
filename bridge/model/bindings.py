"""The model's backend: one reader per getter group, and the writes of each binding.

Everything it reads comes through its constructor (the composition root passes the config, the device,
the clock, the zone and callables giving the station's parts, which may not run here). A reader makes
one read of its source and returns {object template: {instance keys: {name: value}}}; where the device
answers nothing it returns no entry (the parameters are absent), and an error it raises is taken the
same way by the core. A new object is rows in rows.py plus one reader in READERS.

Writes, by binding:
  uci    KEYS[name].parse (the one validator per value) in check(); in apply() every value is set,
         applied where it is used (on_config_changed, as ChangeConfiguration does) and saved in one UCI
         write; a failure takes every one back (Config.discard) and raises.
  state  the station: a contactor's Override (OverrideStreetlight / ResumeStreetlight), a profile's
         fields (SetStreetlightProfile of the profile as changed); checked together, on a copy of the
         profiles, before anything is written.
"""

import json
import os

from .. import config as cfg
from ..logger import getLogger
from .faults import INTERNAL_ERROR, INVALID_VALUE, RESOURCES_EXCEEDED, Fault
from .types import UNKNOWN_TIME

log = getLogger(__name__)

V = cfg.VENDOR
STREETLIGHT = "Device.%sStreetlight." % V
CONTACTOR = STREETLIGHT + "Contactor.{i}."
PROFILE = CONTACTOR + "Profile.{i}."
INDICATOR = "Device.%sMVFaultIndicator.{i}." % V
METER = "Device.%sMeter.{i}." % V
READING = METER + "Reading.{i}."
IP_IF = "Device.IP.Interface.{i}."
IPV4 = IP_IF + "IPv4Address.{i}."
ETH_IF = "Device.Ethernet.Interface.{i}."
FW = "Device.DeviceInfo.FirmwareImage.{i}."

# OS3P FirmwareStatusNotification status -> TR-181 FirmwareImage.Status of the image being brought in
FIRMWARE_STATUS = {"Downloading": "Downloading", "Downloaded": "Validating", "Installing": "Available",
                   "DownloadFailed": "DownloadFailed", "InstallationFailed": "InstallationFailed"}
# Linux operstate -> TR-181 Interface.Status
OPERSTATE = {"up": "Up", "down": "Down", "dormant": "Dormant", "notpresent": "NotPresent",
             "lowerlayerdown": "LowerLayerDown", "testing": "Down", "unknown": "Unknown"}
STATS = ("tx_bytes", "rx_bytes", "tx_packets", "rx_packets", "tx_errors", "rx_errors")
ARPHRD_ETHER = "1"
IFF_UP = 0x1


def _read(path):
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return None


def _int(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return None


def _utc(epoch):
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class Backend:
    def __init__(self, config, device, registry, clock, zone=lambda: None, streetlights=lambda: None,
                 sensors=lambda: None, link=lambda: None, firmware=lambda: None, netifd=None, reach=lambda: None,
                 on_config_changed=lambda name: None, proc="/proc", sys_net="/sys/class/net"):
        """config: bridge.config.Config; device: bridge.device; registry: the model's rows; clock() ->
        Unix time; zone() -> the device's zone (bridge.station.zone); streetlights() / sensors() -> the
        station's parts or None where they do not run; link() -> "Up" | "Connecting" | "Disabled";
        firmware() -> the firmware transfer's FirmwareStatusNotification payload or None; netifd() ->
        `ubus call network.interface dump` or None (then the kernel's interfaces); on_config_changed(name):
        what ChangeConfiguration calls after a key changed (apply it where it is used); reach() -> the
        reachability component or None."""
        self.config = config
        self.device = device
        self.clock = clock
        self.zone = zone
        self.streetlights = streetlights
        self.sensors = sensors
        self.link = link
        self.firmware = firmware
        self.netifd = netifd
        self.reach = reach  # reach() -> the reachability component (bridge/reach) or None where it does not run
        self.on_config_changed = on_config_changed
        self.proc = proc
        self.sys_net = sys_net
        self.uci_rows = [r for r in registry.groups().get("config", []) if r.binding[0] == "uci"]
        self.readers = {name: getattr(self, "read_" + name) for name in READERS}

    def read(self, group):
        return self.readers[group]()

    # --- readers, one per getter group -------------------------------------------------------------------------
    def read_config(self):
        out = {}
        for row in self.uci_rows:
            out.setdefault(row.object, {}).setdefault((), {})[row.source] = self.config.get(row.binding[1])
        ms = out.setdefault("Device.ManagementServer.", {}).setdefault((), {})
        ms["periodic_inform_time"] = UNKNOWN_TIME
        ms["connection_request_url"] = ""
        return out

    def read_board(self):
        b = self.device.board()
        serial = b.get("serial") or ""
        oui = serial[:6] if len(serial) == 12 and all(c in "0123456789ABCDEF" for c in serial) else ""
        return {"Device.DeviceInfo.": {(): {
            "vendor": b.get("vendor") or "", "model": b.get("model") or "", "serial": serial, "oui": oui,
            "description": "%s station" % (b.get("model") or "OpenWrt"), "product_class": "Substation",
            "hardware": b.get("board_name") or "", "firmware_version": b.get("firmware_version") or "",
            "hostname": b.get("hostname") or ""}}}

    def read_system(self):
        info = {}  # MemoryStatus's values too: the core looks them up in DeviceInfo's entry
        up = _read(os.path.join(self.proc, "uptime"))
        if up:
            info["uptime"] = int(float(up.split()[0]))
        mem = _read(os.path.join(self.proc, "meminfo")) or ""
        for line in mem.splitlines():
            name, _, rest = line.partition(":")
            if name in ("MemTotal", "MemAvailable"):
                kib = _int(rest.split()[0]) if rest.split() else None
                if kib is not None:
                    info["mem_total" if name == "MemTotal" else "mem_free"] = kib
        return {"Device.DeviceInfo.": {(): info}}

    def read_firmware(self):
        version = self.device.board().get("firmware_version") or ""
        images = {("1",): {"name": "running", "version": version, "available": True, "status": "Active"}}
        status = self.firmware()
        st = FIRMWARE_STATUS.get((status or {}).get("status"))
        if st is not None:
            images[("2",)] = {"name": "update", "version": "", "available": False, "status": st}
        return {FW: images, "Device.DeviceInfo.": {(): {"active": "Device.DeviceInfo.FirmwareImage.1"}}}

    def read_link(self):
        return {"Device.ManagementServer.": {(): {"status": self.link() or "Disabled"}}}

    def read_time(self):
        now = self.clock()
        zone = self.zone()
        info = {"now": zone.iso(now) if zone is not None else _utc(now), "enable": False,
                "zonename": "", "zone": ""}
        try:
            sections = self.device.uci_sections("system")
        except Exception:  # no system config (the host): the clock alone
            sections = []
        for s in sections:
            if s.get(".type") == "system":
                info["zonename"] = s.get("zonename") or ""
                info["zone"] = s.get("timezone") or ""
            elif s.get(".type") == "timeserver":
                info["enable"] = s.get("enabled", "1") in ("1", "true", "yes", "on")
                servers = s.get("server") or []
                for i, server in enumerate(servers if isinstance(servers, list) else [servers]):
                    if i < 4:
                        info["server%d" % (i + 1)] = server
        for i in range(1, 5):
            info.setdefault("server%d" % i, "")
        return {"Device.Time.": {(): info}}

    def read_ip(self):
        dump = self.netifd() if self.netifd is not None else None
        if dump is not None:
            return _ip_from_netifd(dump)
        return self._ip_from_kernel()

    def _ip_from_kernel(self):
        interfaces, addresses = {}, {}
        for name in self._net_devices():
            base = os.path.join(self.sys_net, name)
            flags = _read(os.path.join(base, "flags"))
            up = bool(int(flags, 16) & IFF_UP) if flags else False
            oper = OPERSTATE.get(_read(os.path.join(base, "operstate")) or "", "Unknown")
            if oper == "Unknown" and up:
                oper = "Up"  # loopback and tunnels say "unknown" while they carry traffic
            interfaces[(name,)] = {"enable": up, "status": oper, "name": name, "device": name}
            addr = _ipv4(name)
            if addr is not None:
                addresses[(name, "1")] = {"enable": True, "address": addr[0], "mask": addr[1],
                                          "addressing": "Static"}
        return {IP_IF: interfaces, IPV4: addresses}

    def read_ethernet(self):
        out = {}
        for name in self._net_devices():
            base = os.path.join(self.sys_net, name)
            if _read(os.path.join(base, "type")) != ARPHRD_ETHER:
                continue
            if "DEVTYPE=" in (_read(os.path.join(base, "uevent")) or ""):
                continue  # a bridge, a VLAN, a wireless or a tunnel device: not an Ethernet interface
            flags = _read(os.path.join(base, "flags"))
            up = bool(int(flags, 16) & IFF_UP) if flags else False
            speed = _int(_read(os.path.join(base, "speed")))
            duplex = _read(os.path.join(base, "duplex"))
            entry = {"enable": up, "status": OPERSTATE.get(_read(os.path.join(base, "operstate")) or "", "Unknown"),
                     "name": name, "mac": (_read(os.path.join(base, "address")) or "").upper(),
                     "speed": speed if speed is not None and speed > 0 else -1,
                     "duplex": {"full": "Full", "half": "Half"}.get(duplex or "", "Auto")}
            for stat in STATS:
                value = _int(_read(os.path.join(base, "statistics", stat)))
                if value is not None:
                    entry[stat] = value
            out[(name,)] = entry
        return {ETH_IF: out}

    def _net_devices(self):
        try:
            return sorted(os.listdir(self.sys_net))
        except OSError:
            return []

    def read_streetlight(self):
        shell = self.streetlights()
        if shell is None:
            return {}
        st = shell.control
        zone = shell.zone
        sun = shell.sun_today()
        top = {"local_switch": bool(st.local)}
        if sun is not None:
            top["sunrise"], top["sunset"] = zone.iso(sun[0]), zone.iso(sun[1])
        if st.next_change is not None:
            top["next_change"] = zone.iso(st.next_change)
        contactors, profiles = {}, {}
        for c in st.contactors.values():
            key = (str(c.id),)
            contactors[key] = {"id": c.id, "light": "" if c.light is None else ("On" if c.light else "Off"),
                               "mode": c.mode, "override": c.override or "", "feedback": c.feedback is not None}
            for p in st.profiles.of(c.id):
                d = p.to_json()
                profiles[key + (str(p.profile_id),)] = {
                    "profileId": p.profile_id, "stackLevel": p.stack_level, "recurrencyKind": p.recurrency,
                    "validFrom": d.get("validFrom", UNKNOWN_TIME), "validTo": d.get("validTo", UNKNOWN_TIME),
                    "daySchedule": json.dumps(d["daySchedule"], separators=(",", ":"))}
        return {STREETLIGHT: {(): top}, CONTACTOR: contactors, PROFILE: profiles}

    def read_indicators(self):
        sensors = self.sensors()
        if sensors is None:
            return {}
        state = sensors.indicators.state()
        out = {}
        for name, g in state["groups"].items():
            inputs = g["inputs"]
            out[(name,)] = {"name": name, "faulted": bool(g["faults"]), "faults": ",".join(g["faults"]),
                            "overcurrent": bool(inputs.get("overcurrent")), "ground": bool(inputs.get("ground")),
                            "selffault": bool(inputs.get("selffault")), "testing": bool(state["testing"])}
        return {INDICATOR: out}

    def read_meter(self):
        sensors = self.sensors()
        if sensors is None:
            return {}
        alarms = {source: code for code, source in sensors.alarms.active}
        day = sensors.day
        today = day is not None and day.day == day.day_of(self.clock())
        meters, readings = {}, {}
        for source in sensors.sources:
            key = (source.name,)
            meters[key] = {"name": source.name, "status": "Failing" if source.failing else "Ok"}
            last = getattr(source, "last", None)
            if last is None:
                continue
            meters[key]["time"] = _utc(last[0])
            for measurand, location, unit, value in last[1]:
                entry = {"measurand": measurand, "location": location or "", "unit": unit or "", "value": value,
                         "alarm": alarms.get(measurand, "")}
                seen = day.seen.get((measurand, location)) if today else None
                if seen is not None:
                    entry["day_min"], entry["day_max"] = seen[1], seen[2]
                readings[key + ("%s@%s" % (measurand, location or ""),)] = entry
        return {METER: meters, READING: readings}

    def read_cellular(self):
        reach = self.reach()
        if reach is None:
            return {}
        view = reach.state()
        out = {"Device.Cellular.": {(): {"reachability": view.get("state"), "since": view.get("since")}}}
        m = reach.modem_info().as_dict()
        if not m:
            return out
        interface = {"status": "Up" if m.get("bearer") else "Down", "name": view.get("backend"),
                     "technology": TECHNOLOGY.get(m.get("technology")), "operator": m.get("operator"),
                     "registration": m.get("registration"), "imei": m.get("imei")}
        for name in ("rssi", "rsrp", "rsrq", "sinr"):
            if m.get(name) is not None:
                interface[name] = int(round(m[name]))
        usim = {"usim": USIM.get(m.get("sim"), "Error" if m.get("sim") else None), "imsi": m.get("imsi"),
                "iccid": m.get("iccid"), "msisdn": m.get("msisdn")}
        out["Device.Cellular.Interface.{i}."] = {("modem",): {k: v for k, v in interface.items() if v is not None}}
        out["Device.Cellular.Interface.{i}.USIM."] = {("modem",): {k: v for k, v in usim.items() if v is not None}}
        return out

    # --- writes -----------------------------------------------------------------------------------------------
    def check(self, row, keys, value):
        kind, name = row.binding
        if kind == "uci":
            try:
                cfg.KEYS[name].parse(value)
            except ValueError as e:
                raise Fault(INVALID_VALUE, str(e)) from None
        elif row.object == CONTACTOR and row.source == "override":
            shell = self.streetlights()
            if shell is not None and shell.control.local:
                raise Fault(INVALID_VALUE, "the local switch overrides the contactors now (RejectedLocalOverride)")

    def check_all(self, writes):
        """Faults of writes that hold one by one but not together: the profiles as changed, installed on a
        copy of the station's profiles."""
        changed = self._profiles(writes)
        if not changed:
            return []
        import copy

        from ..station import schedule

        shell = self.streetlights()
        dry = copy.copy(shell.control.profiles)
        faults = []
        for (cid, pid), (entry, paths) in changed.items():
            try:
                why = dry.install(cid, [schedule.Profile.parse(entry)], False, self.config.get(
                    "streetlights.max_stack_level"))
            except (schedule.ScheduleError, KeyError, TypeError, ValueError) as e:
                why = str(e)
            if why is not None:
                faults += [Fault(INVALID_VALUE, why, path) for path in paths]
        return faults

    def _profiles(self, writes):
        """{(contactor, profile id): (the profile's SetStreetlightProfile entry as changed, [paths written])}"""
        out = {}
        shell = self.streetlights()
        for row, keys, value, *rest in writes:
            if row.object != PROFILE:
                continue
            cid, pid = int(keys[0]), int(keys[1])
            if (cid, pid) not in out:
                profile = next(p for p in shell.control.profiles.of(cid) if p.profile_id == pid)
                out[(cid, pid)] = (profile.to_json(), [])
            entry, paths = out[(cid, pid)]
            if row.source == "daySchedule":
                try:
                    value = json.loads(value)
                except ValueError:
                    value = None
                if not isinstance(value, list):
                    value = "not a JSON array"  # Profile.parse says why
            if row.source in ("validFrom", "validTo") and value == UNKNOWN_TIME:
                entry.pop(row.source, None)
            else:
                entry[row.source] = value
            paths.append(rest[0] if rest else row.path)
        return out

    def apply(self, writes):
        """All the writes of one SetParameterValues; True when one takes effect after a restart."""
        uci = [(row, value) for row, _keys, value in writes if row.binding[0] == "uci"]
        later = any(row.reboot for row, _v in uci)
        if uci:
            self._apply_uci(uci)
        try:
            self._apply_station(writes)
        except Exception:
            if uci:
                log.error("SetParameterValues: the station refused after the config was written; "
                          "taking the config back")
            raise
        return later

    def _apply_uci(self, writes):
        config = self.config
        names = [row.binding[1] for row, _v in writes]
        try:
            for row, value in writes:
                config.set(row.binding[1], value)
            for name in names:
                self.on_config_changed(name)  # applied before anything is written, as ChangeConfiguration
            config.save()
        except Exception as e:
            config.discard()
            for name in names:
                try:
                    self.on_config_changed(name)  # the previous values again, wherever they are used
                except Exception:
                    log.exception("restoring %s after a failed write", name)
            raise Fault(INTERNAL_ERROR, "the configuration could not be written: %s" % e) from None

    def _apply_station(self, writes):
        shell = None
        for row, keys, value in writes:
            if row.object == CONTACTOR and row.source == "override":
                shell = shell or self.streetlights()
                cid = int(keys[0])
                result = shell.control.resume(cid) if value == "" else shell.control.override(cid, value)
                if result != "Accepted":
                    raise Fault(INVALID_VALUE, "contactor %d: %s" % (cid, result))
        for (cid, _pid), (entry, _paths) in self._profiles([(r, k, v) for r, k, v in writes]).items():
            shell = shell or self.streetlights()
            status, why = shell.control.set_profiles(cid, [entry])
            if status != "Accepted":
                raise Fault(INVALID_VALUE, why or status)

    def add(self, row, parent_keys):
        """AddObject: a profile that applies to no day yet (RecurrencyKind None on 1970-01-01), at the lowest
        free stack level of its contactor, with the next profile id."""
        if row.path != PROFILE:
            raise Fault(INVALID_VALUE, "instances of %s are not made here" % row.path)
        shell = self.streetlights()
        cid = int(parent_keys[0])
        st = shell.control
        taken = {p.stack_level for p in st.profiles.of(cid)}
        top = self.config.get("streetlights.max_stack_level")
        free = [lv for lv in range(top + 1) if lv not in taken]
        if not free:
            raise Fault(RESOURCES_EXCEEDED, "every stack level up to %d is taken on contactor %d" % (top, cid))
        pid = 1 + max([p.profile_id for ps in st.profiles.by_contactor.values() for p in ps] +
                      [int(k) for k in _kept_ids(st.profiles)] + [0])
        status, why = st.set_profiles(cid, [{"profileId": pid, "stackLevel": free[0], "recurrencyKind": "None",
                                             "validFrom": "1970-01-01T00:00:00", "daySchedule": []}])
        if status != "Accepted":
            raise Fault(INTERNAL_ERROR, why or status)
        return str(pid)

    def delete(self, row, keys):
        if row.path != PROFILE:
            raise Fault(INVALID_VALUE, "instances of %s are not removed here" % row.path)
        shell = self.streetlights()
        if shell.control.clear_profiles(profile_id=int(keys[1]), cid=int(keys[0])) != "Accepted":
            raise Fault(INTERNAL_ERROR, "profile %s is gone already" % keys[1])


def _kept_ids(profiles):
    """Profile ids of contactors not configured now (kept as saved): never given to a new profile."""
    for entries in profiles.kept.values():
        for e in entries if isinstance(entries, list) else []:
            if isinstance(e, dict) and isinstance(e.get("profileId"), int):
                yield e["profileId"]


def _ipv4(name):
    """(address, netmask) of a kernel interface (SIOCGIFADDR / SIOCGIFNETMASK), None without one. The C
    module _socket, not socket.py: the ubus paths leave socket.py's enums out of memory too."""
    import _socket
    import fcntl
    import struct

    try:
        s = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    except OSError:
        return None
    try:
        req = struct.pack("256s", name.encode()[:15])
        addr = fcntl.ioctl(s.fileno(), 0x8915, req)[20:24]
        mask = fcntl.ioctl(s.fileno(), 0x891b, req)[20:24]
    except OSError:
        return None
    finally:
        s.close()
    return ".".join(str(b) for b in addr), ".".join(str(b) for b in mask)


def _prefix_mask(bits):
    bits = max(0, min(32, int(bits)))
    value = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF if bits else 0
    return ".".join(str((value >> s) & 0xFF) for s in (24, 16, 8, 0))


NETIFD_ADDRESSING = {"dhcp": "DHCP", "static": "Static", "ppp": "IPCP", "pppoe": "IPCP", "pppoa": "IPCP",
                     "3g": "IPCP", "qmi": "DHCP", "mbim": "DHCP", "ncm": "DHCP", "modemmanager": "DHCP"}


def _ip_from_netifd(dump):
    """`ubus call network.interface dump` -> the IP getter group's data (one instance per netifd
    interface, its IPv4 addresses below it)."""
    interfaces, addresses = {}, {}
    for itf in dump.get("interface") or []:
        name = itf.get("interface")
        if not isinstance(name, str):
            continue
        up = bool(itf.get("up"))
        status = "Up" if up else ("Down" if itf.get("available", True) else "LowerLayerDown")
        interfaces[(name,)] = {"enable": itf.get("autostart", True) is not False or up, "status": status,
                               "name": name, "device": itf.get("l3_device") or itf.get("device") or ""}
        for i, a in enumerate(itf.get("ipv4-address") or [], 1):
            if isinstance(a, dict) and isinstance(a.get("address"), str):
                addresses[(name, str(i))] = {
                    "enable": True, "address": a["address"], "mask": _prefix_mask(a.get("mask", 32)),
                    "addressing": NETIFD_ADDRESSING.get(itf.get("proto"), "Static")}
    return {IP_IF: interfaces, IPV4: addresses}


# getter group -> reader method (read_<group>); rows.GROUPS says how each learns of changes
READERS = ("config", "board", "system", "firmware", "link", "time", "ip", "ethernet", "streetlight",
           "indicators", "meter", "cellular")
# the reachability's technology words (bridge/reach/modem.py) -> TR-181 CurrentAccessTechnology
TECHNOLOGY = {"lte": "LTE", "lte-cat-m": "LTE", "lte-nb-iot": "LTE", "5gnr": "NR", "umts": "UMTS", "wcdma": "UMTS",
              "hsdpa": "UMTSHSPA", "hsupa": "UMTSHSPA", "hspa": "UMTSHSPA", "hspa-plus": "UMTSHSPA",
              "gsm": "GPRS", "gprs": "GPRS", "edge": "EDGE"}
USIM = {"ready": "Valid", "locked": "Available", "missing": "None"}
