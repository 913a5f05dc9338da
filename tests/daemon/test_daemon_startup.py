"""Start-up and stop: a stop that comes early is never forgotten, components and surfaces start only when they
should."""

import signal
import threading

import pytest

from bridge.daemon import Daemon
from bridge.loop import Loop
from support.daemon_process import BASE_CONFIG, write_config


def test_a_stop_before_run_is_kept():
    loop = Loop()
    loop.stop()
    runner = threading.Thread(target=loop.run, daemon=True)
    runner.start()
    runner.join(5)
    if runner.is_alive():
        loop.call_soon_threadsafe(loop.stop)  # a stop while it runs always worked
        runner.join(5)
        pytest.fail("run() forgot the stop() that came before it")
    ran = []
    loop.call_soon(lambda: (ran.append(1), loop.stop()))
    loop.run()  # and the loop can run again afterwards
    assert ran == [1]
    loop.close()


def _guarded_run(d):
    """d.run(), with a guard that ends a run the daemon forgot to stop (so the test fails, not hangs)."""
    fired = threading.Event()

    def guard():
        fired.set()
        d.loop.call_soon_threadsafe(d.loop.stop)

    timer = threading.Timer(5.0, guard)
    timer.start()
    try:
        code = d.run()
    finally:
        timer.cancel()
    return code, fired.is_set()


@pytest.mark.parametrize("phase", ["before the surfaces", "while a surface starts", "after the surfaces"])
def test_sigterm_at_each_start_up_phase_stops_the_daemon(tmp_path, monkeypatch, phase):
    write_config(str(tmp_path), BASE_CONFIG)
    d = Daemon("host", str(tmp_path))
    term = lambda: signal.raise_signal(signal.SIGTERM)  # noqa: E731 - the handler run() installed
    import bridge.jsonrpc as shim  # a surface the host backend starts

    start_shim = shim.start

    def start_shim_and_term(*args, **kwargs):
        surface = start_shim(*args, **kwargs)
        term()
        return surface

    def start_components():
        if phase == "before the surfaces":
            term()
        Daemon.start_components(d)
        if phase == "after the surfaces":
            term()

    monkeypatch.setattr(d, "start_components", start_components)
    if phase == "while a surface starts":
        monkeypatch.setattr(shim, "start", start_shim_and_term)
    old = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        code, forgotten = _guarded_run(d)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        d.loop.close()
    assert not forgotten, "the SIGTERM was lost: the daemon kept running"
    assert code == 0 and d.running == {}  # and what had started was stopped
    assert not (tmp_path / "cli.url").exists()  # the shim's stop ran
