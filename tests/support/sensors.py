"""The sensors component on a real loop, built with its constructor as the root builds it (a Clock on the
loop), what it publishes recorded; and the waits its tests share."""

import time

from bridge.clock import Clock
from bridge.config import Config
from bridge.loop import Loop
from bridge.station.sensors import Sensors


def make_sensors(tmp_path, config_text, backend="host", **kw):
    """-> (loop, sensors, [every event it publishes]); board temperature only from tmp_path/sys."""
    cfg = tmp_path / "tr069"
    cfg.write_text(config_text)
    (tmp_path / "sys").mkdir(exist_ok=True)
    loop = Loop()
    s = Sensors(loop, Config(str(cfg)), Clock(loop.time), str(tmp_path), backend, sys_root=str(tmp_path / "sys"), **kw)
    s.start()
    events = []
    s.subscribe(events.append)
    return loop, s, events


def run_until(loop, cond, limit=5.0):
    """Turn the loop until cond() holds (a hang bound, not a timing check)."""
    end = time.monotonic() + limit
    while not cond():
        assert time.monotonic() < end, "timed out"
        loop.run_once(0.02)


def read_sample(loop, s, context="Sample.Periodic"):
    """One SampleTaken with the meter's readings (a meter just (re)started answers from its second read on)."""
    for _ in range(5):
        got = []
        s.read_now(context, got.append)
        run_until(loop, lambda: got)
        if got[0].readings:
            return got[0]
    raise AssertionError("the meter never answered")
