"""tr069-bridge command line.

    tr069-bridge call [tr069] METHOD [JSON]   like `ubus call tr069 METHOD JSON` (or tr069.bridge, ...)
    tr069-bridge check [--config FILE]        validate the UCI config: every problem as file:line: key: why
    tr069-bridge state [--json]               what the daemon is doing now (also: ubus call tr069.bridge state)
    tr069-bridge daemon [--backend ...]       run the daemon (what the init script starts)
    tr069-bridge simulate GROUP INPUT on|off  the host backend's simulated MV fault indicator:
                                              INPUT is overcurrent, ground, selffault, broken or persist
    tr069-bridge simulate modem|bearer|uplink|signal VALUE
                                              the host backend's simulated modem and uplink: modem home,
                                              roaming, searching, denied, nosim, locked or off; bearer and
                                              uplink up or down; signal an RSRP in dBm
    tr069-bridge --version | --help

`call` prints what `ubus call` prints and exits as it does (254 for Invalid
argument, ...); when it fails, a second line on stderr says why (`reason: /event
expected string`, `reason: no daemon runs with the state directory ...`). It goes through ubusd where one runs (a device, or
TR069_UBUS_SOCKET), otherwise through the running daemon's local JSON-RPC
endpoint on loopback, with the session the daemon writes to its state
directory (cli.sid, mode 0600: whoever can read it may call).
"""

import json
import os
import sys

from . import ubusmsg as st

OBJECT = "tr069"


def _ubus_socket():
    path = os.environ.get("TR069_UBUS_SOCKET")
    if path:
        return path
    return "/var/run/ubus/ubus.sock" if os.path.exists("/var/run/ubus/ubus.sock") else None


def call_via_ubus(socket_path, obj, method, args):
    """-> (ubus status, reply or None, why the call did not get through or None)"""
    from .ubus.client import Client, UbusError

    try:
        with Client(socket_path) as c:
            code, data = c.call(obj, method, args)
            return code, data, None
    except UbusError as e:
        why = "cannot reach ubusd at %s" % socket_path if e.code == st.CONNECTION_FAILED else None
        return e.code, None, why


def call_via_http(state_dir, obj, method, args):
    """Through the running daemon's local JSON-RPC endpoint -> (ubus status, reply or None, why or None)."""
    import http.client
    from urllib.parse import urlsplit

    try:
        with open(os.path.join(state_dir, "cli.url")) as f:
            address = f.read().strip()
        with open(os.path.join(state_dir, "cli.sid")) as f:
            sid = f.read().strip()
    except OSError:
        return st.CONNECTION_FAILED, None, (
            "no daemon runs with the state directory %s (it has no cli.url): start one (make run), or give "
            "the --state-dir of the one that runs" % state_dir)
    url = urlsplit(address)
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "call",
                       "params": [sid, obj, method, args if args is not None else {}]})
    try:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        conn.request("POST", url.path, body, {"Content-Type": "application/json"})
        reply = json.loads(conn.getresponse().read())
    except (OSError, ValueError) as e:
        return st.CONNECTION_FAILED, None, "nothing answers at %s (%s/cli.url): %s" % (
            address, state_dir, getattr(e, "strerror", None) or e)
    if "error" in reply:
        # JSON-RPC errors of the shim, in the ubus terms the CLI reports
        code = {-32002: st.PERMISSION_DENIED, -32000: st.NOT_FOUND, -32001: st.PERMISSION_DENIED,
                -32003: st.TIMEOUT, -32601: st.METHOD_NOT_FOUND}.get(reply["error"].get("code"), st.INVALID_ARGUMENT)
        why = ("the session in %s/cli.sid is not the running daemon's (it writes a new one at each start)" % state_dir
               if reply["error"].get("code") == -32002 else None)
        return code, None, why
    result = reply.get("result") or [st.UNKNOWN_ERROR]
    return result[0], (result[1] if len(result) > 1 else None), None


# the objects whose methods and arguments a schema describes (schemas/<name>.json)
SCHEMAS = {"tr069": "tr069", "tr069.bridge": "tr069.bridge"}


def reason(code, obj, method, payload, why=None):
    """Why a call failed, as the daemon sees it (one line), or None when there is nothing to add: the
    transport's reason, else the same schema check the daemon made (schemas/<object>.json)."""
    if why:
        return why
    if obj not in SCHEMAS:
        return None
    from . import schema

    try:
        s = schema.load(SCHEMAS[obj])
    except (OSError, ValueError):
        return None
    methods = sorted(s.get("properties", {}))
    if code == st.METHOD_NOT_FOUND:
        return "%s has no method %s (its methods: %s)" % (obj, method, ", ".join(methods))
    if code == st.INVALID_ARGUMENT and method in methods:
        args = dict(payload or {})
        if obj == "tr069" and isinstance(args.get("event"), str):
            from .tr069 import canonical_event

            args["event"] = canonical_event(args["event"])
        errs = schema.errors(s["properties"][method]["properties"]["input"], args, "", s)
        if errs:
            return "; ".join(("%s %s" % (path, message)).strip() for _, path, message in errs)
    if code == st.TIMEOUT:
        return "the daemon did not answer in time"
    return None


def failed(code, shown, why):
    """As `ubus call` says it (its first line, its exit code), and the reason on a line of its own."""
    print("Command failed: %s (%s)" % (shown, st.MESSAGES.get(code, "Unknown error")), file=sys.stderr)
    if why:
        print("reason: %s" % why, file=sys.stderr)
    return 256 - code


HELP = ("-h", "--help", "help")
CALL_USAGE = "usage: tr069-bridge call [--state-dir DIR] [tr069 | tr069.OBJECT] METHOD [JSON]"
CHECK_USAGE = """usage: tr069-bridge check [--quiet] [--log] [--backend host|ubus] [--state-dir DIR] [--config FILE]
  validates the daemon's UCI config (default: the backend's, /etc/config/tr069 on a device) and prints
  every problem as FILE:LINE: tr069.SECTION.OPTION: WHY; exit 1 when any value is invalid (start, restart
  and reload refuse it), 0 when it is valid (unknown options are printed as warnings); --quiet: problems
  only; --log: each invalid value also to syslog, one line each (the init script's refusal)"""
REFUSED = "%s: %d invalid value(s): start, restart and reload refuse this file (a running daemon keeps its values)"


def cmd_check(argv):
    if any(a in HELP for a in argv):
        print(CHECK_USAGE)
        return 0
    from .config import CONFIG_NAME, examine
    from .daemon import parse_args
    from .wiring import default_state_dir
    from .device import default_backend, open_device

    quiet, to_syslog = "--quiet" in argv, "--log" in argv
    try:
        opts = parse_args([a for a in argv if a not in ("--quiet", "--log")])
    except SystemExit as e:
        print(e, file=sys.stderr)
        return 1
    path = opts["config"]
    if path is None:
        backend = opts["backend"] or default_backend()
        path = open_device(backend, os.path.abspath(opts["state_dir"] or default_state_dir(backend))).config_path(
            CONFIG_NAME)
    from .station.checks import SECTION_CHECKS

    _, problems = examine(path, SECTION_CHECKS)
    for problem in problems:
        print(problem)
    errors = sum(p.fatal for p in problems)
    if errors:
        print(REFUSED % (path, errors))
        if to_syslog:
            _syslog(["config refused: %s" % p for p in problems if p.fatal])
        return 1
    if not quiet:
        print("%s: valid%s" % (path, ", %d warning(s)" % len(problems) if problems else ""))
    return 0


def _syslog(lines):
    """One syslog line each, through the logger program (busybox's on a device): argv, never a shell."""
    import subprocess

    for line in lines:
        try:
            subprocess.run(["logger", "-t", "tr069-bridge", "-p", "daemon.err", line[:900]], check=False,
                           stdin=subprocess.DEVNULL, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            print(line, file=sys.stderr)  # no logger: stderr is all there is


def call_explained(state_dir, obj, method, payload):
    """Through ubusd where one runs, else through the running daemon's local JSON-RPC endpoint
    -> (ubus status, reply or None, why it did not get through or None)."""
    sock = _ubus_socket()
    if sock:
        return call_via_ubus(sock, obj, method, payload)
    from .wiring import default_state_dir

    return call_via_http(state_dir or default_state_dir("host"), obj, method, payload)


def call_object(state_dir, obj, method, payload):
    """-> (ubus status, reply or None), as `ubus call` gets them."""
    return call_explained(state_dir, obj, method, payload)[:2]


STATE_USAGE = """usage: tr069-bridge state [--json] [--state-dir DIR]
  what the running daemon is doing now: the OS3P link and its history, the outbox, each transfer
  (bytes done and total, retries left), the last warnings and errors. --json: the same as
  `ubus call tr069.bridge state` prints it, for scripts"""


def cmd_state(argv):
    args = list(argv)
    if any(a in HELP for a in args):
        print(STATE_USAGE)
        return 0
    as_json = "--json" in args
    args = [a for a in args if a != "--json"]
    state_dir = None
    if len(args) == 2 and args[0] == "--state-dir":
        state_dir = args[1]
    elif args:
        print(STATE_USAGE, file=sys.stderr)
        return 1
    from .stateview import OBJECT_NAME

    code, data, why = call_explained(state_dir, OBJECT_NAME, "state", None)
    if code != st.OK:
        return failed(code, "ubus call %s state" % OBJECT_NAME, reason(code, OBJECT_NAME, "state", None, why))
    if as_json:
        from .ubus.client import format_json

        print(format_json(data, 0))
    else:
        from .statetext import render

        print(render(data))
    return 0


def cmd_call(argv):
    args = list(argv)
    state_dir = None
    if len(args) >= 2 and args[0] == "--state-dir":
        state_dir = args[1]
        args = args[2:]
    obj = OBJECT
    if args and (args[0] == OBJECT or args[0].startswith(OBJECT + ".")):  # tr069.bridge, tr069.model, ...
        obj, args = args[0], args[1:]
    if args and args[0] in HELP:
        print(CALL_USAGE)
        return 0
    if not args or len(args) > 2:
        print(CALL_USAGE, file=sys.stderr)
        return 1
    method = args[0]
    payload = None
    if len(args) == 2:
        try:
            payload = json.loads(args[1])
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            # the ubus CLI refuses what is not a JSON object before sending anything
            print("Failed to parse message data", file=sys.stderr)
            print("reason: %r is not a JSON object ({...}); usage: %s" % (args[1], CALL_USAGE[len("usage: "):]),
                  file=sys.stderr)
            return 256 - st.PARSE_ERROR
    code, data, why = call_explained(state_dir, obj, method, payload)
    if code == st.OK:
        if data is not None:
            from .ubus.client import format_json

            print(format_json(data, 0))
        return 0
    return failed(code, " ".join(["ubus call", obj] + args), reason(code, obj, method, payload, why))


def cmd_simulate(argv):
    from .wiring import default_state_dir
    from .station.backends import simulated
    from .station.sensors import SIMULATION_FILE

    args = list(argv)
    state_dir = None
    if len(args) >= 2 and args[0] == "--state-dir":
        state_dir, args = args[1], args[2:]
    if len(args) == 2 and args[0] in ("modem", "bearer", "uplink", "signal"):
        from .reach.backends import simulated as reach_sim

        try:
            data = reach_sim.set_value(os.path.join(state_dir or default_state_dir("host"), reach_sim.FILE),
                                       args[0], args[1])
        except ValueError as e:
            print("tr069-bridge simulate %s: %s" % (args[0], e), file=sys.stderr)
            return 1
        print(json.dumps(data, sort_keys=True))
        return 0
    if len(args) != 3 or args[2] not in ("on", "off") or args[1] not in simulated.FLAGS:
        print("usage: tr069-bridge simulate [--state-dir DIR] GROUP %s on|off" % "|".join(simulated.FLAGS),
              file=sys.stderr)
        return 1
    path = os.path.join(state_dir or default_state_dir("host"), SIMULATION_FILE)
    data = simulated.set_flag(path, args[0], args[1], args[2] == "on")
    print(json.dumps(data, sort_keys=True))
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "simulate":
        return cmd_simulate(argv[1:])
    if argv and argv[0] == "call":
        return cmd_call(argv[1:])
    if argv and argv[0] == "check":
        return cmd_check(argv[1:])
    if argv and argv[0] == "state":
        return cmd_state(argv[1:])
    if argv and argv[0] == "daemon":
        from .daemon import main as daemon_main

        return daemon_main(argv[1:])
    if argv and argv[0] in ("--version", "version"):
        from .version import describe

        print(describe())
        return 0
    if argv and argv[0] in HELP:
        print(__doc__.strip())
        return 0
    if argv:
        print("tr069-bridge: unknown command %r" % argv[0], file=sys.stderr)
    print(__doc__.strip(), file=sys.stderr)
    return 1


def run():
    """The console entry point: `tr069-bridge state | head` ends quietly, as other tools do."""
    try:
        return main()
    except BrokenPipeError:
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(run())
