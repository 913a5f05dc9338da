"""A real Modbus server (pymodbus, test-only) on 127.0.0.1, in a thread with its own asyncio loop.

holding / inputs: {address: register value}; unit: the unit id it answers as. framer "socket" is
Modbus TCP; "rtu" is RTU framing over TCP, which tests bridge to a pty to test the serial transport.
trace_packet(sending, data) -> data lets a test garble what the server sends.
"""

import asyncio
import logging
import socket
import threading

from pymodbus import FramerType
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from support.ports import free_port

logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


def _block(values):
    if not values:
        return [SimData(address=0, count=1, values=0, datatype=DataType.REGISTERS)]
    return [SimData(address=a, values=[v], datatype=DataType.REGISTERS) for a, v in sorted(values.items())]


class ModbusServer:
    def __init__(self, holding=None, inputs=None, unit=1, framer="socket", port=None, trace_packet=None):
        self.port = port or free_port()
        bits = [SimData(address=0, count=1, values=False, datatype=DataType.BITS)]
        self.device = SimDevice(unit, simdata=(bits, bits, _block(holding), _block(inputs)))
        self.framer = FramerType.RTU if framer == "rtu" else FramerType.SOCKET
        self.trace_packet = trace_packet
        self.loop = None
        self.server = None
        self.thread = None

    def start(self):
        ready = threading.Event()

        def run():
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)

            async def serve():
                self.server = ModbusTcpServer(self.device, framer=self.framer, address=("127.0.0.1", self.port),
                                              trace_packet=self.trace_packet)
                task = asyncio.ensure_future(self.server.serve_forever())
                for _ in range(200):
                    try:
                        socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                        break
                    except OSError:
                        await asyncio.sleep(0.01)
                ready.set()
                await task

            try:
                self.loop.run_until_complete(serve())
            finally:
                ready.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(5)
        return self

    def stop(self):
        if self.loop is not None and self.server is not None:
            fut = asyncio.run_coroutine_threadsafe(self.server.shutdown(), self.loop)
            try:
                fut.result(5)
            except Exception:
                pass
        if self.thread is not None:
            self.thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def uci_meter(registers=""):
    """UCI text: a Modbus TCP meter on 127.0.0.1 (its port filled in with %) reading Voltage.L1N as a
    float32 at register 0, and the given further `config register` sections."""
    return """
config meter 'meter'
\toption protocol 'tcp'
\toption host '127.0.0.1'
\toption port '%d'
\toption timeout '0.3'

config register
\toption address '0'
\toption type 'float32'
\toption measurand 'Voltage.L1N'
\toption unit 'V'
""" + registers.replace("%", "%%")


# the meter the sensors' tests read: the voltage as uci_meter has it, the current at register 2 in tenths (a
# holding register of 125 reads 12.5 A)
VOLTS_AND_AMPS = uci_meter("""
config register
\toption address '2'
\toption scale '0.1'
\toption measurand 'Current.L1'
\toption unit 'A'
""")
