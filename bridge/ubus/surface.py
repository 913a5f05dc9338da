"""The ubus surface: the daemon's ubus objects registered on ubusd.

Arguments reach the objects as the caller sent them (missing optional keys, uhttpd's extra
ubus_rpc_session): each object validates its own input against its schema, which is what lets
`ubus call tr069 inform '{"event":"1 BOOT"}'` work.
"""

from .connection import ObjectConnection


def start(loop, path, objects, listeners=None):
    """Connect to ubusd at `path` and register `objects` ({name: object}) asynchronously, with
    reconnects, and listen for the events of `listeners` ({pattern: callback(event, data)}); returns the
    connection (.stop())."""
    conn = ObjectConnection(loop, path, objects)
    for pattern, callback in (listeners or {}).items():
        conn.listen(pattern, callback)
    return conn.start()
