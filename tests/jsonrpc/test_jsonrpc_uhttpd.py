"""The shim answers like uhttpd + rpcd + ubusd: same keys, nesting, codes, for the same inputs.

Expected data: tests/data/uhttpd/answers.json was recorded from a real uhttpd (ubus plugin, no TLS,
no Lua), rpcd and ubusd built from the OpenWrt sources (openwrt/uhttpd, rpcd, ubus, libubox, uci;
Debian's json-c 0.16), run on 127.0.0.1 with `uhttpd -u /ubus -t 1` (1 s call timeout), the rpcd
users in tests/data/uhttpd/rpcd, the package's ACL files of then (tests/data/uhttpd/package-acl.d/),
tests/data/uhttpd/acl.d/test.json and rpcd's own unauthenticated.json, and two stand-in ubus
objects written against libubus: `tr069` (canned answers, the same as StandinTr069 here) and
`test` (echo, fail with a given code, empty, hang: the same as TestObject here). Record again with

    python tests/jsonrpc/test_jsonrpc_uhttpd.py --record http://127.0.0.1:PORT/ubus

against such a server. The same CASES then run against the shim with the same users, ACLs and
objects, and both answers are compared after normalisation (session ids, `expires` counters).
"""

import http.client
import json
import os
import re
import sys
import time
import urllib.parse

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/, when run to record

from support.jsonrpc_helpers import DATA, RECORDED_ACL_DIR, Running, StandinTr069, TestObject  # noqa: E402

ANSWERS = os.path.join(DATA, "answers.json")
ZERO = "0" * 32


def rpc(method, params=None, req_id=1):
    doc = {"jsonrpc": "2.0", "id": req_id, "method": method}
    if params is not None:
        doc["params"] = params
    return doc


def call(sid, obj, method, args=None, req_id=1):
    return rpc("call", [sid, obj, method, {} if args is None else args], req_id)


def login(user, password=None, **extra):
    args = {"username": user, "password": password if password is not None else user + "-pw"}
    args.update(extra)
    return call(ZERO, "session", "login", args)


# Each case: (name, step). Steps: {"json": doc} | {"raw": bytes-as-str} | {"http": (method, path)}
# | {"sleep": s}. "$user" in a sid position is the session of that user's last login ("login_as").
# "served": the reference lists objects the shim does not serve (rpcd's rc, uci): compare only
# the objects the shim serves (session methods: those the shim implements).
CASES = [
    # --- logins ---------------------------------------------------------------------------------
    ("login admin", {"json": login("admin"), "login_as": "admin"}),
    ("login viewer", {"json": login("viewer"), "login_as": "viewer"}),
    ("login operator", {"json": login("operator"), "login_as": "operator"}),
    ("login tester (md5-crypt)", {"json": login("tester"), "login_as": "tester"}),
    ("login testwriter", {"json": login("testwriter"), "login_as": "testwriter"}),
    ("login negated group", {"json": login("negated"), "login_as": "negated"}),
    ("login nobody", {"json": login("nobody"), "login_as": "nobody"}),
    ("login option instead of list", {"json": login("optionuser"), "login_as": "optionuser"}),
    ("login wrong password", {"json": login("admin", "wrong")}),
    ("login unknown user", {"json": login("ghost", "ghost-pw")}),
    ("login missing password", {"json": call(ZERO, "session", "login", {"username": "admin"})}),
    ("login username not a string", {"json": call(ZERO, "session", "login", {"username": 5, "password": "x"})}),
    ("login timeout as string", {"json": login("viewer", timeout="60"), "login_as": "viewer2"}),
    ("login timeout 0 never expires", {"json": login("viewer", timeout=0), "login_as": "viewer0"}),
    ("login negative timeout", {"json": login("viewer", timeout=-5), "login_as": "viewerneg"}),
    # --- ACL per method ---------------------------------------------------------------------------
    ("viewer tr069 status", {"json": call("$viewer", "tr069", "status")}),
    ("viewer tr069 inform denied", {"json": call("$viewer", "tr069", "inform", {"event": "1 BOOT"})}),
    ("viewer tr069 command denied", {"json": call("$viewer", "tr069", "command", {"command": "reload"})}),
    ("viewer unknown method denied", {"json": call("$viewer", "tr069", "nosuch")}),
    ("operator tr069 status", {"json": call("$operator", "tr069", "status")}),
    ("operator tr069 inform", {"json": call("$operator", "tr069", "inform", {"event": "6 CONNECTION REQUEST"})}),
    ("operator tr069 command", {"json": call("$operator", "tr069", "command", {"command": "reload"})}),
    ("operator command without args", {"json": call("$operator", "tr069", "command")}),
    ("operator test echo denied", {"json": call("$operator", "test", "echo")}),
    ("tester echo (read)", {"json": call("$tester", "test", "echo", {"x": 1})}),
    ("tester empty (wildcard function)", {"json": call("$tester", "test", "empty")}),
    ("tester fail denied (write)", {"json": call("$tester", "test", "fail", {"code": 2})}),
    ("tester tr069 status denied", {"json": call("$tester", "tr069", "status")}),
    ("testwriter fail (wildcard object)", {"json": call("$testwriter", "test", "fail", {"code": 4})}),
    ("negated tr069 status denied", {"json": call("$negated", "tr069", "status")}),
    ("negated test echo", {"json": call("$negated", "test", "echo")}),
    ("nobody session access denied", {"json": call("$nobody", "session", "access", {})}),
    ("nobody tr069 status denied", {"json": call("$nobody", "tr069", "status")}),
    ("option-only user denied", {"json": call("$optionuser", "tr069", "status")}),
    ("default session tr069 denied", {"json": call(ZERO, "tr069", "status")}),
    ("default session access", {"json": call(ZERO, "session", "access", {"object": "session", "function": "login"})}),
    ("default session acl dump", {"json": call(ZERO, "session", "access", {})}),
    ("unknown session denied", {"json": call("f" * 32, "tr069", "status")}),
    ("empty session id denied", {"json": call("", "tr069", "status")}),
    ("admin session access true", {"json": call("$admin", "session", "access", {"object": "tr069", "function": "status"})}),
    ("admin session access scope", {"json": call("$admin", "session", "access", {"scope": "uci", "object": "tr069", "function": "read"})}),
    ("admin session acl dump", {"json": call("$admin", "session", "access", {})}),
    ("admin unknown method", {"json": call("$admin", "tr069", "nosuch")}),
    # --- status codes and data -----------------------------------------------------------------
    ] + [
    ("status code %d" % code, {"json": call("$admin", "test", "fail", {"code": code})})
    for code in list(range(0, 14)) + [-1, 99]
    ] + [
    ("status code with data", {"json": call("$admin", "test", "fail", {"code": 2, "data": True})}),
    ("empty reply is [0]", {"json": call("$admin", "test", "empty")}),
    ("echo adds ubus_rpc_session", {"json": call("$admin", "test", "echo", {
        "s": "x", "i": 1, "b": True, "f": 1.5, "n": None, "a": [1, "x", None, True],
        "o": {"k": "v", "e": {}}, "big": 2 ** 40, "neg": -3, "ea": []})}),
    ("echo args with ubus_rpc_session", {"json": call("$admin", "test", "echo", {"ubus_rpc_session": ZERO})}),
    ("denied before args checked", {"json": call("$viewer", "test", "echo", {"ubus_rpc_session": ZERO})}),
    ("unknown object", {"json": call("$admin", "nosuch", "status")}),
    ("unknown object, default session", {"json": call(ZERO, "nosuch", "status")}),
    ("call timeout", {"json": call("$admin", "test", "hang")}),
    ("tr069 status (stand-in)", {"json": call("$admin", "tr069", "status", req_id="status-1")}),
    # --- request shapes ------------------------------------------------------------------------
    ("id string", {"json": call("$admin", "test", "empty", req_id="abc")}),
    ("id null", {"json": call("$admin", "test", "empty", req_id=None)}),
    ("id missing", {"json": {"jsonrpc": "2.0", "method": "call", "params": ["$admin", "test", "empty", {}]}}),
    ("id object", {"json": call("$admin", "test", "empty", req_id={"a": [1]})}),
    ("id float", {"json": call("$admin", "test", "empty", req_id=1.5)}),
    ("id negative", {"json": call("$admin", "test", "empty", req_id=-7)}),
    ("id bool", {"json": call("$admin", "test", "empty", req_id=True)}),
    ("jsonrpc missing", {"json": {"id": 3, "method": "list"}}),
    ("jsonrpc 1.0", {"json": {"jsonrpc": "1.0", "id": 3, "method": "list"}}),
    ("jsonrpc number", {"json": {"jsonrpc": 2.0, "id": 3, "method": "list"}}),
    ("method missing", {"json": {"jsonrpc": "2.0", "id": 3}}),
    ("method not a string", {"json": {"jsonrpc": "2.0", "id": 3, "method": 5}}),
    ("method unknown", {"json": rpc("nosuch", [], 3)}),
    ("method upper case", {"json": rpc("CALL", ["$admin", "test", "empty", {}], 3)}),
    ("call without params", {"json": rpc("call", None, 3)}),
    ("call params object", {"json": rpc("call", {"sid": "$admin"}, 3)}),
    ("call params string", {"json": rpc("call", "$admin", 3)}),
    ("call three params", {"json": rpc("call", ["$admin", "test", "empty"], 3)}),
    ("call args array", {"json": rpc("call", ["$admin", "test", "empty", []], 3)}),
    ("call args null", {"json": rpc("call", ["$admin", "test", "empty", None], 3)}),
    ("call args string", {"json": rpc("call", ["$admin", "test", "empty", "x"], 3)}),
    ("call sid number", {"json": rpc("call", [5, "test", "empty", {}], 3)}),
    ("call params skip wrong types", {"json": rpc("call", ["$admin", 5, "test", True, "empty", [], {}], 3)}),
    ("call params leading table", {"json": rpc("call", [{}, "$admin", "test", "empty", {}], 3)}),
    ("call extra params", {"json": rpc("call", ["$admin", "test", "empty", {}, "x", {}], 3)}),
    ("call empty object name", {"json": rpc("call", ["$admin", "", "empty", {}], 3)}),
    # --- list --------------------------------------------------------------------------------
    ("list all", {"json": rpc("list"), "served": True}),
    ("list params object", {"json": rpc("list", {}), "served": True}),
    ("list params string", {"json": rpc("list", "tr069"), "served": True}),
    ("list empty array", {"json": rpc("list", [])}),
    ("list tr069", {"json": rpc("list", ["tr069"])}),
    ("list two", {"json": rpc("list", ["test", "tr069"])}),
    ("list unknown", {"json": rpc("list", ["nosuch"])}),
    ("list prefix", {"json": rpc("list", ["tr*"])}),
    ("list wildcard", {"json": rpc("list", ["*"]), "served": True}),
    ("list non-string", {"json": rpc("list", [5, ""])}),
    ("list session", {"json": rpc("list", ["session"]), "served": True}),
    # --- batches -----------------------------------------------------------------------------
    ("batch empty", {"json": []}),
    ("batch two calls", {"json": [call("$admin", "test", "fail", {"code": 2}, 1), call("$viewer", "tr069", "status", None, 2)]}),
    ("batch with junk", {"json": [1, "x", None, [], {}, rpc("nosuch", None, 9)]}),
    ("batch nested", {"json": [[call("$admin", "test", "empty")]]}),
    ("batch with list and error", {"json": [rpc("list", ["tr069"], 1), call("$viewer", "tr069", "inform", None, 2)]}),
    # --- malformed bodies (json-c's tokener, not RFC 8259, decides) ------------------------------
    ("body empty", {"raw": ""}),
    ("body garbage", {"raw": "xx"}),
    ("body truncated", {"raw": '{"jsonrpc":"2.0","id":1,"method":"list"'}),
    ("body open bracket", {"raw": "["}),
    ("body null", {"raw": "null"}),
    ("body number", {"raw": "1 "}),
    ("body string", {"raw": '"call"'}),
    ("body true", {"raw": "true"}),
    ("body trailing garbage ignored", {"raw": '{"jsonrpc":"2.0","id":1,"method":"list","params":["tr069"]} xx'}),
    ("body two documents", {"raw": '{"jsonrpc":"2.0","id":1,"method":"list","params":["tr069"]}{"x":1}'}),
    ("body leading whitespace", {"raw": ' \n\t{"jsonrpc":"2.0","id":1,"method":"list","params":["tr069"]}'}),
    ("body byte order mark", {"raw": '\ufeff{"jsonrpc":"2.0","id":1,"method":"list"}'}),
    ("body unquoted key", {"raw": '{jsonrpc:"2.0","id":1,"method":"list"}'}),
    ("body single quotes", {"raw": "{'jsonrpc':'2.0','id':1,'method':'list','params':['tr069']}"}),
    ("body trailing commas", {"raw": '{"jsonrpc":"2.0","id":[1,2,],"method":"list","params":["tr069",],}'}),
    ("body double comma", {"raw": '{"jsonrpc":"2.0","id":[1,,2],"method":"list"}'}),
    ("body block comment", {"raw": '/* c */{"jsonrpc":"2.0","id":1,/* c */"method":"list","params":["tr069"]}'}),
    ("body line comment", {"raw": '// c\n{"jsonrpc":"2.0","id":1,"method":"list","params":["tr069"]}'}),
    ("body hash comment", {"raw": '# c\n{"jsonrpc":"2.0","id":1,"method":"list"}'}),
    ("body literal case", {"raw": '{"jsonrpc":"2.0","id":TRUE,"method":"list","params":["tr069"]}'}),
    ("body leading zero", {"raw": '{"jsonrpc":"2.0","id":007,"method":"list","params":["tr069"]}'}),
    ("body plus sign", {"raw": '{"jsonrpc":"2.0","id":+1,"method":"list"}'}),
    ("body bare fraction", {"raw": '{"jsonrpc":"2.0","id":.5,"method":"list"}'}),
    ("body hex number", {"raw": '{"jsonrpc":"2.0","id":0x10,"method":"list"}'}),
    ("body exponent", {"raw": '{"jsonrpc":"2.0","id":1E+2,"method":"list","params":["tr069"]}'}),
    ("body huge integer", {"raw": '{"jsonrpc":"2.0","id":99999999999999999999,"method":"list","params":["tr069"]}'}),
    ("body raw control char", {"raw": '{"jsonrpc":"2.0","id":"a\tb","method":"list","params":["tr069"]}'}),
    ("body bad escape", {"raw": '{"jsonrpc":"2.0","id":"\\x41","method":"list"}'}),
    ("body unicode escapes", {"raw": '{"jsonrpc":"2.0","id":"\\u00e9\\ud83d\\ude00\\/","method":"list","params":["tr069"]}'}),
    ("body NUL in string", {"raw": '{"jsonrpc":"2.0\\u0000x","id":"a\\u0000b","method":"list","params":["tr069"]}'}),
    ("body duplicate keys", {"raw": '{"jsonrpc":"2.0","id":1,"id":2,"method":"list","method":"call"}'}),
    ("body nesting 31", {"raw": '{"jsonrpc":"2.0","id":1,"method":"list","params":["tr069"],"x":' + "[" * 30 + "]" * 30 + "}"}),
    ("body nesting 33", {"raw": '{"jsonrpc":"2.0","id":1,"method":"list","x":' + "[" * 32 + "]" * 32 + "}"}),
    ("body nesting 32", {"raw": '{"jsonrpc":"2.0","id":1,"method":"list","params":["tr069"],"x":' + "[" * 31 + "]" * 31 + "}"}),
    # --- sizes and HTTP ------------------------------------------------------------------------
    ("body 64 KiB exactly", {"raw": "BIG-OK"}),
    ("body over 64 KiB", {"raw": "BIG-TOO"}),
    ("GET /ubus", {"http": ("GET", "/ubus")}),
    ("OPTIONS /ubus", {"http": ("OPTIONS", "/ubus")}),
    ("PUT /ubus", {"http": ("PUT", "/ubus")}),
    ("POST /ubus/ (slash)", {"json": rpc("list", ["tr069"]), "path": "/ubus/"}),
    ("POST /ubus?query", {"json": rpc("list", ["tr069"]), "path": "/ubus?x=1"}),
    # --- destroy and expiry ----------------------------------------------------------------------
    ("login timeout 1", {"json": login("tester", timeout=1), "login_as": "short"}),
    ("short session works", {"json": call("$short", "test", "echo")}),
    ("wait for expiry", {"sleep": 2.2}),
    ("short session expired", {"json": call("$short", "test", "echo")}),
    ("never-expiring session alive", {"json": call("$viewer0", "tr069", "status")}),
    ("default session destroy denied", {"json": call(ZERO, "session", "destroy")}),
    ("viewer destroys own session", {"json": call("$viewer", "session", "destroy")}),
    ("viewer session gone", {"json": call("$viewer", "tr069", "status")}),
    ("admin destroys own session", {"json": call("$admin", "session", "destroy")}),
    ("admin session gone", {"json": call("$admin", "test", "empty")}),
]

BIG_LIMIT = 65536


def _big(ok):
    # padded inside the document: uhttpd refuses data that arrives after the document is complete
    head, tail = '{"jsonrpc":"2.0","id":1,"method":"list","params":["tr069"],"pad":"', '"}'
    return head + "x" * (BIG_LIMIT - len(head) - len(tail) + (0 if ok else 1)) + tail


def _subst(obj, sids):
    if isinstance(obj, str) and obj.startswith("$") and obj[1:] in sids:
        return sids[obj[1:]]
    if isinstance(obj, list):
        return [_subst(x, sids) for x in obj]
    if isinstance(obj, dict):
        return {k: _subst(v, sids) for k, v in obj.items()}
    return obj


def _request(url, method, path, body, timeout=10):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body is not None else {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, data
    finally:
        conn.close()


def _parse(data):
    try:
        return json.loads(data)
    except ValueError:
        return {"unparsed": data.decode("latin-1")}


SID_RE = re.compile(r"^[0-9a-f]{32}$")


def _normalise(obj, names):
    """Session ids -> $name, expires -> '<expires>' (a counter; checked apart)."""
    if isinstance(obj, str) and SID_RE.match(obj) and obj != ZERO:
        return "$" + names.get(obj, "unknown-session")
    if isinstance(obj, list):
        return [_normalise(x, names) for x in obj]
    if isinstance(obj, dict):
        return {k: ("<expires>" if k == "expires" else _normalise(v, names)) for k, v in obj.items()}
    return obj


def run_cases(url, sleep=time.sleep):
    """Send CASES to a /ubus URL; returns {name: {"status": http status, "answer": normalised}}."""
    sids, names, out = {}, {}, {}
    base_path = urllib.parse.urlsplit(url).path
    for name, step in CASES:
        if "sleep" in step:
            sleep(step["sleep"])
            continue
        path = step.get("path", base_path)
        if "http" in step:
            method, path = step["http"]
            status, data = _request(url, method, path, None)
            out[name] = {"status": status, "body": data.decode("latin-1")}
            continue
        if "raw" in step:
            raw = step["raw"]
            body = _big(raw == "BIG-OK").encode() if raw.startswith("BIG-") else raw.encode()
        else:
            body = json.dumps(_subst(step["json"], sids)).encode()
        status, data = _request(url, "POST", path, body)
        answer = _parse(data)
        if "login_as" in step:
            res = answer.get("result") if isinstance(answer, dict) else None
            if res and res[0] == 0:
                sids[step["login_as"]] = res[1]["ubus_rpc_session"]
                names[res[1]["ubus_rpc_session"]] = step["login_as"]
                out[name + " (expires)"] = {"timeout": res[1]["timeout"], "expires": res[1]["expires"]}
        out[name] = {"status": status, "answer": _normalise(answer, names)}
    return out


def record(url):
    answers = run_cases(url)
    with open(ANSWERS, "w") as f:
        json.dump({"source": "uhttpd + rpcd + ubusd built from OpenWrt sources; see " + os.path.basename(__file__),
                   "answers": answers}, f, indent=1, sort_keys=False, ensure_ascii=False)
        f.write("\n")


# --- comparison -------------------------------------------------------------------------------
SERVED = ("session", "test", "tr069")
SHIM_SESSION_METHODS = ("list", "access", "destroy", "login")


def _served_only(answer):
    """Restrict a reference answer to what the shim serves (rpcd's rc and uci objects aside)."""
    res = answer.get("result")
    if isinstance(res, list):
        answer = dict(answer, result=[n for n in res if n in SERVED])
    elif isinstance(res, dict):
        res = {k: v for k, v in res.items() if k in SERVED}
        if "session" in res:
            res["session"] = {m: a for m, a in res["session"].items() if m in SHIM_SESSION_METHODS}
        answer = dict(answer, result=res)
    return answer


def _reorder_session(answer):
    # the shim lists the session methods it serves in its own order: compare them as a set
    res = answer.get("result")
    if isinstance(res, dict) and "session" in res:
        res = dict(res, session=dict(sorted(res["session"].items())))
        answer = dict(answer, result=res)
    return answer


@pytest.fixture(scope="module")
def recorded():
    with open(ANSWERS) as f:
        return json.load(f)["answers"]


@pytest.fixture(scope="module")
def shim_answers():
    r = Running(lambda loop: {"tr069": StandinTr069(), "test": TestObject(loop)},
                users_file=os.path.join(DATA, "rpcd"),
                acl_dirs=[os.path.join(DATA, "acl.d"), RECORDED_ACL_DIR], call_timeout=0.3)
    # the shim's sessions run on a clock the "sleep" steps move forward (uhttpd was recorded waiting for real;
    # a hanging call's answer does not depend on how long the timeout is)
    skew = [0.0]
    r.shim.sessions.clock = lambda: r.loop.time() + skew[0]

    def sleep(seconds):
        skew[0] += seconds

    try:
        yield run_cases("http://%s:%d/ubus" % (r.host, r.port), sleep=sleep)
    finally:
        r.close()


CASE_NAMES = [n for n, s in CASES if "sleep" not in s]


def test_every_case_was_recorded(recorded):
    assert sorted(n for n in recorded if not n.endswith("(expires)")) == sorted(CASE_NAMES)


@pytest.mark.parametrize("name", CASE_NAMES)
def test_same_answer_as_uhttpd(name, recorded, shim_answers):
    want, got = recorded[name], shim_answers[name]
    assert got["status"] == want["status"]
    if "body" in want:  # non-JSON-RPC HTTP answers: the status is what matters
        return
    w, g = want["answer"], got["answer"]
    if dict(CASES)[name].get("served"):
        w, g = _reorder_session(_served_only(w)), _reorder_session(g)
    assert g == w


@pytest.mark.parametrize("name", [n for n, s in CASES if "login_as" in s])
def test_login_expires_counts_down_from_timeout(name, recorded, shim_answers):
    for answers in (recorded, shim_answers):
        e = answers[name + " (expires)"]
        if e["timeout"] > 0:
            assert e["timeout"] - 1 <= e["expires"] <= e["timeout"]
        else:
            assert e["expires"] == 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--record":
        record(sys.argv[2])
    else:
        sys.exit("usage: %s --record http://127.0.0.1:PORT/ubus" % sys.argv[0])
