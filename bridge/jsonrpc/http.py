"""A small sans-I/O HTTP/1.1 request parser and response writer.

Bytes go in, Request objects come out; the socket loop lives in server.py. Only what a JSON-RPC
endpoint and one static page need: Content-Length bodies, keep-alive, Expect: 100-continue,
hard limits on the request head and body so a client cannot make the daemon buffer without bound.
"""

MAX_HEAD = 16384  # request line + headers (uhttpd's UH_LIMIT_HEADER_BYTES)
MAX_HEADERS = 100  # uhttpd's UH_LIMIT_HEADER_COUNT
_SINGLE = ("content-length", "transfer-encoding", "host")  # twice in one request: 400

REASONS = {
    100: "Continue",
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    411: "Length Required",
    413: "Request Entity Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
    503: "Service Unavailable",
}


class HttpError(Exception):
    """The request cannot be parsed; answer with `status` and close the connection."""

    def __init__(self, status, message=""):
        super().__init__(message or REASONS.get(status, ""))
        self.status = status


class Request:
    __slots__ = ("method", "target", "path", "version", "headers", "body", "keep_alive",
                 "body_limit_exceeded")

    def __init__(self, method, target, version, headers):
        self.method = method
        self.target = target
        self.path = target.split("?", 1)[0]
        self.version = version
        self.headers = headers  # lower-case name -> value (last wins)
        self.body = b""
        conn = headers.get("connection", "").lower()
        if version == "HTTP/1.0":
            self.keep_alive = "keep-alive" in conn
        else:
            self.keep_alive = "close" not in conn
        # set when the declared body is larger than the route allows: the body is not read and the
        # connection is closed after the answer (what is left of the body must not pass for a request)
        self.body_limit_exceeded = False


class RequestParser:
    """Feed bytes; get complete requests.

    `body_limit(request)` returns the largest body accepted for that request's head; a larger
    Content-Length yields the request at once with body_limit_exceeded set and stops the parser.
    """

    def __init__(self, body_limit):
        self._buf = bytearray()
        self._body_limit = body_limit
        self._pending = None  # Request whose body is being read
        self._need = 0
        self.closed = False  # no more requests on this connection
        # a byte of the next request (blank lines included) has arrived: the head timer runs.
        # Blank lines count, or a client sending only CRLFs would hold its connection for ever.
        self.started = False
        self.continue_wanted = False  # the client waits for "100 Continue" before sending the body

    def feed(self, data):
        """Returns a list of complete Requests; raises HttpError on a malformed head."""
        if self.closed:
            return []
        self._buf += data
        if data:
            self.started = True
        out = []
        while not self.closed:
            if self._pending is None:
                end = self._buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(self._buf) > MAX_HEAD:
                        self.closed = True
                        raise HttpError(431)
                    # tolerate leading empty lines between requests (RFC 9112 2.2)
                    break
                if end > MAX_HEAD:
                    self.closed = True
                    raise HttpError(431)
                head = bytes(self._buf[:end])
                del self._buf[:end + 4]
                req = self._parse_head(head)
                if req is None:
                    continue
                length = self._content_length(req)
                limit = self._body_limit(req)
                if length > limit:
                    req.body_limit_exceeded = True
                    req.keep_alive = False
                    self.closed = True
                    out.append(req)
                    break
                if length == 0:
                    out.append(req)
                    continue
                self._pending, self._need = req, length
                self.continue_wanted = req.headers.get("expect", "").lower() == "100-continue"
            if len(self._buf) < self._need:
                break
            req = self._pending
            req.body = bytes(self._buf[:self._need])
            del self._buf[:self._need]
            self._pending, self._need = None, 0
            self.continue_wanted = False
            out.append(req)
            if not req.keep_alive:
                self.closed = True
        if out and self._pending is None and not self._buf:
            self.started = False
        return out

    @property
    def busy(self):
        """True while part of a request has arrived (the head timeout applies, not the idle one)."""
        return self.started or self._pending is not None

    def _parse_head(self, head):
        head = head.lstrip(b"\r\n")
        if not head:
            return None
        try:
            text = head.decode("latin-1")
        except UnicodeDecodeError:  # latin-1 decodes every byte; kept for clarity
            raise HttpError(400)
        lines = text.split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[0].isalpha() or not parts[1]:
            self.closed = True
            raise HttpError(400, "malformed request line")
        method, target, version = parts
        if version not in ("HTTP/1.1", "HTTP/1.0"):
            self.closed = True
            raise HttpError(400, "unsupported HTTP version")
        if len(lines) - 1 > MAX_HEADERS:
            self.closed = True
            raise HttpError(431)
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                self.closed = True
                raise HttpError(400, "malformed header")
            name = name.lower()
            if name in _SINGLE and name in headers:
                # a proxy that takes the first value and we the last would see two different
                # requests in one stream (request smuggling, RFC 9112 6.3)
                self.closed = True
                raise HttpError(400, "duplicate " + name)
            headers[name] = value.strip()
        return Request(method.upper(), target, version, headers)

    def _content_length(self, req):
        if "transfer-encoding" in req.headers:
            # chunked request bodies are not needed by any JSON-RPC client we know of
            self.closed = True
            raise HttpError(501, "Transfer-Encoding not supported")
        value = req.headers.get("content-length")
        if value is None:
            return 0
        if not value.isdigit() or len(value) > 18:
            self.closed = True
            raise HttpError(400, "bad Content-Length")
        return int(value)


def response(status, body=b"", content_type="application/json", keep_alive=True, extra=()):
    """The whole response in one buffer, so it leaves in one send (no Nagle / delayed-ACK stall)."""
    lines = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Unknown"))]
    if content_type and (body or status == 200):
        lines.append("Content-Type: " + content_type)
    lines.append("Content-Length: %d" % len(body))
    lines.append("Connection: " + ("keep-alive" if keep_alive else "close"))
    lines.extend(extra)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
