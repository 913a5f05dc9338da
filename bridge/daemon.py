"""The daemon: one loop, one core (the tr069 object), the faces around it.

    python -m bridge.daemon [--backend host|ubus] [--state-dir DIR] [--config FILE]
"""

import argparse
import importlib
import logging
import os
import signal
import sys

from . import __version__, logsetup
from .config import CONFIG_NAME, Config
from .device import default_backend, open_device
from .loop import Loop
from .sessions import Sessions
from .tr069 import Tr069

log = logging.getLogger("tr069-bridge")

DEVICE_STATE_DIR = "/etc/tr069-bridge"  # on flash: statistics and queued messages survive a reboot


def default_state_dir(backend):
    if os.environ.get("TR069_STATE_DIR"):
        return os.environ["TR069_STATE_DIR"]
    if backend == "ubus":
        return DEVICE_STATE_DIR
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(base, "tr069-bridge")


def _ubus_wanted(daemon):
    return daemon.device.backend == "ubus" or bool(os.environ.get("TR069_UBUS_SOCKET"))


def _jsonrpc_wanted(daemon):
    from .config import KEYS

    # on the host the CLI reaches the daemon through it; on a device uhttpd + rpcd serve /ubus already
    if "jsonrpc.enabled" in KEYS and daemon.config.raw(KEYS["jsonrpc.enabled"]) is not None:
        return daemon.config.get("jsonrpc.enabled")
    return daemon.device.backend == "host"


def _os3p_wanted(daemon):
    from .config import KEYS

    return "os3p.enabled" in KEYS and bool(daemon.config.get("os3p.enabled"))


# face -> (module whose start(daemon) returns an object with .stop(), when it runs); imported lazily
FACES = [
    ("ubus", "bridge.ubus.face", _ubus_wanted),
    ("jsonrpc", "bridge.jsonrpc", _jsonrpc_wanted),
    ("os3p", "bridge.os3p.client", _os3p_wanted),
]


class Daemon:
    def __init__(self, backend=None, state_dir=None, config_path=None):
        backend = backend or default_backend()
        self.state_dir = os.path.abspath(state_dir or default_state_dir(backend))
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        self.device = open_device(backend, self.state_dir)
        self.config = Config(config_path or self.device.config_path(CONFIG_NAME))
        self.loop = Loop()
        self.log = log
        self.faces = {}
        self.exit_code = 0
        self.sessions = Sessions(os.path.join(self.state_dir, "sessions.json"))
        self.tr069 = Tr069(
            self.loop, self.sessions,
            acs_url=lambda: self.config.get("acs.url"),
            on_reload=self.reload,
            on_reboot=self.device.reboot,
            on_exit=self.stop,
            periodic=lambda: (self.config.get("acs.periodic_inform_enable"),
                              self.config.get("acs.periodic_inform_interval")),
        )
        self.objects = {self.tr069.name: self.tr069}

    def start_faces(self):
        for name, module, wanted in FACES:
            if not wanted(self):
                continue
            try:
                self.faces[name] = importlib.import_module(module).start(self)
            except ModuleNotFoundError as e:
                if e.name != module:  # a missing dependency, not a face this build lacks
                    raise
                log.warning("face %s is not available in this build", name)
            else:
                log.info("%s face started", name)

    def reload(self):
        try:
            self.config.reload()
        except ValueError as e:
            log.error("config %s does not parse: %s", self.config.path, e)
            return False
        logsetup.set_level(self.config.get("cpe.log_level"))
        for face in self.faces.values():
            if hasattr(face, "reload"):
                face.reload()
        log.info("configuration reloaded")
        return True

    def stop(self):
        self.loop.stop()

    def run(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop())
        signal.signal(signal.SIGHUP, lambda *_: self.loop.call_soon_threadsafe(self.reload))
        self.start_faces()
        log.info("tr069-bridge %s running (backend %s, state %s)", __version__, self.device.backend, self.state_dir)
        try:
            self.loop.run()
        finally:
            self.shutdown()
        return self.exit_code

    def shutdown(self):
        for name in reversed(list(self.faces)):
            try:
                self.faces[name].stop()
            except Exception:
                log.exception("stopping the %s face failed", name)
        self.faces.clear()
        log.info("stopped")


def main(argv=None):
    p = argparse.ArgumentParser(prog="tr069-bridge daemon", description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=("host", "ubus"), help="device backend (default: ubus on OpenWrt)")
    p.add_argument("--state-dir", help="where state, and on the host the UCI config, live")
    p.add_argument("--config", help="UCI config file (default: the backend's /etc/config/tr069)")
    args = p.parse_args(argv)
    backend = args.backend or default_backend()
    state_dir = os.path.abspath(args.state_dir or default_state_dir(backend))
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    logsetup.setup(backend, log_file=os.path.join(state_dir, "daemon.log") if backend == "host" else None)
    try:
        daemon = Daemon(backend, state_dir, args.config)
    except (OSError, ValueError) as e:
        log.error("cannot start: %s", e)
        return 1
    logsetup.set_level(daemon.config.get("cpe.log_level"))
    return daemon.run()


if __name__ == "__main__":
    sys.exit(main())
