"""Contactor lines behind another daemon's ubus object, against a small ubusd on a real Unix socket."""

import pytest

from bridge.station.backends.ubuslines import UbusLine
from bridge import ubusmsg as st
from support.clock import FakeClock
from support.ubusd import MiniUbusd


@pytest.fixture
def relays(tmp_path):
    path = str(tmp_path / "ubus.sock")
    levels = {"relay1": 0, "aux1": 1}

    def get(a):
        if a.get("name") not in levels:
            return st.NOT_FOUND, None
        return st.OK, {"value": levels[a["name"]]}

    def set_(a):
        if a.get("name") not in levels or a.get("value") not in (0, 1):
            return st.INVALID_ARGUMENT, None
        levels[a["name"]] = a["value"]
        return st.OK, None

    mini = MiniUbusd(path, {"relays": (0x400, {"get": get, "set": set_})})
    mini.start()
    mini.levels, mini.path = levels, path
    yield mini
    mini.stop()


def test_get_and_set_over_ubus(relays):
    out = UbusLine("relay1", True, "relays", socket_path=relays.path)
    assert out.get() is False
    out.set(True)
    assert relays.levels["relay1"] == 1 and out.get() is True
    assert relays.calls[-2:] == [("relays", "set", {"name": "relay1", "value": 1}), ("relays", "get", {"name": "relay1"})]
    inverted = UbusLine("aux1", False, "relays", active_low=True, socket_path=relays.path)
    assert inverted.get() is False  # raw 1, active low
    with pytest.raises(OSError):
        inverted.set(True)  # an input


def test_errors_are_os_errors_the_station_logs(relays, tmp_path):
    with pytest.raises(OSError, match="status"):
        UbusLine("relay9", True, "relays", socket_path=relays.path).get()
    with pytest.raises(OSError):
        UbusLine("relay1", True, "nosuchobject", socket_path=relays.path).set(True)
    with pytest.raises(OSError):
        UbusLine("relay1", True, "relays", socket_path=str(tmp_path / "none.sock")).get()
    with pytest.raises(ValueError):
        UbusLine("relay1", True, "")


def test_the_poller_reports_changes_and_backs_off_while_the_object_is_gone(relays, caplog):
    from bridge.station.backends import ubuslines

    caplog.set_level("INFO", logger="bridge.station.backends.ubuslines")
    aux = UbusLine("aux1", False, "relays", socket_path=relays.path)
    seen = []
    timers = FakeClock()  # its timers fire as it runs on
    poller = ubuslines.Poller(timers.call_later, [aux], lambda line, v: seen.append(v)).start()
    timers.run(1.0)
    assert seen == [True]  # the first reading
    timers.run(3.0)
    assert seen == [True]  # read three times more, nothing changed
    relays.levels["aux1"] = 0
    timers.run(1.0)
    assert seen == [True, False]
    gets = len(relays.calls)
    aux.obj = "gone"  # the relay daemon's object disappears
    timers.run(1.0)
    assert "read again every 30 s" in caplog.text
    timers.run(29.0)
    assert len(relays.calls) - gets <= 1  # no read a second meanwhile
    aux.obj = "relays"
    relays.levels["aux1"] = 1
    timers.run(1.0)
    assert seen == [True, False, True] and "answers again" in caplog.text
    poller.stop()
    timers.run(10.0)
    assert seen == [True, False, True]


def test_a_local_switch_behind_ubus_takes_effect_without_a_restart(relays, tmp_path, monkeypatch):
    """Before the poller, a ubus local switch was read at start only."""
    import time

    monkeypatch.delenv("TR069_UBUS_SOCKET", raising=False)  # the relays are on this test's ubusd

    from bridge.daemon import Daemon
    from support.daemon_process import write_config

    relays.levels["switch"] = 0
    write_config(str(tmp_path), """config contactor
\toption id '1'
\toption backend 'ubus'
\toption object 'relays'
\toption output 'relay1'
\toption feedback 'aux1'
config streetlights 'streetlights'
\toption local_switch 'switch'
\toption local_switch_backend 'ubus'
\toption local_switch_object 'relays'
""")
    d = Daemon("host", str(tmp_path))
    d.config.override("ubus.socket=%s" % relays.path)
    d.start_components(only={"streetlights"})
    s = d.running["streetlights"]
    try:
        d.loop.run_once(0)
        assert s.control.local is False and s.poller is not None
        relays.levels["switch"] = 1  # someone turns the cabinet's local switch on
        end = time.monotonic() + 10  # a hang bound: the poller reads every second
        while not s.control.local and time.monotonic() < end:
            d.loop.run_once(0.1)
        assert s.control.local is True and s.control.contactors[1].mode == "LocalOverride"
        assert relays.levels["relay1"] == 1  # local_action on: the lights are on
    finally:
        s.stop()
        d.loop.close()
