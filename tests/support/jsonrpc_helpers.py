"""Helpers for the JSON-RPC shim tests: a shim on a real loop thread, a small HTTP client."""

import http.client
import json
import os
import shutil
import socket
import tempfile
import threading

from bridge.jsonrpc.app import Shim
from bridge.jsonrpc.users import Users
from bridge.loop import Loop
from bridge.sessions import Sessions
from bridge.tr069 import Tr069
from bridge import ubusmsg as ubus
from support import paths

DATA = os.path.join(paths.DATA, "uhttpd")
REPO_ACL_DIR = os.path.join(paths.ROOT, "files", "usr", "share", "rpcd", "acl.d")  # tr069-bridge's
LUCI_ACL_DIR = os.path.join(paths.ROOT, "package", "luci-app-tr069", "root", "usr", "share", "rpcd", "acl.d")
PACKAGE_ACL_DIRS = [REPO_ACL_DIR, LUCI_ACL_DIR]  # what the two packages install in /usr/share/rpcd/acl.d
# the package's ACL files as they were when answers.json was recorded; the package's own files grant
# more since (tests/jsonrpc/test_jsonrpc_auth.py::test_package_acl_is_the_recorded_one_plus_the_state_view)
RECORDED_ACL_DIR = os.path.join(DATA, "package-acl.d")
ZERO_SID = "0" * 32


class TestObject:
    __test__ = False  # not a test class
    """The `test` object of the reference recording (same methods, same answers)."""

    name = "test"

    def __init__(self, loop):
        self.loop = loop
        self.hung = []

    def signature(self):
        return {"echo": {}, "fail": {"code": ubus.BLOBMSG_INT32, "data": ubus.BLOBMSG_INT8},
                "empty": {}, "hang": {}}

    def call(self, method, args):
        if method == "echo":
            return ubus.OK, dict(args)
        if method == "fail":
            code = args.get("code")
            code = code if isinstance(code, int) and not isinstance(code, bool) else ubus.UNKNOWN_ERROR
            return code, ({"code": code} if args.get("data") is True else None)
        if method == "empty":
            return ubus.OK, None
        if method == "hang":
            import concurrent.futures

            fut = concurrent.futures.Future()
            self.hung.append(fut)  # never completed: the shim's call timeout answers
            return fut
        return ubus.METHOD_NOT_FOUND, None


class StandinTr069:
    """The `tr069` stand-in of the reference recording: canned answers."""

    name = "tr069"
    STATUS = {
        "cwmp": {"status": "up", "start_time": "2026-01-01T00:00:00+00:00", "acs_url": "http://acs.example:7547"},
        "last_session": {"status": "success", "start_time": "2026-01-01T00:01:00+00:00",
                         "end_time": "2026-01-01T00:01:02+00:00"},
        "next_session": {"status": "waiting", "start_time": "2026-01-01T00:06:00+00:00", "end_time": "N/A"},
        "statistics": {"success_sessions": 3, "failure_sessions": 1, "total_sessions": 4},
    }

    def signature(self):
        return {"command": {"command": ubus.BLOBMSG_STRING},
                "inform": {"GetRPCMethods": ubus.BLOBMSG_BOOL, "event": ubus.BLOBMSG_STRING},
                "status": {}}

    def call(self, method, args):
        if method == "status":
            return ubus.OK, json.loads(json.dumps(self.STATUS))
        if method == "command":
            if not isinstance(args.get("command"), str):
                return ubus.INVALID_ARGUMENT, None
            return ubus.OK, {"status": 0, "info": "Command accepted"}
        if method == "inform":
            return ubus.OK, {"status": 1, "info": "Session started"}
        return ubus.METHOD_NOT_FOUND, None


class Running:
    """A shim serving `objects` on 127.0.0.1 with its loop in a thread."""

    def __init__(self, objects_factory=None, users_file=None, acl_dirs=None, state_dir=None,
                 **kw):
        self.tmp = tempfile.mkdtemp(prefix="jsonrpc-test-")
        self.loop = Loop()
        objects = objects_factory(self.loop) if objects_factory else {}
        self.objects = objects
        users = Users(users_file or os.devnull, kw.pop("shadow", os.devnull))
        # failed logins answer after short delays here; the real ones are tested with a fake clock
        kw.setdefault("login_delays", (0.01, 0.05))
        self.shim = Shim(self.loop, objects, port=0, users=users,
                         acl_dirs=acl_dirs if acl_dirs is not None else PACKAGE_ACL_DIRS,
                         state_dir=state_dir or self.tmp, **kw)
        self.host, self.port = self.shim.address
        self.thread = threading.Thread(target=self.loop.run, daemon=True)
        self.thread.start()

    def run_on_loop(self, fn, timeout=5):
        done = threading.Event()
        box = {}

        def job():
            try:
                box["value"] = fn()
            finally:
                done.set()

        self.loop.call_soon_threadsafe(job)
        assert done.wait(timeout), "loop did not run the job"
        return box.get("value")

    def close(self):
        self.loop.call_soon_threadsafe(self.shim.stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def client(self):
        return Client(self.host, self.port)


class Client:
    def __init__(self, host, port, timeout=10):
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def post_raw(self, body, path="/ubus", headers=None):
        self.conn.request("POST", path, body=body, headers=headers or {"Content-Type": "application/json"})
        resp = self.conn.getresponse()
        return resp.status, resp.getheader("Content-Type"), resp.read()

    def post(self, doc, path="/ubus"):
        status, ctype, body = self.post_raw(json.dumps(doc).encode(), path)
        assert status == 200, (status, body)
        return json.loads(body)

    def call(self, sid, obj, method, args=None, req_id=1):
        return self.post({"jsonrpc": "2.0", "id": req_id, "method": "call",
                          "params": [sid, obj, method, {} if args is None else args]})

    def login(self, username, password, **extra):
        args = {"username": username, "password": password}
        args.update(extra)
        return self.call(ZERO_SID, "session", "login", args)

    def close(self):
        self.conn.close()


def raw_exchange(host, port, data, timeout=5, read_until_close=True):
    """Send raw bytes; return everything the server sends until it closes (bounded by timeout)."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(data)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            if not b:
                break
            chunks.append(b)
            if not read_until_close:
                break
        return b"".join(chunks)
    finally:
        s.close()


def real_tr069(loop, state_dir):
    return Tr069(loop, Sessions(os.path.join(state_dir, "sessions.json")),
                 acs_url=lambda: "http://acs.example:7547/")
