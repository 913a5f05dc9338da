"""`make run` (devtools.devrun) as real processes: one per state directory, taken ports named with what to
change, printed URLs that follow the ports, a development login that works, a second one beside the first,
the values it sets written into the config file, OPTS handed to the daemon."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from bridge.config import examine
from bridge.jsonrpc.users import Users
from support.daemon_process import PATIENCE, ROOT, listening_ports, stop_process
from support.ports import free_port


def free_pair():
    """A free port whose next one is free too: `make run PORT=<first + 1> CS_PORT=<first's + 1>` beside the
    first, as the docs say, with ports of the system's choice."""
    while True:
        port = free_port()
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
        finally:
            s.close()


def devrun(state, port, cs_port, log, opts=()):
    env = {k: v for k, v in os.environ.items() if k != "TR069_UBUS_SOCKET"}
    return subprocess.Popen([sys.executable, "-m", "devtools.devrun", "--state-dir", str(state), "--port", str(port),
                             "--cs-port", str(cs_port)] + list(opts), cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=log)


def lock_holder(state):
    """The pid in <state>/daemon.lock: the daemon, a child of `make run`."""
    with open(os.path.join(str(state), "daemon.lock")) as f:
        return json.load(f)["pid"]


def parent_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def wait_started(proc, state, log_path, timeout=20):
    deadline = time.monotonic() + timeout
    while not os.path.exists(os.path.join(str(state), "cli.url")):
        assert proc.poll() is None, open(log_path).read()
        assert time.monotonic() < deadline, "make run did not start"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """One `make run` for the module (each start costs a simulator and a daemon)."""
    tmp = tmp_path_factory.mktemp("devrun")
    port, cs_port = free_pair(), free_pair()
    log_path = tmp / "a.log"
    with open(log_path, "w") as log:
        proc = devrun(tmp / "a", port, cs_port, log)
    try:
        wait_started(proc, tmp / "a", log_path)
        with open(log_path) as f:
            lines = f.read().splitlines()
        yield proc, tmp / "a", port, cs_port, [line for line in lines if not line[:4].isdigit()]
    finally:
        stop_process(proc)


def test_make_run_prints_its_urls_and_a_working_dev_login(first):
    proc, state, port, cs_port, printed = first
    lines = printed[printed.index("state directory:   %s" % state):][:9]
    config = state / "config" / "tr069"
    assert lines[1] == ("config:            %s  (make run wrote acs.url, jsonrpc.port, os3p.enabled in it; edit the "
                        "rest: the daemon re-reads it; tr069-bridge check --config %s)" % (config, config))
    m = re.fullmatch(r"status page:       http://127\.0\.0\.1:(\d+)/   log in as dev, password (\S+) "
                     r"\(new on every make run\)", lines[2])
    assert m and int(m.group(1)) == port, lines
    assert lines[3] == "central system:    ws://127.0.0.1:%d/OS3P" % cs_port
    api = re.fullmatch(r"DMS REST API:      http://127\.0\.0\.1:(\d+)/v1  \(docs/dms-api\.md; cpe_id: the station's "
                     r"serial number\)", lines[4])
    assert api, lines[4]
    # the DMS API there drives this station: cpe_id is its serial number (the host's machine id)
    from bridge.device.host import _machine_id

    body = json.dumps({"search_options": {"cpe_id": _machine_id()}, "command_options": {"timeout": 20},
                       "parameters": ["Device.DeviceInfo.SerialNumber"]}).encode()
    deadline = time.monotonic() + 20
    while True:  # until the station has registered with the simulator
        try:
            with urllib.request.urlopen("http://127.0.0.1:%s/v1/method/GetParameterValues" % api.group(1), body,
                                        timeout=30) as r:
                reply = json.loads(r.read())
            break
        except urllib.error.HTTPError as e:
            assert e.code == 400 and time.monotonic() < deadline, e.read()
            time.sleep(0.2)
    assert reply["result"]["details"] == [{"key": "Device.DeviceInfo.SerialNumber", "value": _machine_id()}]
    assert lines[5] == "uploads:           http://127.0.0.1:%s/upload/ into %s  (GetFile: help GetFile)" % (
        api.group(1), state / "uploads")
    assert lines[6] == "in another shell:  .venv/bin/tr069-bridge call --state-dir %s status" % state
    assert lines[7] == "                   .venv/bin/tr069-bridge state --state-dir %s" % state
    assert Users(str(state / "config" / "rpcd")).authenticate("dev", m.group(2)) is not None
    with open(state / "cli.url") as f:
        assert f.read().strip() == "http://127.0.0.1:%d/ubus" % port
    # the sample host config is the package's defaults file with what make run set, marked, and it passes the check
    with open(config) as f, open(os.path.join(ROOT, "files", "etc", "config", "tr069")) as shipped:
        written, defaults = f.read().splitlines(), shipped.read().splitlines()
    marked = [line for line in written if "# make run sets this" in line]
    assert marked == ["\toption url 'ws://127.0.0.1:%d/OS3P'  # make run sets this (CS_PORT)" % cs_port,
                      "\toption enabled '1'  # make run sets this (the simulator runs)",
                      "\toption port '%d'  # make run sets this (PORT)" % port]
    assert [line for line in written if line not in marked] == \
        [line for line, section in in_sections(defaults) if (section, line.split()[:2]) not in (
            ("acs", ["option", "url"]), ("os3p", ["option", "enabled"]))] + ["", "config jsonrpc 'jsonrpc'"]
    sections, problems = examine(str(config))
    assert problems == []
    # the values the daemon runs with are the ones in the file
    assert uci_get(sections, "acs", "url") == "ws://127.0.0.1:%d/OS3P" % cs_port
    assert uci_get(sections, "jsonrpc", "port") == str(port) and uci_get(sections, "os3p", "enabled") == "1"


def in_sections(lines):
    """(line, name of the section it is in) for each line of a UCI file."""
    section = None
    for line in lines:
        if line.startswith("config "):
            section = line.split()[2].strip("'")
        yield line, section


def uci_get(sections, section, option):
    return next(s for s in sections if s[".name"] == section)[option]


def test_a_second_make_run_in_the_same_state_dir_stops_at_once(first):
    proc, state, port, cs_port, _ = first
    second = subprocess.run([sys.executable, "-m", "devtools.devrun", "--state-dir", str(state), "--port",
                             str(free_port()), "--cs-port", str(free_port())], cwd=ROOT, capture_output=True,
                            text=True, timeout=30)
    assert second.returncode == 1
    assert parent_of(lock_holder(state)) == proc.pid  # the daemon is make run's child
    assert second.stderr == (
        "make run: another tr069-bridge (pid %d, since %s, http://127.0.0.1:%d/ubus) already runs with the state "
        "directory %s: stop it, or run another one beside it: make run STATE_DIR=<another dir> PORT=%d CS_PORT=%d\n"
        % (lock_holder(state), re.search(r"since (\d\d:\d\d:\d\d)", second.stderr).group(1), port, state,
           free_port_hint(second, "PORT"), free_port_hint(second, "CS_PORT")))


def free_port_hint(result, var):
    return int(re.search(r" %s=(\d+)" % var, result.stderr).group(1))


@pytest.mark.parametrize("which, what, var, flag", [
    ("port", "the daemon's JSON-RPC endpoint and status page", "PORT", "--port"),
    ("cs_port", "the central-system simulator", "CS_PORT", "--cs-port"),
])
def test_a_taken_port_is_named_with_what_to_change(first, tmp_path, which, what, var, flag):
    _, _, port, cs_port, _ = first
    taken = port if which == "port" else cs_port
    ports = {"port": free_port(), "cs_port": free_port(), which: taken}
    r = subprocess.run([sys.executable, "-m", "devtools.devrun", "--state-dir", str(tmp_path / "b"), "--port",
                        str(ports["port"]), "--cs-port", str(ports["cs_port"])], cwd=ROOT, capture_output=True,
                       text=True, timeout=30)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == ("make run: port %d (%s) is taken by another program; choose another one: make run %s=%d "
                        "(or %s %d)\n" % (taken, what, var, taken + 1, flag, taken + 1))


def test_another_state_dir_and_the_next_ports_run_beside_the_first(first, tmp_path):
    """make run STATE_DIR=/tmp/second PORT=<PORT + 1> CS_PORT=<CS_PORT + 1>, as the README and
    docs/first-day.md say: each daemon listens only on its PORT, which serves its status page, its JSON-RPC
    and its CAMARA API (no port of its own that the next PORT would meet)."""
    _, state, port, cs_port, _ = first
    with open(tmp_path / "b.log", "w") as log:
        other = devrun(tmp_path / "b", port + 1, cs_port + 1, log)
    try:
        wait_started(other, tmp_path / "b", tmp_path / "b.log")
        assert other.poll() is None
        assert parent_of(lock_holder(tmp_path / "b")) == other.pid
        for where, http_port in ((state, port), (tmp_path / "b", port + 1)):
            assert listening_ports(lock_holder(where)) == {http_port}
            with open(os.path.join(str(where), "cli.sid")) as f:  # the CLI's session: every right
                token = f.read().strip()
            request = urllib.request.Request("http://127.0.0.1:%d%s/subscriptions" % (http_port, CAMARA),
                                             headers={"Authorization": "Bearer " + token})
            with urllib.request.urlopen(request, timeout=30) as r:
                assert (r.status, json.loads(r.read())) == (200, [])
    finally:
        stop_process(other)


CAMARA = "/device-reachability-status-subscriptions/v0.7"


def test_help_get_file_prints_an_example_that_uploads_into_the_state_directory(tmp_path):
    """The first day: type `help GetFile` into make run's console, then the example line it printed: the
    daemon's log lands in <state>/uploads/ (the central system's upload receiver) and the station reports
    Uploaded."""
    import queue
    import threading

    state = tmp_path / "g"
    env = {k: v for k, v in os.environ.items() if k != "TR069_UBUS_SOCKET"}
    proc = subprocess.Popen([sys.executable, "-m", "devtools.devrun", "--state-dir", str(state), "--port",
                             str(free_port()), "--cs-port", str(free_port())], cwd=ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    printed = queue.Queue()
    threading.Thread(target=lambda: [printed.put(line.rstrip("\n")) for line in proc.stdout], daemon=True).start()

    def type_in(line):
        proc.stdin.write(line + "\n")
        proc.stdin.flush()

    def until(test, what):
        deadline = time.monotonic() + PATIENCE
        while True:
            try:
                line = printed.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("make run never printed %s" % what) from None
            if test(line):
                return line

    try:
        until(lambda line: '"BootNotification"' in line, "the station's BootNotification")
        type_in("help GetFile")
        example = until(lambda line: line.startswith("  GetFile {"), "GetFile's example").strip()
        assert json.loads(example.split(" ", 1)[1])["location"].endswith("/upload/")
        type_in(example)
        answer = json.loads(until(lambda line: line.startswith("  answer: "), "GetFile's answer").split(": ", 1)[1])
        assert answer["status"] == "Accepted", answer
        until(lambda line: '"GetFileStatusNotification"' in line and '"Uploaded"' in line,
              "GetFileStatusNotification Uploaded")
        stored = state / "uploads" / answer["fileName"]
        log = stored.read_text()
        assert " running (backend host, state " in log  # the daemon's own log, as it uploads it
        assert oct(stored.stat().st_mode & 0o777) == "0o600"
    finally:
        stop_process(proc)


def test_opts_go_to_the_daemon_and_a_wrong_one_stops_make_run_at_once(tmp_path):
    """make run OPTS="--option KEY=VALUE": the daemon runs with it (not written to the file); a key the daemon
    would refuse is said before anything starts."""
    r = subprocess.run([sys.executable, "-m", "devtools.devrun", "--state-dir", str(tmp_path / "bad"), "--port",
                        str(free_port()), "--cs-port", str(free_port()), "--option", "cpe.log_lvl=debug"],
                       cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "make run: OPTS: cannot start: --option cpe.log_lvl: no such key (did you mean cpe.log_level?)\n"
    assert not os.path.exists(tmp_path / "bad" / "config" / "tr069")
    with open(tmp_path / "c.log", "w") as log:
        proc = devrun(tmp_path / "c", free_port(), free_port(), log, ["--option", "acs.identity=SUBS042"])
    try:
        wait_started(proc, tmp_path / "c", tmp_path / "c.log")
        deadline = time.monotonic() + 20
        while "/OS3P/SUBS042" not in open(tmp_path / "c.log").read():
            assert time.monotonic() < deadline, "the option did not reach the daemon"
            time.sleep(0.05)
        assert "SUBS042" not in open(tmp_path / "c" / "config" / "tr069").read()
    finally:
        stop_process(proc)
    assert proc.returncode == 0
