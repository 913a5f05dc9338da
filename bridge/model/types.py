"""TR-181 data types (TR-106 Amendment 8, 3.2): what a caller may write, how a value is shown.

Each type turns a value a caller sent (JSON from the REST API, ubus or the OS3P extension; or the CWMP
text a ChangeConfiguration carries) into the Python value the model keeps, or raises Fault:

  - 9006 (invalid type): a value of a kind the type cannot hold at all (a list for a string, a JSON
    boolean for an unsignedInt, a fraction for an int), or a declared xsd type that is not this one;
  - 9007 (invalid value): the right kind, but text that does not read as the type, a number outside
    the range, a string outside the enumeration or longer than the maximum.

Values go out two ways: text() as CWMP puts them on the wire (booleans "true"/"false", numbers in
decimal; what GetConfiguration answers), and json() typed (numbers, booleans, strings: what the REST
API and ubus answer). A dateTime is kept as its text; TR-106's "unknown time" is 0001-01-01T00:00:00Z.
"""

import math

from .faults import INVALID_TYPE, INVALID_VALUE, Fault

UNKNOWN_TIME = "0001-01-01T00:00:00Z"


class Type:
    __slots__ = ()
    name = "string"  # the xsd name, as CWMP's Type attribute says it (without "xsd:")

    def parse(self, value):
        raise NotImplementedError

    def text(self, value):
        return str(value)

    def json(self, value):
        return value

    def describe(self):
        """For the parameter table of the docs: the type with its range or enumeration."""
        return self.name

    def check_declared(self, declared):
        """A SetParameterValues entry may say which type it sends ("xsd:unsignedInt", "unsignedInt");
        9006 when it is not this parameter's type. None/"" or "None" (the seed's SmartSPV) say nothing."""
        if declared in (None, "", "None"):
            return
        if not isinstance(declared, str):
            raise Fault(INVALID_TYPE, "type %r is not a type name" % (declared,))
        name = declared[4:] if declared.startswith("xsd:") else declared
        if name != self.name:
            raise Fault(INVALID_TYPE, "the parameter is %s, the request says %s" % (self.name, name))


def _kind_error(value, type_name):
    return Fault(INVALID_TYPE, "%s is not a value of type %s" % (_shown(value), type_name))


def _shown(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class String(Type):
    __slots__ = ("max", "enum")
    name = "string"

    def __init__(self, max=None, enum=None):
        self.max = max
        self.enum = tuple(enum) if enum else None

    def parse(self, value):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise _kind_error(value, self.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise Fault(INVALID_VALUE, "%s is not a string value" % (value,))
        text = value if isinstance(value, str) else str(value)
        if self.max is not None and len(text) > self.max:
            raise Fault(INVALID_VALUE, "longer than %d characters" % self.max)
        if self.enum is not None and text not in self.enum:
            raise Fault(INVALID_VALUE, "%s is not one of %s" % (_shown(text), ", ".join(self.enum)))
        return text

    def describe(self):
        if self.enum:
            return "string (%s)" % ", ".join(e or '""' for e in self.enum)
        return "string(%d)" % self.max if self.max else "string"


class Boolean(Type):
    __slots__ = ()
    name = "boolean"
    WORDS = {"true": True, "1": True, "false": False, "0": False}

    def parse(self, value):
        if isinstance(value, bool):
            return value
        if isinstance(value, int):  # the seed's SmartSPV sends 1 for true
            if value in (0, 1):
                return bool(value)
            raise Fault(INVALID_VALUE, "%d is not a boolean (0 or 1)" % value)
        if isinstance(value, str):
            word = self.WORDS.get(value.strip().lower())
            if word is None:
                raise Fault(INVALID_VALUE, "%s is not a boolean (true, false, 1, 0)" % _shown(value))
            return word
        raise _kind_error(value, self.name)

    def text(self, value):
        return "true" if value else "false"


class Integer(Type):
    __slots__ = ("lo", "hi", "_name")

    def __init__(self, name, lo, hi):
        self._name = name
        self.lo = lo
        self.hi = hi

    @property
    def name(self):
        return self._name

    def parse(self, value):
        if isinstance(value, bool):
            raise _kind_error(value, self.name)
        if isinstance(value, float):
            if not value.is_integer():
                raise _kind_error(value, self.name)
            value = int(value)
        elif isinstance(value, str):
            text = value.strip()
            digits = text[1:] if text[:1] in "+-" else text
            if not digits.isdigit() or not digits.isascii():
                raise Fault(INVALID_VALUE, "%s is not an integer" % _shown(value))
            value = int(text, 10)
        elif not isinstance(value, int):
            raise _kind_error(value, self.name)
        if not self.lo <= value <= self.hi:
            raise Fault(INVALID_VALUE, "%d is outside %s" % (value, self._range()))
        return value

    def _range(self):
        return "[%d:%d]" % (self.lo, self.hi)

    def describe(self):
        lo, hi = LIMITS[self._name]
        if (self.lo, self.hi) == (lo, hi):
            return self.name
        if self.hi == hi:
            return "%s[%d:]" % (self.name, self.lo)
        return "%s%s" % (self.name, self._range())


LIMITS = {"unsignedInt": (0, 2 ** 32 - 1), "int": (-2 ** 31, 2 ** 31 - 1),
          "unsignedLong": (0, 2 ** 64 - 1), "long": (-2 ** 63, 2 ** 63 - 1)}


def _integer(name, lo=None, hi=None):
    low, high = LIMITS[name]
    return Integer(name, low if lo is None else lo, high if hi is None else hi)


def UnsignedInt(lo=None, hi=None):
    return _integer("unsignedInt", lo, hi)


def Int(lo=None, hi=None):
    return _integer("int", lo, hi)


def UnsignedLong(lo=None, hi=None):
    return _integer("unsignedLong", lo, hi)


class Decimal(Type):
    """A measured value: a finite number (NaN and infinities are never values: the parameter is absent)."""

    __slots__ = ()
    name = "decimal"

    def parse(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise _kind_error(value, self.name)
        try:
            number = float(value)
        except ValueError:
            raise Fault(INVALID_VALUE, "%s is not a decimal number" % _shown(value)) from None
        if not math.isfinite(number):
            raise Fault(INVALID_VALUE, "%s is not a finite number" % _shown(value))
        return number

    def text(self, value):
        return ("%.4f" % value).rstrip("0").rstrip(".") if value != int(value) else "%d" % value

    def json(self, value):
        return int(value) if value == int(value) and abs(value) < 2 ** 53 else round(value, 4)


class DateTime(Type):
    """TR-106 dateTime: ISO 8601 with seconds, UTC ("Z") or an offset; kept as its text."""

    __slots__ = ()
    name = "dateTime"

    def parse(self, value):
        if not isinstance(value, str):
            raise _kind_error(value, self.name)
        from datetime import datetime

        text = value.strip()
        try:
            if len(text) < 19 or text[10] not in "Tt":
                raise ValueError
            datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
        except ValueError:
            if text == UNKNOWN_TIME:  # year 1: datetime reads it, but be explicit
                return text
            raise Fault(INVALID_VALUE, "%s is not a dateTime (2026-01-29T09:02:48Z)" % _shown(value)) from None
        return text


class Base64(Type):
    __slots__ = ("max",)
    name = "base64"

    def __init__(self, max=None):
        self.max = max

    def parse(self, value):
        if not isinstance(value, str):
            raise _kind_error(value, self.name)
        import binascii

        try:
            data = binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
        except (binascii.Error, UnicodeEncodeError):
            raise Fault(INVALID_VALUE, "not base64") from None
        if self.max is not None and len(data) > self.max:
            raise Fault(INVALID_VALUE, "longer than %d bytes" % self.max)
        return value


class List(Type):
    """A comma-separated list of items of one type (TR-106 3.2.3), kept as its text."""

    __slots__ = ("item", "max")
    name = "string"

    def __init__(self, item=None, max=None):
        self.item = item or String()
        self.max = max

    def parse(self, value):
        if isinstance(value, list):  # a JSON array is the list's items
            value = ",".join(self.item.text(self.item.parse(v)) for v in value)
        if not isinstance(value, str):
            raise _kind_error(value, "list")
        if self.max is not None and len(value) > self.max:
            raise Fault(INVALID_VALUE, "longer than %d characters" % self.max)
        items = [v.strip() for v in value.split(",")] if value.strip() else []
        return ",".join(self.item.text(self.item.parse(v)) for v in items)

    def describe(self):
        return "list of %s" % self.item.describe() + ("(%d)" % self.max if self.max else "")


BOOLEAN = Boolean()
STRING = String()
DATETIME = DateTime()
DECIMAL = Decimal()
UNSIGNED_INT = UnsignedInt()
INT = Int()
UNSIGNED_LONG = UnsignedLong()
