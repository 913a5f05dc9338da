"""A failed transfer attempt as one sentence a person reads (the state view, the status page, the log).

The libraries say it their way: requests wraps urllib3, which wraps the socket error, and its text is
`HTTPConnectionPool(host='h', port=80): Max retries exceeded with url: /fw (Caused by
NewConnectionError(...: Failed to establish a new connection: [Errno 111] Connection refused))` on the first
of three attempts. What matters is at the bottom of that chain: here, `cannot connect to h:80 (connection
refused)`. The caller removes passwords (bridge/redact.py), as before.
"""

from urllib.parse import urlsplit


def _chain(exc):
    """exc, then what caused it: __cause__, __context__, urllib3's .reason, the first argument."""
    seen = []
    while exc is not None and exc not in seen and len(seen) < 10:
        seen.append(exc)
        nxt = exc.__cause__ or getattr(exc, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc.__context__
        exc = nxt
    return seen


def _where(exc):
    """host:port of the request the exception is about, without credentials, or None."""
    for e in _chain(exc):
        request = getattr(e, "request", None)
        url = getattr(request, "url", None)
        if url:
            parts = urlsplit(url)
            if parts.hostname:
                return "%s:%s" % (parts.hostname, parts.port or {"https": 443, "http": 80}.get(parts.scheme, "?"))
        pool = getattr(e, "pool", None)
        if getattr(pool, "host", None):
            return "%s:%s" % (pool.host, pool.port)
    return None


def _socket_words(exc):
    """The lowest OS-level reason in the chain ('connection refused'), or None."""
    for e in reversed(_chain(exc)):
        if isinstance(e, OSError) and e.strerror:
            return e.strerror[:1].lower() + e.strerror[1:]
    for e in reversed(_chain(exc)):
        text = str(e)
        for marker in ("Connection refused", "Network is unreachable", "No route to host", "Connection reset",
                       "Name or service not known", "Temporary failure in name resolution"):
            if marker in text:
                return marker[:1].lower() + marker[1:]
    return None


def sentence(exc):
    """One sentence for a failed transfer attempt."""
    names = {type(e).__name__ for e in _chain(exc)}
    where = _where(exc)
    response = getattr(exc, "response", None)
    if response is not None and getattr(response, "status_code", None):
        url = getattr(response, "url", None)
        return "the server answered %d %s%s" % (response.status_code, getattr(response, "reason", "") or "",
                                                " for %s" % url if url else "")
    if names & {"NameResolutionError", "gaierror"}:
        return "cannot find the host %s (name resolution failed)" % (where or "").rsplit(":", 1)[0]
    if names & {"SSLError", "SSLCertVerificationError"}:
        detail = next((str(getattr(e, "verify_message", "") or getattr(e, "reason", "") or "")
                       for e in _chain(exc) if type(e).__name__ == "SSLCertVerificationError"), "")
        return "the TLS handshake with %s failed%s" % (where or "the server", ": %s" % detail if detail else "")
    if names & {"ConnectTimeout", "ConnectTimeoutError"}:
        return "no connection to %s in time" % (where or "the server")
    if names & {"ReadTimeout", "ReadTimeoutError", "TimeoutError", "timeout"}:
        return "%s stopped answering (timed out)" % (where or "the server")
    if names & {"ChunkedEncodingError", "ProtocolError", "IncompleteRead"}:
        return "the transfer from %s was cut off" % (where or "the server")
    if names & {"ConnectionError", "NewConnectionError", "MaxRetryError", "ConnectionRefusedError",
                "ConnectionResetError"}:
        words = _socket_words(exc)
        return "cannot connect to %s%s" % (where or "the server", " (%s)" % words if words else "")
    if isinstance(exc, OSError) and exc.strerror:
        return "%s%s" % (exc.strerror, ": %s" % exc.filename if exc.filename else "")
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
