import os
import sys

# the tests import the package from the source tree, whatever is installed
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# every reply the tr069 object builds is checked against its schema, here and in daemon subprocesses
os.environ.setdefault("TR069_CHECK_OUTPUT", "1")

# the recorded ubusd transcripts are test data of this repository (tests/data/ubus/README.md: provenance)
UBUS_FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "ubus")


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

