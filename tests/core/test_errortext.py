"""A failed transfer attempt is one sentence (bridge/errortext.py): what requests, urllib3 and the socket say,
reduced to what a person needs, through real connections on loopback."""

import http.server
import threading

import pytest
import requests

from bridge.errortext import sentence
from bridge.redact import redact
from support.ports import free_port


def failure(fn):
    try:
        fn()
    except Exception as e:  # what a transfer attempt catches
        return e
    raise AssertionError("no failure")


@pytest.fixture
def web():
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_port
    srv.shutdown()
    srv.server_close()


def test_a_refused_connection_is_one_sentence_not_urllib3s_chain():
    port = free_port()  # nothing listens there: refused
    e = failure(lambda: requests.get("http://127.0.0.1:%d/fw.img" % port, timeout=5))
    assert "Max retries exceeded" in str(e)  # what the library says
    assert sentence(e) == "cannot connect to 127.0.0.1:%d (connection refused)" % port


def test_an_http_error_names_the_status_and_the_url_without_its_password(web):
    def get():
        r = requests.get("http://op:S3cret@127.0.0.1:%d/nope.img" % web, timeout=5)
        r.raise_for_status()

    text = redact(sentence(failure(get)))
    assert text.startswith("the server answered 404 ") and "S3cret" not in text
    assert text.endswith("/nope.img")


def test_a_name_that_does_not_resolve():
    e = failure(lambda: requests.get("http://no-such-host.invalid/fw.img", timeout=5))
    assert sentence(e) == "cannot find the host no-such-host.invalid (name resolution failed)"


def test_a_file_error_is_the_system_s_words():
    e = failure(lambda: open("/nonexistent-dir/fw.img"))
    assert sentence(e) == "No such file or directory: /nonexistent-dir/fw.img"
