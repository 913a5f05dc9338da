"""session.login under attack: passwords past the cap are never hashed, every failed login answers after
the same delay, guesses past the limit are slowed while the right password still logs in, failed logins
never log the user name, and the session store is bounded per user.

The delays are checked with a fake clock standing in for the loop (what the code schedules: its time()
and call_later()), never by measuring time.
"""

import logging
import os

import pytest

from bridge.jsonrpc import cryptpw
from bridge.jsonrpc.acl import AclFiles
from bridge.jsonrpc.session_object import FAIL_DELAY, LOCKED_DELAY, FailedLogins, SessionObject
from bridge.jsonrpc.sessions import SessionStore
from bridge.jsonrpc.users import Users
from bridge import ubusmsg as ubus
from support.clock import FakeClock
from support.jsonrpc_helpers import DATA, PACKAGE_ACL_DIRS, Running

RPCD = os.path.join(DATA, "rpcd")


def session_object(loop, users=None, limit=5):
    return SessionObject(SessionStore(loop.time), users or Users(RPCD), AclFiles(PACKAGE_ACL_DIRS), 300,
                         FailedLogins(loop.time, limit), loop)


def answer_of(loop, res):
    """(status, data, seconds after the call at which it was given)."""
    if isinstance(res, tuple):
        return res[0], res[1], 0.0
    got = []
    res.add_done_callback(lambda fut: got.append(fut.result()))
    start = loop.now
    while not got:
        assert loop.armed(), "a deferred answer that never comes"
        loop.advance_until(min(t.when for t in loop.armed()))
    return got[0][0], got[0][1], loop.now - start


@pytest.fixture
def hashing(monkeypatch):
    """Records the length of every password that reaches a hash function (and hashes nothing)."""
    seen = []

    def recorder(password, setting):
        seen.append(len(password))
        return None

    monkeypatch.setattr(cryptpw, "SCHEMES", {k: recorder for k in cryptpw.SCHEMES})
    return seen


# --- 1: SHA-crypt's cost grows with the square of the password length ---------------------------------
@pytest.mark.parametrize("user", ["admin", "tester", "nobody-such"])
def test_finding_01_long_password_is_never_hashed(hashing, user):
    users = Users(RPCD)
    assert users.authenticate(user, "x" * 60000) is None
    assert users.authenticate(user, "é" * 200) is None  # 400 bytes in UTF-8
    assert hashing == []
    assert not cryptpw.verify("x" * 60000, "$6$salt$whatever")
    assert hashing == []


def test_finding_01_passwords_up_to_the_cap_still_log_in(tmp_path):
    pw = "p" * cryptpw.MAX_PASSWORD
    (tmp_path / "rpcd").write_text("config login\n\toption username 'long'\n\toption password '%s'\n"
                                   "\tlist read '*'\n" % cryptpw.crypt(pw, "$6$longsalt"))
    users = Users(str(tmp_path / "rpcd"))
    assert users.authenticate("long", pw) is not None
    assert users.authenticate("long", pw + "p") is None


def test_finding_01_unknown_users_cost_no_hash(hashing):
    assert Users(RPCD).authenticate("nobody-such", "secret") is None
    assert hashing == []


def test_finding_01_long_password_over_http_is_refused_and_the_shim_serves_on():
    r = Running(lambda loop: {}, users_file=RPCD)
    try:
        c = r.client()
        assert c.login("admin", "x" * 60000)["result"] == [6]
        assert c.login("admin", "admin-pw")["result"][0] == 0
    finally:
        r.close()


# --- 13: the time of a failed login does not tell users (or their hash schemes) apart -------------------
@pytest.mark.parametrize("user,password", [
    ("admin", "wrong"),  # $6$
    ("operator", "wrong"),  # $5$
    ("tester", "wrong"),  # $1$: cheap to hash
    ("nobody-such", "wrong"),  # unknown: no hash at all
    ("admin", "x" * 5000),  # over-long
    ("n" * 5000, "wrong"),  # over-long user name
])
def test_finding_13_every_failed_login_answers_at_the_same_time(user, password):
    loop = FakeClock()
    obj = session_object(loop)
    status, data, after = answer_of(loop, obj.call_from("login", {"username": user, "password": password},
                                                        ("10.0.0.1", 1)))
    assert (status, data, after) == (ubus.PERMISSION_DENIED, None, FAIL_DELAY)


def test_finding_13_the_delay_counts_from_the_start_of_the_login(monkeypatch):
    loop = FakeClock()
    users = Users(RPCD)
    real = users.authenticate

    def slow(username, password):
        loop.now += 0.2  # hashing took 0.2 s of loop time
        return real(username, password)

    monkeypatch.setattr(users, "authenticate", slow)
    obj = session_object(loop, users)
    res = obj.call_from("login", {"username": "admin", "password": "wrong"}, ("10.0.0.1", 1))
    status, _, after = answer_of(loop, res)
    assert status == ubus.PERMISSION_DENIED and after == pytest.approx(FAIL_DELAY - 0.2)


def test_finding_13_a_good_login_answers_at_once():
    loop = FakeClock()
    status, data, after = answer_of(loop, session_object(loop).call_from(
        "login", {"username": "admin", "password": "admin-pw"}, ("10.0.0.1", 1)))
    assert status == ubus.OK and data["data"] == {"username": "admin"} and after == 0


# --- 12: failed logins must not lock the right password out ---------------------------------------------
def test_finding_12_right_password_still_logs_in_past_the_limit():
    loop = FakeClock()
    obj = session_object(loop, limit=3)
    proxy = ("127.0.0.1", 40000)  # every client behind a local proxy
    for _ in range(10):
        status, _, _ = answer_of(loop, obj.call_from("login", {"username": "admin", "password": "guess"}, proxy))
        assert status == ubus.PERMISSION_DENIED
    status, data, after = answer_of(loop, obj.call_from("login", {"username": "admin", "password": "admin-pw"},
                                                        proxy))
    assert status == ubus.OK and data["data"] == {"username": "admin"}
    assert after == LOCKED_DELAY  # slowed, not refused
    # guesses at one user do not slow another user's logins from the same address
    status, _, after = answer_of(loop, obj.call_from("login", {"username": "viewer", "password": "viewer-pw"},
                                                     proxy))
    assert status == ubus.OK and after == 0


def test_finding_12_guesses_past_the_limit_are_slowed():
    loop = FakeClock()
    obj = session_object(loop, limit=3)
    delays = [answer_of(loop, obj.call_from("login", {"username": "admin", "password": "g%d" % i},
                                            ("10.0.0.9", 1)))[2] for i in range(5)]
    assert delays == [FAIL_DELAY] * 3 + [LOCKED_DELAY] * 2


def test_finding_12_over_http_behind_a_proxy():
    r = Running(lambda loop: {}, users_file=RPCD, login_attempts=3)
    try:
        c = r.client()
        for _ in range(5):
            assert c.login("admin", "guess")["result"] == [6]
        assert c.login("admin", "admin-pw")["result"][0] == 0
        assert c.login("viewer", None)["result"] == [2]  # malformed: not a guess
    finally:
        r.close()


# --- 17 (part): a failed login's user name is not logged ------------------------------------------------
def test_finding_17_failed_login_does_not_log_the_user_name(caplog):
    loop = FakeClock()
    obj = session_object(loop, limit=1)
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            answer_of(loop, obj.call_from("login", {"username": "MyS3cretPass", "password": "x"},
                                          ("10.0.0.1", 1)))
    assert caplog.records and "MyS3cretPass" not in caplog.text


# --- 5: sessions of timeout 0 and the least-recently-used eviction ------------------------------------
def test_finding_05_a_reader_logging_in_again_and_again_cannot_log_the_admin_out():
    loop = FakeClock()
    obj = session_object(loop)
    peer = ("10.0.0.1", 1)
    status, admin, _ = answer_of(loop, obj.call_from("login", {"username": "admin", "password": "admin-pw"}, peer))
    assert status == ubus.OK
    for i in range(3 * 24):  # past MAX_PER_USER (32)
        timeout = (0, -5, 300)[i % 3]  # never-expiring ones too
        status, _, _ = answer_of(loop, obj.call_from(
            "login", {"username": "viewer", "password": "viewer-pw", "timeout": timeout}, peer))
        assert status == ubus.OK
    store = obj.store
    assert store.get(admin["ubus_rpc_session"]) is not None
    from bridge.jsonrpc.sessions import MAX_PER_USER
    assert len(store) <= MAX_PER_USER + 2  # the viewer's, the admin's, the default one


def test_finding_05_a_full_store_evicts_from_the_biggest_holder():
    store = SessionStore(lambda: 0.0, max_sessions=10)
    cli = store.create(timeout=0, pinned=True)
    admin = store.create(timeout=300, owner="admin")
    others = [store.create(timeout=300, owner="u%d" % (i % 3)) for i in range(30)]
    assert store.get(admin.sid) is admin and store.get(cli.sid) is cli and len(store) <= 10
    assert store.get(others[-1].sid) is not None  # the newest login of each user is kept


def test_finding_05_never_expiring_logins_are_bounded():
    store = SessionStore(lambda: 0.0)
    for _ in range(1000):
        store.create(timeout=0, owner="viewer")
    from bridge.jsonrpc.sessions import MAX_PER_USER
    assert len(store) == MAX_PER_USER + 1
