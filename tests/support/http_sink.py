"""A loopback HTTP sink for the CAMARA notifications (CloudEvents POSTed by the daemon's deliveries): what the
reachability tests check and what the reachability bench times."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(ThreadingHTTPServer):
    """Every POST kept (path, headers, JSON body) with the monotonic time it arrived, answered 204."""

    def __init__(self, port=0):
        self.received = []  # (path, headers, body)
        self.arrived = []  # time.monotonic() of each, in the same order
        self.cond = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.cond:
                    outer.received.append((self.path, dict(self.headers), json.loads(body)))
                    outer.arrived.append(time.monotonic())
                    outer.cond.notify_all()
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        super().__init__(("127.0.0.1", port), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.server_address[1], path)

    def wait_until(self, done, timeout):
        """Wait (on what arrives) until done() is true or timeout seconds passed; -> done()'s last answer."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                answer = done()
                if answer or time.monotonic() > deadline:
                    return answer
                self.cond.wait(0.05)

    def wait(self, n, path=None, timeout=30.0):
        """The first n notifications (to `path`, if given), waiting for them; fewer if they do not come."""
        def got():
            return [r for r in self.received if path is None or r[0] == path]
        self.wait_until(lambda: len(got()) >= n, timeout)
        with self.cond:
            return got()
