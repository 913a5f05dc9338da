import os
import sys

# the tests import the package from the source tree, whatever is installed, and what they share from
# tests/support/ (`from support.x import ...`)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# every reply the tr069 object builds is checked against its schema, here and in daemon subprocesses
os.environ.setdefault("TR069_CHECK_OUTPUT", "1")


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _log_sinks_restored():
    """A test that runs logsetup.setup() (or a daemon's main) leaves no sink behind for the next one:
    a sink on a pipe the test closed would write into whatever file reuses its descriptor."""
    from bridge import logger

    saved = logger.sinks()
    yield
    for sink in logger.sinks():
        if sink not in saved:
            logger.remove_sink(sink)  # the last one gone takes the route off the root logger too


# --- the peers and processes tests in several folders share ------------------------------------------

@pytest.fixture
def cs():
    """A real central system on loopback (devtools.centralsystem, the development one)."""
    from devtools.centralsystem import CentralSystem

    server = CentralSystem(quiet=True).start()
    yield server
    server.stop()


@pytest.fixture
def daemon(tmp_path):
    """The real daemon as a subprocess on the host backend, with BASE_CONFIG, in tmp_path."""
    from support.daemon_process import BASE_CONFIG, DaemonProcess, write_config

    write_config(str(tmp_path), BASE_CONFIG)
    d = DaemonProcess(tmp_path).start()
    yield d
    d.kill()


@pytest.fixture
def ubusd(tmp_path):
    """A listening ubusd socket; each connection is driven by the test (support.ubusd.FakeUbusd)."""
    from support.ubusd import FakeUbusd

    fake = FakeUbusd(tmp_path / "ubus.sock")
    yield fake
    fake.close()


@pytest.fixture
def running(tmp_path, ubusd):
    """make(objects=None, **options): a host daemon whose ubus surface talks to `ubusd` (support.ubusd.Running)."""
    from support.ubusd import Running

    started = []

    def make(objects=None, **options):
        options.setdefault("backoff", 0.05)
        r = Running(tmp_path, ubusd.path, objects, **options)
        started.append(r)
        return r

    yield make
    for r in started:
        r.close()
