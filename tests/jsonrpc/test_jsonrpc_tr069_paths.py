"""The tr069 methods answer the same whichever path a call took: uhttpd -> ubusd -> the daemon's
ubus surface, or the daemon's own shim.

tests/data/uhttpd/tr069-daemon.json was recorded by sending CASES, as user admin of
tests/data/uhttpd/rpcd, to a real uhttpd + rpcd + ubusd (built from the OpenWrt sources, see
test_jsonrpc_uhttpd.py) with this project's daemon (host backend, fresh state directory) registered
on that ubusd as `tr069`. Record again with

    python tests/jsonrpc/test_jsonrpc_tr069_paths.py --record http://127.0.0.1:PORT/ubus

The same CASES then go through the shim to a fresh real Tr069 object. uhttpd turns JSON into
blobmsg on the way (booleans become int8, ...): the answers must not tell the paths apart.
`status` answers carry times; only their status code and keys are compared.
"""

import http.client
import json
import os
import sys
import urllib.parse

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/, when run to record

from support.jsonrpc_helpers import DATA, RECORDED_ACL_DIR, Running, real_tr069  # noqa: E402

ANSWERS = os.path.join(DATA, "tr069-daemon.json")
ZERO = "0" * 32

CASES = [
    ("status", {}),
    ("inform", {"GetRPCMethods": True, "event": "1 BOOT"}),
    ("inform", {"event": "7 NOPE"}),
    ("inform", {"event": 5}),
    ("inform", {"GetRPCMethods": 1}),
    ("inform", {"GetRPCMethods": "yes"}),
    ("inform", {"x": None}),
    ("inform", {"event": "6 connection request"}),
    ("inform", {}),
    ("command", {"command": "nonsense"}),
    ("command", {}),
    ("command", {"command": 5}),
    ("command", {"command": "reload", "extra": 1}),
    ("command", {"command": "action_end_session"}),
    ("command", {"command": ["reload"]}),
    ("status", {}),
]


def _post(url, doc):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request("POST", u.path, body=json.dumps(doc), headers={"Content-Type": "application/json"})
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def run_cases(url):
    login = _post(url, {"jsonrpc": "2.0", "id": 1, "method": "call",
                        "params": [ZERO, "session", "login", {"username": "admin", "password": "admin-pw"}]})
    sid = login["result"][1]["ubus_rpc_session"]
    out = []
    for method, args in CASES:
        answer = _post(url, {"jsonrpc": "2.0", "id": 1, "method": "call", "params": [sid, "tr069", method, args]})
        res = answer.get("result")
        if method == "status" and res and res[0] == 0:
            # times differ from run to run: keep the code, the keys and the counters
            data = res[1]
            answer = dict(answer, result=[0, {k: sorted(v) for k, v in data.items()}, data["statistics"]])
        out.append({"method": method, "args": args, "answer": answer})
    return out


@pytest.fixture(scope="module")
def shim_answers(tmp_path_factory):
    state = tmp_path_factory.mktemp("tr069-paths")
    r = Running(lambda loop: {"tr069": real_tr069(loop, str(state))}, users_file=os.path.join(DATA, "rpcd"),
                acl_dirs=[os.path.join(DATA, "acl.d"), RECORDED_ACL_DIR], state_dir=str(state))
    try:
        yield run_cases("http://%s:%d/ubus" % (r.host, r.port))
    finally:
        r.close()


def test_same_answers_through_uhttpd_and_ubus_as_through_the_shim(shim_answers):
    with open(ANSWERS) as f:
        recorded = json.load(f)["answers"]
    assert len(recorded) == len(CASES)
    for want, got in zip(recorded, shim_answers):
        assert (got["method"], got["args"]) == (want["method"], want["args"])
        assert got["answer"] == want["answer"], (want["method"], want["args"])


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--record":
        with open(ANSWERS, "w") as f:
            json.dump({"source": "uhttpd + rpcd + ubusd from OpenWrt sources, this daemon's ubus surface; see "
                       + os.path.basename(__file__), "answers": run_cases(sys.argv[2])}, f, indent=1)
            f.write("\n")
    else:
        sys.exit("usage: %s --record http://127.0.0.1:PORT/ubus" % sys.argv[0])
