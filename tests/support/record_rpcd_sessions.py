"""Record what a real rpcd answers to `session access` for the CAMARA API's ACL functions, for
tests/data/rpcd/session-access.json.

    TR069_UBUS_SOCKET=/path/ubus.sock python tests/support/record_rpcd_sessions.py tests/data/rpcd/session-access.json

Over a real ubusd + rpcd it makes the sessions a LuCI login would hold (`session create`, then `session
grant` of the ACLs an rpcd ACL group gives; no login user is needed):

    granted   tr069.reach subscriptions + subscribe (the package's tr069-bridge group)
    reader    tr069.reach subscriptions only
    sms-only  tr069.reach subscribe.reachability-sms only
    other     luci-rpc * and file read (a LuCI user without the tr069-bridge group)
    expiring  as granted, with a timeout of 1 s: asked before and after it expired

and asks `session access` for each function the API asks (bridge/reach/api.py FUNCTIONS), for an unknown
session and for rpcd's unauthenticated session too. The file keeps each question's arguments with rpcd's
status and answer, in order, before and after the expiry.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from bridge.reach.api import ACL_OBJECT, FUNCTIONS, NULL_SESSION  # noqa: E402
from bridge.ubus.client import Client, UbusError  # noqa: E402

GRANTS = {
    "granted": [[ACL_OBJECT, "subscriptions"], [ACL_OBJECT, "subscribe"]],
    "reader": [[ACL_OBJECT, "subscriptions"]],
    "sms-only": [[ACL_OBJECT, "subscribe.reachability-sms"]],
    "other": [["luci-rpc", "*"], ["file", "read"]],
    "expiring": [[ACL_OBJECT, "subscriptions"], [ACL_OBJECT, "subscribe"]],
}
UNKNOWN = "0123456789abcdef0123456789abcdef"


def call(c, method, args):
    try:
        return c.call("session", method, args)
    except UbusError as e:
        return e.code, None


def ask(c, sid):
    out = []
    for function in FUNCTIONS:
        args = {"ubus_rpc_session": sid, "scope": "ubus", "object": ACL_OBJECT, "function": function}
        status, data = call(c, "access", args)
        out.append({"args": args, "status": status, "data": data})
    return out


def main(path):
    socket_path = os.environ["TR069_UBUS_SOCKET"]
    with Client(socket_path, 10) as c:
        sessions = {}
        for name, grants in GRANTS.items():
            status, data = call(c, "create", {"timeout": 1 if name == "expiring" else 300})
            assert status == 0, (name, status)
            sid = data["ubus_rpc_session"]
            status, _ = call(c, "grant", {"ubus_rpc_session": sid, "scope": "ubus", "objects": grants})
            assert status == 0, (name, status)
            sessions[name] = sid
        sessions["unknown"] = UNKNOWN
        sessions["null"] = NULL_SESSION
        before = {name: ask(c, sid) for name, sid in sessions.items()}
        time.sleep(2.5)  # rpcd ends the expiring session after its timeout
        after = {"expiring": ask(c, sessions["expiring"])}
        for name in ("granted", "reader", "sms-only", "other"):
            call(c, "destroy", {"ubus_rpc_session": sessions[name]})
    doc = {"provenance": {"rpcd": "openwrt/rpcd 4476687, ubusd openwrt/ubus 3cc98db, libubox 1aa36ee",
                          "recorder": "tests/support/record_rpcd_sessions.py",
                          "recorded": time.strftime("%Y-%m-%d", time.gmtime())},
           "sessions": sessions, "grants": GRANTS, "before": before, "after": after}
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
