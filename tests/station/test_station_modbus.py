"""The Modbus client: sans-I/O framing, then TCP and RTU (over a pty) against a real pymodbus server."""

import logging
import os
import select
import socket
import threading

import pytest

from bridge.station.backends import modbus
from bridge.station.backends.modbus import ModbusError, RtuTransport, TcpTransport
from bridge.station.meter import ModbusMeter, batches, fmt, register_from_uci

pytest.importorskip("pymodbus")
from support.modbus_server import ModbusServer  # noqa: E402

# float32 230.5 = 0x43668000, uint32 123456789 = 0x075BCD15, int16 -5 = 0xFFFB
HOLDING = {0: 0x4366, 1: 0x8000, 2: 0xCD15, 3: 0x075B, 10: 0xFFFB}
INPUTS = {100: 500}


# --- framing, no I/O --------------------------------------------------------------------------------
def test_crc_of_the_classic_example():
    assert modbus.rtu_request(1, modbus.read_pdu(3, 0, 10)) == bytes.fromhex("01030000000ac5cd")


@pytest.mark.parametrize("type,value,order", [("int16", -5, "big"), ("uint16", 65535, "big"),
                                              ("int32", -70000, "big"), ("uint32", 123456789, "little"),
                                              ("float32", 230.5, "big"), ("float32", -1.25, "little")])
def test_decode_inverts_encode(type, value, order):
    assert modbus.decode(modbus.encode(value, type, order), type, order) == value


def test_word_order_swaps_words_not_bytes():
    assert modbus.decode([0x075B, 0xCD15], "uint32", "big") == 123456789
    assert modbus.decode([0xCD15, 0x075B], "uint32", "little") == 123456789


def test_rtu_reader_waits_checks_crc_and_reads_exceptions():
    good = modbus.rtu_request(1, bytes([3, 2, 0x12, 0x34]))
    r = modbus.RtuReader()
    r.feed(good[:4])
    assert r.frame() is None
    r.feed(good[4:])
    assert r.frame() == (1, bytes([3, 2, 0x12, 0x34]))
    r.feed(good[:-1] + bytes([good[-1] ^ 0xFF]))
    with pytest.raises(ModbusError) as e:
        r.frame()
    assert e.value.kind == "frame" and "CRC" in str(e.value)
    r = modbus.RtuReader()
    r.feed(modbus.rtu_request(1, bytes([0x83, 2])))
    with pytest.raises(ModbusError) as e:
        modbus.parse_read_pdu(r.frame()[1], 3, 1)
    assert e.value.kind == "exception" and "illegal data address" in str(e.value)


def test_tcp_reader_splits_frames_and_refuses_bad_headers():
    r = modbus.TcpReader()
    frame = modbus.tcp_request(7, 1, bytes([3, 2, 0, 9]))
    r.feed(frame + frame[:3])
    assert r.frame() == (7, 1, bytes([3, 2, 0, 9]))
    assert r.frame() is None
    bad = modbus.TcpReader()
    bad.feed(b"\x00\x01\x00\x05\x00\x06\x01\x03\x02\x00\x00")
    with pytest.raises(ModbusError):
        bad.frame()


@pytest.mark.parametrize("pdu", [b"\x03", b"\x03\x04\x00\x01", b"\x04\x02\x00\x01", b"\x03\x02\x00\x01\x00"])
def test_short_and_inconsistent_replies_are_frame_errors(pdu):
    with pytest.raises(ModbusError) as e:
        modbus.parse_read_pdu(pdu, 3, 1)
    assert e.value.kind == "frame"


def test_requests_out_of_range_are_refused_before_sending():
    for args in ((6, 0, 1), (3, 0, 126), (3, 0xFFFF, 2), (3, 0, 0)):
        with pytest.raises(ValueError):
            modbus.read_pdu(*args)


def test_register_map_from_uci_and_batches():
    regs = [register_from_uci({".name": n, "address": a, "type": t, "measurand": m, "unit": u, "function": f})
            for n, a, t, m, u, f in [("v1", "0", "float32", "Voltage.L1N", "V", "3"),
                                     ("e", "2", "uint32", "RealEnergyDelivered.Sum", "Wh", "3"),
                                     ("t", "10", "int16", "OilTemperature", "Celsius", "3"),
                                     ("f", "100", "uint16", "Frequency", "Hz", "4")]]
    assert [(b[0], b[1], b[2]) for b in batches(regs)] == [(3, 0, 4), (3, 10, 1), (4, 100, 1)]
    for bad in ({"address": "0", "measurand": "X", "type": "int64"}, {"address": "0"},
                {"address": "0", "measurand": "X", "function": "6"},
                {"address": "0", "measurand": "X", "location": "Roof"},
                {"address": "0", "measurand": "X", "unit": "furlongs"}):
        with pytest.raises(ValueError):
            register_from_uci(dict(bad, **{".name": "r"}))


def test_value_formatting():
    assert [fmt(v) for v in (230.0, 230.5, 0.1 + 0.2, -5, 123456789)] == ["230", "230.5", "0.3", "-5", "123456789"]


# --- TCP against pymodbus -------------------------------------------------------------------------
def _map():
    return [register_from_uci(dict(s, **{".name": "r%d" % i})) for i, s in enumerate([
        {"address": "0", "type": "float32", "measurand": "Voltage.L1N", "unit": "V"},
        {"address": "2", "type": "uint32", "word_order": "little", "scale": "0.001",
         "measurand": "Energy.Active.Import.Register", "unit": "kWh", "location": "P1Meter"},
        {"address": "10", "type": "int16", "measurand": "OilTemperature", "unit": "Celsius"},
        {"address": "100", "function": "4", "scale": "0.1", "measurand": "Frequency", "unit": "Hz"}])]


EXPECTED = [("Voltage.L1N", "", "V", 230.5), ("Energy.Active.Import.Register", "P1Meter", "kWh", 123456.789),
            ("OilTemperature", "", "Celsius", -5), ("Frequency", "", "Hz", 50.0)]


def _close(readings):
    return [(m, loc, u, round(v, 6)) for m, loc, u, v in readings]


def test_meter_reads_the_register_map_over_tcp():
    with ModbusServer(holding=HOLDING, inputs=INPUTS) as server:
        meter = ModbusMeter(TcpTransport("127.0.0.1", server.port, 1), 1, _map())
        assert _close(meter.read()) == EXPECTED
        assert _close(meter.read()) == EXPECTED  # the connection is kept and reused
        meter.close()


def test_exception_responses_are_counted_and_the_rest_is_read(caplog):
    regs = _map() + [register_from_uci({".name": "x", "address": "500", "measurand": "Current.N", "unit": "A"})]
    with ModbusServer(holding=HOLDING, inputs=INPUTS) as server:
        meter = ModbusMeter(TcpTransport("127.0.0.1", server.port, 1), 1, regs)
        with caplog.at_level(logging.WARNING):
            for _ in range(3):
                assert _close(meter.read()) == EXPECTED
        assert meter.health.counts == {"exception": 3}
        assert len([r for r in caplog.records if "illegal data address" in r.getMessage()]) == 1  # once
        meter.close()


def test_replies_for_another_unit_and_garbled_frames_are_counted():
    mode = {"what": None}

    def garble(sending, data):
        if sending and mode["what"] == "unit":
            return data[:6] + bytes([9]) + data[7:]
        if sending and mode["what"] == "short":
            return data[:6] + bytes([data[6], data[7], 1]) + data[9:]  # byte count disagrees with the data
        return data

    with ModbusServer(holding=HOLDING, inputs=INPUTS, trace_packet=garble) as server:
        meter = ModbusMeter(TcpTransport("127.0.0.1", server.port, 1), 1, _map())
        mode["what"] = "unit"
        assert meter.read() == []  # answered (so not a dead meter), but nothing usable
        mode["what"] = "short"
        assert meter.read() == []
        mode["what"] = None
        assert _close(meter.read()) == EXPECTED  # the sampler goes on
        assert meter.health.counts["unit"] == 3 and meter.health.counts["frame"] >= 1
        assert not meter.health.failing
        meter.close()


def test_a_silent_or_absent_meter_times_out_with_a_clear_error(caplog):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        meter = ModbusMeter(TcpTransport("127.0.0.1", silent.getsockname()[1], 0.2), 1, _map())
        with caplog.at_level(logging.WARNING), pytest.raises(ModbusError) as e:
            meter.read()
        assert e.value.kind == "timeout" and meter.health.failing
        assert "no answer within 0.2 s" in caplog.text and "127.0.0.1" in caplog.text
    finally:
        silent.close()
    port = ModbusServer().port  # nobody listens there
    meter = ModbusMeter(TcpTransport("127.0.0.1", port, 0.5), 1, _map())
    with pytest.raises(ModbusError) as e:
        meter.read()
    assert e.value.kind == "io" and "refused" in str(e.value)


# --- RTU over a pty, bridged to pymodbus' RTU framer ------------------------------------------------
class PtyBridge:
    """Our client opens the pty's slave like a serial port; the master end is relayed to the server."""

    def __init__(self, port):
        self.master, slave = os.openpty()
        self.path = os.ttyname(slave)
        self.slave = slave  # kept open so the pty stays alive between our opens
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.stop = False
        self.thread = threading.Thread(target=self._relay, daemon=True)
        self.thread.start()

    def _relay(self):
        while not self.stop:
            ready, _, _ = select.select([self.master, self.sock], [], [], 0.05)
            try:
                if self.master in ready:
                    self.sock.sendall(os.read(self.master, 512))
                if self.sock in ready:
                    data = self.sock.recv(512)
                    if not data:
                        return
                    os.write(self.master, data)
            except OSError:
                return

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()
        os.close(self.master)
        os.close(self.slave)


def test_rtu_over_a_serial_line_reads_values_and_counts_crc_errors():
    corrupt = {"on": False}

    def garble(sending, data):
        if sending and corrupt["on"]:
            return data[:-1] + bytes([data[-1] ^ 0x55])
        return data

    with ModbusServer(holding=HOLDING, inputs=INPUTS, framer="rtu", trace_packet=garble) as server:
        bridge = PtyBridge(server.port)
        try:
            meter = ModbusMeter(RtuTransport(bridge.path, 19200, "E", 1, 1.0), 1, _map())
            assert _close(meter.read()) == EXPECTED
            corrupt["on"] = True
            assert meter.read() == []
            assert meter.health.counts["frame"] == 3
            corrupt["on"] = False
            assert _close(meter.read()) == EXPECTED
            meter.close()
        finally:
            bridge.close()


def test_transport_settings_are_checked():
    with pytest.raises(ValueError):
        RtuTransport("/dev/ttyS0", 12345)
    with pytest.raises(ValueError):
        modbus.open_transport({"protocol": "udp"})
