"""rpcd-style sessions: random 32-hex ids, idle timeouts, per-session ACLs (rpcd session.c).

A session's ACL is a set of (scope, object pattern, function pattern) grants; a call is allowed
when a grant of scope "ubus" matches both names with fnmatch, as rpcd checks them. Expiry is lazy
(checked on use, swept on create) instead of one timer per session: same answers, fewer timers.
"""

import fnmatch
import os

DEFAULT_SID = "0" * 32
DEFAULT_TIMEOUT = 300  # rpcd's RPC_DEFAULT_SESSION_TIMEOUT
MAX_SESSIONS = 256  # bound memory
MAX_PER_USER = 32  # one user's sessions; a login past it ends that user's least recently used one


def _id_prefix(pattern):
    """rpcd keys its ACL tree by the pattern up to the first wildcard; dumps follow that order."""
    for i, ch in enumerate(pattern):
        if ch in "*?[":
            return pattern[:i]
    return pattern


class Session:
    __slots__ = ("sid", "timeout", "expires_at", "acls", "data", "_cache", "owner", "pinned")

    def __init__(self, sid, timeout, owner=None, pinned=False):
        self.sid = sid
        self.timeout = timeout  # seconds; 0 or less: never expires (rpcd keeps the value as given)
        self.owner = owner  # the user who logged in
        self.pinned = pinned  # never evicted: the default session, the local CLI's
        self.expires_at = None
        self.acls = {}  # scope -> [(object, function)] in grant order
        self.data = {}
        self._cache = {}

    def grant(self, scope, obj, func):
        entries = self.acls.setdefault(scope, [])
        if (obj, func) not in entries:
            entries.append((obj, func))
            self._cache.clear()

    def allowed(self, scope, obj, func):
        key = (scope, obj, func)
        hit = self._cache.get(key)
        if hit is None:
            hit = any(fnmatch.fnmatchcase(obj, o) and fnmatch.fnmatchcase(func, f)
                      for o, f in self.acls.get(scope, ()))
            if len(self._cache) < 256:
                self._cache[key] = hit
        return hit

    def dump_acls(self):
        out = {}
        for scope in sorted(self.acls):
            table = {}
            # stable sort: same-prefix entries keep their grant order, as in rpcd's AVL tree
            for obj, func in sorted(self.acls[scope], key=lambda e: _id_prefix(e[0])):
                table.setdefault(obj, []).append(func)
            out[scope] = table
        return out


class SessionStore:
    def __init__(self, clock, max_sessions=MAX_SESSIONS):
        self.clock = clock
        self.max_sessions = max_sessions
        self._sessions = {}  # insertion order doubles as LRU order (moved to the end on use)
        self.default = Session(DEFAULT_SID, 0, pinned=True)
        self._sessions[DEFAULT_SID] = self.default

    def __len__(self):
        return len(self._sessions)

    def create(self, timeout=DEFAULT_TIMEOUT, sid=None, owner=None, pinned=False):
        """A new session. Room is made within its owner's sessions first, then, when the store
        is full, among the sessions of whoever holds the most: no user, however many times it
        logs in (with a timeout of 0 or not), can push another user's session out."""
        self.sweep()
        if owner is not None:
            mine = [x for x in self._sessions.values() if x.owner == owner and not x.pinned]
            for victim in mine[:max(0, len(mine) - MAX_PER_USER + 1)]:
                del self._sessions[victim.sid]
        while len(self._sessions) >= self.max_sessions:
            held = {}
            for x in self._sessions.values():
                if not x.pinned:
                    held.setdefault(x.owner, []).append(x)
            if not held:
                break
            victim = max(held.values(), key=len)[0]  # that holder's least recently used
            del self._sessions[victim.sid]
        ses = Session(sid or os.urandom(16).hex(), int(timeout), owner, pinned)
        self._sessions[ses.sid] = ses
        self._touch(ses)
        return ses

    def get(self, sid):
        """The live session (its idle timer restarted, as rpc_session_get does) or None."""
        ses = self._sessions.get(sid) if isinstance(sid, str) else None
        if ses is None:
            return None
        if ses.expires_at is not None and ses.expires_at <= self.clock():
            del self._sessions[sid]
            return None
        self._touch(ses)
        return ses

    def destroy(self, sid):
        return self._sessions.pop(sid, None) is not None

    def access(self, sid, scope, obj, func):
        ses = self.get(sid)
        return ses is not None and ses.allowed(scope, obj, func)

    def sweep(self):
        now = self.clock()
        for sid in [s for s, ses in self._sessions.items()
                    if ses.expires_at is not None and ses.expires_at <= now]:
            del self._sessions[sid]

    def _touch(self, ses):
        if ses.timeout > 0:
            ses.expires_at = self.clock() + ses.timeout
        if not ses.pinned:
            # keep LRU order: most recently used last
            self._sessions[ses.sid] = self._sessions.pop(ses.sid)

    def dump(self, ses, acls=True):
        """What rpcd's session dump holds, in its key order."""
        if ses.expires_at is None:
            expires = 0  # rpcd: remaining time of a timer never set, -1 ms / 1000
        else:
            expires = max(0, int(ses.expires_at - self.clock()))
        out = {"ubus_rpc_session": ses.sid, "timeout": ses.timeout, "expires": expires}
        if acls:
            out["acls"] = ses.dump_acls()
        out["data"] = dict(ses.data)
        return out
