"""Station sensors: the history's write cost and size on flash, and Modbus reads against pymodbus' client."""

import os
import sqlite3
import tempfile
import time

import benchpath  # noqa: F401  (first: the repository and tests/ on sys.path)

from benchutil import skipped
from bridge.station.history import History

# a typical substation map: 3 voltages, 4 currents, 4 active powers, 3 power factors, frequency,
# 2 energy registers, oil and board temperature: 19 values a sample
COLUMNS = ([("Voltage.L%dN" % i, "", "V") for i in (1, 2, 3)] + [("Current.%s" % p, "", "A") for p in
           ("L1", "L2", "L3", "N")] + [("ActivePower.%s" % p, "", "W") for p in ("L1", "L2", "L3", "Sum")]
           + [("PowerFactor.L%d" % i, "", "") for i in (1, 2, 3)] + [("Frequency", "", "Hz"),
           ("RealEnergyDelivered.Sum", "", "Wh"), ("RealEnergyConsumed.Sum", "", "Wh"),
           ("OilTemperature", "", "Celsius"), ("BoardTemperature", "", "Celsius")])
SAMPLE = [c + (230.0 + i,) for i, c in enumerate(COLUMNS)]
PER_DAY = 96  # one sample every 15 minutes


def _history(report, d):
    n = 300
    h = History(os.path.join(d, "h.bin"), COLUMNS, 35 * PER_DAY)
    t = time.perf_counter()
    for i in range(n):
        h.append(1_700_000_000 + 900 * i, SAMPLE)
    ours = (time.perf_counter() - t) / n
    h.close()
    db = sqlite3.connect(os.path.join(d, "h.db"))
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE s (t INTEGER, measurand TEXT, location TEXT, unit TEXT, value REAL)")
    t = time.perf_counter()
    for i in range(n):
        with db:
            db.executemany("INSERT INTO s VALUES (?,?,?,?,?)", [(1_700_000_000 + 900 * i,) + s for s in SAMPLE])
    peer = (time.perf_counter() - t) / n
    db.close()
    report("history: append one sample (%d values, pwrite + fdatasync)" % len(COLUMNS), ours * 1e3, "ms",
           "sqlite3 insert + commit (synchronous=FULL): %.2f ms, ratio %.2f" % (peer * 1e3, peer / ours))
    size = h.size
    report("history: size on flash per day (15-min samples)", size * PER_DAY / 1024.0, "KiB",
           "%d-byte records; 35 days: %.0f KiB; sqlite3 for the same day: %.0f KiB" % (
               size, size * PER_DAY * 35 / 1024.0, os.path.getsize(os.path.join(d, "h.db")) / n * PER_DAY / 1024.0))
    h = History(os.path.join(d, "h.bin"), COLUMNS, 35 * PER_DAY)
    t = time.perf_counter()
    got = h.query(1_700_000_000, 1_700_000_000 + 86400)
    report("history: query one day of %d samples" % len(got), (time.perf_counter() - t) * 1e3, "ms")
    h.close()


def _modbus(report):
    try:
        from support.modbus_server import ModbusServer
        from pymodbus.client import ModbusTcpClient
    except ImportError:
        skipped(report, "modbus tcp: read 20 holding registers", "pymodbus not installed")
        return
    from bridge.station.backends.modbus import TcpTransport

    with ModbusServer(holding={i: i for i in range(20)}) as server:
        n = 300
        ours = TcpTransport("127.0.0.1", server.port, 2)
        ours.read(1, 3, 0, 20)
        t = time.perf_counter()
        for _ in range(n):
            ours.read(1, 3, 0, 20)
        mine = (time.perf_counter() - t) / n
        ours.close()
        peer = ModbusTcpClient("127.0.0.1", port=server.port)
        peer.connect()
        read = lambda: peer.read_holding_registers(0, count=20, device_id=1)  # noqa: E731
        try:
            read()
        except TypeError:  # older pymodbus spells the unit id differently
            read = lambda: peer.read_holding_registers(0, count=20)  # noqa: E731
            read()
        t = time.perf_counter()
        for _ in range(n):
            read()
        theirs = (time.perf_counter() - t) / n
        peer.close()
    report("modbus tcp: read 20 holding registers (pymodbus server)", mine * 1e3, "ms",
           "pymodbus' own client: %.2f ms, ratio %.2f" % (theirs * 1e3, theirs / mine))


def run(report):
    with tempfile.TemporaryDirectory(dir=os.environ.get("TR069_BENCH_DIR")) as d:
        _history(report, d)
    _modbus(report)
