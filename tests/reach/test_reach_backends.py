"""The modem parsers on the tools' recorded output (tests/data/modem/, provenance in its README)."""

import json
import os

import pytest

from bridge.reach.backends import choose, mm, simulated, umbim, uqmi, uqmid
from bridge.reach.modem import ModemInfo, clean

from support.paths import DATA as TEST_DATA

DATA = os.path.join(TEST_DATA, "modem")


def load(tool, case):
    with open(os.path.join(DATA, tool, case + ".json")) as f:
        return json.load(f)


def test_mm_good_sim_home_connected():
    m = mm.parse_dump(load("mm", "good-sim-home-connected"))
    assert m.as_dict() == {
        "imei": "860018046114881", "iccid": "8949360000421790514", "imsi": "262231017669630",
        "msisdn": "+4917612345678", "operator": "Vodafone.de", "operator_code": "26202", "registration": "home",
        "technology": "lte", "rssi": -67.0, "rsrp": -93.0, "rsrq": -9.0, "sinr": 12.4, "bearer": True,
        "sim": "ready", "state": "connected"}
    assert m.registered


def test_mm_roaming_without_bearer():
    m = mm.parse_dump(load("mm", "roaming-registered"))
    assert (m.registration, m.bearer, m.operator, m.rsrp, m.sim) == ("roaming", False, "Swisscom", -104.0, "ready")
    assert m.registered


def test_mm_searching_has_no_signal_and_is_not_registered():
    m = mm.parse_dump(load("mm", "searching"))
    assert (m.registration, m.bearer, m.rsrp, m.rssi, m.operator) == ("searching", False, None, None, None)
    assert not m.registered


def test_mm_pin_locked():
    """The ICCID is read from a locked SIM, the IMSI only once the PIN is given."""
    m = mm.parse_dump(load("mm", "pin-locked"))
    assert (m.sim, m.registration, m.bearer, m.iccid, m.imsi, m.msisdn) == (
        "locked", "idle", False, "8949360000421790514", None, None)


def test_mm_weak_signal():
    m = mm.parse_dump(load("mm", "weak-signal"))
    assert (m.registration, m.bearer, m.technology, m.rsrp, m.rssi, m.rsrq, m.sinr) == (
        "home", True, "lte", -117.0, -89.0, -15.0, -1.2)


def test_mm_no_sim_recorded_from_mmcli():
    m = mm.parse_dump(load("mm", "no-sim-mmcli"))
    assert (m.sim, m.registration, m.bearer, m.state, m.imei) == ("missing", "idle", False, "failed", "860018046114881")
    assert m.iccid is None and m.imsi is None and m.rsrp is None


RECORDED = ("good-sim-home-connected", "roaming-registered", "searching", "pin-locked", "weak-signal",
            "no-sim-mmcli")


@pytest.mark.parametrize("case", RECORDED)
def test_mm_the_daemons_own_mmcli_calls_read_what_rpcds_dump_holds(case, monkeypatch):
    """Without rpcd's modemmanager object the backend runs mmcli itself (dump_from_mmcli): replayed on the
    same recorded mmcli outputs the rpcd plugin's dump was composed from, it reads the same modem, and asks
    mmcli nothing that was not recorded."""
    calls = load("mm", case + ".mmcli")["calls"]
    asked = []

    def run(argv):
        assert argv[0] == mm.MMCLI and argv[-1] == "--output-json"
        key = " ".join(argv[1:-1])
        asked.append(key)
        return 0, calls[key], ""

    monkeypatch.setattr(mm, "run", run)
    assert mm.parse_dump(mm.dump_from_mmcli()) == mm.parse_dump(load("mm", case))
    assert sorted(asked) == sorted(calls)


def test_mm_no_sim():
    m = mm.parse_dump(load("mm", "no-sim"))
    assert (m.sim, m.registration, m.bearer, m.imei, m.state) == ("missing", "idle", False, "015184005031831", "failed")
    assert m.iccid is None and m.imsi is None


def test_mm_pin2_required_on_a_connected_modem_locks_nothing():
    dump = load("mm", "good-sim-home-connected")
    dump["modem"][0]["generic"]["unlock-required"] = "sim-pin2"
    assert mm.parse_dump(dump).sim == "ready"


def test_mm_no_modem_and_nonsense():
    assert mm.parse_dump({"modem": []}).as_dict() == {}
    assert mm.parse_dump({"modem": ["x"]}).as_dict() == {}
    assert mm.parse_dump([]).as_dict() == {}


# mmcli's human labels of the recorded lines -> the key mmcli -J prints the same value under
# (ModemManager cli/mmcli-output.c, field_infos)
HUMAN_KEYS = {"manufacturer": "generic.manufacturer", "model": "generic.model",
              "firmware revision": "generic.revision", "equipment id": "generic.equipment-identifier",
              "state": "generic.state", "failed reason": "generic.state-failed-reason",
              "power state": "generic.power-state"}


def test_mm_no_sim_json_holds_what_the_recorded_human_output_says():
    with open(os.path.join(DATA, "mm", "no-sim.human.txt")) as f:
        lines = [line.split("|", 1)[1] for line in f if "|" in line]
    modem = load("mm", "no-sim")["modem"][0]
    checked = 0
    for line in lines:
        label, _, value = line.strip().partition(": ")
        key = HUMAN_KEYS.get(label)
        if key is None:
            continue
        section, name = key.split(".")
        assert modem[section][name] == value, label
        checked += 1
    assert checked == len(HUMAN_KEYS)


def test_uqmi_cases():
    good = uqmi.parse(load("uqmi", "good-sim-home-connected"))
    assert good.as_dict() == {
        "imei": "867962041294151", "iccid": "89882280666027595366", "imsi": "901288000121344",
        "operator": "Orange", "operator_code": "26003", "registration": "home", "technology": "lte",
        "rssi": -63.0, "rsrp": -93.0, "rsrq": -10.0, "sinr": 9.6, "bearer": True, "sim": "ready"}
    assert good.msisdn is None  # "Not supported" is QMI's error text, not a number
    roaming = uqmi.parse(load("uqmi", "roaming"))
    assert (roaming.registration, roaming.bearer, roaming.operator_code) == ("roaming", False, "20408")
    searching = uqmi.parse(load("uqmi", "searching"))
    assert (searching.registration, searching.rsrp, searching.technology) == ("searching", None, None)
    locked = uqmi.parse(load("uqmi", "pin-locked"))
    assert (locked.sim, locked.registration, locked.imsi) == ("locked", "idle", None)
    nosim = uqmi.parse(load("uqmi", "no-sim"))
    assert (nosim.sim, nosim.registration, nosim.iccid, nosim.imei) == ("missing", "idle", None, "867962041294151")


def test_uqmi_as_the_openwrt_wiki_shows_it():
    """A public recording (multi-line, from a uqmi of before 2018, whose snr was QMI's tenths of a dB)."""
    m = uqmi.parse(load("uqmi", "openwrt-wiki-registered"))
    assert m.as_dict() == {"operator": "OperatorName", "operator_code": "12345", "registration": "home",
                           "technology": "lte", "rssi": -71.0, "rsrq": -9.0, "rsrp": -94.0, "sinr": 7.0,
                           "bearer": True}


def test_uqmi_en_dc_signal_is_read_from_the_lte_anchor():
    out = load("uqmi", "good-sim-home-connected")
    out["--get-signal-info"] = json.dumps([{"type": "lte", "rssi": -60, "rsrq": -9, "rsrp": -88, "snr": 11.0},
                                           {"type": "5gnr", "rsrp": -95, "snr": 7.5, "rsrq": -11}])
    m = uqmi.parse(out)
    assert (m.rsrp, m.rssi) == (-88.0, -60.0)


def test_uqmid_dumps():
    live = uqmid.parse_dump(load("uqmid", "live"))
    assert (live.registration, live.bearer, live.sim, live.iccid, live.imsi) == (
        "registered", True, "ready", "89882280666027595366", "901288000121344")
    assert live.registered and live.rsrp is None
    pin = uqmid.parse_dump(load("uqmid", "pin-required"))
    assert (pin.sim, pin.registration, pin.iccid, pin.imsi) == ("locked", "idle", None, None)


def test_umbim_cases():
    good = umbim.parse(load("umbim", "good-sim-home-connected"))
    # the recording's masked ICCID ("xx") is kept as published; pin2 on a verified PIN1 locks nothing
    assert good.as_dict() == {
        "imei": "35432407xxxxxxx", "iccid": "xx", "imsi": "23210660", "msisdn": "+43660123456",
        "operator": "T-Mobile A", "operator_code": "23210", "registration": "home", "technology": "lte",
        "bearer": True, "sim": "ready"}
    roaming = umbim.parse(load("umbim", "roaming"))
    assert (roaming.registration, roaming.bearer) == ("roaming", False)
    searching = umbim.parse(load("umbim", "searching"))
    assert (searching.registration, searching.operator, searching.technology) == ("searching", None, None)
    locked = umbim.parse(load("umbim", "pin-locked"))
    assert (locked.sim, locked.registration, locked.bearer) == ("locked", "idle", None)
    nosim = umbim.parse(load("umbim", "no-sim"))
    assert (nosim.sim, nosim.registration, nosim.iccid) == ("missing", "idle", None)


def test_umbim_as_a_zte_mf823_printed_it():
    """A public recording (caps and pinstate, unindented as that umbim printed them): the IMEI is read, a
    required pin2 locks nothing."""
    m = umbim.parse(load("umbim", "openwrt-devel-mf823"))
    assert (m.imei, m.sim, m.registration) == ("866948018579584", None, None)


def test_values_that_are_not_values_are_absent():
    m = ModemInfo(rsrp="nan", rssi=float("inf"), sinr="--", imei="--", operator="", registration="weird",
                  sim="maybe", bearer="yes")
    assert m.as_dict() == {"registration": "unknown"}
    assert clean("rsrq", "-9.00") == -9.0
    with pytest.raises(ValueError):
        clean("colour", "red")


def test_auto_backend_choice():
    assert choose("auto", "host") == "host"
    assert choose("auto", "ubus", exists=lambda p: p == "/sbin/uqmi") == "uqmi"
    assert choose("auto", "ubus", exists=lambda p: False) == "none"
    assert choose("umbim", "ubus") == "umbim"


def test_simulated_modem_states(tmp_path):
    path = str(tmp_path / simulated.FILE)
    assert simulated.SimulatedModem(path).read().registration == "home"
    simulated.set_value(path, "modem", "nosim")
    assert simulated.SimulatedModem(path).read().sim == "missing"
    simulated.set_value(path, "modem", "roaming")
    simulated.set_value(path, "signal", "-120")
    m = simulated.SimulatedModem(path).read()
    assert (m.registration, m.rsrp) == ("roaming", -120.0)
    with pytest.raises(ValueError):
        simulated.set_value(path, "signal", "loud")
    with pytest.raises(ValueError):
        simulated.set_value(path, "uplink", "sideways")


# --- one program run (tools.run): real programs, bounded in time and bytes --------------------------------------

def test_a_program_run_gives_its_exit_status_stdout_and_stderr():
    from bridge.reach.backends.tools import run

    assert run(["sh", "-c", "printf 'out\\n'; printf 'err' >&2; exit 3"]) == (3, "out\n", "err")
    assert run(["sh", "-c", "read x || echo stdin-empty"]) == (0, "stdin-empty\n", "")  # stdin is /dev/null


def test_a_program_sees_none_of_the_daemons_descriptors(tmp_path):
    from bridge.reach.backends.tools import run

    ours = os.open(str(tmp_path / "ours"), os.O_CREAT | os.O_RDWR)  # close-on-exec, as every one of ours
    inherited = os.open(str(tmp_path / "inherited"), os.O_CREAT | os.O_RDWR)
    os.set_inheritable(inherited, True)  # as one this process could have been started with
    try:
        code, out, _ = run(["sh", "-c", "ls /proc/self/fd"])
    finally:
        os.close(ours)
        os.close(inherited)
    assert code == 0 and sorted(int(n) for n in out.split()) == [0, 1, 2, 3]  # 3: ls' own directory


def test_a_missing_program_and_one_that_hangs_are_backend_errors():
    import time

    from bridge.reach.backends.tools import BackendError, run

    with pytest.raises(BackendError, match="is not installed"):
        run(["/nonexistent/mmcli", "-L"])
    t0 = time.monotonic()
    with pytest.raises(BackendError, match="did not answer within 0.3 s"):
        run(["sh", "-c", "sleep 30"], timeout=0.3)
    assert time.monotonic() - t0 < 20  # killed, not waited for


def test_a_programs_output_is_read_to_its_end_and_kept_up_to_the_limit():
    from bridge.reach.backends.tools import run

    code, out, err = run(["sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x; echo done >&2"], limit=1000)
    assert (code, out, err) == (0, "x" * 1000, "done\n")  # the program was not held up by what was dropped


@pytest.mark.parametrize("cls", [uqmi.Uqmi, umbim.Umbim])
def test_the_control_device_is_a_dev_path_or_the_backend_is_refused(cls):
    """reach.device goes on the tool's command line: a /dev path only, /dev/cdc-wdm0 when unset."""
    assert cls({}).device == "/dev/cdc-wdm0"
    assert cls({"device": "/dev/cdc-wdm1"}).device == "/dev/cdc-wdm1"
    for bad in ("-d/etc/passwd", "cdc-wdm0", "/tmp/x"):
        with pytest.raises(ValueError, match="must be a /dev path"):
            cls({"device": bad})
