"""Configuration mistakes explain themselves: `tr069-bridge check`, reload refused as a whole, start-up
errors naming the file and the option, --option errors naming the key and the expected type, --help.

Each test pins the exact text a user sees.
"""

import json
import logging
import subprocess
import sys

import pytest

from bridge import cli, daemon
from bridge.config import Config, ConfigError, examine
from bridge.station.checks import SECTION_CHECKS
from support.daemon_process import ROOT

BAD = """config acs 'acs'
\toption url 'wss://new.example/OS3P'
\toption periodic_inform_interval 'banana'
\toption periodic_inform_intervall '60'
config cpe 'cpe'
\toption log_level 'loud'
config os3p 'os3p'
\toption call_timeout '-5'
\toption enabled 'maybe'
config jsonrpc 'jsonrpc'
\toption port '70000'
config other 'other'
\toption anything 'goes'
"""


def expected_bad(path):
    return [
        "%s:3: tr069.acs.periodic_inform_interval: expected an integer 1-604800, got 'banana'" % path,
        "%s:4: tr069.acs.periodic_inform_intervall: unknown option, ignored (did you mean periodic_inform_interval?)"
        % path,
        "%s:6: tr069.cpe.log_level: expected one of error, warning, info, debug, got 'loud'" % path,
        "%s:8: tr069.os3p.call_timeout: expected an integer 1-3600, got '-5'" % path,
        "%s:9: tr069.os3p.enabled: expected a boolean (1/0, true/false, yes/no, on/off), got 'maybe'" % path,
        "%s:11: tr069.jsonrpc.port: expected an integer 0-65535 (a port number), got '70000'" % path,
    ]


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "tr069")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def test_examine_lists_every_problem_with_file_line_and_key(path):
    write(path, BAD)
    sections, problems = examine(path)
    assert [str(p) for p in problems] == expected_bad(path)
    assert [p.fatal for p in problems] == [True, False, True, True, True, True]
    assert sections is not None


def test_a_file_that_does_not_parse_names_file_and_line(path):
    write(path, "config acs 'acs'\n\toption url 'ws://x\n")
    sections, problems = examine(path)
    assert sections is None
    assert [str(p) for p in problems] == ["%s:2: No closing quotation" % path]


def test_a_list_where_an_option_belongs(path):
    write(path, "config acs 'acs'\n\tlist url 'a'\n\tlist url 'b'\n")
    assert [str(p) for p in examine(path)[1]] == [
        "%s:3: tr069.acs.url: expected a string of one line, at most 512 characters, got a list (use option, not list)" % path]


def test_a_missing_file_is_valid(path):
    assert examine(path) == ([], [])


def test_reload_is_refused_as_a_whole_and_keeps_every_previous_value(path):
    write(path, "config acs 'acs'\n\toption url 'ws://old.example/OS3P'\n\toption periodic_inform_interval '600'\n")
    c = Config(path)
    write(path, BAD)
    with pytest.raises(ConfigError) as e:
        c.reload()
    assert str(e.value) == expected_bad(path)[0]
    assert [str(p) for p in e.value.problems] == [x for x in expected_bad(path) if "unknown option" not in x]
    # neither the invalid values nor the valid url of the refused file: the previous values, not the defaults
    assert c.get("acs.url") == "ws://old.example/OS3P"
    assert c.get("acs.periodic_inform_interval") == 600


def test_unknown_option_is_warned_once(path, caplog):
    write(path, "config acs 'acs'\n\toption colour 'red'\n")
    with caplog.at_level(logging.WARNING, logger="bridge.config"):
        c = Config(path)
        c.reload()
        c.reload()
    assert [r.getMessage() for r in caplog.records] == ["%s:2: tr069.acs.colour: unknown option, ignored" % path]


# --- the command line ---------------------------------------------------------------------------

def test_check_command_prints_every_problem_and_fails(path, capsys):
    write(path, BAD)
    assert cli.main(["check", "--config", path]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out == expected_bad(path) + [
        "%s: 5 invalid value(s): start, restart and reload refuse this file (a running daemon keeps its values)" % path]


def test_check_command_on_a_valid_file(path, capsys):
    write(path, "config acs 'acs'\n\toption url 'ws://127.0.0.1:9000/OS3P'\n\toption colour 'red'\n")
    assert cli.main(["check", "--config", path]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "%s:3: tr069.acs.colour: unknown option, ignored" % path, "%s: valid, 1 warning(s)" % path]
    write(path, "config acs 'acs'\n")
    assert cli.main(["check", "--quiet", "--config", path]) == 0
    assert capsys.readouterr().out == ""


def test_check_command_finds_the_host_config_in_the_state_dir(tmp_path, capsys):
    (tmp_path / "config").mkdir()
    write(str(tmp_path / "config" / "tr069"), "config cpe 'cpe'\n\toption log_level 'loud'\n")
    assert cli.main(["check", "--backend", "host", "--state-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        "%s/config/tr069:2: tr069.cpe.log_level: expected one of error, warning, info, debug, got 'loud'" % tmp_path)


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["help"], ["call", "--help"], ["check", "--help"],
                                  ["state", "--help"], ["daemon", "--help"], ["daemon", "-h"]])
def test_help_exits_0_on_stdout(argv, capsys):
    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    assert "usage" in out.lower() or "tr069-bridge call" in out
    assert err == ""


def test_no_or_unknown_command_is_an_error(capsys):
    assert cli.main([]) == 1
    assert cli.main(["bogus"]) == 1
    assert capsys.readouterr().err.startswith("tr069-bridge command line.")
    assert cli.main(["bogus"]) == 1
    assert capsys.readouterr().err.splitlines()[0] == "tr069-bridge: unknown command 'bogus'"


@pytest.mark.parametrize("option, message", [
    ("nosuch.key=1", "cannot start: --option nosuch.key: no such key (the keys: docs/configuration.md)"),
    ("acs.ulr=ws://x", "cannot start: --option acs.ulr: no such key (did you mean acs.url?)"),
    ("jsonrpc.port=abc", "cannot start: --option jsonrpc.port: expected an integer 0-65535 (a port number), "
                         "got 'abc'"),
    ("jsonrpc.enabled=perhaps", "cannot start: --option jsonrpc.enabled: expected a boolean (1/0, true/false, "
                                "yes/no, on/off), got 'perhaps'"),
    ("acs.url", "cannot start: --option acs.url: expected KEY=VALUE, e.g. --option acs.url=..."),
])
def test_option_errors_name_the_key_and_the_type(option, message):
    with pytest.raises(SystemExit) as e:
        daemon.parse_args(["--option", option])
    assert str(e.value) == message


def test_option_overrides_convert(path):
    write(path, "")
    c = Config(path)
    c.override("acs.url=ws://h:1/x=y")
    c.override("jsonrpc.port=0")
    assert c.get("acs.url") == "ws://h:1/x=y" and c.get("jsonrpc.port") == 0


# --- start-up, in a real process ------------------------------------------------------------------

def start(tmp_path, config_text, *extra):
    cfg = tmp_path / "tr069"
    cfg.write_text(config_text)
    return subprocess.run([sys.executable, "-m", "bridge.daemon", "--backend", "host", "--state-dir",
                           str(tmp_path / "state"), "--config", str(cfg)] + list(extra),
                          cwd=ROOT, capture_output=True, text=True, timeout=30), str(cfg)


def errors(stderr):
    return [line.split(" ERROR tr069-bridge: ", 1)[1] for line in stderr.splitlines() if " ERROR " in line]


def started_with(tmp_path, config_text):
    """The real daemon started on a config file: -> (its stderr lines of level ERROR, status, state view)."""
    from support.daemon_process import DaemonProcess

    cfg = tmp_path / "tr069"
    cfg.write_text(config_text)
    d = DaemonProcess(tmp_path / "state", ["--config", str(cfg), "--option", "jsonrpc.port=0",
                                           "--option", "reach.api_port=0"]).start()  # ephemeral ports only
    try:
        status, view = d.call("status")[1], json.loads(_state(d))
    finally:
        assert d.terminate() == 0
    lines = d.proc.stderr.read().decode().splitlines()
    errs = [x.split(" ERROR ", 1)[1].split(": ", 1)[1] for x in lines if " ERROR " in x]
    return [e for e in errs if e.startswith("config ")], status, view, str(cfg)  # the config reader's lines


def _state(d):
    r = subprocess.run([sys.executable, "-m", "bridge.cli", "state", "--json", "--state-dir", d.state_dir],
                       cwd=ROOT, env=d.env, capture_output=True, text=True, timeout=30)
    return r.stdout


def test_start_up_sets_aside_each_value_that_does_not_hold_and_names_file_line_and_option(tmp_path):
    """Start never depends on what was stored: a value that does not hold is set aside (its default is
    used), each with one line naming file, line and option; status and the state view say so. The init
    script's `start` still refuses such a file (tr069-bridge check) while a daemon runs."""
    errs, status, view, cfg = started_with(tmp_path, "config cpe 'cpe'\n\toption log_level 'loud'\n"
                                                     "config acs 'acs'\n\toption periodic_inform_interval '-5'\n"
                                                     "\toption url 'ws://kept.example/OS3P'\n")
    assert errs == [
        "config %s:2: tr069.cpe.log_level: expected one of error, warning, info, debug, got 'loud'; set aside: its "
        "default is used" % cfg,
        "config %s:4: tr069.acs.periodic_inform_interval: expected an integer 1-604800, got '-5'; set aside: its "
        "default is used" % cfg]
    assert status["cwmp"]["set_aside"] == [cfg] and status["cwmp"]["acs_url"] == "ws://kept.example/OS3P"
    assert view["set_aside"] == [
        {"file": cfg, "as": None, "why": "line 2: tr069.cpe.log_level: expected one of error, warning, info, "
                                         "debug, got 'loud'"},
        {"file": cfg, "as": None, "why": "line 4: tr069.acs.periodic_inform_interval: expected an integer "
                                         "1-604800, got '-5'"}]


def test_start_up_with_a_file_that_does_not_parse_runs_on_the_defaults(tmp_path):
    errs, status, view, cfg = started_with(tmp_path, "config acs 'acs\n")
    assert errs == ["config %s:1: No closing quotation; set aside: every option at its default" % cfg]
    assert status["cwmp"]["set_aside"] == [cfg] and status["cwmp"]["acs_url"] == "ws://127.0.0.1:9000/OS3P"
    assert view["set_aside"] == [{"file": cfg, "as": None, "why": "line 1: No closing quotation"}]


def test_start_up_option_error_is_one_line_and_starts_nothing(tmp_path):
    r, _ = start(tmp_path, "", "--option", "acs.url")
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "cannot start: --option acs.url: expected KEY=VALUE, e.g. --option acs.url=...\n"
    assert not (tmp_path / "state").exists()


# --- the station's hardware sections: what the daemon would not use, said before a restart ------

STATION_BAD = """config indicator 'MV1'
\toption ground '18'
\toption test 'gpio20'
config indicator 'MV2'
\toption overcurrent '5'
\toption backend 'modbus'
config indicator 'MV3'
\toption overcurrent '7'
\toption backend 'ubus'
config meter 'meter'
\toption protocol 'rtu'
\toption baud '9600'
config register
\toption address '0x10'
\toption measurand 'Voltage.L1N'
\toption unit 'volts'
config register 'energy'
\toption measurand 'RealEnergyDelivered.Sum'
config register 'f'
\toption address '100'
\toption measurand 'Frequency'
\toption scale 'tenth'
config threshold 'hot'
\toption measurand 'BoardTemperature'
\toption high 'warm'
config threshold 'nameless'
\toption high '50'
"""


def test_check_names_each_refused_station_section_with_its_line(tmp_path):
    path = tmp_path / "tr069"
    path.write_text(STATION_BAD)
    _, problems = examine(str(path), SECTION_CHECKS)
    assert [str(p) for p in problems] == ["%s:%s" % (path, line) for line in (
        "1: tr069.MV1: option overcurrent (an input line) is missing; not used",
        "3: tr069.MV1.test: not a GPIO line: 'gpio20' (a sysfs number like 17, or gpiochip0:5); not used",
        "6: tr069.MV2.backend: backend 'modbus': gpio or ubus; not used",
        "7: tr069.MV3: the ubus backend needs option object (the ubus object with get/set); not used",
        "16: tr069.@register[0].unit: unit 'volts' is not one the spec names; not used",
        "17: tr069.energy: option address is missing; not used",
        "22: tr069.f.scale: scale 'tenth' is not a number; not used",
        "10: tr069.meter: meter protocol rtu: option device (the serial port) is missing; not used",
        "25: tr069.hot.high: high 'warm' is not a number; not used",
        "26: tr069.nameless: option measurand is missing; not used",
    )]
    assert all(not p.fatal for p in problems)  # the daemon starts; those sections are not used


def test_a_valid_station_is_clean(tmp_path):
    path = tmp_path / "tr069"
    path.write_text("""config indicator 'MV1'
\toption overcurrent '17'
\toption ground 'gpiochip0:18'
\toption test '20'
config meter 'meter'
\toption host '127.0.0.1'
config register
\toption address '0'
\toption measurand 'Voltage.L1N'
\toption type 'float32'
\toption unit 'V'
config threshold
\toption measurand 'BoardTemperature'
\toption high '70'
""")
    assert examine(str(path))[1] == []
