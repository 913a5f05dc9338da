"""One WebSocket to the central system (websocket-client), read by a thread of its own.

A thread connects (DNS, TCP, TLS and the HTTP upgrade all block) and then reads frames, handing each one
to the loop with loop.call_soon_threadsafe, in order, as the handler's on_open / on_text / on_pong /
on_close, each called with this Connection so that the handler can drop news from a connection it has
already given up. Exactly one thread writes to the socket:

  ws://   the loop thread: frames are written with non-blocking sends, any rest is kept and flushed when
          the socket is writable (the loop never waits on the network); the reader thread only reads,
          and hands pings to the loop to answer;
  wss://  the I/O thread itself (a TLS connection must not be read and written by two threads at once):
          it waits in select() on the socket and on a wake-up pipe, and writes what the loop queued.

websocket-client's own reconnect (run_forever) is not used: the client's supervisor decides when to
try again.
"""

import base64
import os
import selectors
import socket
import threading
from collections import deque
from urllib.parse import quote, urlsplit, urlunsplit

from ..logger import getLogger
from ..redact import redact
from . import wsclient

log = getLogger(__name__)

UNHANDLED = 32  # inbound frames handed to the loop and not yet handled

SUBPROTOCOL = "OS3P1.0"


def connection_url(endpoint, identity):
    """Endpoint URL + '/' + percent-encoded identity (spec 3.1.1): SUBS 123 -> .../SUBS%20123."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("ws", "wss"):
        raise ValueError("the OS3P endpoint URL must be ws:// or wss://: %r" % endpoint)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme, parts.netloc, path + quote(identity, safe=""), parts.query, ""))


_PLAIN_WARNED = set()  # endpoints warned about: Basic credentials (not) sent over plain ws://


class Options:
    """What a connection attempt needs, read from the config once per attempt."""

    def __init__(self, url, username="", password="", ca_file="", client_cert="", client_key="",
                 connect_timeout=10.0, io_timeout=30.0, max_message=256 * 1024, allow_insecure_auth=False):
        self.url = url
        self.allow_insecure_auth = allow_insecure_auth  # os3p.allow_insecure_auth: Basic over plain ws://
        self.username = username
        self.password = password
        self.ca_file = ca_file
        self.client_cert = client_cert
        self.client_key = client_key
        self.connect_timeout = connect_timeout
        self.io_timeout = io_timeout
        self.max_message = max_message

    def headers(self):
        headers = ["Sec-WebSocket-Protocol: " + SUBPROTOCOL]
        plain = self.username and not self.url.startswith("wss:")
        if plain and self.url not in _PLAIN_WARNED:
            # Basic credentials are readable by anyone on the path (spec 5.1: TLS over public networks): sent
            # only where the operator said so, and said once either way
            _PLAIN_WARNED.add(self.url)
            if self.allow_insecure_auth:
                log.warning("sending the central system's user name and password over plain ws:// "
                            "(os3p.allow_insecure_auth is on; a wss:// URL protects them)")
            else:
                log.warning("not sending the central system's user name and password over plain ws:// "
                            "(configure a wss:// URL, or set os3p.allow_insecure_auth to send them in clear)")
        if self.username and (not plain or self.allow_insecure_auth):
            token = base64.b64encode(("%s:%s" % (self.username, self.password)).encode()).decode()
            headers.append("Authorization: Basic " + token)
        return headers

    def ssl_context(self):
        import ssl

        # verification and host-name checking on; a CA file replaces the system store when given
        ctx = ssl.create_default_context(cafile=self.ca_file or None)
        if self.client_cert:
            ctx.load_cert_chain(self.client_cert, self.client_key or None)
        return ctx


def safe_url(url):
    """A URL for the log, without a password it may carry."""
    return redact(url)


class ConnectError(Exception):
    pass


class Connection:
    def __init__(self, loop, options, handler):
        self.loop = loop
        self.options = options
        self.handler = handler
        self.direct = not options.url.startswith("wss:")  # the loop writes (ws://) or the I/O thread (wss://)
        self._out = deque()
        self._lock = threading.Lock()
        self._finished = False
        self._aborted = False
        self._ws = None
        self._sock = None  # set (for the loop) once the handshake is done
        self._wbuf = b""  # ws://: bytes the socket did not take yet
        self._close_sent = False
        self._queued = self._written = 0
        self._tokens = deque()  # (byte count, token): on_sent once that many bytes are written
        # frames handed to the loop and not handled yet: past UNHANDLED the reader waits, so a burst stays
        # in the socket (and the peer's send window) instead of the daemon's memory
        self._unhandled = threading.Semaphore(UNHANDLED)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.thread = threading.Thread(target=self._run, name="os3p-io", daemon=True)

    def start(self):
        wsclient.load(tls=not self.direct)  # imports happen here, on the loop thread, not racing its imports
        self.thread.start()
        return self

    # --- called from the loop thread -------------------------------------------------
    def send(self, text, token=None):
        """Send a text frame; handler.on_sent(conn, token) follows once it is written (token not None)."""
        if self.direct:
            return self._write(text, 0x1, token)
        return self._push(("text", text, token))

    def ping(self):
        return self._write(b"", 0x9) if self.direct else self._push(("ping", None, None))

    def close(self):
        """Polite close: a close frame goes out after what is already queued."""
        if self.direct:
            self._close_sent = True
            return self._write(b"\x03\xe8", 0x8)  # 1000, normal closure; the peer's answer ends the reader
        return self._push(("close", None, None))

    def abort(self):
        """Drop the connection now, whatever the I/O thread is blocked in (a dead peer, a stuck send)."""
        self._aborted = True
        ws = self._ws
        sock = getattr(ws, "sock", None) if ws is not None else None
        if sock is not None:
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the raw fd: leaves the TLS state alone
            except OSError:
                pass
        self._push(("abort", None, None))

    def _push(self, op):
        with self._lock:
            if self._finished or self._wake_w is None:
                return False
            self._out.append(op)
            try:
                os.write(self._wake_w, b"\0")
            except BlockingIOError:
                pass  # a wake-up is pending already
        return True

    # --- ws://: the loop writes ------------------------------------------------------------
    def _write(self, payload, opcode, token=None):
        ABNF = wsclient.load().ABNF

        sock = self._sock
        if sock is None or self._finished or self._aborted:
            return False
        frame = ABNF.create_frame(payload, opcode).format()
        self._queued += len(frame)
        if token is not None:
            self._tokens.append((self._queued, token))
        if self._wbuf:
            self._wbuf += frame
            if len(self._wbuf) > 4 * self.options.max_message:
                log.warning("the central system does not read what we send: dropping the connection")
                self.abort()
            return True
        self._wbuf = frame
        self._flush()
        if self._wbuf and not self._aborted:
            self.loop.add_writer(sock.fileno(), self._flush)
        return True

    def _flush(self):
        try:
            n = self._sock.send(self._wbuf, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._wbuf = b""
            self._drop_writer()
            self.abort()
            return
        self._wbuf = self._wbuf[n:]
        self._written += n
        while self._tokens and self._tokens[0][0] <= self._written:
            self.loop.call_soon(self.handler.on_sent, self, self._tokens.popleft()[1])
        if not self._wbuf:
            self._drop_writer()

    def _drop_writer(self):
        try:
            self.loop.remove_writer(self._sock.fileno())
        except (KeyError, ValueError, OSError):
            pass

    def _pong(self, data):
        self._write(data, 0xA)

    def _answer_close(self, status):
        if not self._close_sent:
            self._close_sent = True
            self._write(status, 0x8)

    def _closed(self, reason):
        """ws://: the reader is done; the socket is closed here, on the loop, which may still hold it."""
        self._drop_writer()
        with self._lock:
            self._finished = True
        self._shutdown_ws()
        self.handler.on_close(self, reason)

    def _shutdown_ws(self):
        ws = self._ws
        if ws is not None:
            try:
                ws.shutdown()
            except Exception:
                pass  # already closed by the peer or by a failed handshake

    # --- the I/O thread ----------------------------------------------------------------
    def _post(self, callback, *args):
        self.loop.call_soon_threadsafe(callback, self, *args)

    def _post_text(self, text):
        """A text frame to the handler on the loop, with backpressure (UNHANDLED frames at most)."""
        while not self._unhandled.acquire(timeout=1.0):
            if self._aborted or self._finished:
                return
        self.loop.call_soon_threadsafe(self._handle_text, text)

    def _handle_text(self, text):
        self._unhandled.release()
        self.handler.on_text(self, text)

    def _run(self):
        reason = "closed"
        opened = False
        try:
            try:
                ws = self._connect()
            except ConnectError as e:
                reason = str(e)
                return
            except Exception as e:  # the library raises many kinds; each is one failed attempt
                reason = wsclient.describe(e)
                return
            if self._aborted:
                reason = "aborted"
                return
            opened = True
            if self.direct:
                self._sock = ws.sock
            self._post(self.handler.on_open, ws.getheaders() or {})
            reason = self._read(ws) if self.direct else self._serve(ws)
        finally:
            with self._lock:
                os.close(self._wake_w)
                self._wake_w = None
                if not (self.direct and opened):
                    self._finished = True
            os.close(self._wake_r)
            if self.direct and opened:
                self.loop.call_soon_threadsafe(self._closed, reason)
            else:
                self._shutdown_ws()
                self._post(self.handler.on_close, reason)

    def _connect(self):
        websocket = wsclient.load()
        o = self.options
        sslopt = {"context": o.ssl_context()} if o.url.startswith("wss:") else None
        # the library's UTF-8 check is a pure-Python loop per byte; bytes.decode() below does it in C
        ws = websocket.WebSocket(sslopt=sslopt, skip_utf8_validation=True, enable_multithread=False)
        self._ws = ws
        try:
            ws.connect(o.url, header=o.headers(), timeout=o.connect_timeout, suppress_origin=True)
        except websocket.BadStatus as e:
            raise ConnectError("handshake refused: HTTP %s" % e.status_code) from None
        selected = (ws.getheaders() or {}).get("sec-websocket-protocol")
        if selected != SUBPROTOCOL:
            # spec 3.2: a server that agrees to none of our subprotocols completes the handshake without
            # one and closes; we must not speak OS3P on such a connection
            raise ConnectError("the central system selected subprotocol %r, not %s; not proceeding"
                               % (selected, SUBPROTOCOL))
        # wss://: bounds a frame that arrives in halves, and a send to a stuck peer; ws://: the reader
        # blocks until a frame comes (dead peers are the pings' business) and the loop never blocks
        ws.settimeout(None if self.direct else o.io_timeout)
        wsclient.limit_message_size(ws, o.max_message)
        return ws

    def _read(self, ws):
        """ws://: read frames until the connection ends; never write (pings go to the loop to answer)."""
        websocket = wsclient.load()
        ABNF = websocket.ABNF
        cont = ws.cont_frame
        try:
            while True:
                frame = ws.recv_frame()
                op = frame.opcode
                if op in (ABNF.OPCODE_TEXT, ABNF.OPCODE_BINARY, ABNF.OPCODE_CONT):
                    cont.validate(frame)
                    cont.add(frame)
                    if not cont.is_fire(frame):
                        continue
                    op, frame = cont.extract(frame)
                    if op == ABNF.OPCODE_TEXT:
                        self._post_text(frame.data.decode("utf-8"))  # invalid UTF-8: ends it
                    else:
                        log.warning("ignoring a binary frame of %d bytes (OS3P is text)", len(frame.data))
                elif op == ABNF.OPCODE_PING:
                    if len(frame.data) > 125:
                        return "protocol error: ping payload too long"
                    self.loop.call_soon_threadsafe(self._pong, frame.data)
                elif op == ABNF.OPCODE_PONG:
                    self._post(self.handler.on_pong)
                elif op == ABNF.OPCODE_CLOSE:
                    self.loop.call_soon_threadsafe(self._answer_close, frame.data[:2])
                    return "closed by the central system"
        except wsclient.TooBig as e:
            self.loop.call_soon_threadsafe(self._answer_close, wsclient.CLOSE_TOO_BIG.to_bytes(2, "big"))
            return str(e)
        except websocket.Closed:
            return "aborted" if self._aborted else "connection lost"
        except Exception as e:
            return "aborted" if self._aborted else wsclient.describe(e)

    def _serve(self, ws):
        """wss://: this thread reads and writes; it waits for either in select()."""
        websocket = wsclient.load()
        ABNF = websocket.ABNF
        sock = ws.sock
        sel = selectors.DefaultSelector()
        sel.register(sock, selectors.EVENT_READ, True)
        sel.register(self._wake_r, selectors.EVENT_READ, False)
        try:
            while True:
                while self._out:
                    kind, text, token = self._out.popleft()
                    if kind == "text":
                        ws.send(text)
                        if token is not None:
                            self._post(self.handler.on_sent, token)
                    elif kind == "ping":
                        ws.ping()
                    elif kind == "close":
                        ws.send_close()
                        return "closed by us"
                if self._aborted:
                    return "aborted"
                if sock.pending():
                    readable = True  # TLS has decrypted bytes buffered that select() cannot see
                else:
                    readable = False
                    for key, _ in sel.select():
                        if key.data:
                            readable = True
                        else:
                            try:
                                while os.read(self._wake_r, 512):
                                    pass
                            except BlockingIOError:
                                pass
                if not readable:
                    continue
                opcode, frame = ws.recv_data_frame(True)  # answers pings itself: this thread is the writer
                if opcode == ABNF.OPCODE_TEXT:
                    self._post_text(frame.data.decode("utf-8"))  # invalid UTF-8: ends the connection
                elif opcode == ABNF.OPCODE_PONG:
                    self._post(self.handler.on_pong)
                elif opcode == ABNF.OPCODE_CLOSE:
                    return "closed by the central system"
                elif opcode == ABNF.OPCODE_BINARY:
                    log.warning("ignoring a binary frame of %d bytes (OS3P is text)", len(frame.data))
        except wsclient.TooBig as e:
            try:
                ws.send_close(wsclient.CLOSE_TOO_BIG)
            except Exception:
                pass  # the peer is gone already
            return str(e)
        except websocket.Timeout:
            return "timed out reading or writing"
        except websocket.Closed:
            return "aborted" if self._aborted else "connection lost"
        except Exception as e:
            return "aborted" if self._aborted else wsclient.describe(e)
        finally:
            sel.close()
