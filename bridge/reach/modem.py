"""What a modem backend yields: one shape, whatever tool it came from.

Every field is optional: absent (None) when the tool does not say it, the modem is gone, or the value is
not one (a "--", NaN, an infinity). Measured values are numbers. `registration` is one word of
REGISTRATIONS; `sim` one of SIMS; `bearer` True when a data bearer is up, False when the modem says it is
not, None when it cannot be told.
"""

from ..station import finite  # the one rule for measured values (NaN and the infinities are absent)

FIELDS = ("imei", "iccid", "imsi", "msisdn", "operator", "operator_code", "registration", "technology",
          "rssi", "rsrp", "rsrq", "sinr", "bearer", "sim", "state")
TEXT = ("imei", "iccid", "imsi", "msisdn", "operator", "operator_code", "technology", "state")
NUMBERS = ("rssi", "rsrp", "rsrq", "sinr")

# home: registered on its home network; roaming: on another (partner networks count as roaming);
# registered: registered, the tool does not say which (uqmid); searching: looking for one; denied: refused
# by the network; idle: not registered and not looking (radio off, no SIM, locked); unknown: the tool says so
REGISTRATIONS = ("home", "roaming", "registered", "searching", "denied", "idle", "unknown")
REGISTERED = ("home", "roaming", "registered")
SIMS = ("ready", "missing", "locked")
MAX_TEXT = 64  # a field longer than this is not one of these identifiers: cut, never trusted to be small


class ModemInfo:
    """A plain class (dataclasses pulls in inspect and typing, ~1.4 MiB on a router)."""

    __slots__ = FIELDS

    def __init__(self, **values):
        for name in FIELDS:
            setattr(self, name, None)
        for name, value in values.items():
            setattr(self, name, clean(name, value))

    @property
    def registered(self):
        return self.registration in REGISTERED

    def as_dict(self):
        return {name: getattr(self, name) for name in FIELDS if getattr(self, name) is not None}

    def __eq__(self, other):
        return isinstance(other, ModemInfo) and self.as_dict() == other.as_dict()

    def __repr__(self):
        return "ModemInfo(%s)" % ", ".join("%s=%r" % kv for kv in self.as_dict().items())


def clean(name, value):
    """A field's value as ModemInfo keeps it: text stripped (None when empty or "--"), numbers finite or
    None, the word fields only from their lists; ValueError for a field that does not exist."""
    if name not in FIELDS:
        raise ValueError("no modem field %r" % name)
    if value is None:
        return None
    if name in NUMBERS:
        return number(value)
    if name == "bearer":
        return value if isinstance(value, bool) else None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    if not text or text == "--" or text.lower() == "unknown" and name != "registration":
        return None
    if name == "registration":
        return text if text in REGISTRATIONS else "unknown"
    if name == "sim":
        return text if text in SIMS else None
    return text[:MAX_TEXT]


def number(value):
    """A finite float from a tool's text or number ("-93.00", -93, "-93 dBm"), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        v = float(value)
    else:
        text = str(value).strip().split(" ", 1)[0]
        try:
            v = float(text)
        except ValueError:
            return None
    return v if finite(v) else None
