"""A scripted FTP server on 127.0.0.1 that misbehaves as a hostile or broken one does (a real TCP server,
control and passive data connections; one thread per connection). Modes:

    good          logs in, answers SIZE and serves `body` (the control case)
    endless-220   a multi-line banner (220-) that never ends
    endless-150   logs in; RETR answers a multi-line 150- that never ends
    drip-line     the banner arrives one byte a second and never ends its line
    drip-data     RETR's data connection sends one byte a second
    size-nan      SIZE answers "213 not-a-number", then the file is served
    echo-530      PASS answers 530 repeating the user and the password it was given

`lines_sent` counts the reply lines it sent, `stop()` ends every connection.
"""

import socket
import threading
import time


class HostileFtp:
    def __init__(self, mode, body=b"x" * 1000):
        self.mode = mode
        self.body = body
        self.lines_sent = 0
        self.stopped = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path="/fw.img", user="meter", password="s3cret-pw"):
        return "ftp://%s:%s@127.0.0.1:%d%s" % (user, password, self.port, path)

    def stop(self):
        self.stopped.set()
        for s in [self.sock] + self.conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _accept(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _send(self, conn, line):
        conn.sendall(line.encode() + b"\r\n")
        self.lines_sent += 1

    def _serve(self, conn):
        try:
            self._session(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def _session(self, conn):
        if self.mode == "endless-220":
            n = 0
            while not self.stopped.is_set():
                n += 1
                self._send(conn, "220-welcome, line %d of a banner that never ends" % n)
        if self.mode == "drip-line":
            conn.sendall(b"220")
            while not self.stopped.is_set():
                conn.sendall(b" ")
                time.sleep(1)
        self._send(conn, "220 hello")
        f = conn.makefile("rb")
        data = None
        user = ""
        while not self.stopped.is_set():
            line = f.readline(4096)
            if not line:
                return
            cmd, _, arg = line.decode("latin-1").strip().partition(" ")
            cmd = cmd.upper()
            if cmd == "AUTH":
                self._send(conn, "502 no TLS here")
            elif cmd == "USER":
                user = arg
                self._send(conn, "331 password please")
            elif cmd == "PASS":
                if self.mode == "echo-530":
                    self._send(conn, "530 Login incorrect for user %s with password %s" % (user, arg))
                else:
                    self._send(conn, "230 in")
            elif cmd == "TYPE":
                self._send(conn, "200 binary")
            elif cmd == "SIZE":
                self._send(conn, "213 not-a-number" if self.mode == "size-nan" else "213 %d" % len(self.body))
            elif cmd == "PASV":
                data = socket.socket()
                data.bind(("127.0.0.1", 0))
                data.listen(1)
                self.conns.append(data)
                port = data.getsockname()[1]
                self._send(conn, "227 Entering Passive Mode (127,0,0,1,%d,%d)" % (port >> 8, port & 255))
            elif cmd == "RETR":
                if self.mode == "endless-150":
                    n = 0
                    while not self.stopped.is_set():
                        n += 1
                        self._send(conn, "150-opening, line %d of a reply that never ends" % n)
                    return
                self._send(conn, "150 here it comes")
                d, _ = data.accept()
                self.conns.append(d)
                try:
                    if self.mode == "drip-data":
                        for b in self.body:
                            if self.stopped.is_set():
                                return
                            d.sendall(bytes([b]))
                            time.sleep(1)
                    else:
                        d.sendall(self.body)
                finally:
                    d.close()
                self._send(conn, "226 done")
            elif cmd == "QUIT":
                self._send(conn, "221 bye")
                return
            else:
                self._send(conn, "502 not here")
