"""Meter values: a register map read from a meter backend, and the samples a sampler takes.

A reading is (measurand, location, unit, value) with the spec's spellings (annex 6.5, table 1);
a sample is (epoch seconds, [readings]). Sources are the meter (Modbus, bridge/station/backends/modbus.py),
the board's temperature sensors (backends/thermal.py) and, on the host, a simulated meter. No protocol
here: the OS3P actions turn samples into MeterValues.

UCI (config tr069):

    config meter 'meter'
        option protocol 'tcp'          # tcp | rtu
        option host '192.168.1.20'     # tcp
        option port '502'
        option device '/dev/ttyUSB0'   # rtu, with baud (9600), parity (N/E/O), stopbits (1)
        option unit '1'                # Modbus unit id
        option timeout '2'             # seconds per read

    config register                   # one per value, read from the meter above
        option address '0'
        option function '4'            # 3: holding, 4: input registers (default 3)
        option type 'float32'          # int16 uint16 int32 uint32 float32
        option word_order 'big'        # big: high word first; little: swapped
        option scale '1'               # value = raw * scale
        option measurand 'Voltage.L1N' # phases are part of the measurand name, as the spec spells it
        option location ''             # '' (none), In, Out, Body, P1Meter
        option unit 'V'
"""


from ..logger import getLogger
from . import finite
from .backends.modbus import (READ_HOLDING, READ_INPUT, TYPES, WORD_ORDERS, ModbusError, SectionError, decode,
                               option_number)

log = getLogger(__name__)

# the spec's measurands (schemas/os3p/MeterValues.req.json has the same list) and units
LOCATIONS = ("", "In", "Out", "Body", "P1Meter")
UNITS = ("", "Wh", "kWh", "varh", "kvarh", "W", "kW", "VA", "VAh", "kVA", "var", "kvar", "A", "V", "K", "Hz",
         "C", "%", "Celsius", "Amp", "-")


class Register:
    __slots__ = ("address", "function", "type", "word_order", "scale", "measurand", "location", "unit")

    def __init__(self, address, measurand, type="uint16", function=READ_HOLDING, word_order="big", scale=1.0,
                 location="", unit=""):
        self.address, self.measurand, self.type, self.function = address, measurand, type, function
        self.word_order, self.scale, self.location, self.unit = word_order, scale, location, unit

    @property
    def size(self):
        return TYPES[self.type][0]

    def __repr__(self):
        return "Register(%d %s %s)" % (self.address, self.type, self.measurand)


def register_from_uci(section):
    """One `config register` section -> Register; SectionError (a ValueError) says what is wrong."""
    where = "register %s" % section.get(".name", "?")
    for option in ("address", "measurand"):
        if option not in section:
            raise SectionError("%s: option %s is missing" % (where, option))
    reg = Register(
        address=option_number(section, "address", lambda v: int(v, 0), None, where),
        measurand=section["measurand"], type=section.get("type", "uint16"),
        function=option_number(section, "function", int, READ_HOLDING, where),
        word_order=section.get("word_order", "big"), scale=option_number(section, "scale", _finite_float, 1, where),
        location=section.get("location", ""), unit=section.get("unit", ""))
    if reg.type not in TYPES:
        raise SectionError("%s: type %r is not one of %s" % (where, reg.type, ", ".join(TYPES)), "type")
    if reg.function not in (READ_HOLDING, READ_INPUT):
        raise SectionError("%s: function %d: 3 (holding) or 4 (input)" % (where, reg.function), "function")
    if reg.word_order not in WORD_ORDERS:
        raise SectionError("%s: word_order %r: big or little" % (where, reg.word_order), "word_order")
    if not 0 <= reg.address <= 0xFFFF - reg.size + 1:
        raise SectionError("%s: address %d out of range" % (where, reg.address), "address")
    if reg.location not in LOCATIONS:
        raise SectionError("%s: location %r is not one of %s" % (where, reg.location, ", ".join(LOCATIONS[1:])),
                           "location")
    if reg.unit not in UNITS:
        raise SectionError("%s: unit %r is not one the spec names" % (where, reg.unit), "unit")
    return reg


def _finite_float(value):
    v = float(value)
    if not finite(v):
        raise ValueError("not a finite number")
    return v


def check_meter(sections):
    """For `tr069-bridge check` (config.SECTION_CHECKS): what meter_from_uci refuses, a row for each
    section (the daemon logs the first and reads no meter)."""
    from .backends.modbus import open_transport

    rows = []
    for s in sections:
        if s[".type"] == "register":
            try:
                register_from_uci(s)
            except SectionError as e:
                rows.append((s[".name"], e.option, str(e).split(": ", 1)[-1]))
    meter = next((s for s in sections if s[".type"] == "meter"), None)
    if meter is not None and meter.get("enabled", "1") != "0":
        try:
            option_number(meter, "unit", int, 1, "meter")
            open_transport(meter)
        except SectionError as e:
            rows.append((meter[".name"], e.option, str(e).split(": ", 1)[-1]))
        except ValueError as e:
            rows.append((meter[".name"], None, str(e)))
        if not any(s[".type"] == "register" for s in sections):
            rows.append((meter[".name"], None, "no register sections: nothing to read"))
    return rows


def batches(registers, limit=125):
    """Group registers into reads: same function code, exactly adjacent addresses, <= limit registers.
    Gaps are never read over: a meter may answer "illegal data address" for them."""
    out = []
    for reg in sorted(registers, key=lambda r: (r.function, r.address)):
        last = out[-1] if out else None
        if (last and last[0] == reg.function and last[1] + last[2] == reg.address
                and last[2] + reg.size <= limit):
            last[2] += reg.size
            last[3].append(reg)
        else:
            out.append([reg.function, reg.address, reg.size, [reg]])
    return out


class Health:
    """Errors counted by kind; logged once per episode (the first error, then one line on recovery)."""

    def __init__(self, name):
        self.name = name
        self.counts = {}
        self.episode = 0  # errors since the last good read
        self.failing = False  # the source did not answer at all on its last read

    def error(self, err):
        self.counts[err.kind] = self.counts.get(err.kind, 0) + 1
        if self.episode == 0:
            log.warning("%s: %s", self.name, err)
        self.episode += 1

    def ok(self):
        if self.episode:
            log.info("%s answers again (%d errors in between)", self.name, self.episode)
        self.episode = 0

    def status(self):
        return {"failing": self.failing, "errors": dict(self.counts)}


class ModbusMeter:
    """Reads a register map from a transport (`read(unit, function, address, count)`)."""

    def __init__(self, transport, unit, registers, name=None):
        self.transport, self.unit, self.registers = transport, int(unit), list(registers)
        self.reads = batches(self.registers)
        self.health = Health(name or transport.describe())

    def read(self):
        """-> readings. A meter that answers nothing (timeouts, connection refused) raises ModbusError
        "timeout"/"io"; a read refused or garbled skips its registers and the rest are still read."""
        readings, answered, last_error = [], False, None
        for function, address, count, regs in self.reads:
            try:
                words = self.transport.read(self.unit, function, address, count)
            except ModbusError as e:
                self.health.error(e)
                last_error = e
                if e.kind in ("timeout", "io"):
                    break  # the meter is not there: do not wait for each read's timeout
                answered = True  # an exception or a bad frame: something answered
                continue
            answered = True
            for reg in regs:
                offset = reg.address - address
                value = decode(words[offset:offset + reg.size], reg.type, reg.word_order) * reg.scale
                if finite(value):  # NaN/inf: that register has no reading this time, the others do
                    readings.append((reg.measurand, reg.location, reg.unit, value))
        self.health.failing = not answered
        if not answered:
            raise last_error
        if answered and last_error is None:
            self.health.ok()  # every read answered (a register without a reading is the meter's say)
        return readings

    def close(self):
        self.transport.close()


def meter_from_uci(sections):
    """The `config meter` section and the `config register` sections -> ModbusMeter, or None."""
    from .backends.modbus import open_transport

    meter = next((s for s in sections if s[".type"] == "meter"), None)
    if meter is None or meter.get("enabled", "1") == "0":
        return None
    registers = [register_from_uci(s) for s in sections if s[".type"] == "register"]
    if not registers:
        raise ValueError("meter %s has no register sections" % meter[".name"])
    return ModbusMeter(open_transport(meter), option_number(meter, "unit", int, 1, "meter"), registers)


def fmt(value):
    """A reading as the MeterValues `value` string: integers without a point, others to 4 significant
    decimals (a meter's float32 carries ~7 digits; more would be noise). None for no reading (NaN, inf)."""
    if not finite(value):
        return None
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return ("%.4f" % value).rstrip("0").rstrip(".")
