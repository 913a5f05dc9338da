"""rpcd's access control: acl.d group files and UCI `login` sections (rpcd session.c).

A group file maps group -> {"read"|"write": {scope: {object: [function, ...]} | [object, ...]}}.
A login section lists groups in `list read` / `list write` (fnmatch patterns, "!pattern" denies
first); write implies read. The default (all-zero) session gets the "unauthenticated" group,
which lets it call session login.
"""

import fnmatch
import json
import os

from ..logger import getLogger

log = getLogger(__name__)

# rpcd ships this as /usr/share/rpcd/acl.d/unauthenticated.json; built in (used when no directory
# holds that file) so that the default session may log in on the host too
UNAUTHENTICATED = ("unauthenticated", {
    "description": "Access controls for unauthenticated requests",
    "read": {"ubus": {"session": ["access", "login"]}},
})


class AclFiles:
    """The groups of every *.json in the directories, re-read when a file changes."""

    def __init__(self, dirs):
        self.dirs = [d for d in dirs if d]
        self._cache = {}  # path -> (mtime_ns, size, [(group, dict)])

    def groups(self):
        """[(group, definition)] in the order rpcd reads them: files sorted by name (glob order),
        as if all directories were one; the first directory holding a file name wins."""
        files = {}
        for d in self.dirs:
            try:
                names = os.listdir(d)
            except OSError:  # no such directory: nothing from it, as glob finds nothing
                continue
            for name in names:  # what glob's *.json matches, without glob (it costs ~30 KiB for this)
                if name.endswith(".json") and not name.startswith("."):
                    files.setdefault(name, os.path.join(d, name))
        files.setdefault("unauthenticated.json", None)
        out = []
        for name in sorted(files):
            out.extend(self._load(files[name]) if files[name] else [UNAUTHENTICATED])
        return out

    def _load(self, path):
        try:
            st = os.stat(path)
        except OSError:
            return []
        cached = self._cache.get(path)
        if cached and cached[:2] == (st.st_mtime_ns, st.st_size):
            return cached[2]
        try:
            with open(path, "rb") as f:
                doc = json.loads(f.read())
        except (OSError, ValueError) as e:
            log.warning("ACL file %s ignored: %s", path, e)  # rpcd: "Failed to parse"
            doc = {}
        groups = [(k, v) for k, v in doc.items() if isinstance(v, dict)] if isinstance(doc, dict) else []
        self._cache[path] = (st.st_mtime_ns, st.st_size, groups)
        return groups


def _patterns(login, perm):
    value = login.get(perm)
    # rpcd reads only UCI lists here: `option read '*'` grants nothing
    return value if isinstance(value, list) else []


def permitted(login, perm, group):
    """rpc_login_test_permission: may this login section use `perm` of `group`?"""
    if login is None:
        return group == "unauthenticated"
    patterns = _patterns(login, perm)
    for p in patterns:
        if p.startswith("!"):
            p = p[1:].lstrip()
            if p and fnmatch.fnmatchcase(group, p):
                return False
    for p in patterns:
        if p and not p.startswith("!") and fnmatch.fnmatchcase(group, p):
            return True
    if perm == "read":
        return permitted(login, "write", group)
    return False


def grant_groups(session, login, groups):
    """Give `session` the grants of every group the login may use (rpc_login_setup_acl_file)."""
    for name, group in groups:
        for perm, scopes in group.items():
            if perm not in ("read", "write") or not isinstance(scopes, dict):
                continue
            if not permitted(login, perm, name):
                continue
            for scope, entries in scopes.items():
                if isinstance(entries, dict):
                    for obj, funcs in entries.items():
                        if isinstance(funcs, list):
                            for func in funcs:
                                if isinstance(func, str):
                                    session.grant(scope, obj, func)
                elif isinstance(entries, list):
                    # array notation: the permission is the function name
                    for obj in entries:
                        if isinstance(obj, str):
                            session.grant(scope, obj, perm)
                session.grant("access-group", name, perm)
