"""Record what the ubus device backend says to a real ubusd + rpcd, for tests/data/rpcd/.

    TR069_UBUS_SOCKET=/path/ubus.sock TR069_UCI_CLI=/path/uci TR069_UCI_CONFDIR=/dir/rpcd/reads \
        python tests/support/record_rpcd.py tests/data/rpcd/uci-writes.json
    TR069_UCI_CLI=/path/uci TR069_UCI_CONFDIR=/some/dir python tests/support/record_rpcd.py --cli tests/data/rpcd/uci-cli.json
    TR069_UBUS_SOCKET=/path/procd-ubus.sock python tests/support/record_rpcd.py --procd tests/data/rpcd/procd.json

A relay between the backend and ubusd keeps every message of each connection, byte for byte (one
connection per backend operation). Between two writes another tool (the real `uci` program) commits
an edit and adds a section, and leaves one edit staged but uncommitted: the transcript keeps the file
as it was after each step, so the replay test (tests/device/test_rpcd_replay.py) shows what the bytes did.
Overwrites TR069_UCI_CONFDIR/tr069: point it at a directory of its own.
"""

import copy
import json
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from bridge.config import Config  # noqa: E402
from bridge.device.ubus_backend import FACILITIES, UbusDevice  # noqa: E402
from bridge.ubus import blob  # noqa: E402

START = """
config acs 'acs'
\toption url 'ws://127.0.0.1:9000/OS3P'
\toption identity 'SUBS001'
\toption username 'admin'
\toption periodic_inform_interval '300'

config cpe 'cpe'
\toption log_level 'info'
"""


def device_config(dev):
    """The daemon's Config over the ubus backend, as bridge.daemon builds it."""
    return Config(dev.config_path("tr069"), writer=lambda ch: dev.uci_apply("tr069", ch),
                  reader=lambda: dev.uci_sections("tr069"))


def change(config, name, value):
    """What ChangeConfiguration does with the config: set, save; -> the sections read back."""
    config.set(name, value)
    config.save()
    return config.sections


def fresh_start_file(path, cli, confdir):
    """The config file as START has it, nothing staged against it (a run before may have left some)."""
    with open(path, "w") as f:
        f.write(START)
    subprocess.run([cli, "-c", confdir, "revert", "tr069"], check=False)


def write_recording(out_path, doc):
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def attrs_for_reading(msg):
    def show(v):
        if isinstance(v, bool):
            return {"int8/bool": int(v)}
        if isinstance(v, dict):
            return {k: show(x) for k, x in v.items()}
        if isinstance(v, list):
            return [show(x) for x in v]
        return v

    out = []
    for aid, value in msg.attrs:
        if aid in (blob.ATTR_USER, blob.ATTR_GROUP):
            value = (value.encode() + b"\0").hex()
        out.append([blob.ATTR_NAMES[aid], show(value)])
    return out


class Relay:
    """A Unix socket in front of ubusd; each connection's messages go to self.connections[-1]."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.dir = tempfile.mkdtemp()
        self.path = os.path.join(self.dir, "relay.sock")
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        self.srv.listen(4)
        self.connections = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                down, _ = self.srv.accept()
            except OSError:
                return
            up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            up.connect(self.upstream)
            messages = []
            self.connections.append(messages)
            self.pump(down, up, messages)

    def pump(self, down, up, messages):
        sel = selectors.DefaultSelector()
        bufs = {down: bytearray(), up: bytearray()}
        sel.register(down, selectors.EVENT_READ, (up, "send"))
        sel.register(up, selectors.EVENT_READ, (down, "recv"))
        while True:
            for key, _ in sel.select():
                src, (dst, direction) = key.fileobj, key.data
                data = src.recv(65536)
                if not data:
                    down.close()
                    up.close()
                    return
                buf = bufs[src]
                buf += data
                while len(buf) >= blob.FIRST_READ and len(buf) >= blob.message_length(bytes(buf[:blob.FIRST_READ])):
                    n = blob.message_length(bytes(buf[:blob.FIRST_READ]))
                    raw = bytes(buf[:n])
                    del buf[:n]
                    m = blob.decode_message(raw)
                    messages.append({"dir": direction, "type": blob.MSG_NAMES[m.type], "seq": m.seq,
                                     "peer": m.peer, "attrs": attrs_for_reading(m), "hex": raw.hex()})
                    dst.sendall(raw)


def main(out_path):
    sock, cli, confdir = (os.environ[k] for k in ("TR069_UBUS_SOCKET", "TR069_UCI_CLI", "TR069_UCI_CONFDIR"))
    path = os.path.join(confdir, "tr069")
    fresh_start_file(path, cli, confdir)
    relay = Relay(sock)
    transcripts = []

    def file_text():
        with open(path) as f:
            return f.read()

    def step(name, call):
        before = len(relay.connections)
        try:
            result = copy.deepcopy(call())  # the config's own list changes later
        except Exception as e:  # recorded: the replay expects the same
            result = {"error": type(e).__name__, "message": str(e)}
        transcripts.append({"step": name, "result": result, "file_after": file_text(),
                            "connections": relay.connections[before:]})

    def tool(*argv):
        r = subprocess.run([cli, "-c", confdir] + list(argv), capture_output=True, text=True)
        transcripts.append({"step": "another tool: uci " + " ".join(argv), "exit_code": r.returncode,
                            "output": r.stdout + r.stderr, "file_after": file_text(), "connections": []})

    dev = UbusDevice(socket=relay.path, timeout=5)
    step("probe", lambda: {k: v for k, v in dev._probe().items() if FACILITIES[k][0] == "ubus"})
    dev._missing = {}
    config = []
    step("start: the daemon reads its config", lambda: config.append(device_config(dev)) or config[0].sections)
    step("ChangeConfiguration HeartbeatInterval=60", lambda: change(config[0], "acs.periodic_inform_interval", "60"))
    tool("set", "tr069.acs.periodic_inform_interval=240")   # the option our first write changed
    tool("set", "tr069.acs.identity=SUBS002")
    tool("commit", "tr069")
    tool("set", "tr069.jsonrpc=jsonrpc")
    tool("set", "tr069.jsonrpc.port=8070")
    tool("commit", "tr069")
    tool("set", "tr069.cpe.log_level=debug")   # staged, never committed by that tool
    step("ChangeConfiguration websocketPingInterval=7 (a section that does not exist yet)",
         lambda: change(config[0], "os3p.ping_interval", "7"))
    tool("changes", "tr069")
    step("delete an option", lambda: dev.uci_apply("tr069", [("acs", "acs", "username", None)]))
    step("read again", lambda: dev.uci_sections("tr069"))
    step("read a missing config", lambda: dev.uci_sections("nosuch"))
    tool("revert", "tr069")
    doc = {
        "provenance": "Recorded by tests/support/record_rpcd.py: bridge.device.ubus_backend.UbusDevice through a "
                      "byte-for-byte relay to a real ubusd and rpcd built from OpenWrt's ubus, libubox, uci and "
                      "rpcd sources (master, 2026; rpcd without its rpcsys plugin), and the real uci program "
                      "as the other tool. No procd and no logd were running: the probe shows what a device "
                      "without them lists.",
        "start_file": START,
        "transcripts": transcripts,
    }
    write_recording(out_path, doc)


WRAPPER = """#!%s
import json, os, subprocess, sys
r = subprocess.run([os.environ["REAL_UCI"]] + sys.argv[1:], capture_output=True, text=True)
with open(os.environ["UCI_LOG"], "a") as f:
    f.write(json.dumps({"argv": sys.argv[1:], "exit_code": r.returncode, "stdout": r.stdout,
                        "stderr": r.stderr}) + "\\n")
sys.stdout.write(r.stdout)
sys.stderr.write(r.stderr)
sys.exit(r.returncode)
"""


def record_cli(out_path):
    """The backend without rpcd: every `uci` program run it makes (argv, exit code, output), the real program
    behind a recording wrapper on PATH; between two writes the real program, as another tool, edits."""
    cli, confdir = os.environ["TR069_UCI_CLI"], os.environ["TR069_UCI_CONFDIR"]
    path = os.path.join(confdir, "tr069")
    fresh_start_file(path, cli, confdir)
    bindir = tempfile.mkdtemp()
    log = os.path.join(bindir, "uci.log")
    with open(os.path.join(bindir, "uci"), "w") as f:
        f.write(WRAPPER % sys.executable)
    os.chmod(os.path.join(bindir, "uci"), 0o755)
    os.environ.update(PATH=bindir + os.pathsep + os.environ["PATH"], REAL_UCI=cli, UCI_LOG=log)
    dev = UbusDevice(socket="/nonexistent", config_dir=confdir)
    dev._missing = {"uci": FACILITIES["uci"][1]}
    steps = []

    def step(name, call):
        open(log, "w").close()
        result = copy.deepcopy(call())
        with open(log) as f:
            runs = [json.loads(line) for line in f]
        for r in runs:
            r["argv"] = ["CONFDIR" if a == confdir else a for a in r["argv"]]
            # the program names itself by its path; on a device that is plain `uci`
            r["stderr"] = r["stderr"].replace(cli + ":", "uci:")
        with open(path) as f:
            steps.append({"step": name, "result": result, "file_after": f.read(), "runs": runs})

    config = []
    step("start: the daemon reads its config", lambda: config.append(device_config(dev)) or config[0].sections)
    step("ChangeConfiguration HeartbeatInterval=60", lambda: change(config[0], "acs.periodic_inform_interval", "60"))
    subprocess.run([cli, "-c", confdir, "set", "tr069.acs.periodic_inform_interval=240"], check=True)
    subprocess.run([cli, "-c", confdir, "set", "tr069.jsonrpc=jsonrpc"], check=True)
    subprocess.run([cli, "-c", confdir, "set", "tr069.jsonrpc.port=8070"], check=True)
    subprocess.run([cli, "-c", confdir, "commit", "tr069"], check=True)
    step("another tool committed acs.periodic_inform_interval=240 and a jsonrpc section; "
         "ChangeConfiguration websocketPingInterval=7", lambda: change(config[0], "os3p.ping_interval", "7"))
    step("a list and a deleted option", lambda: dev.uci_apply("tr069", [
        ("cpe", "cpe", "servers", ["a", "b c"]), ("acs", "acs", "username", None)]))
    step("read a missing config", lambda: dev.uci_sections("nosuch"))
    doc = {
        "provenance": "Recorded by tests/support/record_rpcd.py --cli: bridge.device.ubus_backend.UbusDevice as on a "
                      "device without rpcd, running the real uci program built from OpenWrt's uci sources "
                      "(master, 2026) through a wrapper that records each run; CONFDIR stands for the -c "
                      "directory. Between the two ChangeConfiguration steps the same program, as another tool, "
                      "committed an edit and a new section.",
        "start_file": START,
        "steps": steps,
    }
    write_recording(out_path, doc)


PROCD_IMAGE = "/tmp/tr069-bridge-record-fw.bin"  # a fixed path: the replay sends the same bytes


def record_procd(out_path):
    """procd's `system` object as the backend calls it: probe, board, validate_firmware_image (never reboot).
    TR069_UBUS_SOCKET names a ubusd of its own with procd attached."""
    relay = Relay(os.environ["TR069_UBUS_SOCKET"])
    dev = UbusDevice(socket=relay.path, timeout=5)
    image = PROCD_IMAGE
    with open(image, "wb") as f:
        f.write(b"not a sysupgrade image\n")
    steps = []

    def step(name, call):
        before = len(relay.connections)
        try:
            result = call()
        except Exception as e:
            result = {"error": type(e).__name__, "message": str(e).replace(image, "IMAGE")}
        steps.append({"step": name, "result": result, "connections": relay.connections[before:]})

    step("probe", lambda: {k: v for k, v in dev._probe().items() if FACILITIES[k][0] == "ubus"})
    dev._missing = {}
    step("board", dev.board)
    step("system board, as procd answers it", lambda: dev._call("board"))
    step("validate_firmware_image", lambda: dev.validate_firmware(image))
    doc = {
        "provenance": "Recorded by tests/support/record_rpcd.py --procd: bridge.device.ubus_backend.UbusDevice through a "
                      "byte-for-byte relay to a real ubusd and procd built from OpenWrt's procd, ubus and libubox "
                      "sources (master, 2026), procd running as a plain service (not PID 1, in PID and mount "
                      "namespaces of its own) on an x86-64 Linux host, with OpenWrt 24.10.0's /usr/lib/os-release "
                      "and /etc/openwrt_release and /tmp/sysinfo/{model,board_name} laid out for it. No "
                      "/usr/libexec/validate_firmware_image was installed: procd refuses every image then. "
                      "The image path is " + image + " (IMAGE in results); the serial number in the board "
                      "step comes from the recording host's network interfaces.",
        "steps": steps,
    }
    write_recording(out_path, doc)


if __name__ == "__main__":
    if sys.argv[1] == "--procd":
        record_procd(sys.argv[2])
    elif sys.argv[1] == "--cli":
        record_cli(sys.argv[2])
    else:
        main(sys.argv[1])
