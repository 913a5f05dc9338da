"""The `session` object the shim serves, as rpcd's session object answers over /ubus.

login, destroy, access and list; the ubus_rpc_session argument is the caller's session, added by
the dispatcher. Failed logins are limited per client address: past the limit, login answers
PERMISSION_DENIED without looking at the password until the window has passed.
"""

import logging
from collections import OrderedDict, deque

from bridge.jsonrpc import acl as aclmod
from bridge.jsonrpc.sessions import DEFAULT_SID
from bridge.ubus import status as ubus

log = logging.getLogger(__name__)

S, I32 = ubus.BLOBMSG_STRING, ubus.BLOBMSG_INT32
INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1

RATE_WINDOW = 60.0  # seconds a failed login counts against its client address
RATE_CLIENTS = 1024  # addresses remembered at most (the oldest are forgotten)


def _int32(value):
    """blobmsg INT32 as uhttpd makes it from JSON: an int within 32 bits (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and INT32_MIN <= value <= INT32_MAX


class FailedLogins:
    def __init__(self, clock, limit, window=RATE_WINDOW):
        self.clock, self.limit, self.window = clock, limit, window
        self._by_client = OrderedDict()  # address -> deque of failure times

    def blocked(self, client):
        times = self._by_client.get(client)
        if not times:
            return False
        cutoff = self.clock() - self.window
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            del self._by_client[client]
            return False
        return len(times) >= self.limit

    def failed(self, client):
        times = self._by_client.pop(client, None) or deque(maxlen=max(1, self.limit))
        times.append(self.clock())
        self._by_client[client] = times
        while len(self._by_client) > RATE_CLIENTS:
            self._by_client.popitem(last=False)

    def succeeded(self, client):
        self._by_client.pop(client, None)


class SessionObject:
    name = "session"

    def __init__(self, store, users, acl_files, default_timeout, failed_logins):
        self.store = store
        self.users = users
        self.acl_files = acl_files
        self.default_timeout = default_timeout
        self.failed_logins = failed_logins
        self.methods = {"login": self._login, "destroy": self._destroy, "access": self._access,
                        "list": self._list}

    def setup_default(self):
        aclmod.grant_groups(self.store.default, None, self.acl_files.groups())

    def signature(self):
        # argument policies as rpcd declares them, for the methods served here
        return {
            "list": {"ubus_rpc_session": S},
            "access": {"ubus_rpc_session": S, "scope": S, "object": S, "function": S},
            "destroy": {"ubus_rpc_session": S},
            "login": {"username": S, "password": S, "timeout": I32},
        }

    def call(self, method, args):
        return self.call_from(method, args, None)

    def call_from(self, method, args, peer):
        handler = self.methods.get(method)
        if handler is None:
            return ubus.METHOD_NOT_FOUND, None
        return handler(args, peer)

    def _login(self, args, peer):
        username, password = args.get("username"), args.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return ubus.INVALID_ARGUMENT, None
        client = peer[0] if peer else "local"
        if self.failed_logins.blocked(client):
            log.warning("login of %r from %s refused: too many failed logins", username, client)
            return ubus.PERMISSION_DENIED, None
        login = self.users.authenticate(username, password)
        if login is None:
            log.info("failed login of %r from %s", username, client)
            self.failed_logins.failed(client)
            return ubus.PERMISSION_DENIED, None
        self.failed_logins.succeeded(client)
        timeout = args.get("timeout")
        ses = self.store.create(timeout if _int32(timeout) else self.default_timeout)
        aclmod.grant_groups(ses, login, self.acl_files.groups())
        ses.data["username"] = username
        return ubus.OK, self.store.dump(ses)

    def _destroy(self, args, peer):
        sid = args.get("ubus_rpc_session")
        if not isinstance(sid, str):
            return ubus.INVALID_ARGUMENT, None
        if sid == DEFAULT_SID:
            return ubus.PERMISSION_DENIED, None
        if self.store.get(sid) is None:
            return ubus.NOT_FOUND, None
        self.store.destroy(sid)
        return ubus.OK, None

    def _access(self, args, peer):
        sid = args.get("ubus_rpc_session")
        if not isinstance(sid, str):
            return ubus.INVALID_ARGUMENT, None
        ses = self.store.get(sid)
        if ses is None:
            return ubus.NOT_FOUND, None
        obj, func = args.get("object"), args.get("function")
        if isinstance(obj, str) and isinstance(func, str):
            scope = args.get("scope")
            scope = scope if isinstance(scope, str) else "ubus"
            return ubus.OK, {"access": ses.allowed(scope, obj, func)}
        return ubus.OK, ses.dump_acls()

    def _list(self, args, peer):
        sid = args.get("ubus_rpc_session")
        ses = self.store.get(sid) if isinstance(sid, str) else None
        if ses is None:
            return ubus.NOT_FOUND, None
        return ubus.OK, self.store.dump(ses)
