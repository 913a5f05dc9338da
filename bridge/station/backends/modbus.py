"""A small Modbus client: TCP, and RTU over a serial port, function codes 3 and 4 (read holding / input
registers). OpenWrt's feeds have no Modbus library for Python; a meter needs exactly this much.

The framing is sans-I/O (bytes in, registers out: `tcp_request`/`TcpReader`, `rtu_request`/`RtuReader`,
`decode`); `TcpTransport` and `RtuTransport` only move bytes with a deadline. Every failure is a
ModbusError whose `kind` the meter counts: "timeout", "exception" (the device answered an exception
code), "frame" (short, corrupt or CRC-failing reply), "unit" (a reply from another unit id), "io".
"""

import os
import select
import struct
import time

from . import ModbusError  # noqa: F401  (the error of every source, with the package: see there)

READ_HOLDING, READ_INPUT = 3, 4
MAX_REGISTERS = 125  # the protocol's limit for one read

EXCEPTIONS = {1: "illegal function", 2: "illegal data address", 3: "illegal data value",
              4: "server device failure", 5: "acknowledge", 6: "server device busy",
              10: "gateway path unavailable", 11: "gateway target failed to respond"}


class SectionError(ValueError):
    """An option of a UCI section (`meter`, `register`) that does not hold; .option names it (None: the
    section as a whole)."""

    def __init__(self, message, option=None):
        super().__init__(message)
        self.option = option


def option_number(section, option, convert, default, where):
    """section's option through convert (int, float, ...), default when absent; SectionError if it is not one."""
    value = section.get(option, default)
    try:
        return convert(value)
    except (TypeError, ValueError):
        raise SectionError("%s: %s %r is not a number" % (where, option, value), option) from None


# --- values ---------------------------------------------------------------------------------------
# type -> (registers, struct format of the big-endian bytes)
TYPES = {"int16": (1, ">h"), "uint16": (1, ">H"), "int32": (2, ">i"), "uint32": (2, ">I"),
         "float32": (2, ">f")}
WORD_ORDERS = ("big", "little")  # big: the high word comes first (the spec's order); little: swapped words


def decode(registers, type, word_order="big"):
    """Registers (ints 0..65535) -> the value of `type`; word_order applies to 32-bit types."""
    n, fmt = TYPES[type]
    words = list(registers[:n])
    if len(words) != n:
        raise ModbusError("frame", "%s needs %d registers, got %d" % (type, n, len(words)))
    if word_order == "little":
        words.reverse()
    return struct.unpack(fmt, struct.pack(">%dH" % n, *words))[0]


def encode(value, type, word_order="big"):
    """The inverse of decode (tests and the simulated meter)."""
    n, fmt = TYPES[type]
    words = list(struct.unpack(">%dH" % n, struct.pack(fmt, value)))
    if word_order == "little":
        words.reverse()
    return words


# --- PDUs -----------------------------------------------------------------------------------------
def read_pdu(function, address, count):
    if function not in (READ_HOLDING, READ_INPUT):
        raise ValueError("function code %r: only 3 and 4 are supported" % (function,))
    if not 0 <= address <= 0xFFFF or not 1 <= count <= MAX_REGISTERS or address + count > 0x10000:
        raise ValueError("register range %r+%r is out of bounds" % (address, count))
    return struct.pack(">BHH", function, address, count)


def parse_read_pdu(pdu, function, count):
    """A response PDU -> list of `count` registers; ModbusError for exceptions and malformed PDUs."""
    if len(pdu) < 2:
        raise ModbusError("frame", "short reply (%d bytes)" % len(pdu))
    if pdu[0] == function | 0x80:
        code = pdu[1]
        raise ModbusError("exception", "exception %d (%s)" % (code, EXCEPTIONS.get(code, "unknown")))
    if pdu[0] != function:
        raise ModbusError("frame", "reply for function %d, asked %d" % (pdu[0], function))
    if pdu[1] != 2 * count or len(pdu) != 2 + 2 * count:
        raise ModbusError("frame", "reply carries %d bytes (%d counted), expected %d"
                          % (len(pdu) - 2, pdu[1], 2 * count))
    return list(struct.unpack(">%dH" % count, pdu[2:]))


# --- TCP (MBAP header) ------------------------------------------------------------------------------
def tcp_request(transaction, unit, pdu):
    return struct.pack(">HHHB", transaction & 0xFFFF, 0, len(pdu) + 1, unit) + pdu


class TcpReader:
    """Feed bytes from the socket; `frame()` is (transaction, unit, pdu) once a whole frame is in."""

    def __init__(self):
        self.buf = b""

    def feed(self, data):
        self.buf += data

    def frame(self):
        if len(self.buf) < 7:
            return None
        transaction, protocol, length, unit = struct.unpack(">HHHB", self.buf[:7])
        if protocol != 0 or not 2 <= length <= 254:
            raise ModbusError("frame", "bad MBAP header (protocol %d, length %d)" % (protocol, length))
        if len(self.buf) < 6 + length:
            return None
        pdu, self.buf = self.buf[7:6 + length], self.buf[6 + length:]
        return transaction, unit, pdu


# --- RTU (CRC-16) ------------------------------------------------------------------------------------
def _crc_table():
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC = _crc_table()


def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc = (crc >> 8) ^ _CRC[(crc ^ b) & 0xFF]
    return crc


def rtu_request(unit, pdu):
    frame = bytes([unit]) + pdu
    return frame + struct.pack("<H", crc16(frame))


class RtuReader:
    """RTU has no length field: a read reply's length follows from its third byte (or it is a 5-byte
    exception). `frame()` -> (unit, pdu) once complete and its CRC checks."""

    def __init__(self):
        self.buf = b""

    def feed(self, data):
        self.buf += data

    def expected(self):
        if len(self.buf) < 3:
            return None
        if self.buf[1] & 0x80:
            return 5
        return 5 + self.buf[2]

    def frame(self):
        n = self.expected()
        if n is None or len(self.buf) < n:
            return None
        frame, self.buf = self.buf[:n], self.buf[n:]
        if struct.unpack("<H", frame[-2:])[0] != crc16(frame[:-2]):
            raise ModbusError("frame", "CRC error")
        return frame[0], frame[1:-2]


# --- transports ---------------------------------------------------------------------------------------
class TcpTransport:
    """Modbus TCP: one connection kept open between reads, reopened after any failure."""

    def __init__(self, host, port=502, timeout=2.0):
        self.host, self.port, self.timeout = host, int(port), float(timeout)
        self.sock = None
        self.transaction = 0

    def describe(self):
        return "modbus tcp %s:%d" % (self.host, self.port)

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def read(self, unit, function, address, count):
        deadline = time.monotonic() + self.timeout
        self.transaction = (self.transaction + 1) & 0xFFFF
        request = tcp_request(self.transaction, unit, read_pdu(function, address, count))
        import socket  # here, when a meter is read: socket.py costs ~0.5 MiB for a daemon without one

        try:
            if self.sock is None:
                self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.sendall(request)
            reader = TcpReader()
            while True:
                frame = reader.frame()
                if frame is not None:
                    transaction, got_unit, pdu = frame
                    if transaction != self.transaction:
                        continue  # a late answer to an earlier, timed-out request
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout()
                self.sock.settimeout(left)
                data = self.sock.recv(512)
                if not data:
                    raise ModbusError("io", "connection closed by %s:%d" % (self.host, self.port))
                reader.feed(data)
        except socket.timeout:
            self.close()
            raise ModbusError("timeout", "no answer within %.1f s" % self.timeout) from None
        except OSError as e:
            self.close()
            raise ModbusError("io", "%s:%d: %s" % (self.host, self.port, e.strerror or e)) from None
        except ModbusError:
            self.close()
            raise
        if got_unit != unit:
            raise ModbusError("unit", "reply from unit %d, asked unit %d" % (got_unit, unit))
        return parse_read_pdu(pdu, function, count)


BAUDS = {1200: "B1200", 2400: "B2400", 4800: "B4800", 9600: "B9600", 19200: "B19200", 38400: "B38400",
         57600: "B57600", 115200: "B115200"}


class RtuTransport:
    """Modbus RTU over a serial port (termios, no pyserial): 8 data bits, parity N/E/O, 1 or 2 stop bits."""

    def __init__(self, device, baud=9600, parity="N", stopbits=1, timeout=1.0):
        if int(baud) not in BAUDS:
            raise ValueError("baud rate %r is not one of %s" % (baud, sorted(BAUDS)))
        if parity not in ("N", "E", "O"):
            raise ValueError("parity is N, E or O, not %r" % (parity,))
        self.device, self.baud, self.parity = device, int(baud), parity
        self.stopbits, self.timeout = int(stopbits), float(timeout)
        self.fd = None

    def describe(self):
        return "modbus rtu %s" % self.device

    def _open(self):
        import termios

        fd = os.open(self.device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            attrs = termios.tcgetattr(fd)
            speed = getattr(termios, BAUDS[self.baud])
            attrs[0] = 0  # iflag: raw
            attrs[1] = 0  # oflag
            cflag = termios.CS8 | termios.CREAD | termios.CLOCAL
            if self.parity != "N":
                cflag |= termios.PARENB | (termios.PARODD if self.parity == "O" else 0)
            if self.stopbits == 2:
                cflag |= termios.CSTOPB
            attrs[2] = cflag
            attrs[3] = 0  # lflag: no echo, not canonical
            attrs[4] = attrs[5] = speed
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def read(self, unit, function, address, count):
        import termios

        deadline = time.monotonic() + self.timeout
        request = rtu_request(unit, read_pdu(function, address, count))
        try:
            if self.fd is None:
                self._open()
            termios.tcflush(self.fd, termios.TCIFLUSH)  # drop the tail of an earlier garbled reply
            os.write(self.fd, request)
            reader = RtuReader()
            while True:
                frame = reader.frame()
                if frame is not None:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    if reader.buf:
                        raise ModbusError("frame", "short reply (%d bytes)" % len(reader.buf))
                    raise ModbusError("timeout", "no answer within %.1f s" % self.timeout)
                ready, _, _ = select.select([self.fd], [], [], left)
                if ready:
                    reader.feed(os.read(self.fd, 256))
        except OSError as e:
            self.close()
            raise ModbusError("io", "%s: %s" % (self.device, e.strerror or e)) from None
        got_unit, pdu = frame
        if got_unit != unit:
            raise ModbusError("unit", "reply from unit %d, asked unit %d" % (got_unit, unit))
        return parse_read_pdu(pdu, function, count)


def open_transport(options):
    """options: the UCI `meter` section (dict of strings); ValueError (nothing opened yet) says what
    does not hold."""
    kind = options.get("protocol", "tcp")
    timeout = option_number(options, "timeout", float, 2, "meter")
    if kind == "tcp":
        return TcpTransport(options.get("host", "127.0.0.1"), option_number(options, "port", int, 502, "meter"),
                            timeout)
    if kind == "rtu":
        if not options.get("device"):
            raise ValueError("meter protocol rtu: option device (the serial port) is missing")
        stopbits = option_number(options, "stopbits", int, 1, "meter")
        if stopbits not in (1, 2):
            raise ValueError("meter stopbits %r: 1 or 2" % (stopbits,))
        return RtuTransport(options["device"], option_number(options, "baud", int, 9600, "meter"),
                            options.get("parity", "N"), stopbits, timeout)
    raise ValueError("meter protocol %r: tcp or rtu" % (kind,))
