"""The JSON-RPC shim: uhttpd's /ubus endpoint (wire format, rpcd sessions and ACLs) in the daemon.

Imported only when it is enabled; start(...) returns the running shim (.stop()), or None when it could
not start (logged; the daemon's other parts keep running).
"""

from ..logger import getLogger

log = getLogger("tr069-bridge")


def start(loop, config, objects, state_dir, rpcd_config, source_acls=False):
    """objects: {name: ubus object} served (looked up on each call); rpcd_config: the device's rpcd UCI
    file (its logins); source_acls: add the ACLs of the source tree (a run on the host)."""
    from .app import Shim

    try:
        return Shim.from_config(loop, config, objects, state_dir, rpcd_config, source_acls)
    except OSError as e:
        # e.g. the port is taken: the daemon's other parts keep running without this one
        import errno

        if e.errno == errno.EADDRINUSE:
            where = "%s:%s" % (config.get("jsonrpc.listen"), config.get("jsonrpc.port"))
            log.error("JSON-RPC shim not started: %s is taken by another program; set jsonrpc.port "
                      "(uci, or --option jsonrpc.port=N) to a free port", where)
        else:
            log.error("JSON-RPC shim not started: %s", e)
        return None
