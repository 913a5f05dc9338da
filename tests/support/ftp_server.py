"""A real FTP server (pyftpdlib, test-only) on 127.0.0.1 in a thread.

user/password log in to `root` (read and write); tls: (certfile, keyfile) offers AUTH TLS;
cut_after: data connections are dropped after that many bytes (a transfer cut midway).
"""

import logging
import threading

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import DTPHandler, FTPHandler, TLS_DTPHandler, TLS_FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

logging.getLogger("pyftpdlib").setLevel(logging.CRITICAL)


def _cutting(base, limit):
    class Cut(base):
        moved = 0

        def _cut(self):
            self._resp = ("426 Connection closed; transfer aborted.", logging.debug)  # what a server says
            self.close()

        def send(self, data):
            if self.moved + len(data) > limit:
                self._cut()
                return 0
            self.moved += len(data)
            return super().send(data)

        def handle_read(self):
            if self.moved > limit:
                self._cut()
                return
            before = self.tot_bytes_received
            super().handle_read()
            self.moved += self.tot_bytes_received - before

        handle_read_event = handle_read  # the base class aliases its own handle_read

    return Cut


class FtpServer:
    def __init__(self, root, user="meter", password="s3cret", tls=None, cut_after=None):
        self.root = str(root)
        auth = DummyAuthorizer()
        auth.add_user(user, password, self.root, perm="elradfmw")
        auth.add_anonymous(self.root, perm="elr")
        if tls:
            handler = type("H", (TLS_FTPHandler,), {})
            handler.certfile, handler.keyfile = tls
            dtp = TLS_DTPHandler
        else:
            handler = type("H", (FTPHandler,), {})
            dtp = DTPHandler
        if cut_after is not None:
            dtp = _cutting(dtp, cut_after)
        handler.dtp_handler = dtp
        handler.authorizer = auth
        handler.passive_ports = None
        handler.auth_failed_timeout = 0
        handler.use_sendfile = False  # every byte through DTPHandler.send, which cut_after can cut
        handler.banner = "test ftp"
        self.server = FTPServer(("127.0.0.1", 0), handler, ioloop=IOLoop())  # its own: servers side by side
        self.port = self.server.socket.getsockname()[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"timeout": 0.05}, daemon=True)

    def url(self, path="/", user="meter", password="s3cret", scheme="ftp"):
        cred = "%s:%s@" % (user, password) if user else ""
        return "%s://%s127.0.0.1:%d%s" % (scheme, cred, self.port, path)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.close_all()
        self.thread.join(5)
