"""The ubus face: every object in daemon.objects registered on ubusd.

The socket path is TR069_UBUS_SOCKET from the environment when set, else the config key
ubus.socket (/var/run/ubus/ubus.sock). Arguments reach the objects as the caller sent them
(missing optional keys, uhttpd's extra ubus_rpc_session): each object validates its own input
against its schema, which is what lets `ubus call tr069 inform '{"event":"1 BOOT"}'` work.
"""

import os

from .connection import ObjectConnection

ENV_SOCKET = "TR069_UBUS_SOCKET"


def socket_path(config):
    return os.environ.get(ENV_SOCKET) or config.get("ubus.socket")


def start(daemon):
    """Connect and register (asynchronously, with reconnects); returns the connection (.stop())."""
    conn = ObjectConnection(daemon.loop, socket_path(daemon.config), daemon.objects)
    reach = daemon.faces.get("reach")
    if reach is not None:  # netifd's ifup/ifdown refresh the reachability state
        conn.listen("network.interface", reach.on_netifd)
    return conn.start()
