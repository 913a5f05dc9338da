"""The development central system's northbound REST API: the DMS seed's methods, run over the live OS3P link.

    POST /v1/method/<Name>   {"search_options": {"cpe_id": <serial number>}, "command_options": {...},
                              "parameters": ...}
    -> 200 {"result": {"code": 200, "message": "Scenario was finished", "env_id": ..., "details": [...]}}
       400 {"error": "..."}  (a CWMP fault adds "code" and "details"), 401, 500 {"error": "..."}
    POST /v1/method/GetResult {"env_id", "timeout"}: the result of an asynchronous scenario
    GET  /v1/events?after=<seq>&timeout=<s>[&cpe_id=<serial>]: value-change notifications (long poll)
    POST /upload/            with an upload directory: GetFile's uploads are stored there (devtools/uploads.py)

docs/dms-api.md says what each method does on a station and what it answers. The parameter-model
methods travel as the OS3P extension action DataModel; Reboot is Reset, ScheduleDownload is
UpdateFirmware, ScheduleInform a TriggerMessage (Heartbeat) when its delay is over; FactoryReset,
ChangeDUState and CancelTransfer have no OS3P counterpart and answer a documented 9000. cpe_id is the
station's serial number (its BootNotification's serialNumber).

For development and tests: plain HTTP on 127.0.0.1, one thread per request, optional Basic credentials.
"""

import base64
import json
import os
import threading
import time
import uuid
from collections import OrderedDict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .uploads import PREFIX as UPLOAD_PREFIX

FINISHED = "Scenario was finished"
MODEL_METHODS = ("GetParameterValues", "GetParameterNames", "SetParameterValues", "GetParameterAttributes",
                 "SetParameterAttributes", "AddObject", "DeleteObject")
# shaped as the seed shows them: the CPE's response message in a "data" detail
DATA_RESPONSES = {"SetParameterAttributes": "SetParameterAttributesResponse", "Reboot": "RebootResponse",
                  "ScheduleDownload": "DownloadResponse", "ScheduleInform": "ScheduleInformResponse"}
NOT_ON_A_STATION = {
    "FactoryReset": "OS3P has no factory reset, and a station reset to its defaults would lose the central "
                    "system's address: use Reboot, or SetParameterValues of what should change",
    "ChangeDUState": "the station has no deployment units (software modules) to install, update or remove",
    "CancelTransfer": "OS3P cannot cancel a transfer by CommandKey; a new ScheduleDownload replaces a running "
                      "one (UpdateFirmware's AcceptedCanceled)",
}
SEARCH = {"cpe_id": "serialNumber", "vendor": "vendor", "model": "model", "sw_version": "firmwareVersion"}
FIRMWARE = "1 Firmware Upgrade Image"
UNKNOWN_TIME = "0001-01-01T00:00:00Z"
RESULTS_KEPT = 256
EVENTS_KEPT = 1000
MAX_BODY = 1 << 20


class ApiError(Exception):
    def __init__(self, status, error, **extra):
        Exception.__init__(self, error)
        self.status, self.body = status, dict({"error": error}, **extra)


def _answer(req, status, content_type, data):
    req.send_response(status)
    req.send_header("Content-Type", content_type)
    req.send_header("Content-Length", str(len(data)))
    if status == 401:
        req.send_header("WWW-Authenticate", 'Basic realm="DMS"')
    req.end_headers()
    req.wfile.write(data)


def _utc(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _data(method, body=None):
    return [{"key": "data", "value": [{"methodName": DATA_RESPONSES[method], "is_response": True,
                                       "body": body or {}, "ID": str(uuid.uuid4()), "cwmpVersion": "",
                                       "namespace": ""}]}]


def _fault(code, message, details=()):
    return ApiError(400, "%d %s" % (code, message), code=code, details=list(details))


class Northbound:
    def __init__(self, cs, host="127.0.0.1", port=0, credentials=None, call_timeout=30.0, uploads=None):
        """cs: the CentralSystem (devtools/centralsystem.py) whose stations the API drives; uploads: the
        directory POST /upload/ stores files in (None: not served)."""
        self.cs = cs
        self.uploads = uploads
        self.host, self.port = host, port
        self.credentials = credentials  # (user, password): Basic auth required; None: open (loopback)
        self.call_timeout = call_timeout
        self.results = OrderedDict()  # env_id -> {"done": Event, "result": ...}
        self.events = deque(maxlen=EVENTS_KEPT)
        self.seq = 0
        self.cond = threading.Condition()
        self.server = None
        cs.responders["DataModelNotification"] = self._notification

    # --- life cycle ------------------------------------------------------------------------------------------
    def start(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                if api.uploads is not None and self.path.startswith(UPLOAD_PREFIX):
                    return api._upload(self)
                api._handle(self, "POST")

            def do_GET(self):
                api._handle(self, "GET")

        self.server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        if self.uploads is not None:
            self.cs.upload_address = "%s:%d" % (self.host, self.port)  # `help GetFile` puts it in its example
        threading.Thread(target=self.server.serve_forever, name="northbound", daemon=True).start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self):
        return "http://%s:%d/v1" % (self.host, self.port)

    @property
    def upload_url(self):
        return "http://%s:%d%s" % (self.host, self.port, UPLOAD_PREFIX)

    def _upload(self, req):
        from .uploads import UploadError, receive

        try:
            self._authorize(req)
            stored = receive(req.headers, req.rfile.read, self.uploads)
            status, text = 200, "".join("stored %s (%d bytes)\n" % (os.path.basename(p), n) for p, n in stored)
            for path, size in stored:
                self.cs._event("upload", os.path.basename(path), "%d bytes, in %s" % (size, self.uploads))
        except ApiError as e:
            status, text = e.status, e.body["error"] + "\n"
        except UploadError as e:
            status, text = 400, "%s\n" % e
        req.close_connection = status != 200  # a refused body may be unread
        _answer(req, status, "text/plain; charset=utf-8", text.encode())

    # --- HTTP ------------------------------------------------------------------------------------------------
    def _handle(self, req, verb):
        try:
            self._authorize(req)
            path = urlsplit(req.path)
            if verb == "GET" and path.path == "/v1/events":
                status, body = 200, self._events(parse_qs(path.query))
            elif verb == "POST" and path.path.startswith("/v1/method/"):
                status, body = 200, self._method(path.path[len("/v1/method/"):], self._body(req))
            else:
                raise ApiError(404, "no such endpoint: %s %s" % (verb, path.path))
        except ApiError as e:
            status, body = e.status, e.body
        except Exception as e:  # a bug here must answer, not hang the client
            status, body = 500, {"error": "%s: %s" % (e.__class__.__name__, e)}
        _answer(req, status, "application/json", json.dumps(body).encode())

    def _authorize(self, req):
        if self.credentials is None:
            return
        expected = "Basic " + base64.b64encode(("%s:%s" % self.credentials).encode()).decode()
        if req.headers.get("Authorization") != expected:
            raise ApiError(401, "Access Denied")

    def _body(self, req):
        try:
            length = int(req.headers.get("Content-Length") or 0)
        except ValueError:
            raise ApiError(400, "Content-Length is not a number") from None
        if length > MAX_BODY:
            raise ApiError(400, "request body over %d bytes" % MAX_BODY)
        raw = req.rfile.read(length) if length else b"{}"
        try:
            body = json.loads(raw or b"{}")
        except ValueError as e:
            raise ApiError(400, "request body is not JSON: %s" % e) from None
        if not isinstance(body, dict):
            raise ApiError(400, "request body is a JSON object")
        return body

    # --- methods ---------------------------------------------------------------------------------------------
    def _method(self, name, body):
        if name == "GetResult":
            return self._get_result(body)
        if name not in MODEL_METHODS and name not in DATA_RESPONSES and name not in NOT_ON_A_STATION \
                and name != "SmartSPV":
            raise ApiError(400, "unknown method %s" % name)
        options = body.get("command_options") or {}
        if not isinstance(options, dict):
            raise ApiError(400, "command_options is an object")
        identities = self._find(body.get("search_options"), bool(options.get("multiple")))
        env_id = uuid.uuid4().hex
        params = body.get("parameters")
        timeout = options.get("timeout", self.call_timeout)
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            raise ApiError(400, "command_options.timeout is a number of seconds > 0")

        def run():
            if len(identities) == 1:
                return self._run(name, identities[0], params, env_id, timeout, bool(options.get("no_cnr")))
            details = []
            for ident in identities:
                try:
                    details.append({"key": ident, "value": self._run(name, ident, params, env_id, timeout,
                                                                     bool(options.get("no_cnr")))})
                except ApiError as e:
                    details.append({"key": ident, "value": e.body})
            return {"code": 200, "message": FINISHED, "details": details}

        if options.get("async"):
            slot = self._slot(env_id)

            def background():
                try:
                    slot["result"] = (200, {"result": dict(run(), env_id=env_id)})
                except ApiError as e:
                    slot["result"] = (e.status, e.body)
                except Exception as e:
                    slot["result"] = (500, {"error": "%s: %s" % (e.__class__.__name__, e)})
                slot["done"].set()

            threading.Thread(target=background, name="scenario-" + env_id[:8], daemon=True).start()
            return {"result": {"code": 200, "message": "Scenario was started", "env_id": env_id}}
        return {"result": dict(run(), env_id=env_id)}

    def _slot(self, env_id):
        with self.cond:
            while len(self.results) >= RESULTS_KEPT:
                self.results.popitem(last=False)
            slot = self.results[env_id] = {"done": threading.Event(), "result": None}
        return slot

    def _get_result(self, body):
        env_id, timeout = body.get("env_id"), body.get("timeout", 0)
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout < 0:
            raise ApiError(400, "timeout is a number of seconds >= 0")
        if not isinstance(env_id, str):
            raise ApiError(400, "env_id is the string a method's async answer gave")
        with self.cond:
            slot = self.results.get(env_id)
        if slot is None:  # never started here (or long forgotten): no result comes within the polling time
            time.sleep(min(timeout, 300))
            return {"result": {"code": 204, "message": "Polling time is over"}}
        if not slot["done"].wait(min(timeout, 300)):
            return {"result": {"code": 204, "message": "Polling time is over"}}
        status, result = slot["result"]
        if status != 200:
            raise ApiError(status, result["error"], **{k: v for k, v in result.items() if k != "error"})
        return result

    def _find(self, search, multiple):
        """The identities of the connected stations the search options match."""
        if not isinstance(search, dict) or not search:
            raise ApiError(400, "search_options names the CPE (cpe_id: its serial number)")
        for option, value in search.items():
            if option not in SEARCH and option != "protocol":
                raise ApiError(400, "search option %s is not supported here (only %s, protocol)" % (
                    option, ", ".join(SEARCH)))
            if not isinstance(value, str):
                raise ApiError(400, "search option %s is a string" % option)
        found = []
        for ident, boot in self.stations().items():
            if search.get("protocol", "OS3P") != "OS3P":
                continue
            if all(boot.get(field) == search[option] for option, field in SEARCH.items() if option in search):
                found.append(ident)
        if not found:
            raise ApiError(400, "no CPE matches %s" % json.dumps(search, sort_keys=True))
        if len(found) > 1 and not multiple:
            raise ApiError(400, "%d CPEs match %s (command_options.multiple runs on all)" % (
                len(found), json.dumps(search, sort_keys=True)))
        return sorted(found)

    def stations(self):
        """{identity: its last BootNotification payload} of the stations that ever registered."""
        out = {}
        for ident, msg in self.cs.calls_by("BootNotification"):
            if isinstance(msg[3], dict):
                out[ident] = msg[3]
        return out

    def _call(self, ident, action, payload, timeout, no_cnr):
        """One OS3P CALL; the CALLRESULT's payload, or ApiError for a CALLERROR or no answer."""
        if ident not in self.cs.connections:
            if no_cnr:
                raise ApiError(500, "CPE %s is not connected" % ident)
            # OS3P has no connection request: the station connects by itself (its backoff); wait for it
            try:
                self.cs.wait_for(lambda cs: ident in cs.connections, timeout)
            except TimeoutError:
                raise ApiError(500, "CPE %s did not connect within %g s" % (ident, timeout)) from None
        try:
            answer = self.cs.call(ident, action, payload, timeout=timeout)
        except (TimeoutError, ConnectionError, KeyError) as e:
            raise ApiError(500, "CPE %s did not answer %s: %s" % (ident, action, e.__class__.__name__)) from None
        if answer[0] == 4:
            raise ApiError(500, "CPE %s answered %s with %s: %s" % (ident, action, answer[2], answer[3]))
        return answer[2]

    def _run(self, name, ident, params, env_id, timeout, no_cnr):
        if name in NOT_ON_A_STATION:
            raise _fault(9000, "Method not supported: %s" % NOT_ON_A_STATION[name])
        if name in MODEL_METHODS:
            reply = self._model(ident, name, params, env_id, timeout, no_cnr)
            details = _data(name) if name in DATA_RESPONSES else reply["details"]
            return {"code": 200, "message": FINISHED, "details": details}
        if name == "SmartSPV":
            return self._smart_spv(ident, params, env_id, timeout, no_cnr)
        if name == "Reboot":
            answer = self._call(ident, "Reset", {"type": "Hard"}, timeout, no_cnr)
            if answer.get("status") != "Accepted":
                raise _fault(9001, "Request denied: the station cannot reboot (Reset %s)" % answer.get("status"))
            return {"code": 200, "message": FINISHED, "details": _data(name)}
        if name == "ScheduleDownload":
            return self._download(ident, params, timeout, no_cnr)
        if name == "ScheduleInform":
            return self._schedule_inform(ident, params, timeout, no_cnr)
        raise ApiError(400, "unknown method %s" % name)

    def _model(self, ident, method, params, env_id, timeout, no_cnr):
        payload = {"method": method, "parameters": params if params is not None else []}
        if method in ("SetParameterValues", "AddObject", "DeleteObject"):
            payload["parameterKey"] = env_id  # the scenario that last changed the station
        reply = self._call(ident, "DataModel", payload, timeout, no_cnr)
        if reply.get("code") != 200:
            raise _fault(reply.get("code", 9002), reply.get("message", ""), reply.get("details") or ())
        return reply

    def _smart_spv(self, ident, params, env_id, timeout, no_cnr):
        """The seed's SmartSPV: one SetParameterValues per parameter; a boolean the station refuses is
        tried again as an integer."""
        if not isinstance(params, list):
            raise ApiError(400, "parameters is a list of {Name, Value, Type}")
        applied, failed = [], []
        for p in params:
            if not isinstance(p, dict):
                raise ApiError(400, "parameters is a list of {Name, Value, Type}")
            tries = [p]
            if isinstance(p.get("Value"), bool):
                tries.append(dict(p, Value=int(p["Value"])))
            for attempt in tries:
                entry = {"Name": attempt.get("Name"), "Value": attempt.get("Value"),
                         "Type": attempt.get("Type") or "None"}
                try:
                    reply = self._model(ident, "SetParameterValues", [entry], env_id, timeout, no_cnr)
                except ApiError as e:
                    if attempt is tries[-1]:
                        failed.append({"param": {"ParameterKey": "Update parameters", "ParameterList": [entry]},
                                       "message": e.body["error"], "details": e.body.get("details", [])})
                    continue
                status = reply["details"][0]["value"]
                applied.append({"param": {"ParameterKey": "Update parameters", "ParameterList": [entry]},
                                "message": "SPV response with status %d" % status,
                                "lastResult": [{"methodName": "SetParameterValuesResponse", "is_response": True,
                                                "body": {"Status": status}, "ID": str(uuid.uuid4()),
                                                "cwmpVersion": "", "namespace": ""}]})
                break
        return {"code": 200, "message": FINISHED, "details": [
            {"key": "code", "value": 200}, {"key": "message", "value": "Success" if not failed else "Failed"},
            {"key": "applied_params", "value": applied}, {"key": "failed_params", "value": failed}]}

    def _download(self, ident, params, timeout, no_cnr):
        if not isinstance(params, dict) or not isinstance(params.get("URL"), str):
            raise ApiError(400, "parameters is {FileType, URL, ...}")
        if params.get("FileType", FIRMWARE) != FIRMWARE:
            raise _fault(9003, "Invalid arguments: the station downloads %r only" % FIRMWARE)
        windows = params.get("TimeWindowList") or [{}]
        first = windows[0] if isinstance(windows, list) and isinstance(windows[0], dict) else {}
        start = first.get("WindowStart", 0)
        if not isinstance(start, int) or start < 0:
            raise _fault(9003, "Invalid arguments: WindowStart is seconds from now")
        url = params["URL"]
        if params.get("Username"):
            from urllib.parse import quote

            scheme, sep, rest = url.partition("://")
            url = "%s%s%s:%s@%s" % (scheme, sep, quote(params["Username"], safe=""),
                                    quote(params.get("Password") or "", safe=""), rest)
        payload = {"location": url, "retrieveDate": _utc(time.time() + start)}
        if isinstance(first.get("MaxRetries"), int) and first["MaxRetries"] >= 0:
            payload["retries"] = first["MaxRetries"]
        try:
            self._call(ident, "UpdateFirmware", payload, timeout, no_cnr)
        except ApiError as e:
            if "SecurityError" in e.body["error"] or "NotSupported" in e.body["error"]:
                raise _fault(9013, "Unsupported protocol for file transfer: %s" % e.body["error"]) from None
            raise
        return {"code": 200, "message": FINISHED, "details": _data(
            "ScheduleDownload", {"Status": 1, "StartTime": UNKNOWN_TIME, "CompleteTime": UNKNOWN_TIME})}

    def _schedule_inform(self, ident, params, timeout, no_cnr):
        params = params if isinstance(params, dict) else {}
        delay = params.get("DelaySeconds", 0)
        if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
            raise _fault(9003, "Invalid arguments: DelaySeconds is an integer >= 0")
        trigger = {"requestedMessage": "Heartbeat"}
        if delay == 0:
            answer = self._call(ident, "TriggerMessage", trigger, timeout, no_cnr)
            if answer.get("status") != "Accepted":
                raise _fault(9001, "Request denied: TriggerMessage %s" % answer.get("status"))
        else:
            def later():
                try:
                    self._call(ident, "TriggerMessage", trigger, timeout, False)
                except ApiError:
                    pass  # the station is gone: a scheduled inform has no one to tell

            t = threading.Timer(delay, later)
            t.daemon = True
            t.start()
        return {"code": 200, "message": FINISHED, "details": _data("ScheduleInform")}

    # --- value changes -----------------------------------------------------------------------------------------
    def _notification(self, ident, payload):
        serial = self.stations().get(ident, {}).get("serialNumber", "")
        with self.cond:
            for p in payload.get("parameterList") or []:
                self.seq += 1
                self.events.append({"seq": self.seq, "cpe_id": serial, "event": payload.get("event"),
                                    "time": payload.get("timestamp"), "key": p.get("name"),
                                    "value": p.get("value"), "type": p.get("type")})
            self.cond.notify_all()
        return {}

    def _events(self, query):
        def one(name, default, kind):
            try:
                return kind(query[name][0]) if name in query else default
            except ValueError:
                raise ApiError(400, "%s is a number" % name) from None

        after, wait = one("after", 0, int), min(one("timeout", 0, float), 300)
        cpe = query.get("cpe_id", [None])[0]
        deadline = time.monotonic() + wait
        with self.cond:
            while True:
                found = [e for e in self.events if e["seq"] > after and (cpe is None or e["cpe_id"] == cpe)]
                left = deadline - time.monotonic()
                if found or left <= 0:
                    break
                self.cond.wait(left)
            last = self.seq
        if not found:
            return {"result": {"code": 204, "message": "Polling time is over", "last": last}}
        return {"result": {"code": 200, "message": "Value changes", "last": last, "details": found}}
