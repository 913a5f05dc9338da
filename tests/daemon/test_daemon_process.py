"""The real daemon as a subprocess: CLI calls, persistence across restarts, SIGTERM, SIGKILL, exit, reload."""

import json
import os
import re
import signal
import subprocess
import sys

import jsonschema

from bridge import schema
from bridge.ubusmsg import PARSE_ERROR
from support.daemon_process import BASE_CONFIG, ROOT, DaemonProcess, write_config

SCHEMA = schema.load("tr069")


def status_validator():
    sub = dict(SCHEMA["properties"]["status"]["properties"]["output"], definitions=SCHEMA["definitions"])
    return jsonschema.Draft7Validator(sub)


def test_cli_status_is_schema_valid(daemon):
    code, out, err = daemon.cli("status")
    assert code == 0, err
    assert out.startswith("{\n\t\"cwmp\": {\n")  # printed as `ubus call` prints it
    status_validator().validate(json.loads(out))


def test_cli_inform_forms(daemon):
    for args in ([], ['{"event":"6 connection request"}'], ['{"GetRPCMethods":true}'], ["tr069"]):
        code, out, err = daemon.cli("inform", *args[-1:]) if args != ["tr069"] else daemon.cli("tr069", "inform")
        assert code == 0, err
        assert json.loads(out)["status"] == 1


def test_cli_errors_like_ubus_and_says_why(daemon):
    """ubus's exit code and first line, then the reason the daemon has (the same schema check) on stderr."""
    code, out, err = daemon.cli("inform", '{"event":1}')
    assert (code, out) == (254, "")
    assert err.splitlines() == ['Command failed: ubus call tr069 inform {"event":1} (Invalid argument)',
                                "reason: /event expected string"]
    code, _, err = daemon.cli("inform", '{"event":"1 BOOT","bogus":true}')
    assert code == 254 and err.splitlines()[1] == "reason: /bogus is not allowed"
    code, _, err = daemon.cli("nosuch", "{}")
    assert code == 253 and err.splitlines() == ["Command failed: ubus call tr069 nosuch {} (Method not found)",
                                                "reason: tr069 has no method nosuch (its methods: command, inform, "
                                                "status)"]
    code, _, err = daemon.cli("inform", "not json")
    assert code == 256 - PARSE_ERROR and err.splitlines()[0] == "Failed to parse message data"  # as ubus says it
    assert err.splitlines()[1].startswith("reason: 'not json' is not a JSON object")
    # another object of the daemon, by its name, as `ubus call tr069.bridge state`
    code, out, err = daemon.cli("tr069.bridge", "state")
    assert code == 0 and json.loads(out)["daemon"]["pid"] == daemon.proc.pid, err


def test_statistics_persist_across_restart(tmp_path, daemon):
    for _ in range(2):
        assert daemon.call("inform", {"event": "1 BOOT"})[0] == 0
    # wait until the local sessions ended
    for _ in range(100):
        st = daemon.call("status")[1]
        if st["statistics"]["total_sessions"] == 2:
            break
    assert st["statistics"] == {"success_sessions": 2, "failure_sessions": 0, "total_sessions": 2}
    assert daemon.terminate() == 0
    d2 = DaemonProcess(tmp_path).start()
    try:
        st2 = d2.call("status")[1]
        assert st2["statistics"] == st["statistics"]
        assert st2["last_session"] == st["last_session"]
    finally:
        d2.kill()


def test_one_daemon_per_state_directory(tmp_path, daemon):
    """A second daemon on the same state directory exits at once with one line naming the first;
    with another state directory it runs beside it."""
    with open(tmp_path / "cli.url") as f:
        url = f.read().strip()
    second = subprocess.run([sys.executable, "-m", "bridge.daemon", "--backend", "host", "--state-dir",
                             str(tmp_path)], cwd=ROOT, env=daemon.env, capture_output=True, text=True, timeout=30)
    assert second.returncode == 1 and second.stdout == ""
    line = re.fullmatch(r"cannot start: another tr069-bridge \(pid (\d+), since \d\d:\d\d:\d\d, (\S+)\) already runs "
                        r"with the state directory (\S+): stop it, or start this one with another --state-dir "
                        r"\(and other ports\)\n", second.stderr)
    assert line, second.stderr
    assert line.groups() == (str(daemon.proc.pid), url, str(tmp_path))
    assert daemon.call("status")[0] == 0  # the first one is untouched
    other = tmp_path / "other"
    write_config(str(other), BASE_CONFIG)
    beside = DaemonProcess(other).start()
    try:
        assert beside.call("status")[0] == 0 and daemon.call("status")[0] == 0
    finally:
        beside.kill()


def test_sigterm_stops_cleanly(tmp_path, daemon):
    assert daemon.terminate() == 0
    assert not os.path.exists(tmp_path / "cli.sid")  # the local session is withdrawn
    assert "Traceback" not in daemon.stderr_text()


def test_sigkill_loses_no_statistics(tmp_path, daemon):
    daemon.call("inform", {})
    for _ in range(100):
        if daemon.call("status")[1]["statistics"]["total_sessions"] == 1:
            break
    daemon.proc.send_signal(signal.SIGKILL)
    daemon.proc.wait(10)
    d2 = DaemonProcess(tmp_path).start()
    try:
        assert d2.call("status")[1]["statistics"]["total_sessions"] == 1
    finally:
        d2.kill()


def test_exit_command_stops_the_daemon(daemon):
    code, out, _ = daemon.cli("command", '{"command":"exit"}')
    assert code == 0 and json.loads(out) == {"status": 0, "info": "tr069-bridge is stopping"}
    assert daemon.proc.wait(10) == 0


def test_reload_picks_up_config_changes(tmp_path, daemon):
    assert daemon.call("status")[1]["cwmp"]["acs_url"] == "ws://127.0.0.1:9000/OS3P"
    write_config(str(tmp_path), BASE_CONFIG + "\toption url 'wss://cs.example.net/OS3P'\n")
    assert daemon.call("command", {"command": "reload"})[1]["status"] == 0
    assert daemon.call("status")[1]["cwmp"]["acs_url"] == "wss://cs.example.net/OS3P"
    write_config(str(tmp_path), BASE_CONFIG + "\toption url 'ws://other.example/OS3P'\n")
    daemon.proc.send_signal(signal.SIGHUP)
    for _ in range(200):
        if daemon.call("status")[1]["cwmp"]["acs_url"] == "ws://other.example/OS3P":
            break
    assert daemon.call("status")[1]["cwmp"]["acs_url"] == "ws://other.example/OS3P"


def test_broken_config_reload_keeps_running(tmp_path, daemon):
    path = write_config(str(tmp_path), "config acs 'acs\n")
    assert daemon.call("command", {"command": "reload"})[1] == {"status": -1,
                                                                "info": "%s:1: No closing quotation" % path}
    assert daemon.call("status")[0] == 0


def test_reload_with_an_invalid_value_keeps_every_previous_value(tmp_path, daemon):
    write_config(str(tmp_path), BASE_CONFIG + "\toption url 'wss://before.example/OS3P'\n")
    assert daemon.call("command", {"command": "reload"})[1]["status"] == 0
    path = write_config(str(tmp_path), BASE_CONFIG + "\toption url 'wss://after.example/OS3P'\n"
                                                     "\toption periodic_inform_interval 'banana'\n")
    assert daemon.call("command", {"command": "reload"})[1] == {"status": -1, "info": (
        "%s:9: tr069.acs.periodic_inform_interval: expected an integer 1-604800, got 'banana'" % path)}
    assert daemon.call("status")[1]["cwmp"]["acs_url"] == "wss://before.example/OS3P"


def test_reboot_end_session_reaches_the_device(tmp_path, daemon):
    daemon.call("command", {"command": "reboot_end_session"})
    daemon.call("inform", {})
    path = tmp_path / "device-actions.jsonl"
    for _ in range(200):
        if path.exists() and "reboot" in path.read_text():
            break
        daemon.call("status")
    assert [json.loads(x)["action"] for x in path.read_text().splitlines()] == ["reboot"]
