"""The ModemManager backend's mmcli path, live: the real `mmcli` (Debian's modemmanager) against a ModemManager
mocked by python-dbusmock (tests/support/mm_template.py) on a private D-Bus system bus. Skipped, with the
reason, where mmcli, dbus-daemon or python-dbusmock is not installed (`make test` installs them where it can).

The recordings in tests/data/modem/mm/ were made the same way (tests/support/record_mm.py): each case read
live must be what its recording says, so a recording that no longer matches the modem it claims to be fails
here."""

import json
import os
import time

import pytest

from bridge.config import Config
from bridge.events import SignalChanged
from bridge.loop import Loop
from bridge.os3p.messages import boot_fields
from bridge.reach.backends import mm
from bridge.reach.service import Reach
from support.mm_bus import MockModemManager, missing
from support.paths import DATA as TEST_DATA

WHY = missing()
pytestmark = pytest.mark.skipif(WHY is not None, reason="live ModemManager: %s" % WHY)

RECORDED = {"home-connected": "good-sim-home-connected", "roaming": "roaming-registered", "searching": "searching",
            "pin-locked": "pin-locked", "weak-signal": "weak-signal", "no-sim": "no-sim-mmcli"}


@pytest.fixture(scope="module")
def modem(tmp_path_factory):
    with MockModemManager(tmp_path_factory.mktemp("mm")) as bus:
        yield bus


@pytest.fixture
def on_bus(modem, monkeypatch):
    """mmcli (run by the backend) finds the mock's bus; the modem starts each test on its home network."""
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", modem.env["DBUS_SYSTEM_BUS_ADDRESS"])
    modem.set_case("home-connected")
    return modem


def recorded(name):
    with open(os.path.join(TEST_DATA, "modem", "mm", name + ".json")) as f:
        return mm.parse_dump(json.load(f))


@pytest.mark.parametrize("case", RECORDED)
def test_mmcli_read_live_is_what_the_recording_says(case, on_bus, tmp_path):
    on_bus.set_case(case)
    backend = mm.ModemManager({"ubus_socket": str(tmp_path / "no-ubusd.sock")})  # no rpcd: mmcli itself
    assert backend.read() == recorded(RECORDED[case])


class Device:
    def board(self):
        return {"vendor": "V", "model": "M", "serial": "S", "firmware_version": "1"}


def test_boot_fields_and_weak_signal_through_the_reach_service(on_bus, tmp_path):
    """The real Reach on a real loop with backend modemmanager: its refresh thread runs mmcli; the signal
    drops below -110 dBm (WeakSignal raised once) and recovers (cleared once); BootNotification carries
    the SIM's ICCID and IMSI as mmcli read them."""
    cfg = tmp_path / "tr069"
    cfg.write_text("config reach 'reach'\n\toption backend 'modemmanager'\n\toption debounce '0'\n"
                   "\toption weak_signal_rsrp '-110'\n")
    loop = Loop()
    reach = Reach(loop, Config(str(cfg)), str(tmp_path), "ubus", ubus_socket=str(tmp_path / "no-ubusd.sock"))
    events = []
    reach.subscribe(events.append, SignalChanged)
    deadline = time.monotonic() + 60

    def refreshed_once_more():
        n = reach.refreshes
        reach.refresh("test")
        while reach.refreshes <= n and time.monotonic() < deadline:
            loop.run_once(0.05)
        assert reach.refreshes > n, "no refresh within 60 s"

    try:
        reach.start()
        while reach.refreshes < 1 and time.monotonic() < deadline:
            loop.run_once(0.05)
        assert reach.modem.iccid == "8949360000421790514" and reach.modem.rsrp == -93.0
        fields = boot_fields(Config(str(cfg)), Device(), reach.modem_info())
        assert (fields["iccid"], fields["imsi"]) == ("8949360000421790514", "262231017669630")
        on_bus.set_case("weak-signal")
        refreshed_once_more()
        refreshed_once_more()
        on_bus.set_case("home-connected")
        refreshed_once_more()
        refreshed_once_more()
    finally:
        reach.stop()
        while reach.refreshing and time.monotonic() < deadline + 30:
            loop.run_once(0.05)
        loop.close()
    assert [(e.active, e.info) for e in events] == [(True, "RSRP -117 dBm below -110 dBm"), (False, "RSRP -93 dBm")]
