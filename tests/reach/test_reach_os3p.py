"""Into OS3P: BootNotification's ICCID and IMSI from a recorded ModemManager modem (UCI overriding them),
and WeakSignal raised once and cleared once through the station's alarms as the recorded signal drops and
recovers. The real Reach service on a real loop; the modem is ModemManager's recorded output."""

import json
import os
import time

from bridge.config import Config
from bridge.events import SignalChanged
from bridge.loop import Loop
from bridge.os3p.messages import boot_fields, validate
from bridge.reach.backends import mm
from bridge.reach.service import Reach
from bridge.station.alarms import Alarms
from support.paths import DATA as TEST_DATA

DATA = os.path.join(TEST_DATA, "modem", "mm")


def recorded(case):
    with open(os.path.join(DATA, case + ".json")) as f:
        return mm.parse_dump(json.load(f))


class Device:
    def board(self):
        return {"vendor": "V", "model": "M", "serial": "S", "firmware_version": "1"}


def config(tmp_path, text=""):
    path = tmp_path / "tr069"
    path.write_text("config reach 'reach'\n\toption backend 'none'\n\toption debounce '0'\n" + text)
    return Config(str(path))


def test_boot_notification_carries_the_modems_iccid_and_imsi_unless_uci_sets_them(tmp_path):
    modem = recorded("good-sim-home-connected")
    fields = boot_fields(config(tmp_path), Device(), modem)
    assert (fields["iccid"], fields["imsi"]) == ("8949360000421790514", "262231017669630")
    assert validate("BootNotification.req", fields) == []
    cfg = config(tmp_path, "config os3p 'os3p'\n\toption iccid '89000000000000000042'\n")
    fields = boot_fields(cfg, Device(), modem)
    assert (fields["iccid"], fields["imsi"]) == ("89000000000000000042", "262231017669630")
    fields = boot_fields(config(tmp_path), Device(), recorded("no-sim"))
    assert (fields["iccid"], fields["imsi"]) == ("", "")


class Replay:
    """A backend that answers the recorded modems in turn (the last one for ever)."""

    name = "modemmanager"

    def __init__(self, cases):
        self.cases = list(cases)

    def read(self):
        return recorded(self.cases.pop(0) if len(self.cases) > 1 else self.cases[0])


def test_weak_signal_is_raised_once_and_cleared_once(tmp_path):
    loop = Loop()
    alarms = Alarms(lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)))
    notes = []

    def alarm(event):  # what the root wires: SignalChanged to the sensors' alarms (sensors.weak_signal)
        payload = alarms.change("WeakSignal", "modem", event.active, event.time, info=event.info)
        if payload is not None:
            notes.append(payload)
            assert validate("StatusNotification.req", payload) == []

    reach = Reach(loop, config(tmp_path), str(tmp_path), "ubus", ubus_socket=str(tmp_path / "none.sock"))
    reach.subscribe(alarm, SignalChanged)
    reach.start()
    reach.backend = Replay(["good-sim-home-connected", "weak-signal", "weak-signal", "weak-signal",
                            "good-sim-home-connected", "good-sim-home-connected"])
    try:
        deadline = time.monotonic() + 30
        while reach.refreshes < 7 and time.monotonic() < deadline:
            if not reach.refreshing:
                reach.refresh("test")
            loop.run_once(0.05)
    finally:
        reach.stop()
        while reach.refreshing and time.monotonic() < deadline + 30:  # its thread hands back to this loop
            loop.run_once(0.05)
        loop.close()
    assert reach.refreshes >= 7
    assert [(n["status"], n["errorCode"]) for n in notes] == [("Faulted", "WeakSignal"), ("Ok", "NoError")]
    assert notes[0]["info"] == "RSRP -117 dBm below -110 dBm" and notes[1]["info"] == "WeakSignal resolved"


def test_the_os3p_registration_is_followed_by_its_event_not_by_a_timer(tmp_path):
    """follow_os3p arms no timer; a LinkChanged makes the state be judged again at once."""
    from bridge.events import LinkChanged

    loop = Loop()
    reach = Reach(loop, config(tmp_path, "\toption backend 'host'\n"), str(tmp_path), "host")
    registered = [True]
    try:
        reach.start()
        deadline = time.monotonic() + 30
        while reach.refreshes < 1 and time.monotonic() < deadline:
            loop.run_once(0.05)
        reach.follow_os3p(lambda: registered[0])
        assert not [name for name in reach.timers if "os3p" in name]
        reach._judge()
        assert reach.reach.state == "data"
        registered[0] = False
        reach.on_link(LinkChanged(False, None, time.time()))
        assert reach.reach.state == "sms"  # debounce 0: the change is the state at once
    finally:
        reach.stop()
        loop.close()
