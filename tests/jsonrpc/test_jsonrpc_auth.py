"""Logins, password hashes, shadow lookups, the failed-login limit, session expiry and ACL rules."""

import os
import warnings

import pytest

from bridge.jsonrpc import acl, cryptpw
from bridge.jsonrpc.session_object import FailedLogins
from bridge.jsonrpc.sessions import DEFAULT_SID, SessionStore
from support.jsonrpc_helpers import PACKAGE_ACL_DIRS, RECORDED_ACL_DIR, Running, StandinTr069, ZERO_SID

try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt as libcrypt
except ImportError:  # Python 3.13+
    libcrypt = None


# --- password hashes ------------------------------------------------------------------------------
@pytest.mark.skipif(libcrypt is None, reason="the crypt module (Python <= 3.12) is the reference here")
@pytest.mark.parametrize("setting", ["$1$abcdefgh", "$1$ab", "$5$saltsalt", "$5$rounds=10000$q",
                                     "$6$saltsaltsaltsaltXX", "$6$rounds=1234$abc"])
@pytest.mark.parametrize("password", ["", "a", "secret", "x" * 40, "pässwörd", "y" * 100])
def test_pure_python_crypt_matches_libc(setting, password):
    want = libcrypt.crypt(password, setting)
    assert cryptpw.crypt(password, setting) == want
    assert cryptpw.verify(password, want)
    assert not cryptpw.verify(password + "x", want)


def test_known_vectors():
    # from the SHA-crypt specification and glibc's test suite
    assert cryptpw.crypt("Hello world!", "$5$saltstring") == \
        "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"
    assert cryptpw.crypt("Hello world!", "$6$saltstring") == \
        "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
    assert cryptpw.crypt("Hello world!", "$6$rounds=10000$saltstringsaltstring") == \
        "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."


@pytest.mark.parametrize("stored", ["", "*", "!", "!$6$abc$xyz", "x", "$9$nope$", "abDES1234567"])
def test_locked_empty_and_unknown_hashes_never_match(stored):
    assert not cryptpw.verify("", stored)
    assert not cryptpw.verify("x", stored)


# --- logins over HTTP ------------------------------------------------------------------------------
@pytest.fixture
def accounts(tmp_path):
    shadow = tmp_path / "shadow"
    shadow.write_text(
        "root:%s:19000:0:99999:7:::\n" % cryptpw.crypt("root-pw", "$1$rootsalt")
        + "daemon:*:0:0:99999:7:::\n"
        + "op:%s:19000:0:99999:7:::\n" % cryptpw.crypt("op-pw", "$6$opsalt")
    )
    rpcd = tmp_path / "rpcd"
    rpcd.write_text(
        "config login\n\toption username 'root'\n\toption password '$p$root'\n\tlist read '*'\n\tlist write '*'\n\n"
        "config login\n\toption username 'op'\n\toption password '$p$op'\n\tlist read 'tr069-bridge'\n\n"
        "config login\n\toption username 'daemon'\n\toption password '$p$daemon'\n\tlist read '*'\n\n"
        "config login\n\toption username 'ghost'\n\toption password '$p$ghost'\n\tlist read '*'\n\n"
        "config login\n\toption username 'open'\n\toption password ''\n\tlist read '*'\n\n"
        "config login\n\toption username 'nopw'\n\tlist read '*'\n\n"
        # two sections for one name: the first whose password matches wins, as in rpcd
        "config login\n\toption username 'twice'\n\toption password '%s'\n\tlist read 'tr069-bridge'\n\n"
        "config login\n\toption username 'twice'\n\toption password '%s'\n\tlist write 'tr069-bridge'\n"
        % (cryptpw.crypt("one", "$5$a"), cryptpw.crypt("two", "$5$b"))
    )
    r = Running(lambda loop: {"tr069": StandinTr069()}, users_file=str(rpcd), shadow=str(shadow),
                state_dir=str(tmp_path), login_attempts=100)
    yield r
    r.close()


def test_shadow_lookup_for_p_user(accounts):
    c = accounts.client()
    res = c.login("root", "root-pw")["result"]
    assert res[0] == 0 and res[1]["data"] == {"username": "root"}
    assert c.login("root", "wrong")["result"] == [6]
    res = c.login("op", "op-pw")["result"]
    assert res[0] == 0
    sid = res[1]["ubus_rpc_session"]
    assert c.call(sid, "tr069", "status")["result"][0] == 0
    assert c.call(sid, "tr069", "inform")["error"]["code"] == -32002


@pytest.mark.parametrize("user", ["daemon", "ghost", "open", "nopw"])
def test_locked_missing_or_empty_passwords_refuse(accounts, user):
    c = accounts.client()
    assert c.login(user, "")["result"] == [6]
    assert c.login(user, "anything")["result"] == [6]


def test_first_matching_section_wins(accounts):
    c = accounts.client()
    one = c.login("twice", "one")["result"][1]["acls"]["ubus"]["tr069"]
    two = c.login("twice", "two")["result"][1]["acls"]["ubus"]["tr069"]
    assert one == ["status"] and two == ["status", "command", "inform"]


def test_failed_login_window_passes():
    now = [1000.0]
    limit = FailedLogins(lambda: now[0], limit=2, window=60)
    assert not limit.blocked("a")
    limit.failed("a")
    limit.failed("a")
    assert limit.blocked("a") and not limit.blocked("b")
    now[0] += 61
    assert not limit.blocked("a")
    limit.failed("a")
    limit.succeeded("a")
    assert not limit.blocked("a")


def test_failed_login_memory_is_bounded():
    limit = FailedLogins(lambda: 0.0, limit=1)
    for i in range(5000):
        limit.failed("10.0.%d.%d" % (i // 256, i % 256))
    assert len(limit._by_client) <= 1024


# --- sessions ----------------------------------------------------------------------------------------
def test_session_expiry_and_touch():
    now = [0.0]
    store = SessionStore(lambda: now[0])
    ses = store.create(timeout=10)
    now[0] = 9
    assert store.get(ses.sid) is ses  # touched: expires at 19 now
    now[0] = 18.5
    assert store.dump(ses)["expires"] == 0 or store.get(ses.sid) is ses
    now[0] = 40
    assert store.get(ses.sid) is None
    assert store.get(DEFAULT_SID) is store.default


def test_session_cap_evicts_least_recently_used_but_not_permanent_ones():
    now = [0.0]
    store = SessionStore(lambda: now[0], max_sessions=4)
    forever = store.create(timeout=0, pinned=True)
    a = store.create(timeout=100)
    b = store.create(timeout=100)
    store.get(a.sid)  # a used after b
    c = store.create(timeout=100)
    assert store.get(b.sid) is None
    assert all(store.get(s.sid) for s in (forever, a, c)) and store.get(DEFAULT_SID)


def test_session_ids_are_random_hex():
    store = SessionStore(lambda: 0.0)
    ids = {store.create().sid for _ in range(50)}
    assert len(ids) == 50 and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


# --- ACL rules ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("login,perm,group,want", [
    ({"read": ["*"]}, "read", "x", True),
    ({"read": ["*"]}, "write", "x", False),
    ({"write": ["x"]}, "read", "x", True),  # write implies read
    ({"read": ["!x", "*"]}, "read", "x", False),
    ({"read": ["! x", "*"]}, "read", "x", False),  # rpcd skips blanks after "!"
    ({"read": ["!x", "*"]}, "read", "y", True),
    ({"read": ["luci-*"]}, "read", "luci-app-tr069", True),
    ({"read": "*"}, "read", "x", False),  # an option, not a list: ignored by rpcd
    (None, "read", "unauthenticated", True),
    (None, "read", "tr069-bridge", False),
])
def test_permitted(login, perm, group, want):
    assert acl.permitted(login, perm, group) is want


def test_repo_acl_grants_status_to_readers_and_methods_to_writers():
    store = SessionStore(lambda: 0.0)
    groups = acl.AclFiles(PACKAGE_ACL_DIRS).groups()
    reader, writer = store.create(), store.create()
    acl.grant_groups(reader, {"read": ["tr069-bridge"]}, groups)
    acl.grant_groups(writer, {"write": ["tr069-bridge"]}, groups)
    assert reader.allowed("ubus", "tr069", "status") and reader.allowed("ubus", "tr069.bridge", "state")
    assert not reader.allowed("ubus", "tr069", "inform") and not reader.allowed("ubus", "tr069", "command")
    assert all(writer.allowed("ubus", "tr069", m) for m in ("status", "inform", "command"))
    assert not writer.allowed("ubus", "system", "reboot")


def test_package_acl_is_the_recorded_one_plus_the_state_view():
    """The uhttpd answers were recorded with tests/data/uhttpd/package-acl.d; since then the package's
    tr069-bridge and luci-app-tr069 groups grant readers tr069.bridge state, tr069-bridge's writers the
    simulated streetlight switch (tr069.streetlights local_switch), the parameter model has a group of its
    own (tr069-model: its Get* methods with read, the rest with write), tr069-bridge's readers the reachability
    status and subscriptions and its writers the CAMARA subscriptions (tr069.reach), and nothing else changed."""
    import json

    def load(*directories):
        return {name: json.load(open(os.path.join(d, name))) for d in directories for name in sorted(os.listdir(d))}

    recorded, now = load(RECORDED_ACL_DIR), load(*PACKAGE_ACL_DIRS)
    for name, group in (("tr069-bridge.json", "tr069-bridge"), ("luci-app-tr069.json", "luci-app-tr069")):
        assert now[name][group]["read"]["ubus"].pop("tr069.bridge") == ["state"], name
    assert now["tr069-bridge.json"]["tr069-bridge"]["write"]["ubus"].pop("tr069.streetlights") == ["local_switch"]
    assert now["tr069-bridge.json"]["tr069-bridge"]["read"]["ubus"].pop("tr069.reach") == ["status", "subscriptions"]
    assert now["tr069-bridge.json"]["tr069-bridge"]["write"]["ubus"].pop("tr069.reach") == ["subscribe"]
    model = now.pop("tr069-model.json")["tr069-model"]
    assert model["read"] == {"ubus": {"tr069.model": ["GetParameterValues", "GetParameterNames",
                                                      "GetParameterAttributes"]}}
    assert model["write"] == {"ubus": {"tr069.model": ["SetParameterValues", "SetParameterAttributes",
                                                       "AddObject", "DeleteObject"]}}
    for doc in (recorded, now):
        doc["tr069-bridge.json"]["tr069-bridge"].pop("description")
    assert now == recorded


def test_broken_acl_file_is_skipped(tmp_path):
    (tmp_path / "a.json").write_text("{ not json")
    (tmp_path / "b.json").write_text('{"g": {"read": {"ubus": {"o": ["m"]}}}}')
    names = [g for g, _ in acl.AclFiles([str(tmp_path)]).groups()]
    assert names == ["g", "unauthenticated"]


def test_default_session_can_only_log_in(accounts):
    c = accounts.client()
    assert c.call(ZERO_SID, "session", "access", {})["result"] == \
        [0, {"access-group": {"unauthenticated": ["read"]}, "ubus": {"session": ["access", "login"]}}]
