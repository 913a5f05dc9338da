"""A stand-in for procd's `service` ubus object, as `ubus call service ...` reaches it, for the init script's
tests on a machine without OpenWrt (tests/daemon/test_init_script.py says when it runs and what it is
checked against: procd's answers recorded from the real one, tests/data/procd/init-script.json).

It follows procd's service/service.c and service/instance.c for what the init script uses:

    set / add     the service's instances and triggers; an instance that is new or not running is started,
                  one whose command, env or watched files changed is restarted, one left out (set) stopped;
                  a service whose message has no instance keeps none, and keeps its triggers
    delete        stops every instance (SIGTERM, SIGKILL after term_timeout) and forgets the service
    list          {name: {"instances": {name: {"running", "pid", "command", "term_timeout", ...}}, ...}}
    signal        the signal to every instance (or the one named)
                  and then, as procd does after a set with instances, runs the script's `running` (rc.c)
    event         config.change: each service's trigger on that package runs its script after its delay
                  (procd runs /etc/init.d/<name>; here the script the service was set with, through the
                  same rc.common, since this machine has no /etc/init.d of OpenWrt)

State lives in a directory (one JSON file under a lock), so that each `ubus` run is a short process as the
real CLI is; instances are real processes started detached, as procd starts them. The `ubus` program in
support/procd_standin/bin calls main() below, and logs every call for the test to compare.
"""

import fcntl
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

TERM_TIMEOUT = 5  # procd's default term_timeout


class ProcdStandin:
    def __init__(self, state_dir):
        self.dir = state_dir
        self.path = os.path.join(state_dir, "procd.json")

    # --- state under a lock ------------------------------------------------------------------------
    def _locked(self, fn):
        os.makedirs(self.dir, exist_ok=True)
        with open(os.path.join(self.dir, "procd.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                with open(self.path) as f:
                    state = json.load(f)
            except FileNotFoundError:
                state = {"services": {}}
            reply, after = fn(state)
            with open(self.path + ".tmp", "w") as f:
                json.dump(state, f)
            os.replace(self.path + ".tmp", self.path)
        for run in after:  # outside the lock: a trigger's script calls ubus again
            run()
        return reply

    # --- processes -----------------------------------------------------------------------------------
    @staticmethod
    def _alive(pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except (OSError, IndexError):
            return False

    def _start(self, service, name, inst):
        env = dict(os.environ, **inst.get("env", {}))
        log = open(os.path.join(self.dir, "%s.%s.log" % (service, name)), "ab")
        proc = subprocess.Popen(inst["command"], env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, close_fds=True)
        inst["pid"] = proc.pid
        inst["md5"] = self._md5(inst.get("file", []))

    def _stop(self, inst):
        pid = inst.pop("pid", None)
        if pid is None or not self._alive(pid):
            return
        os.kill(pid, signal.SIGTERM)
        end = time.monotonic() + TERM_TIMEOUT
        while self._alive(pid) and time.monotonic() < end:
            time.sleep(0.05)
        if self._alive(pid):
            os.kill(pid, signal.SIGKILL)

    @staticmethod
    def _md5(files):
        out = {}
        for path in files:
            try:
                with open(path, "rb") as f:
                    out[path] = hashlib.md5(f.read()).hexdigest()
            except OSError:
                out[path] = None
        return out

    def _running(self, inst):
        return inst.get("pid") is not None and self._alive(inst["pid"])

    # --- the methods ----------------------------------------------------------------------------------
    def call(self, method, msg):
        return self._locked(lambda state: getattr(self, "_" + method)(state, msg))

    def _set(self, state, msg, add=False):
        services = state["services"]
        svc = services.setdefault(msg["name"], {"instances": {}, "triggers": []})
        if "script" in msg:
            svc["script"] = msg["script"]
        new = msg.get("instances", {})
        for name, inst in list(svc["instances"].items()):
            if name not in new and not add:
                self._stop(inst)
                del svc["instances"][name]
        for name, conf in new.items():
            conf = {k: v for k, v in conf.items()}
            old = svc["instances"].get(name)
            changed = old is None or any(old.get(k) != conf.get(k) for k in ("command", "env", "file")) or \
                old.get("md5") != self._md5(conf.get("file", []))
            if old is not None and not changed and self._running(old):
                continue  # instance_update: unchanged and running, left alone
            if old is not None:
                self._stop(old)
            svc["instances"][name] = conf
            self._start(msg["name"], name, conf)
        if "triggers" in msg:
            svc["triggers"] = msg["triggers"]
        after = []
        if "instances" in msg and svc.get("script"):  # service_update: rc(name, "running"), from procd's runqueue
            after.append(lambda script=svc["script"]: self._run_script(script, ["running"], 0))
        return None, after

    def _add(self, state, msg):
        return self._set(state, msg, add=True)

    def _delete(self, state, msg):
        svc = state["services"].pop(msg.get("name"), None)
        for inst in (svc or {}).get("instances", {}).values():
            self._stop(inst)
        return None, []

    def _list(self, state, msg):
        out = {}
        for name, svc in state["services"].items():
            if msg.get("name") not in (None, name):
                continue
            instances = {}
            for iname, inst in svc["instances"].items():
                running = self._running(inst)
                view = {"running": running}
                if running:
                    view["pid"] = inst["pid"]
                view["command"] = inst.get("command", [])
                view["term_timeout"] = TERM_TIMEOUT
                if not running:
                    view["exit_code"] = 0
                if inst.get("env"):
                    view["env"] = inst["env"]
                if "respawn" in inst:
                    r = [int(x) for x in inst["respawn"]] + [3600, 5, 5][len(inst["respawn"]):]
                    view["respawn"] = {"threshold": r[0], "timeout": r[1], "retry": r[2]}
                instances[iname] = view
            entry = {"instances": instances} if instances else {}
            if svc.get("triggers"):
                entry["triggers"] = svc["triggers"]
            out[name] = entry
        return out, []

    def _signal(self, state, msg):
        svc = state["services"].get(msg.get("name"), {})
        for iname, inst in svc.get("instances", {}).items():
            if msg.get("instance") in (None, iname) and self._running(inst):
                os.kill(inst["pid"], msg.get("signal", signal.SIGHUP))
        return None, []

    def _event(self, state, msg):
        after = []
        if msg.get("type") != "config.change":
            return None, after
        package = (msg.get("data") or {}).get("package")
        for svc in state["services"].values():
            for trigger in svc.get("triggers", []):
                # ["config.change", ["if", ["eq", "package", <pkg>], ["run_script", <script>, <action>]], delay]
                event, rule = trigger[0], trigger[1]
                delay = trigger[2] / 1000.0 if len(trigger) > 2 else 0
                if event != "config.change" or rule[1] != ["eq", "package", package]:
                    continue
                action = rule[2][2:]
                script = svc.get("script")
                after.append(lambda script=script, action=action, delay=delay: self._run_script(script, action,
                                                                                                 delay))
        return None, after

    def _run_script(self, script, action, delay):
        """procd's run_script after the trigger's delay: the script, through rc.common, in the background."""
        shell = os.environ.get("TR069_RC_SHELL", "sh").split()
        rc_common = os.path.join(os.environ["IPKG_INSTROOT"], "etc", "rc.common")
        later = "import os, sys, time; time.sleep(float(sys.argv[1])); os.execvp(sys.argv[2], sys.argv[2:])"
        argv = [sys.executable, "-c", later, str(delay)] + shell + [rc_common, script] + list(action)
        log = open(os.path.join(self.dir, "triggers.log"), "ab")
        subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)


def main(argv):
    """`ubus [-s sock] call service <method> [<json>]`, as the real CLI prints the answer."""
    args = [a for a in argv if a not in ("-S",)]
    if "-s" in args:
        i = args.index("-s")
        del args[i:i + 2]
    if len(args) < 3 or args[0] != "call" or args[1] != "service":
        print("Command failed: Not found", file=sys.stderr)
        return 4
    method, msg = args[2], json.loads(args[3]) if len(args) > 3 else {}
    procd = ProcdStandin(os.environ["TR069_PROCD_STANDIN"])
    reply = procd.call(method, msg)
    if not os.environ.get("TR069_TEST_LOOK"):  # the test looking, not the script: not part of the scenario
        with open(os.path.join(procd.dir, "calls.jsonl"), "a") as f:
            f.write(json.dumps({"method": method, "message": msg, "reply": reply}) + "\n")
    if reply is not None:
        print(json.dumps(reply, indent="\t"))
    return 0
