"""Record what the real `mmcli` prints for each modem case, for tests/data/modem/mm/.

    python tests/support/record_mm.py tests/data/modem/mm

Needs Debian's modemmanager (mmcli) and dbus (dbus-daemon, dbus-send), and python-dbusmock (PyPI); run it
with the project's .venv python. For each case of tests/support/mm_template.py it starts a private system
bus with the mock ModemManager on it (tests/support/mm_bus.py) and runs the mmcli calls OpenWrt's rpcd
plugin makes for `ubus call modemmanager dump` (openwrt/packages net/modemmanager/files/usr/libexec/rpcd/
modemmanager, commit 5aea4240: --list-modems, then per modem --modem, --bearer per bearer, --sim unless
"--", --signal-get), and writes two files:

    <case>.mmcli.json  {"provenance": {...}, "calls": {"<mmcli arguments>": "<what it printed>", ...}}
    <case>.json        the rpcd plugin's `dump` composed from those outputs as its Lua does it, with
                       lua-cjson's encoding (an empty array decodes to an empty table, encoded as {})

The plugin also runs --signal-setup=1 (no output read) and --location-get (the mock has no location
interface: "location" is {} as the plugin writes it when that call gives nothing).
"""

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mm_bus import MockModemManager, missing, versions  # noqa: E402

# template case -> file name in tests/data/modem/mm (no-sim.json is a public recording's and stays)
FILES = {"home-connected": "good-sim-home-connected", "roaming": "roaming-registered", "searching": "searching",
         "pin-locked": "pin-locked", "weak-signal": "weak-signal", "no-sim": "no-sim-mmcli"}


def cjson(value):
    """A JSON value as lua-cjson decodes then encodes it: an empty array becomes {}."""
    if isinstance(value, list):
        return [cjson(v) for v in value] if value else {}
    if isinstance(value, dict):
        return {k: cjson(v) for k, v in value.items()}
    return value


def record(mm):
    """-> ({arguments: stdout}, the rpcd plugin's dump) for the modem case the mock serves now."""
    calls = {}

    def call(*args):
        out = mm.mmcli(*args)
        calls[" ".join(args)] = out
        return json.loads(out)

    status = {"modem": []}
    mm.mmcli("--modem=/org/freedesktop/ModemManager1/Modem/0", "--signal-setup=1")  # as the plugin does
    for path in call("--list-modems")["modem-list"]:
        modem = call("--modem=%s" % path)["modem"]
        generic = modem["generic"]
        if generic.get("bearers") is not None:
            bearers = [call("--bearer=%s" % b)["bearer"] for b in generic["bearers"]]
            if bearers:
                generic["bearers"] = bearers
        if generic["sim"] != "--":
            generic["sim"] = call("--sim=%s" % generic["sim"])["sim"] or generic["sim"]
        else:
            generic["sim"] = {}
        modem["signal"] = call("--modem=%s" % path, "--signal-get")["modem"]["signal"] or {}
        modem["location"] = {}
        modem["device"] = generic["device"]
        status["modem"].append(modem)
    return calls, cjson(status)


def main(out_dir):
    why = missing()
    if why:
        sys.exit("record_mm: %s" % why)
    mmcli_version, dbusmock_version = versions()
    provenance = {"mmcli": mmcli_version, "python-dbusmock": dbusmock_version,
                  "recorder": "tests/support/record_mm.py", "modem": "tests/support/mm_template.py",
                  "recorded": time.strftime("%Y-%m-%d", time.gmtime())}
    with tempfile.TemporaryDirectory() as tmp, MockModemManager(tmp) as mm:
        for case, name in FILES.items():
            mm.set_case(case)
            calls, dump = record(mm)
            with open(os.path.join(out_dir, name + ".mmcli.json"), "w") as f:
                json.dump({"provenance": dict(provenance, case=case), "calls": calls}, f, indent=1)
                f.write("\n")
            with open(os.path.join(out_dir, name + ".json"), "w") as f:
                json.dump(dump, f, indent=1)
                f.write("\n")
            print("recorded %s: %d mmcli calls" % (name, len(calls)))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "data", "modem", "mm"))
