"""The shim as the daemon starts it (a real subprocess, host backend): cli.sid / cli.url appear,
the CLI calls tr069 status through them, SIGTERM removes them."""

import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from support.daemon_process import stop_process
from support.paths import ROOT


def wait_for(path, proc, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return
        if proc.poll() is not None:
            pytest.fail("daemon exited: %s" % proc.stderr.read())
        time.sleep(0.05)
    pytest.fail("%s did not appear" % path)


@pytest.fixture
def daemon(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("TR069_UBUS_SOCKET", None)
    proc = subprocess.Popen([sys.executable, "-m", "bridge.daemon", "--backend", "host", "--state-dir", str(tmp_path),
                             "--option", "jsonrpc.enabled=1", "--option", "jsonrpc.port=0"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(str(tmp_path / "cli.url"), proc)
        yield proc, tmp_path, env
    finally:
        stop_process(proc)


def test_cli_calls_status_through_the_shim(daemon):
    proc, state, env = daemon
    assert stat.S_IMODE((state / "cli.sid").stat().st_mode) == 0o600
    url = (state / "cli.url").read_text().strip()
    assert url.startswith("http://127.0.0.1:") and url.endswith("/ubus")
    if not os.path.exists("/var/run/ubus/ubus.sock"):  # else the CLI would go through ubusd
        out = subprocess.run([sys.executable, "-m", "bridge.cli", "call", "--state-dir", str(state), "status"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        status = json.loads(out.stdout)
        assert set(status) == {"cwmp", "last_session", "next_session", "statistics"}


def test_sigterm_removes_the_cli_files(daemon):
    proc, state, _ = daemon
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    assert not (state / "cli.sid").exists() and not (state / "cli.url").exists()


def test_port_in_use_leaves_the_daemon_running(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        env = dict(os.environ, PYTHONPATH=ROOT)
        env.pop("TR069_UBUS_SOCKET", None)
        proc = subprocess.Popen([sys.executable, "-m", "bridge.daemon", "--backend", "host", "--state-dir",
                                 str(tmp_path), "--option", "jsonrpc.enabled=1", "--option", "jsonrpc.port=%d" % port],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 15
            log = tmp_path / "daemon.log"
            while time.monotonic() < deadline and " running (backend" not in (
                    log.read_text() if log.exists() else ""):
                assert proc.poll() is None, "daemon exited"
                time.sleep(0.05)
            text = log.read_text()
            assert ("JSON-RPC shim not started: 127.0.0.1:%d is taken by another program; set jsonrpc.port "
                    "(uci, or --option jsonrpc.port=N) to a free port" % port) in text
            assert "Traceback" not in text
            assert "surface jsonrpc started" not in text and "surface ubus started" not in text  # no claim to the contrary
            assert "component sensors started" in text  # (what such a claim looks like)
            assert proc.poll() is None and not (tmp_path / "cli.sid").exists()
        finally:
            proc.terminate()
            proc.wait(10)


def test_option_disables_the_shim_the_host_enables_by_default(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("TR069_UBUS_SOCKET", None)
    proc = subprocess.Popen([sys.executable, "-m", "bridge.daemon", "--backend", "host", "--state-dir", str(tmp_path),
                             "--option", "jsonrpc.enabled=0", "--option", "jsonrpc.port=0"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        log = tmp_path / "daemon.log"
        while time.monotonic() < deadline and " running (backend" not in (log.read_text() if log.exists() else ""):
            assert proc.poll() is None, "daemon exited"
            time.sleep(0.05)
        text = log.read_text()
        assert " running (backend" in text
        assert "component sensors started" in text  # (what a claim that it started looks like)
        assert "surface jsonrpc started" not in text and not (tmp_path / "cli.url").exists()
    finally:
        stop_process(proc)
