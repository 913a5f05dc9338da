"""THE table: every TR-181 object and parameter of the station, one row each.

    Object(path, group, add=, delete=, numbered=)
    Param(path, type, writable, group=, binding=, forced=, volatile=, secret=, count=)

A parameter bound to UCI is a row of bridge/config.py's KEYS: uci(name, type) takes its path, access,
secrecy and restart flag from KEYS, so ChangeConfiguration, UCI, LuCI and a SetParameterValues land on
one store through one validator per value. The station's own objects carry the vendor prefix
(config.VENDOR, TR-106 X_<VENDOR>_). Adding an object (Device.Cellular. later) is rows here plus one
getter group in bindings.py (GROUPS below says how the group learns of changes).

docs/parameters.md is generated from this table (python -m bridge.model.docs); a test keeps it true.
"""

from ..config import KEYS, VENDOR
from .registry import Object, Param
from .types import (BOOLEAN, DATETIME, DECIMAL, UNSIGNED_INT, UNSIGNED_LONG, Int, List, String,
                    UnsignedInt)

V = VENDOR

# getter group -> how its values are known to change (docs/notifications.md). "event": the source tells
# (a config reload or write, a contactor switching, a sample or an alarm of the sensors); "poll": it
# cannot tell, so watched parameters of that group are compared every model.poll_interval seconds.
GROUPS = {
    "config": "event: the config is written (ChangeConfiguration, SetParameterValues) or re-read (reload, "
              "SIGHUP, procd's reload trigger after `uci commit` + `reload_config`, the host's file watch)",
    "board": "poll: board facts (procd's system board, or the files it reads)",
    "system": "poll: /proc/uptime and /proc/meminfo",
    "firmware": "event: the firmware transfer's status changes (UpdateFirmware)",
    "link": "event: the OS3P link goes up or down",
    "time": "poll: the clock and the system config's NTP settings",
    "ip": "poll: netifd's interface dump (network.interface), or the kernel's interfaces on the host",
    "ethernet": "poll: /sys/class/net",
    "streetlight": "event: a contactor switches, changes mode, the local switch moves, profiles change",
    "indicators": "event: an MV fault indicator raises or clears a fault, a test or reset runs",
    "meter": "event: a sample is taken, an alarm is raised or cleared",
    "model": "the model's own state (ParameterKey)",
    "cellular": "poll: what the reachability last read of the modem (refreshed on netifd's events and every "
                "reach.refresh_interval seconds, bridge/reach)",
}
CELL = "Device.Cellular.Interface.{i}."

LIGHT = ("On", "Off", "")
MODES = ("Schedule", "RemoteOverride", "LocalOverride")
FIRMWARE_STATUS = ("NoImage", "Downloading", "Validating", "Available", "DownloadFailed", "ValidationFailed",
                   "InstallationFailed", "ActivationFailed", "Active")


def uci(name, type, **extra):
    """A row for a KEYS key: its TR-069 path and flags come from KEYS, its TR-181 type from here."""
    key = KEYS[name]
    return Param(key.tr069, type, writable=not key.readonly, group="config", binding=("uci", name),
                 secret=key.secret, reboot=key.reboot, **extra)


def fact(path, type, group, source=None, **extra):
    return Param(path, type, group=group, binding=("fact", source or path.rpartition(".")[2]), source=source,
                 **extra)


def state(path, type, group, writable=False, source=None, **extra):
    return Param(path, type, writable=writable, group=group,
                 binding=("state", source or path.rpartition(".")[2]), source=source, **extra)


def count(path, table):
    return Param(path, UNSIGNED_INT, binding=("computed", "count"), count=table)


ROWS = [
    Param("Device.RootDataModelVersion", String(32), binding=("model", "version"),
          doc="the TR-181 version the standard names follow"),
    # --- DeviceInfo ----------------------------------------------------------------------------------
    Object("Device.DeviceInfo.", group="board"),
    fact("Device.DeviceInfo.Manufacturer", String(64), "board", "vendor"),
    fact("Device.DeviceInfo.ManufacturerOUI", String(6), "board", "oui",
         doc="the serial number's first six hex digits where it is the base MAC address, else empty"),
    fact("Device.DeviceInfo.ModelName", String(64), "board", "model"),
    fact("Device.DeviceInfo.Description", String(256), "board", "description"),
    fact("Device.DeviceInfo.ProductClass", String(64), "board", "product_class"),
    fact("Device.DeviceInfo.SerialNumber", String(64), "board", "serial", forced=True),
    fact("Device.DeviceInfo.HardwareVersion", String(64), "board", "hardware", forced=True),
    fact("Device.DeviceInfo.SoftwareVersion", String(64), "board", "firmware_version", forced=True),
    fact("Device.DeviceInfo.%sHostName" % V, String(64), "board", "hostname"),
    fact("Device.DeviceInfo.UpTime", UNSIGNED_INT, "system", "uptime", volatile=True),
    fact("Device.DeviceInfo.MemoryStatus.Total", UNSIGNED_INT, "system", "mem_total",
         doc="KiB, /proc/meminfo MemTotal"),
    fact("Device.DeviceInfo.MemoryStatus.Free", UNSIGNED_INT, "system", "mem_free", volatile=True,
         doc="KiB, /proc/meminfo MemAvailable"),
    count("Device.DeviceInfo.FirmwareImageNumberOfEntries", "Device.DeviceInfo.FirmwareImage.{i}."),
    fact("Device.DeviceInfo.ActiveFirmwareImage", String(256), "firmware", "active"),
    Object("Device.DeviceInfo.FirmwareImage.{i}.", group="firmware",
           doc="1: the running image; another instance while UpdateFirmware brings a new one"),
    fact("Device.DeviceInfo.FirmwareImage.{i}.Name", String(64), "firmware", "name"),
    fact("Device.DeviceInfo.FirmwareImage.{i}.Version", String(64), "firmware", "version"),
    fact("Device.DeviceInfo.FirmwareImage.{i}.Available", BOOLEAN, "firmware", "available"),
    fact("Device.DeviceInfo.FirmwareImage.{i}.Status", String(enum=FIRMWARE_STATUS), "firmware", "status"),
    # --- ManagementServer --------------------------------------------------------------------------------
    Object("Device.ManagementServer.", group="config"),
    uci("acs.url", String(512)),
    uci("acs.username", String(128)),
    uci("acs.password", String(256)),
    uci("acs.periodic_inform_enable", BOOLEAN),
    uci("acs.periodic_inform_interval", UnsignedInt(1, 7 * 86400)),
    fact("Device.ManagementServer.PeriodicInformTime", DATETIME, "config", "periodic_inform_time",
         doc="the Unknown Time: the interval counts from the daemon's start"),
    Param("Device.ManagementServer.ParameterKey", String(32), binding=("model", "parameter_key"),
          forced=True, doc="set by SetParameterValues, AddObject, DeleteObject"),
    fact("Device.ManagementServer.ConnectionRequestURL", String(256), "config", "connection_request_url",
         forced=True, doc="empty: the central system reaches the station over its OS3P connection"),
    uci("acs.identity", String(64)),
    uci("os3p.ping_interval", UnsignedInt(0, 86400)),
    state("Device.ManagementServer.%sLinkStatus" % V, String(enum=("Up", "Connecting", "Disabled")), "link",
          source="status", doc="the OS3P link: Up once BootNotification is accepted"),
    # --- Time ------------------------------------------------------------------------------------------
    Object("Device.Time.", group="time"),
    fact("Device.Time.Enable", BOOLEAN, "time", "enable", doc="system.ntp.enabled (read-only here)"),
    fact("Device.Time.NTPServer1", String(64), "time", "server1"),
    fact("Device.Time.NTPServer2", String(64), "time", "server2"),
    fact("Device.Time.NTPServer3", String(64), "time", "server3"),
    fact("Device.Time.NTPServer4", String(64), "time", "server4"),
    fact("Device.Time.CurrentLocalTime", DATETIME, "time", "now", volatile=True),
    fact("Device.Time.LocalTimeZone", String(256), "time", "zone", doc="the POSIX TZ rule"),
    fact("Device.Time.%sZoneName" % V, String(64), "time", "zonename"),
    # --- IP ----------------------------------------------------------------------------------------------
    Object("Device.IP.", group=None),
    count("Device.IP.InterfaceNumberOfEntries", "Device.IP.Interface.{i}."),
    Object("Device.IP.Interface.{i}.", group="ip", doc="netifd's interfaces (lan, wan, ...); the kernel's "
           "on the host"),
    fact("Device.IP.Interface.{i}.Enable", BOOLEAN, "ip", "enable"),
    fact("Device.IP.Interface.{i}.Status", String(enum=("Up", "Down", "Unknown", "Dormant", "NotPresent",
                                                         "LowerLayerDown", "Error")), "ip", "status"),
    fact("Device.IP.Interface.{i}.Name", String(64), "ip", "name"),
    fact("Device.IP.Interface.{i}.%sDevice" % V, String(64), "ip", "device",
         doc="the Linux device (br-lan, eth0.2, ...)"),
    count("Device.IP.Interface.{i}.IPv4AddressNumberOfEntries", "Device.IP.Interface.{i}.IPv4Address.{i}."),
    Object("Device.IP.Interface.{i}.IPv4Address.{i}.", group="ip"),
    fact("Device.IP.Interface.{i}.IPv4Address.{i}.Enable", BOOLEAN, "ip", "enable"),
    fact("Device.IP.Interface.{i}.IPv4Address.{i}.IPAddress", String(15), "ip", "address"),
    fact("Device.IP.Interface.{i}.IPv4Address.{i}.SubnetMask", String(15), "ip", "mask"),
    fact("Device.IP.Interface.{i}.IPv4Address.{i}.AddressingType",
         String(enum=("DHCP", "IKEv2", "AutoIP", "IPCP", "Static")), "ip", "addressing"),
    # --- Ethernet ----------------------------------------------------------------------------------------
    Object("Device.Ethernet.", group=None),
    count("Device.Ethernet.InterfaceNumberOfEntries", "Device.Ethernet.Interface.{i}."),
    Object("Device.Ethernet.Interface.{i}.", group="ethernet", doc="Ethernet devices in /sys/class/net"),
    fact("Device.Ethernet.Interface.{i}.Enable", BOOLEAN, "ethernet", "enable"),
    fact("Device.Ethernet.Interface.{i}.Status", String(enum=("Up", "Down", "Unknown", "Dormant", "NotPresent",
                                                               "LowerLayerDown", "Error")), "ethernet", "status"),
    fact("Device.Ethernet.Interface.{i}.Name", String(64), "ethernet", "name"),
    fact("Device.Ethernet.Interface.{i}.MACAddress", String(17), "ethernet", "mac"),
    fact("Device.Ethernet.Interface.{i}.MaxBitRate", Int(-1), "ethernet", "speed", doc="Mbit/s; -1: unknown"),
    fact("Device.Ethernet.Interface.{i}.DuplexMode", String(enum=("Half", "Full", "Auto")), "ethernet", "duplex"),
    fact("Device.Ethernet.Interface.{i}.Stats.BytesSent", UNSIGNED_LONG, "ethernet", "tx_bytes", volatile=True),
    fact("Device.Ethernet.Interface.{i}.Stats.BytesReceived", UNSIGNED_LONG, "ethernet", "rx_bytes",
         volatile=True),
    fact("Device.Ethernet.Interface.{i}.Stats.PacketsSent", UNSIGNED_LONG, "ethernet", "tx_packets",
         volatile=True),
    fact("Device.Ethernet.Interface.{i}.Stats.PacketsReceived", UNSIGNED_LONG, "ethernet", "rx_packets",
         volatile=True),
    fact("Device.Ethernet.Interface.{i}.Stats.ErrorsSent", UNSIGNED_INT, "ethernet", "tx_errors", volatile=True),
    fact("Device.Ethernet.Interface.{i}.Stats.ErrorsReceived", UNSIGNED_INT, "ethernet", "rx_errors",
         volatile=True),
    # --- the station: streetlights --------------------------------------------------------------------------
    Object("Device.%sStreetlight." % V, group="streetlight", doc="present where contactors are driven"),
    state("Device.%sStreetlight.LocalSwitch" % V, BOOLEAN, "streetlight", source="local_switch"),
    uci("streetlights.local_action", String(enum=("on", "off", "hold"))),
    uci("streetlights.max_stack_level", UnsignedInt(0, 64)),
    uci("os3p.geolocation", String(64)),
    state("Device.%sStreetlight.Sunrise" % V, DATETIME, "streetlight", source="sunrise",
          doc="today's, where Geolocation is set"),
    state("Device.%sStreetlight.Sunset" % V, DATETIME, "streetlight", source="sunset"),
    state("Device.%sStreetlight.NextChange" % V, DATETIME, "streetlight", source="next_change"),
    count("Device.%sStreetlight.ContactorNumberOfEntries" % V, "Device.%sStreetlight.Contactor.{i}." % V),
    Object("Device.%sStreetlight.Contactor.{i}." % V, group="streetlight", numbered="key",
           doc="instance number = contactorId (1 evening/morning, 2 night, 3 tariff, 4 unspecified)"),
    state("Device.%sStreetlight.Contactor.{i}.ContactorId" % V, UnsignedInt(1, 4), "streetlight", source="id"),
    state("Device.%sStreetlight.Contactor.{i}.Light" % V, String(enum=LIGHT), "streetlight", source="light",
          doc="as the feedback contact says where there is one; empty before the first reading"),
    state("Device.%sStreetlight.Contactor.{i}.Mode" % V, String(enum=MODES), "streetlight", source="mode"),
    state("Device.%sStreetlight.Contactor.{i}.Override" % V, String(enum=("", "On", "Off", "Suspend")),
          "streetlight", writable=True, source="override",
          doc="OverrideStreetlight's action; writing the empty string resumes the schedule (ResumeStreetlight)"),
    state("Device.%sStreetlight.Contactor.{i}.Feedback" % V, BOOLEAN, "streetlight", source="feedback",
          doc="a feedback contact is wired"),
    count("Device.%sStreetlight.Contactor.{i}.ProfileNumberOfEntries" % V,
          "Device.%sStreetlight.Contactor.{i}.Profile.{i}." % V),
    Object("Device.%sStreetlight.Contactor.{i}.Profile.{i}." % V, group="streetlight", add=True, delete=True,
           doc="SetStreetlightProfile's profiles; AddObject makes one that applies to no day until its "
               "ValidFrom and RecurrencyKind are set"),
    state("Device.%sStreetlight.Contactor.{i}.Profile.{i}.ProfileId" % V, UNSIGNED_INT, "streetlight",
          source="profileId"),
    state("Device.%sStreetlight.Contactor.{i}.Profile.{i}.StackLevel" % V, UnsignedInt(0, 64), "streetlight",
          writable=True, source="stackLevel"),
    state("Device.%sStreetlight.Contactor.{i}.Profile.{i}.RecurrencyKind" % V,
          String(enum=("None", "Daily", "Weekly")), "streetlight", writable=True, source="recurrencyKind"),
    state("Device.%sStreetlight.Contactor.{i}.Profile.{i}.ValidFrom" % V, DATETIME, "streetlight",
          writable=True, source="validFrom", doc="local date (its time part is ignored); Unknown Time: none"),
    state("Device.%sStreetlight.Contactor.{i}.Profile.{i}.ValidTo" % V, DATETIME, "streetlight",
          writable=True, source="validTo"),
    state("Device.%sStreetlight.Contactor.{i}.Profile.{i}.DaySchedule" % V, String(4096), "streetlight",
          writable=True, source="daySchedule", doc="SetStreetlightProfile's daySchedule as JSON text"),
    # --- the station: MV fault indicators ---------------------------------------------------------------------
    count("Device.%sMVFaultIndicatorNumberOfEntries" % V, "Device.%sMVFaultIndicator.{i}." % V),
    Object("Device.%sMVFaultIndicator.{i}." % V, group="indicators", doc="one per `config indicator` group"),
    state("Device.%sMVFaultIndicator.{i}.Name" % V, String(64), "indicators", source="name"),
    state("Device.%sMVFaultIndicator.{i}.Faulted" % V, BOOLEAN, "indicators", source="faulted"),
    state("Device.%sMVFaultIndicator.{i}.Faults" % V, List(String(32)), "indicators", source="faults",
          doc="the open faults' error codes (OverCurrentFailure, GroundFailure, MVFaultIndicatorError)"),
    state("Device.%sMVFaultIndicator.{i}.OverCurrent" % V, BOOLEAN, "indicators", source="overcurrent"),
    state("Device.%sMVFaultIndicator.{i}.Ground" % V, BOOLEAN, "indicators", source="ground"),
    state("Device.%sMVFaultIndicator.{i}.SelfFault" % V, BOOLEAN, "indicators", source="selffault"),
    state("Device.%sMVFaultIndicator.{i}.Testing" % V, BOOLEAN, "indicators", source="testing"),
    # --- the station: meters and sensors -------------------------------------------------------------------
    uci("station.sample_interval", UnsignedInt(0, 86400)),
    count("Device.%sMeterNumberOfEntries" % V, "Device.%sMeter.{i}." % V),
    Object("Device.%sMeter.{i}." % V, group="meter", doc="each source of readings: the meter, the board's "
           "temperature"),
    state("Device.%sMeter.{i}.Name" % V, String(128), "meter", source="name"),
    state("Device.%sMeter.{i}.Status" % V, String(enum=("Ok", "Failing")), "meter", source="status"),
    state("Device.%sMeter.{i}.LastSampleTime" % V, DATETIME, "meter", source="time", volatile=True),
    count("Device.%sMeter.{i}.ReadingNumberOfEntries" % V, "Device.%sMeter.{i}.Reading.{i}." % V),
    Object("Device.%sMeter.{i}.Reading.{i}." % V, group="meter", doc="the last sample's readings, one per "
           "measurand and location"),
    state("Device.%sMeter.{i}.Reading.{i}.Measurand" % V, String(64), "meter", source="measurand"),
    state("Device.%sMeter.{i}.Reading.{i}.Location" % V, String(16), "meter", source="location"),
    state("Device.%sMeter.{i}.Reading.{i}.Unit" % V, String(16), "meter", source="unit"),
    state("Device.%sMeter.{i}.Reading.{i}.Value" % V, DECIMAL, "meter", source="value", volatile=True),
    state("Device.%sMeter.{i}.Reading.{i}.DayMax" % V, DECIMAL, "meter", source="day_max", volatile=True,
          doc="today's highest (local day); absent before a sample today"),
    state("Device.%sMeter.{i}.Reading.{i}.DayMin" % V, DECIMAL, "meter", source="day_min", volatile=True),
    state("Device.%sMeter.{i}.Reading.{i}.Alarm" % V, String(64), "meter", source="alarm",
          doc="the alarm its thresholds raised (UnderVoltage, OverVoltage, HighTemperature), else empty"),
    # --- cellular: the modem as the reachability reads it (bridge/reach, docs/reachability.md) ---------------
    Object("Device.Cellular.", group="cellular"),
    fact("Device.Cellular.%sReachability" % V, String(enum=("data", "sms", "disconnected")), "cellular",
         "reachability", doc="the station's reachability state (docs/reachability.md)"),
    fact("Device.Cellular.%sReachabilitySince" % V, DATETIME, "cellular", "since",
         doc="when the reachability state last changed"),
    count("Device.Cellular.InterfaceNumberOfEntries", CELL),
    Object(CELL, group="cellular", doc="the modem reach.backend reads; none without a modem"),
    fact(CELL + "Status", String(enum=("Up", "Down", "Unknown", "Dormant", "NotPresent", "LowerLayerDown",
                                      "Error")), "cellular", "status", doc="Up while a data bearer is up"),
    fact(CELL + "Name", String(64), "cellular", "name", doc="the backend that reads it"),
    fact(CELL + "IMEI", String(15), "cellular", "imei"),
    fact(CELL + "CurrentAccessTechnology", String(enum=("GPRS", "EDGE", "UMTS", "UMTSHSPA", "CDMA2000OneX",
                                                       "CDMA2000HRPD", "LTE", "NR")), "cellular", "technology"),
    fact(CELL + "NetworkInUse", String(64), "cellular", "operator"),
    fact(CELL + "RSSI", Int(), "cellular", "rssi", volatile=True, doc="dBm"),
    fact(CELL + "RSRP", Int(), "cellular", "rsrp", volatile=True, doc="dBm"),
    fact(CELL + "RSRQ", Int(), "cellular", "rsrq", volatile=True, doc="dB"),
    fact(CELL + "%sSINR" % V, Int(), "cellular", "sinr", volatile=True, doc="dB"),
    fact(CELL + "%sRegistration" % V, String(enum=("home", "roaming", "registered", "searching", "denied", "idle",
                                                   "unknown")), "cellular", "registration"),
    Object(CELL + "USIM.", group="cellular"),
    fact(CELL + "USIM.Status", String(enum=("None", "Available", "Valid", "Blocked", "Error")), "cellular",
         "usim", doc="Valid: ready; Available: present, its PIN not entered; None: no SIM"),
    fact(CELL + "USIM.IMSI", String(15), "cellular", "imsi"),
    fact(CELL + "USIM.ICCID", String(20), "cellular", "iccid"),
    fact(CELL + "USIM.MSISDN", String(15), "cellular", "msisdn"),
]


def registry():
    from .registry import Registry

    return Registry(ROWS)
