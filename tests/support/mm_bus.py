"""A ModemManager the real `mmcli` talks to: a private D-Bus system bus (Debian's dbus-daemon, in a directory
of its own) with python-dbusmock serving tests/support/mm_template.py on it.

    with MockModemManager(tmp_dir, "home-connected") as mm:
        subprocess.run(["mmcli", "-m", "0", "-J"], env=mm.env)
        mm.set_case("weak-signal")

`missing()` says what is not installed (mmcli from Debian's modemmanager, dbus-daemon from dbus, dbusmock
from PyPI), for a test to skip with that reason. Used by the live test and by record_mm.py.
"""

import os
import shutil
import subprocess
import sys
import time

TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mm_template.py")
MMCLI = shutil.which("mmcli") or "/usr/bin/mmcli"
BUS_NAME = "org.freedesktop.ModemManager1"
MAIN_OBJ = "/org/freedesktop/ModemManager1"
MOCK_IFACE = "org.freedesktop.DBus.Mock"
WAIT = 30.0  # seconds for the bus and the mock to come up (a loaded machine is slow, never wrong)

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:dir=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
"""


def missing():
    """What is not there to run the real mmcli against the mock (None: everything is)."""
    gone = []
    if not os.access(MMCLI, os.X_OK):
        gone.append("mmcli (Debian's modemmanager)")
    for tool in ("dbus-daemon", "dbus-send"):
        if shutil.which(tool) is None:
            gone.append("%s (Debian's dbus)" % tool)
    try:
        import dbusmock  # noqa: F401
    except ImportError:
        gone.append("python-dbusmock (PyPI; dbus-python builds against libdbus-1-dev and libglib2.0-dev)")
    return ", ".join(gone) + " not installed" if gone else None


def versions():
    """(mmcli's version, python-dbusmock's version) as they say them."""
    from importlib.metadata import version

    out = subprocess.run([MMCLI, "--version"], capture_output=True, text=True, timeout=30).stdout
    return out.split("\n", 1)[0].split()[-1], version("python-dbusmock")


class MockModemManager:
    def __init__(self, directory, case="home-connected"):
        self.directory = os.path.join(str(directory), "dbus")
        self.case = case
        self.bus = self.mock = None
        self.env = None

    def __enter__(self):
        os.makedirs(self.directory, exist_ok=True)
        conf = os.path.join(self.directory, "bus.conf")
        with open(conf, "w") as f:
            f.write(BUS_CONFIG % self.directory)
        with open(os.path.join(self.directory, "bus.log"), "w") as log:  # its warnings (an fd limit) go there
            self.bus = subprocess.Popen(["dbus-daemon", "--nofork", "--config-file=" + conf, "--print-address=1"],
                                        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, stderr=log, text=True)
        try:
            address = self.bus.stdout.readline().strip()
            if not address:
                raise RuntimeError("dbus-daemon did not start")
            self.env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address)
            self.env.pop("DBUS_SESSION_BUS_ADDRESS", None)
            self.mock = subprocess.Popen(
                [sys.executable, "-m", "dbusmock", "--system", "--template", TEMPLATE, "-p",
                 '{"case": "%s"}' % self.case], env=self.env, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            self._wait_for_mock()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_for_mock(self):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if self.mock.poll() is not None:
                raise RuntimeError("dbusmock ended: %s" % self.mock.stderr.read()[-2000:])
            r = subprocess.run(["dbus-send", "--system", "--print-reply", "--dest=org.freedesktop.DBus",
                                "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", "string:" + BUS_NAME],
                               env=self.env, capture_output=True, text=True, timeout=WAIT)
            if "boolean true" in r.stdout:
                return
            time.sleep(0.05)
        raise RuntimeError("dbusmock did not take %s within %g s" % (BUS_NAME, WAIT))

    def set_case(self, case):
        subprocess.run(["dbus-send", "--system", "--print-reply", "--dest=" + BUS_NAME, MAIN_OBJ,
                        MOCK_IFACE + ".SetCase", "string:" + case], env=self.env, check=True,
                       capture_output=True, timeout=WAIT)
        self.case = case

    def mmcli(self, *args):
        """What `mmcli <args> --output-json` prints (text), as the rpcd plugin and the backend run it."""
        r = subprocess.run([MMCLI, *args, "--output-json"], env=self.env, capture_output=True, text=True,
                           timeout=WAIT)
        if r.returncode != 0:
            raise RuntimeError("mmcli %s: %s" % (" ".join(args), r.stderr.strip()))
        return r.stdout

    def __exit__(self, *exc):
        for proc in (self.mock, self.bus):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=WAIT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for proc in (self.mock, self.bus):
            if proc is not None:
                for stream in (proc.stdout, proc.stderr):
                    if stream is not None:
                        stream.close()
        return False
