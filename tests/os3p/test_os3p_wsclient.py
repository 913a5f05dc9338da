"""bridge/os3p/wsclient.py uses websocket-client's private modules: it must be the version it was checked with."""

import os
import re
from importlib import metadata

from bridge.os3p import wsclient
from support.paths import ROOT


def test_the_installed_websocket_client_is_the_one_wsclient_was_written_for():
    installed = metadata.version("websocket-client")
    assert installed == wsclient.TESTED_WITH, (
        "websocket-client %s is installed, bridge/os3p/wsclient.py was checked against %s: re-check the private "
        "names it uses (websocket._core, _abnf, _exceptions, _ssl_compat, _http, _socket; frame_buffer, cont_frame) "
        "and then update TESTED_WITH" % (installed, wsclient.TESTED_WITH))
    with open(os.path.join(ROOT, "requirements-dev.txt")) as f:
        pin = re.search(r"^websocket-client==(\S+)", f.read(), re.M).group(1)
    assert pin == wsclient.TESTED_WITH  # the pin, the device's version and the checked one agree


def test_describe_names_failures_without_loading_ssl():
    assert wsclient.describe(ConnectionRefusedError()) == "connection refused"
    assert wsclient.describe(TimeoutError()) == "timed out"
    assert wsclient.describe(OSError(113, "No route to host")) == "OSError: [Errno 113] No route to host"
