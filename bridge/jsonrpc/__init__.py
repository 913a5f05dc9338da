"""The JSON-RPC shim: uhttpd's /ubus endpoint (wire format, rpcd sessions and ACLs) in the daemon.

Imported only when the face is enabled; start(daemon) returns the running shim (.stop()), or None when
it could not start (logged; the daemon's other faces keep running).
"""


def start(daemon):
    from .app import Shim

    try:
        shim = Shim.from_daemon(daemon)
    except OSError as e:
        # e.g. the port is taken: the daemon's other faces keep running without this one
        import errno

        if e.errno == errno.EADDRINUSE:
            where = "%s:%s" % (daemon.config.get("jsonrpc.listen"), daemon.config.get("jsonrpc.port"))
            daemon.log.error("JSON-RPC shim not started: %s is taken by another program; set jsonrpc.port "
                             "(uci, or --option jsonrpc.port=N) to a free port", where)
        else:
            daemon.log.error("JSON-RPC shim not started: %s", e)
        return None
    reach = daemon.faces.get("reach")
    if reach is not None:  # the CAMARA subscription API on the same server
        from ..reach.api import MAX_BODY, PREFIX, Api

        api = Api(reach, shim.sessions, lambda: daemon.config.get("reach.api_token"))
        shim.mount(PREFIX, api.handle, MAX_BODY)
    return shim
