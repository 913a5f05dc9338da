"""The meter-value history: a bounded ring of samples in one file on flash.

Layout: a header (magic, capacity, record size, the columns as JSON, CRC-32), written once through
write + fsync + rename, then `capacity` fixed-size records, each written in place (pwrite + fdatasync):

    seq u32 | time u32 (epoch s) | value f64 x columns (NaN: not read) | CRC-32 of the rest

Record n lives at slot seq % capacity. A power cut while a record is written leaves that one record
with a bad CRC, which is skipped when the file is read: at most the last sample is lost, the others
and the header are untouched. A column is (measurand, location, unit): when the register map changes,
the old file is kept as <path>.prev and a new ring starts (its records would mean something else).
"""

import json
import math
import os
import struct
from binascii import crc32  # zlib's CRC-32, without loading zlib for it

from ..atomic import write_atomic
from ..logger import getLogger
from . import finite

log = getLogger(__name__)

MAGIC = b"T69H"
PREFIX = struct.Struct(">4sIII")  # magic, header length, capacity, record size
RECORD_HEAD = struct.Struct(">II")
CRC = struct.Struct(">I")


def record_size(columns):
    return RECORD_HEAD.size + 8 * columns + CRC.size


class History:
    def __init__(self, path, columns, capacity):
        """columns: [(measurand, location, unit)]; capacity: samples kept (e.g. 35 days x 96 a day)."""
        self.path = path
        self.columns = [tuple(c) for c in columns]
        self.capacity = int(capacity)
        if self.capacity < 1:
            raise ValueError("history capacity must be at least 1")
        self.size = record_size(len(self.columns))
        self.values = struct.Struct(">%dd" % len(self.columns))
        self.index = {c: i for i, c in enumerate(self.columns)}
        self.fd = None
        self.next_seq = 1
        self.count = 0
        self.dropped = 0  # records found corrupt when the file was read
        self._open()

    @classmethod
    def existing(cls, path):
        """Open a history file with the columns and capacity its header names (tools, tests)."""
        fd = os.open(path, os.O_RDONLY)
        try:
            header = cls._read_header(None, fd)
        finally:
            os.close(fd)
        if header is None:
            raise ValueError("%s is not a meter-value history" % path)
        return cls(path, header[3], header[1])

    # --- the file ------------------------------------------------------------------------------
    def _header(self):
        body = json.dumps({"columns": self.columns}, separators=(",", ":")).encode()
        length = PREFIX.size + len(body) + CRC.size
        head = PREFIX.pack(MAGIC, length, self.capacity, self.size) + body
        return head + CRC.pack(crc32(head))

    def _read_header(self, fd):
        prefix = os.pread(fd, PREFIX.size, 0)
        if len(prefix) < PREFIX.size:
            return None
        magic, length, capacity, size = PREFIX.unpack(prefix)
        if magic != MAGIC or length > 1 << 20:
            return None
        head = os.pread(fd, length, 0)
        if len(head) != length or CRC.unpack(head[-4:])[0] != crc32(head[:-4]):
            return None
        try:
            columns = [tuple(c) for c in json.loads(head[PREFIX.size:-4])["columns"]]
        except (ValueError, KeyError, TypeError):
            return None
        return length, capacity, size, columns

    def _open(self):
        os.makedirs(os.path.dirname(self.path) or ".", mode=0o700, exist_ok=True)
        header = None
        if os.path.lexists(self.path) and not os.path.isfile(self.path):  # a directory where the ring belongs
            from ..atomic import set_aside

            set_aside(self.path, "not a file")
        if os.path.exists(self.path):
            fd = os.open(self.path, os.O_RDWR)
            header = self._read_header(fd)
            if header is None or header[1:] != (self.capacity, self.size, self.columns):
                os.close(fd)
                why = "unreadable header" if header is None else "another register map or size"
                log.warning("history %s: %s; kept as %s.prev, starting a new one", self.path, why, self.path)
                os.replace(self.path, self.path + ".prev")
                header = None
            else:
                self.fd = fd
        if header is None:
            write_atomic(self.path, self._header())
            self.fd = os.open(self.path, os.O_RDWR)
            header = self._read_header(self.fd)
        self.base = header[0]
        last = 0
        for seq, _t, _v in self._records():
            self.count += 1
            last = max(last, seq)
        self.next_seq = last + 1

    def _records(self):
        """Every valid record in file order: (seq, time, values)."""
        chunk = max(1, 65536 // self.size)
        self.dropped = 0
        for first in range(0, self.capacity, chunk):
            n = min(chunk, self.capacity - first)
            data = os.pread(self.fd, n * self.size, self.base + first * self.size)
            for i in range(len(data) // self.size):
                rec = data[i * self.size:(i + 1) * self.size]
                if rec.count(0) == self.size:
                    continue  # a slot never written (a hole past the end of a short file reads as zeros)
                if CRC.unpack(rec[-4:])[0] != crc32(rec[:-4]):
                    self.dropped += 1
                    continue
                seq, t = RECORD_HEAD.unpack_from(rec)
                if seq == 0 or (seq - 1) % self.capacity != first + i:
                    self.dropped += 1
                    continue
                yield seq, t, self.values.unpack_from(rec, RECORD_HEAD.size)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    # --- samples ----------------------------------------------------------------------------------
    def append(self, timestamp, readings):
        """readings: [(measurand, location, unit, value)]; values of other columns are not stored."""
        values = [math.nan] * len(self.columns)
        for measurand, location, unit, value in readings:
            i = self.index.get((measurand, location, unit))
            if i is not None and finite(value):  # NaN/inf are no reading: stored as missing (NaN)
                values[i] = float(value)
        seq = self.next_seq
        rec = RECORD_HEAD.pack(seq & 0xFFFFFFFF, int(timestamp)) + self.values.pack(*values)
        rec += CRC.pack(crc32(rec))
        os.pwrite(self.fd, rec, self.base + ((seq - 1) % self.capacity) * self.size)
        os.fdatasync(self.fd)
        self.next_seq = seq + 1
        self.count = min(self.count + 1, self.capacity)

    def query(self, start=None, stop=None):
        """Samples with start <= time <= stop, oldest first: [(time, [(measurand, location, unit, value)])]."""
        out = []
        for seq, t, values in self._records():
            if (start is None or t >= start) and (stop is None or t <= stop):
                out.append((seq, t, values))
        out.sort()
        # what was not read is left out; so is an infinity an older version stored as a value
        return [(t, [c + (v,) for c, v in zip(self.columns, values) if finite(v)]) for _seq, t, values in out]

    def raw(self, start=None):
        """(time, values in column order, NaN where not read) since `start`, oldest first."""
        return [(t, tuple(x if finite(x) else math.nan for x in v))
                for _seq, t, v in sorted(r for r in self._records() if start is None or r[1] >= start)]

    def flash_bytes(self, samples):
        return samples * self.size


def write_text(samples, out, iso):
    """The MeterValueHistory file: CSV, one line per value, a header line first. iso(epoch) -> text."""
    from .meter import fmt

    out.write("timestamp,measurand,location,unit,value\n")
    for t, readings in samples:
        stamp = iso(t)
        for measurand, location, unit, value in readings:
            if not finite(value):
                continue
            out.write("%s,%s,%s,%s,%s\n" % (stamp, measurand, location, unit, fmt(value)))
