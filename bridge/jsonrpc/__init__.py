"""The JSON-RPC shim: uhttpd's /ubus endpoint (wire format, rpcd sessions and ACLs) in the daemon.

Imported only when the face is enabled; start(daemon) returns the running shim (.stop()).
"""


def start(daemon):
    from .app import Shim

    return Shim.from_daemon(daemon)
