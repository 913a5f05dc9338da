"""The `session` object the shim serves, as rpcd's session object answers over /ubus.

login, destroy, access and list; the ubus_rpc_session argument is the caller's session, added by
the dispatcher.

Logins are slowed, never refused: every failed login is answered FAIL_DELAY after it began, so
the time taken does not tell a known user from an unknown one or one hash scheme from another
(unknown users cost no hash at all). Past `limit` failures in a minute for one user from one
address, every answer for that pair (the right password's too) waits LOCKED_DELAY. Refusing the
right password instead would let anyone who knows a user name lock that user out, and behind a
local proxy every client has the same address.
"""

from collections import OrderedDict, deque

from bridge import ubusmsg as ubus
from bridge.jsonrpc import acl as aclmod
from bridge.jsonrpc.sessions import DEFAULT_SID

from ..ubusmsg import UbusObject
from ..logger import getLogger

log = getLogger(__name__)

S, I32 = ubus.BLOBMSG_STRING, ubus.BLOBMSG_INT32
INT32_MIN, INT32_MAX = -(2 ** 31), 2 ** 31 - 1

RATE_WINDOW = 60.0  # seconds a failed login counts against its user and client address
RATE_CLIENTS = 1024  # (user, address) pairs remembered at most (the oldest are forgotten)
FAIL_DELAY = 0.5  # seconds from the start of a login to its PERMISSION_DENIED
LOCKED_DELAY = 5.0  # seconds before any answer to a login of a pair past the limit
MAX_USERNAME = 256  # longer names are no user's: not remembered, not looked up


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


class Later:
    """An answer given after a delay, awaited by the dispatcher like a future."""

    __slots__ = ("_result", "_callbacks")

    def __init__(self, loop, delay, result):
        self._result, self._callbacks = None, []
        loop.call_later(delay, self._set, result)

    def _set(self, result):
        self._result = result
        for fn in self._callbacks:
            fn(self)

    def add_done_callback(self, fn):
        self._callbacks.append(fn)

    def result(self):
        return self._result


class SessionObject(UbusObject):
    name = "session"

    def __init__(self, store, users, acl_files, default_timeout, failed_logins, loop=None,
                 fail_delay=FAIL_DELAY, locked_delay=LOCKED_DELAY):
        self.store = store
        self.users = users
        self.acl_files = acl_files
        self.default_timeout = default_timeout
        self.failed_logins = failed_logins
        self.loop = loop  # None: answers at once (no delays)
        self.fail_delay, self.locked_delay = fail_delay, locked_delay
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
        started = self.loop.time() if self.loop else 0.0
        client = peer[0] if peer else "local"
        key = (username[:MAX_USERNAME], client)
        locked = self.failed_logins.blocked(key)
        login = self.users.authenticate(username, password) if len(username) <= MAX_USERNAME else None
        if login is None:
            # the name is not logged: a password typed into the user field would land in the log
            log.info("failed login from %s%s", client, " (past the limit)" if locked else "")
            self.failed_logins.failed(key)
            answer = (ubus.PERMISSION_DENIED, None)
        else:
            self.failed_logins.succeeded(key)
            timeout = args.get("timeout")
            ses = self.store.create(timeout if _int32(timeout) else self.default_timeout, owner=username)
            aclmod.grant_groups(ses, login, self.acl_files.groups())
            ses.data["username"] = username
            answer = (ubus.OK, self.store.dump(ses))
            if not locked:
                return answer
        if self.loop is None:
            return answer
        if locked:
            delay = self.locked_delay
        else:
            delay = self.fail_delay - (self.loop.time() - started)
        return Later(self.loop, delay, answer)

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
