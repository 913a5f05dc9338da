"""Device.Cellular.* in the parameter model (bridge/model), read from the reachability's recorded modems."""

import json
import os

import pytest

from bridge.config import Config
from bridge.model import rows
from bridge.model.bindings import Backend
from bridge.model.core import Model
from bridge.model.faults import Fault
from bridge.reach.backends import mm
from support.paths import DATA

V = "X_TR069-BRIDGE_"


class Reach:
    """What the reachability component offers the model: its state view and the modem it read."""

    def __init__(self, case):
        with open(os.path.join(DATA, "modem", "mm", case + ".json")) as f:
            self.modem = mm.parse_dump(json.load(f))

    def state(self):
        return {"state": "data", "since": "2026-12-01T12:00:00.000Z", "backend": "modemmanager"}

    def modem_info(self):
        return self.modem


class Board:
    backend = "host"

    def board(self):
        return {}

    def uci_sections(self, config):
        raise FileNotFoundError(config)


def model(tmp_path, reach):
    path = tmp_path / "tr069"
    path.write_text("")
    backend = Backend(Config(str(path)), Board(), rows.registry(), clock=lambda: 0, reach=lambda: reach,
                      proc=str(tmp_path), sys_net=str(tmp_path))
    return Model(rows.registry(), backend)


def values(m):
    return {p: v for p, _r, v in m.get_parameter_values(["Device.Cellular."])}


def test_cellular_from_a_recorded_modemmanager_modem(tmp_path):
    got = values(model(tmp_path, Reach("good-sim-home-connected")))
    assert got["Device.Cellular.%sReachability" % V] == "data"
    assert got["Device.Cellular.InterfaceNumberOfEntries"] == 1
    i = "Device.Cellular.Interface.1."
    assert (got[i + "Status"], got[i + "IMEI"], got[i + "CurrentAccessTechnology"], got[i + "NetworkInUse"]) == (
        "Up", "860018046114881", "LTE", "Vodafone.de")
    assert (got[i + "RSSI"], got[i + "RSRP"], got[i + "RSRQ"], got[i + "%sSINR" % V]) == (-67, -93, -9, 12)
    assert got[i + "%sRegistration" % V] == "home"
    assert (got[i + "USIM.Status"], got[i + "USIM.IMSI"], got[i + "USIM.ICCID"], got[i + "USIM.MSISDN"]) == (
        "Valid", "262231017669630", "8949360000421790514", "+4917612345678")


def test_cellular_without_a_sim_and_without_reachability(tmp_path):
    got = values(model(tmp_path, Reach("no-sim")))
    i = "Device.Cellular.Interface.1."
    assert (got[i + "Status"], got[i + "USIM.Status"]) == ("Down", "None")
    assert i + "USIM.ICCID" not in got and i + "RSRP" not in got  # absent, not empty or zero
    with pytest.raises(Fault) as e:  # reachability not running: the object is not on this device
        values(model(tmp_path, None))
    assert e.value.code == 9005
