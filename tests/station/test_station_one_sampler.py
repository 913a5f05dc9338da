"""Issue 23: one sampler per meter. With a meter that never answers, 300 TriggerMessage MeterValues
started 300 threads (+4.5 MB, about 300 s of queued reads); a read asked for while one runs joins it.
The meter is a real TCP listener on loopback that accepts and says nothing; the sensors shell runs on a
real loop. Failed before its fix."""

import socket
import threading
import time

from bridge.clock import Clock
from bridge.config import Config
from bridge.loop import Loop
from bridge.station import sensors
from bridge.station.sensors import Sensors

SILENT = """
config station 'station'
\toption sample_interval '0'
config meter 'meter'
\toption protocol 'tcp'
\toption host '127.0.0.1'
\toption port '%d'
\toption timeout '0.5'
config register
\toption address '0'
\toption type 'float32'
\toption measurand 'Voltage.L1N'
\toption unit 'V'
"""


def readers():
    return [t for t in threading.enumerate() if t.name == "station-read"]


def test_triggers_while_a_read_runs_join_it_instead_of_starting_threads(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts (the kernel does), never answers
    cfg = tmp_path / "tr069"
    cfg.write_text(SILENT % silent.getsockname()[1])
    (tmp_path / "sys").mkdir()
    loop = Loop()
    s = Sensors(loop, Config(str(cfg)), Clock(loop.time), str(tmp_path), "ubus", sys_root=str(tmp_path / "sys"))
    s.start()
    samples = []
    try:
        for _ in range(300):
            assert s.read_now("Trigger", samples.append)
        assert len(readers()) <= 1  # was 300, one per TriggerMessage, queued on the meter's lock
        end = time.monotonic() + 30
        while not samples and time.monotonic() < end:
            loop.run_once(0.05)
        # one read answered every trigger that joined it (up to MAX_WAITING; a triggered MeterValues is
        # sent once for them all anyway), with what the silent meter gave: nothing
        assert len(samples) == sensors.MAX_WAITING and all(sample.readings == [] for sample in samples)
        for t in readers():
            t.join(10)  # the worker that answered ends right after handing its readings over
        assert s.read_now("Trigger", samples.append) and len(readers()) <= 1
    finally:
        s.stop()
        silent.close()
