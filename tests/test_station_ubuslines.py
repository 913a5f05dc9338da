"""Contactor lines behind another daemon's ubus object, against a small ubusd on a real Unix socket."""

import pytest

from bridge.station.backends.ubuslines import UbusLine
from bridge import ubusmsg as st
from test_ubus_backend import MiniUbusd


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
