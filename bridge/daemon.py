"""The daemon: the process around the composition root (bridge/wiring.py): signals, the loop, reloads of
the configuration, the file watch on the host, a simulated reboot's restart, and the command line.

    python -m bridge.daemon [--backend host|ubus] [--state-dir DIR] [--config FILE]
"""

# _signal, the C module: signal.py makes an IntEnum of every signal and handler (~40 KiB kept) for three
# handlers that need none of it
import _signal as signal
import gc
import os
import sys

from . import __version__, logger, logsetup
from .config import ConfigError, check_override
from .device import default_backend
from .wiring import Root, default_state_dir

log = logger.getLogger("tr069-bridge")

CONFIG_WATCH = 2.0  # seconds between two looks at the config file on the host


class Daemon(Root):
    def __init__(self, backend=None, state_dir=None, config_path=None, simulate_reboots=False):
        self._config_mark = None
        self.restart_requested = False
        super().__init__(backend, state_dir, config_path, simulate_reboots)

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

    # --- running ------------------------------------------------------------------------------------
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
        for component in self.running.values():
            if hasattr(component, "reload"):
                component.reload()
        self.tr069.schedule_periodic()  # every path (SIGHUP from procd, the file watch, `command reload`)
        log.info("configuration reloaded")
        return True

    def apply_log_level(self):
        level = self.config.get("cpe.log_level")
        logsetup.set_level(level)
        self.tr069.check_output = level == "debug" or bool(os.environ.get("TR069_CHECK_OUTPUT"))

    def stop(self):
        self.loop.stop()

    def restart(self):
        """A simulated reboot (any thread): stop as on SIGTERM; main() then runs the daemon again."""
        self.restart_requested = True
        self.loop.call_soon_threadsafe(self.stop)

    def run(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop())
        signal.signal(signal.SIGHUP, lambda *_: self.loop.call_soon_threadsafe(self.reload))
        logger.add_sink(self.recent_errors)
        self.start_components()
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
        self.stop_components()
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
        daemon = Daemon(backend, state_dir, opts["config"], simulate_reboots=True)
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
    code = daemon.run()
    if daemon.restart_requested:  # the host's reboot: this process again, fresh (same pid, same arguments)
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, "-m", "bridge.daemon"] + list(argv))
    return code


if __name__ == "__main__":
    sys.exit(main())
