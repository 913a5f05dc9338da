"""bridge.logger: lines written without the logging package where nothing loaded it, through it once
something has (websocket-client, requests, pytest), each line once and in one format either way."""

import os
import re
import signal
import subprocess
import sys
import time

from support.daemon_process import HEAVY, ROOT, imported, write_config

LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.-]+: ")

PROBE = r"""
import sys
from bridge import logger, logsetup, stateview
logsetup.setup("host")
recent = stateview.RecentErrors()
logger.add_sink(recent)
log = logger.getLogger("bridge.probe")
log.debug("not shown: below info")
log.info("direct %s", 1)
log.warning("bad format %d", "x")
try:
    1 / 0
except ZeroDivisionError:
    log.exception("direct failure")
print("loaded before:", "logging" in sys.modules, flush=True)
if sys.argv[1] == "then-load":
    from bridge.os3p import wsclient    # the OS3P surface's library: its lines come without the logging package
    wsclient.load()
    import websocket._logging
    websocket._logging.error("library line")
    websocket._logging.info("library info")
    print("after websocket-client:", "logging" in sys.modules, flush=True)
    import logging                      # requests (a transfer's library) loads the logging package,
    logger.route_std()                  # and bridge/os3p/transfers.py routes it where it imports requests
    logging.getLogger("urllib3").error("urllib3 line")
    log.info("forwarded %s", 2)
    try:
        {}["k"]
    except KeyError:
        log.exception("forwarded failure")
    logsetup.set_level("warning")
    log.info("not shown: below warning")
print("recent:", [(lv, src, msg) for _t, lv, src, msg in recent.items], flush=True)
"""


def python_c(code, *args):
    """code run by a fresh interpreter (where nothing has loaded the logging package yet)."""
    return subprocess.run([sys.executable, "-c", code] + list(args), cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
                          capture_output=True, text=True, timeout=30)


def run_probe(mode):
    r = python_c(PROBE, mode)
    assert r.returncode == 0, r.stderr
    return r.stdout, r.stderr


def records(err):
    """(level, name: message) of each line that starts a record; tracebacks stay with theirs."""
    out = []
    for line in err.splitlines():
        m = LINE.match(line)
        if m:
            out.append((m.group(1), line[m.end() - len(m.group(0)):].split(" ", 3)[3]))
        else:
            assert out, "a line outside any record: %r" % line
            out[-1] = (out[-1][0], out[-1][1] + "\n" + line)
    return out


def test_without_the_logging_package_lines_are_formatted_leveled_and_carry_their_traceback():
    out, err = run_probe("alone")
    assert "loaded before: False" in out
    recs = records(err)
    assert [(lv, text.split("\n")[0]) for lv, text in recs] == [
        ("INFO", "bridge.probe: direct 1"),
        ("WARNING", "bridge.probe: bad format %d ('x',) (log message does not format)"),
        ("ERROR", "bridge.probe: direct failure"),
    ]
    tb = recs[2][1].split("\n")
    assert tb[1] == "Traceback (most recent call last):" and tb[-1] == "ZeroDivisionError: division by zero"
    assert "recent: [('warning', 'bridge.probe', \"bad format %d ('x',) (log message does not format)\"), " \
           "('error', 'bridge.probe', 'direct failure')]" in out


def test_library_lines_and_ours_arrive_once_each_in_the_same_format_with_the_logging_package_or_without():
    out, err = run_probe("then-load")
    recs = records(err)
    assert [(lv, text.split("\n")[0]) for lv, text in recs] == [
        ("INFO", "bridge.probe: direct 1"),
        ("WARNING", "bridge.probe: bad format %d ('x',) (log message does not format)"),
        ("ERROR", "bridge.probe: direct failure"),
        ("ERROR", "websocket: library line"),
        ("INFO", "websocket: library info"),
        ("ERROR", "urllib3: urllib3 line"),
        ("INFO", "bridge.probe: forwarded 2"),
        ("ERROR", "bridge.probe: forwarded failure"),
    ]
    assert "after websocket-client: False" in out  # websocket-client alone leaves the logging package out
    assert recs[-1][1].split("\n")[-1] == "KeyError: 'k'"
    assert "('error', 'websocket', 'library line')" in out and "('error', 'bridge.probe', 'forwarded failure')" in out


EMBEDDED = r"""
import logging, sys
logging.basicConfig(level=logging.CRITICAL)   # a program (the fuzz runner) that wants no lines
from bridge import logger, stateview
from bridge.os3p import wsclient
logger.add_sink(stateview.RecentErrors())
wsclient.load()
logger.getLogger("bridge.probe").warning("not shown: the program's level holds")
print(logging.getLogger().level)
"""


def test_a_program_that_configured_logging_keeps_its_level():
    r = python_c(EMBEDDED)
    assert (r.returncode, r.stdout, r.stderr) == (0, "50\n", "")


def test_with_nothing_set_up_warnings_reach_stderr_as_the_logging_package_would_print_them():
    """The CLI installs no sink: what it logs at warning and above is still seen."""
    probe = ("from bridge import logger; log = logger.getLogger('bridge.cli'); log.info('not shown'); "
             "log.warning('config %s: unknown option', 'x'); import sys; print('logging' in sys.modules)")
    r = python_c(probe)
    assert (r.returncode, r.stdout, r.stderr) == (0, "False\n", "config x: unknown option\n")


def test_under_pytest_records_go_through_the_logging_package(caplog):
    from bridge import logger

    caplog.set_level("INFO", logger="bridge.probe")
    logger.getLogger("bridge.probe").info("seen by %s", "caplog")
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("bridge.probe", "INFO", "seen by caplog")]


def test_the_ubus_surface_alone_leaves_every_heavy_module_out(tmp_path):
    """The device's daemon (the ubus surface, the tr069 object, the sensors, reachability with its CAMARA
    API listening, the parameter model), started as a device starts it (python -S: the standard library
    alone) and left idle: none of HEAVY imported, its own lines on stderr all the same."""
    write_config(str(tmp_path), "config jsonrpc 'jsonrpc'\n\toption enabled '0'\n"
                                "config reach 'reach'\n\toption api_port '0'\n")
    env = dict(os.environ, PYTHONPATH=ROOT, TR069_UBUS_SOCKET=str(tmp_path / "no-ubusd.sock"))
    p = subprocess.Popen([sys.executable, "-S", "-X", "importtime", "-m", "bridge.daemon", "--backend", "host",
                          "--state-dir", str(tmp_path)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    def log_text():
        try:
            return (tmp_path / "daemon.log").read_text()
        except OSError:
            return ""

    deadline = time.monotonic() + 20
    while not ("running" in log_text() and "ubus: cannot connect" in log_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # idle: the first refresh and the first timers have run
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=20)
    loaded = imported(err)
    assert {"bridge.ubus.connection", "bridge.reach.service", "bridge.model.component",
            "bridge.jsonrpc.listener"} <= loaded
    assert {name: HEAVY[name] for name in sorted(set(HEAVY) & loaded)} == {}
    lines = [line for line in err.splitlines() if not line.startswith("import time:")]
    assert any(LINE.match(x) and "WARNING bridge.ubus.connection: ubus: cannot connect" in x for x in lines), err
    assert any(LINE.match(x) and x.endswith("INFO tr069-bridge: stopped") for x in lines), err


def test_syslog_lines_are_rfc3164_datagrams_with_the_daemon_facility(tmp_path):
    """What logd reads on /dev/log: <facility*8+severity>tag[pid]: name: message (logread shows it)."""
    import _socket

    from bridge import logger, logsetup

    path = str(tmp_path / "log")
    server = _socket.socket(_socket.AF_UNIX, _socket.SOCK_DGRAM)
    server.bind(path)
    server.settimeout(5)
    sink = logsetup.SyslogSink(address=path)
    try:
        sink.emit(0.0, logger.WARNING, "bridge.ubus.connection", "ubus: cannot connect")
        sink.emit(0.0, logger.ERROR, "tr069-bridge", "boom", "Traceback (most recent call last):\n  ...")
        sink.emit(0.0, logger.DEBUG, "bridge.x", "detail")
        got = [server.recv(8192).decode() for _ in range(3)]
    finally:
        server.close()
        sink.sock.close()
    tag = "tr069-bridge[%d]" % os.getpid()
    assert got == ["<28>%s: bridge.ubus.connection: ubus: cannot connect" % tag,
                   "<27>%s: tr069-bridge: boom\nTraceback (most recent call last):\n  ..." % tag,
                   "<31>%s: bridge.x: detail" % tag]


def test_the_log_file_starts_over_past_its_limit_keeping_one_copy(tmp_path, monkeypatch):
    """The host's daemon.log (what logread shows there): bounded, counted from what an earlier run left."""
    from bridge import logsetup

    monkeypatch.setattr(logsetup, "LOG_FILE_LIMIT", 1000)
    path = tmp_path / "daemon.log"
    path.write_text("x" * 900 + "\n")  # an earlier run's lines
    sink = logsetup.BoundedFileSink(str(path), fmt=lambda *a: a[3])
    try:
        sink.emit(0.0, 20, "bridge.x", "y" * 99)   # 1001 bytes: past the limit, starts over
        assert (tmp_path / "daemon.log.1").read_text() == "x" * 900 + "\n" + "y" * 99 + "\n"
        assert path.read_text() == ""
        for i in range(3):
            sink.emit(0.0, 20, "bridge.x", "line %d" % i)
        assert path.read_text() == "line 0\nline 1\nline 2\n"
        assert oct(path.stat().st_mode & 0o777) == "0o600"
    finally:
        sink.close()
