"""The CAMARA Device Reachability Status Subscriptions API (camaraproject/DeviceStatus r2.2, API 0.7.0):
the request's validation with the API's own errors, the subscription as answered, and the CloudEvents.
Pure: no sockets, no files; the time and the station's identifiers are passed in.

Where the API leaves a choice, the choice made here (docs/reachability.md says why):
- The station's own tokens (a shim session, reach.api_token) identify no device ("two-legged"): the
  request names the device in config.subscriptionDetail.device, matched against the station's own
  identifiers: phoneNumber its MSISDN, ipv4Address (privateAddress, else publicAddress) and ipv6Address
  (the address or its /64) one of its interfaces' addresses. networkAccessIdentifier is not supported.
- A device none of whose supported identifiers is this station: 404 IDENTIFIER_NOT_FOUND (the feature
  file's C01.03; the OAS lists no 404 for create). Identifiers of which some are this station and some
  not: 422 IDENTIFIER_MISMATCH. More than one event type: 422 MULTIEVENT_SUBSCRIPTION_NOT_SUPPORTED
  (feature 422.1), checked after every type is known to be one.
- A plain http sink only at an IP address in the networks reach.plain_http_sinks allows (loopback and
  the private ranges by default); a host name only over https.
"""

import re

from . import API, BASE, VERSION  # noqa: F401  (the API's name and path, with the package: the root needs them first)
PREFIX = "org.camaraproject.%s.v0." % API
TYPES = {PREFIX + "reachability-data": "data", PREFIX + "reachability-sms": "sms",
         PREFIX + "reachability-disconnected": "disconnected"}
ENDS = PREFIX + "subscription-ends"
PROTOCOLS = ("HTTP", "MQTT3", "MQTT5", "AMQP", "NATS", "KAFKA")
CREDENTIALS = ("PLAIN", "ACCESSTOKEN", "REFRESHTOKEN")
REASONS = {"MAX_EVENTS_REACHED": "Maximum number of events has been reached",
           "NETWORK_TERMINATED": "The station stopped sending notifications",
           "SUBSCRIPTION_EXPIRED": "Subscription expiry time has been reached",
           "ACCESS_TOKEN_EXPIRED": "The sink's access token expires",
           "SUBSCRIPTION_DELETED": "Subscription was deleted by the requester"}
PHONE = re.compile(r"^\+[1-9][0-9]{4,14}$")
CORRELATOR = re.compile(r"^[a-zA-Z0-9-]{0,55}$")
DATE_TIME = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)$")
MAX_SINK = 2048
MAX_TOKEN = 4096


class ApiError(Exception):
    """An answer of the API's ErrorInfo shape: {"status", "code", "message"}."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self):
        return {"status": self.status, "code": self.code, "message": self.message}


def invalid(message):
    return ApiError(400, "INVALID_ARGUMENT", message)


def missing(name):
    return invalid("Expected property is missing: %s" % name)


UNAUTHENTICATED = ("UNAUTHENTICATED", "Request not authenticated due to missing, invalid, or expired credentials.")
PERMISSION_DENIED = ("PERMISSION_DENIED", "Client does not have sufficient permissions to perform this action.")


def _days(y, m, d):
    """Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil): no datetime
    module, which costs a router 0.8 MiB for two conversions."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def parse_time(text):
    """RFC 3339 date-time with a zone -> epoch seconds; ValueError otherwise (a 31st of February too)."""
    m = DATE_TIME.match(text) if isinstance(text, str) else None
    if not m:
        raise ValueError("not an RFC 3339 date-time with a time zone: %r" % (text,))
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    if not (1 <= mo <= 12 and 1 <= d <= (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[mo - 1]
            and h <= 23 and mi <= 59 and s <= 60):
        raise ValueError("not a date-time: %r" % (text,))
    zone = m.group(8).upper()
    offset = 0 if zone == "Z" else (1 if zone[0] == "+" else -1) * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    frac = float(m.group(7)) if m.group(7) else 0.0
    return _days(y, mo, d) * 86400 + h * 3600 + mi * 60 + min(s, 59) + frac - offset


def format_time(epoch):
    """Epoch seconds -> 2023-07-03T12:27:08.312Z (the API's recommended form)."""
    import time

    whole = int(epoch // 1)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + ".%03dZ" % min(999, round((epoch - whole) * 1000))


def correlator(value):
    """The x-correlator header as the API allows it (None when absent); ApiError 400 otherwise."""
    if value is None:
        return None
    if not CORRELATOR.match(value):
        raise invalid("x-correlator must match ^[a-zA-Z0-9-]{0,55}$")
    return value


# --- the station's identifiers ------------------------------------------------------------------------
class Identity:
    """What identifies this station: its MSISDN (or None) and its interfaces' addresses (strings)."""

    def __init__(self, msisdn=None, ipv4=(), ipv6=()):
        self.msisdn = msisdn
        self.ipv4 = tuple(ipv4)
        self.ipv6 = tuple(ipv6)


def _ip(text, version):
    import ipaddress  # only when a request names an address

    if not isinstance(text, str):
        raise ValueError
    addr = ipaddress.ip_address(text)
    if addr.version != version:
        raise ValueError
    return addr


def check_device(device):
    """The Device object's schema (minProperties 1, each identifier's format); ApiError 400 otherwise."""
    if not isinstance(device, dict):
        raise invalid("config.subscriptionDetail.device must be an object")
    known = ("phoneNumber", "networkAccessIdentifier", "ipv4Address", "ipv6Address")
    if not any(k in device for k in known):
        raise invalid("config.subscriptionDetail.device must name at least one identifier")
    if "phoneNumber" in device and not (isinstance(device["phoneNumber"], str) and PHONE.match(device["phoneNumber"])):
        raise invalid("device.phoneNumber must be E.164 with a leading +: ^\\+[1-9][0-9]{4,14}$")
    if "networkAccessIdentifier" in device and not isinstance(device["networkAccessIdentifier"], str):
        raise invalid("device.networkAccessIdentifier must be a string")
    if "ipv4Address" in device:
        v4 = device["ipv4Address"]
        if not isinstance(v4, dict) or "publicAddress" not in v4 or not ("privateAddress" in v4 or "publicPort" in v4):
            raise invalid("device.ipv4Address needs publicAddress and privateAddress or publicPort")
        try:
            for k in ("publicAddress", "privateAddress"):
                if k in v4:
                    _ip(v4[k], 4)
        except ValueError:
            raise invalid("device.ipv4Address: publicAddress and privateAddress are IPv4 addresses") from None
        port = v4.get("publicPort", 0)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise invalid("device.ipv4Address.publicPort is a port number 0-65535")
    if "ipv6Address" in device:
        try:
            _ip(device["ipv6Address"], 6)
        except ValueError:
            raise invalid("device.ipv6Address is an IPv6 address") from None


def match_device(device, identity):
    """ApiError unless the (schema-valid) device is this station: 422 UNSUPPORTED_IDENTIFIER when it names
    nothing this station can be told by, 404 IDENTIFIER_NOT_FOUND when nothing it names is this station,
    422 IDENTIFIER_MISMATCH when some of it is and some is not."""
    import ipaddress

    results = []
    if "phoneNumber" in device and identity.msisdn:
        results.append(device["phoneNumber"] == identity.msisdn)
    if "ipv4Address" in device:
        v4 = device["ipv4Address"]
        mine = {ipaddress.ip_address(a) for a in identity.ipv4}
        results.append(ipaddress.ip_address(v4.get("privateAddress", v4["publicAddress"])) in mine)
    if "ipv6Address" in device:
        given = ipaddress.ip_address(device["ipv6Address"])
        results.append(any(given in ipaddress.ip_network("%s/64" % a, strict=False) for a in identity.ipv6))
    if not results:
        raise ApiError(422, "UNSUPPORTED_IDENTIFIER", "The identifier provided is not supported.")
    if not any(results):
        raise ApiError(404, "IDENTIFIER_NOT_FOUND", "Device identifier not found.")
    if not all(results):
        raise ApiError(422, "IDENTIFIER_MISMATCH", "Provided identifiers are not consistent.")


# --- sinks ----------------------------------------------------------------------------------------------
def check_sink(sink, plain_http_allowed):
    """The sink URL, checked: https anywhere, http only at an address plain_http_allowed(ip) accepts."""
    from urllib.parse import urlsplit

    if not isinstance(sink, str) or not sink or len(sink) > MAX_SINK or any(c in sink for c in " \r\n\t"):
        raise invalid("sink must be an http or https URL of at most %d characters" % MAX_SINK)
    try:
        u = urlsplit(sink)
        port = u.port
    except ValueError:
        raise invalid("sink is not a URL") from None
    if u.scheme not in ("http", "https") or not u.hostname or u.username or u.password:
        raise invalid("sink must be an http or https URL with a host and no user information")
    del port
    if u.scheme == "http":
        import ipaddress

        try:
            addr = ipaddress.ip_address(u.hostname)
        except ValueError:
            addr = None
        if addr is None or not plain_http_allowed(addr):
            raise invalid("a plain http sink is accepted only at an address of reach.plain_http_sinks "
                          "(loopback and private networks unless configured); use https")
    return sink


def networks_check(spec):
    """reach.plain_http_sinks ('loopback private', CIDRs, or 'none') -> a predicate on an ip address. The
    networks are parsed when a plain http sink is first judged (ipaddress costs a router ~0.5 MiB)."""
    words = spec.split()
    nets = []

    def allowed(addr):
        import ipaddress

        if not nets:
            nets.extend(ipaddress.ip_network(w, strict=False) for w in words if w not in ("none", "loopback", "private"))
            nets.append(None)  # parsed
        if "none" in words:
            return False
        if "loopback" in words and addr.is_loopback:
            return True
        if "private" in words and addr.is_private and not addr.is_loopback and not addr.is_link_local:
            return True
        return any(n is not None and addr in n for n in nets)
    return allowed


# --- the request ------------------------------------------------------------------------------------------
def validate(body, now, plain_http_allowed, check_expiry=True):
    """A create request's body -> the subscription request as kept (sink, protocol, types, config,
    sinkCredential); ApiError 400/422 for what the schema refuses. The device is matched separately
    (match_device). check_expiry False re-validates a stored request (its times may have passed)."""
    if not isinstance(body, dict):
        raise invalid("Client specified an invalid argument, request body or query param.")
    for name in ("protocol", "sink", "types", "config"):
        if name not in body:
            raise missing(name)
    protocol = body["protocol"]
    if protocol not in PROTOCOLS:
        raise invalid("protocol is one of %s" % ", ".join(PROTOCOLS))
    if protocol != "HTTP":
        raise ApiError(400, "INVALID_PROTOCOL", "Only HTTP is supported")
    sink = check_sink(body["sink"], plain_http_allowed)
    types = body["types"]
    if not isinstance(types, list) or not types:
        raise invalid("types is an array of one event type")
    for t in types:
        if t not in TYPES:
            raise invalid("types: %r is not an event type of this API" % (t,) if isinstance(t, str) else
                          "types: each is a string")
    if len(types) > 1:
        raise ApiError(422, "MULTIEVENT_SUBSCRIPTION_NOT_SUPPORTED", "Multi event types subscription not managed")
    out = {"protocol": protocol, "sink": sink, "types": [types[0]]}

    if "sinkCredential" in body:
        out["sinkCredential"] = check_credential(body["sinkCredential"], now, check_expiry)

    config = body["config"]
    if not isinstance(config, dict):
        raise invalid("config must be an object")
    if "subscriptionDetail" not in config:
        raise missing("config.subscriptionDetail")
    detail = config["subscriptionDetail"]
    if not isinstance(detail, dict):
        raise invalid("config.subscriptionDetail must be an object")
    kept = {"subscriptionDetail": {}}
    if "device" in detail:
        check_device(detail["device"])
        kept["subscriptionDetail"]["device"] = _device_kept(detail["device"])
    if "subscriptionExpireTime" in config:
        try:
            expires = parse_time(config["subscriptionExpireTime"])
        except ValueError:
            raise invalid("config.subscriptionExpireTime is an RFC 3339 date-time with a time zone") from None
        if check_expiry and expires <= now:
            raise invalid("config.subscriptionExpireTime is in the past")
        kept["subscriptionExpireTime"] = config["subscriptionExpireTime"]
    if "subscriptionMaxEvents" in config:
        n = config["subscriptionMaxEvents"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise invalid("config.subscriptionMaxEvents is an integer >= 1")
        kept["subscriptionMaxEvents"] = n
    if "initialEvent" in config:
        if not isinstance(config["initialEvent"], bool):
            raise invalid("config.initialEvent is a boolean")
        kept["initialEvent"] = config["initialEvent"]
    out["config"] = kept
    return out


def _device_kept(device):
    keep = ("phoneNumber", "networkAccessIdentifier", "ipv4Address", "ipv6Address")
    return {k: device[k] for k in keep if k in device}


def check_credential(cred, now, check_expiry=True):
    if not isinstance(cred, dict) or cred.get("credentialType") not in CREDENTIALS:
        raise invalid("sinkCredential.credentialType is one of %s" % ", ".join(CREDENTIALS))
    if cred["credentialType"] != "ACCESSTOKEN":
        raise ApiError(400, "INVALID_CREDENTIAL", "Only Access token is supported")
    if cred.get("accessTokenType") != "bearer":
        raise ApiError(400, "INVALID_TOKEN", "Only bearer token is supported")
    token = cred.get("accessToken")
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN or any(ord(c) < 33 or ord(c) > 126
                                                                                for c in token):
        raise invalid("sinkCredential.accessToken is a token of printable characters, at most %d" % MAX_TOKEN)
    try:
        expires = parse_time(cred.get("accessTokenExpiresUtc"))
    except ValueError:
        raise invalid("sinkCredential.accessTokenExpiresUtc is an RFC 3339 date-time with a time zone") from None
    if check_expiry and expires <= now:
        raise invalid("sinkCredential.accessTokenExpiresUtc is in the past")
    return {"credentialType": "ACCESSTOKEN", "accessToken": token, "accessTokenType": "bearer",
            "accessTokenExpiresUtc": cred["accessTokenExpiresUtc"]}


# --- what is answered and sent ------------------------------------------------------------------------------
def shown(record):
    """A stored subscription as the API answers it: never its sink credential."""
    req = record["request"]
    out = {"id": record["id"], "protocol": req["protocol"], "sink": req["sink"], "types": list(req["types"]),
           "config": req["config"], "startsAt": format_time(record["starts"]), "status": "ACTIVE"}
    if "subscriptionExpireTime" in req["config"]:
        out["expiresAt"] = format_time(parse_time(req["config"]["subscriptionExpireTime"]))
    return out


def event_type(state):
    return next(t for t, s in TYPES.items() if s == state)


def cloud_event(event_id, record, type_, when, data_extra=None):
    """The CloudEvent (structured JSON) for one notification of a subscription."""
    data = {"subscriptionId": record["id"]}
    device = record["request"]["config"]["subscriptionDetail"].get("device")
    if device:
        data["device"] = device
    if data_extra:
        data.update(data_extra)
    return {"id": event_id, "source": "%s/subscriptions/%s" % (BASE, record["id"]), "type": type_,
            "specversion": "1.0", "datacontenttype": "application/json", "time": format_time(when),
            "data": data}


def ends_event(event_id, record, reason, when):
    return cloud_event(event_id, record, ENDS, when, {"terminationReason": reason,
                                                      "terminationDescription": REASONS[reason]})


def initial_event_due(record, state):
    """The API's initialEvent table: an event only where the current state is the subscribed type's."""
    return bool(record["request"]["config"].get("initialEvent")) and TYPES[record["request"]["types"][0]] == state
