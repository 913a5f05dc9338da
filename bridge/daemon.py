"""The daemon: one loop, one core (the tr069 object), the faces around it.

    python -m bridge.daemon [--backend host|ubus] [--state-dir DIR] [--config FILE]
"""

import gc
import importlib
import os
import signal
import sys
import time

from . import __version__, atomic, logger, logsetup, progress, stateview, uci
from .config import CONFIG_NAME, Config, ConfigError, Problem, check_override
from .device import default_backend, open_device
from .device.base import DeviceError
from .loop import Loop
from .sessions import Sessions
from .tr069 import Tr069

log = logger.getLogger("tr069-bridge")

DEVICE_STATE_DIR = "/etc/tr069-bridge"  # on flash: statistics and queued messages survive a reboot
CONFIG_WATCH = 2.0  # seconds between two looks at the config file on the host


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
    # on the host the CLI reaches the daemon through it; on a device uhttpd + rpcd serve /ubus already
    if daemon.config.given("jsonrpc.enabled"):
        return daemon.config.get("jsonrpc.enabled")
    return daemon.device.backend == "host"


def _os3p_wanted(daemon):
    from .config import KEYS

    return "os3p.enabled" in KEYS and bool(daemon.config.get("os3p.enabled"))


def _streetlights_wanted(daemon):
    # the host simulates four contactors; a device drives only `config contactor` sections
    return daemon.device.backend == "host" or any(s.get(".type") == "contactor" for s in daemon.config.sections)


# face -> (module whose start(daemon) returns an object with .stop(), or None when it could not start
# (it logged why); when it runs); imported lazily
FACES = [
    ("sensors", "bridge.station.sensors", lambda daemon: True),  # first: os3p and the status views read it
    ("reach", "bridge.reach.face", lambda daemon: True),  # before ubus (netifd events), jsonrpc (its routes), os3p
    ("ubus", "bridge.ubus.face", _ubus_wanted),
    ("jsonrpc", "bridge.jsonrpc", _jsonrpc_wanted),
    ("streetlights", "bridge.station.streetlights", _streetlights_wanted),  # before os3p: its actions use it
    ("os3p", "bridge.os3p.client", _os3p_wanted),
]


class Daemon:
    def __init__(self, backend=None, state_dir=None, config_path=None):
        self._config_mark = None
        backend = backend or default_backend()
        self.state_dir = os.path.abspath(state_dir or default_state_dir(backend))
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        self.device = open_device(backend, self.state_dir)
        self.missing = self.device.missing()  # found (and logged) once, at start
        if config_path or self.device.uci_is_files:  # read and written as a file, under libuci's lock
            self.config = Config(config_path or self.device.config_path(CONFIG_NAME), lenient=True)
        else:  # the device's UCI: its config dir, its writer (rpcd, the uci program, or the file)
            self.config = Config(self.device.config_path(CONFIG_NAME), writer=self._uci_write,
                                 reader=self._uci_read, lenient=True)
        self.loop = Loop()
        self.log = log
        self.faces = {}
        self.exit_code = 0
        self.sessions = Sessions(os.path.join(self.state_dir, "sessions.json"))
        self.tr069 = Tr069(
            self.loop, self.sessions,
            acs_url=lambda: self.config.get("acs.url"),
            on_reload=self.reload,
            on_reboot=lambda: self.device.reboot(),
            on_exit=self.stop,
            periodic=lambda: (self.config.get("acs.periodic_inform_enable"),
                              self.config.get("acs.periodic_inform_interval")),
            missing=lambda: sorted(self.missing),
            set_aside=atomic.SET_ASIDE,
            cannot_reboot=lambda: self.device.supports("reboot"),
        )
        self.started = time.time()
        progress.forget_all()  # the state view shows this daemon's transfers
        self.recent_errors = stateview.RecentErrors()  # a log sink while run() runs
        self.objects = {self.tr069.name: self.tr069, stateview.OBJECT_NAME: stateview.StateObject(self)}

    def _uci_read(self):
        try:
            return self.device.uci_sections(CONFIG_NAME)
        except uci.UciError as e:  # `uci export` gave what does not parse
            raise ConfigError([Problem(self.config.path, e.line, None, e.reason)]) from None
        except DeviceError as e:
            raise OSError("cannot read UCI config %s: %s" % (CONFIG_NAME, e)) from None

    def _uci_write(self, changes):
        try:
            self.device.uci_apply(CONFIG_NAME, changes)
        except DeviceError as e:
            raise OSError("cannot write UCI config %s: %s" % (CONFIG_NAME, e)) from None

    def watch_config(self):
        """On the host nothing tells us of an edit (procd's reload trigger does on a device): look at the
        file now and then, one stat, and re-read it when it changed."""
        try:
            st = os.stat(self.config.path)
            mark = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            mark = ()  # no file (every key at its default): a change only when one appears
        if self._config_mark is not None and mark != self._config_mark:
            log.info("config %s changed on disk", self.config.path)
            self.reload()
        self._config_mark = mark
        self.loop.call_later(CONFIG_WATCH, self.watch_config)

    def start_faces(self):
        for name, module, wanted in FACES:
            if not wanted(self):
                continue
            try:
                face = importlib.import_module(module).start(self)
            except ModuleNotFoundError as e:
                if e.name != module:  # a missing dependency, not a face this build lacks
                    raise
                log.warning("face %s is not available in this build", name)
                continue
            if face is not None:
                self.faces[name] = face
                log.info("%s face started", name)

    def reload(self):
        """True, or the first problem (str) when the config is refused as a whole (every value kept)."""
        try:
            self.config.reload()
        except ConfigError as e:
            for problem in e.problems:
                log.error("config reload refused, previous values kept: %s", problem)
            return str(e)
        except OSError as e:  # rpcd or the file cannot be read now
            log.error("config reload failed, previous values kept: %s", e)
            return str(e)
        self.apply_log_level()
        for face in self.faces.values():
            if hasattr(face, "reload"):
                face.reload()
        self.tr069.schedule_periodic()  # every path (SIGHUP from procd, the file watch, `command reload`)
        log.info("configuration reloaded")
        return True

    def apply_log_level(self):
        level = self.config.get("cpe.log_level")
        logsetup.set_level(level)
        self.tr069.check_output = level == "debug" or bool(os.environ.get("TR069_CHECK_OUTPUT"))

    def stop(self):
        self.loop.stop()

    def run(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop())
        signal.signal(signal.SIGHUP, lambda *_: self.loop.call_soon_threadsafe(self.reload))
        logger.add_sink(self.recent_errors)
        self.start_faces()
        if self.config.reader is None:
            self.watch_config()
        log.info("tr069-bridge %s running (backend %s, state %s)", __version__, self.device.backend, self.state_dir)
        # what start-up made (modules, tables, the loaded schemas) is never garbage: out of every
        # collection, a collection costs microseconds, not the ~0.5 ms of a pass over ~9,000 objects
        # that would land in some call's latency
        gc.freeze()
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
        logger.remove_sink(self.recent_errors)


USAGE = """usage: python -m bridge.daemon [--backend host|ubus] [--state-dir DIR] [--config FILE]
                                [--option KEY=VALUE ...]
  --backend    device backend (default: ubus on OpenWrt, host elsewhere)
  --state-dir  where state, and on the host the UCI config, live
  --config     UCI config file (default: the backend's /etc/config/tr069)
  --option     override one config key for this run, e.g. os3p.enabled=1 (not saved)"""


def parse_args(argv):
    """A few long options; argparse would cost more memory than the whole option set is worth."""
    opts = {"backend": None, "state_dir": None, "config": None, "option": []}
    args = list(argv)
    while args:
        arg = args.pop(0)
        name, eq, value = arg.partition("=")
        key = name[2:].replace("-", "_") if name.startswith("--") else None
        if key not in opts:
            raise SystemExit("unknown argument %s\n%s" % (arg, USAGE))
        if not eq:
            if not args:
                raise SystemExit("%s needs a value\n%s" % (name, USAGE))
            value = args.pop(0)
        if key == "option":
            opts["option"].append(value)
        else:
            opts[key] = value
    if opts["backend"] not in (None, "host", "ubus"):
        raise SystemExit("--backend is host or ubus\n%s" % USAGE)
    for item in opts["option"]:
        try:
            check_override(item)
        except ValueError as e:
            raise SystemExit("cannot start: %s" % e) from None
    return opts


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "-h" in argv or "--help" in argv:
        print(USAGE)
        return 0
    opts = parse_args(argv)
    backend = opts["backend"] or default_backend()
    state_dir = os.path.abspath(opts["state_dir"] or default_state_dir(backend))
    from . import statelock

    try:
        os.makedirs(state_dir, mode=0o700, exist_ok=True)
        statelock.acquire(state_dir)  # the descriptor stays open, and the lock held, until this process ends
    except statelock.Busy as e:
        print("cannot start: %s" % e, file=sys.stderr)
        return 1
    except OSError as e:  # read-only or full: one line, not a traceback
        print("cannot start: state directory %s is not writable: %s" % (state_dir, e.strerror or e),
              file=sys.stderr)
        return 1
    logsetup.setup(backend, log_file=os.path.join(state_dir, "daemon.log") if backend == "host" else None)
    try:
        daemon = Daemon(backend, state_dir, opts["config"])
        for item in opts["option"]:
            daemon.config.override(item)
    except ConfigError as e:
        for problem in e.problems:
            log.error("cannot start: %s", problem)
        return 1
    except OSError as e:
        log.error("cannot start: %s", e)
        return 1
    daemon.apply_log_level()
    return daemon.run()


if __name__ == "__main__":
    sys.exit(main())
