"""The daemon's loggers, without importing the logging package where nothing else needs it.

`import logging` costs a router ~1.3 MiB of RAM and ~4 ms of start-up (it pulls in re, traceback,
threading, string and weakref), more than the whole ubus surface. So a Logger here writes its lines
straight to the sinks logsetup installs (syslog, stderr, the host's log file, the state view's
recent errors) while the logging package is not loaded, and hands every record to the logging
package once something has loaded it (websocket-client and requests do on the OS3P path; pytest
and any embedding program do), so that caplog, handlers and levels work as they always have. The
sinks then hear those records, and the libraries' own, through one root handler (Route). Either
way a record reaches the sinks once, in the same format.
"""

import _thread
import sys
import time

DEBUG, INFO, WARNING, ERROR, CRITICAL = 10, 20, 30, 40, 50
LEVEL_NAMES = {DEBUG: "DEBUG", INFO: "INFO", WARNING: "WARNING", ERROR: "ERROR", CRITICAL: "CRITICAL"}

_level = WARNING      # as the logging package's root, until logsetup sets the configured one
_configured = False   # set_level() called: this process's logging is ours (the daemon), not a host program's
_sinks = []           # objects with emit(created, levelno, name, message, exc_text)
_loggers = {}
_route = None         # the Route handler on the logging package's root logger, once made
_route_lock = _thread.allocate_lock()   # a transfer's worker thread may load requests meanwhile


def level_name(levelno):
    return LEVEL_NAMES.get(levelno, "Level %d" % levelno)


def asctime(created):
    """The logging package's default time stamp: '2026-12-01 18:03:58,123' in local time."""
    return "%s,%03d" % (time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(created)), int(created * 1000) % 1000)


def render(msg, args):
    if not args:
        return str(msg)
    try:
        return str(msg) % args
    except Exception:  # noqa: BLE001 - a wrong format is the caller's bug: say it, do not raise it
        return "%s %r (log message does not format)" % (msg, args)


def _std():
    """The logging package if something loaded it; Route goes on its root the first time (a
    program that takes it off later, as a test cleaning up does, keeps it off)."""
    logging = sys.modules.get("logging")
    if logging is not None and _route is None and _sinks:
        route_std()
    return logging


def route_std():
    """Put Route on the logging package's root logger (importing the package): records of
    libraries that use it, and ours once it is loaded, reach the sinks. Idempotent; called where
    such a library is imported, and at the first record after that."""
    import logging

    root = logging.getLogger()
    with _route_lock:
        _add_route(logging, root)


def _add_route(logging, root):
    global _route
    if _route is None:
        class Route(logging.Handler):
            def emit(self, record):
                try:
                    exc = None
                    if record.exc_info:
                        exc = logging.Formatter().formatException(record.exc_info)
                    elif record.exc_text:
                        exc = record.exc_text
                    deliver(record.created, record.levelno, record.name, record.getMessage(), exc)
                except Exception:  # noqa: BLE001 - a record that does not format: said as logging says it
                    self.handleError(record)

        _route = Route()
    if _route not in root.handlers:
        root.addHandler(_route)
        if _configured:  # the package came after logsetup: our level holds there too
            root.setLevel(_level)


def deliver(created, levelno, name, message, exc_text=None):
    for sink in list(_sinks):
        try:
            sink.emit(created, levelno, name, message, exc_text)
        except Exception:  # noqa: BLE001 - a broken sink must not break the caller
            pass


def set_level(levelno):
    global _level, _configured
    _level, _configured = levelno, True
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger().setLevel(levelno)


def add_sink(sink):
    if sink not in _sinks:
        _sinks.append(sink)
    if "logging" in sys.modules:
        route_std()


def remove_sink(sink):
    if sink in _sinks:
        _sinks.remove(sink)
    logging = sys.modules.get("logging")
    if not _sinks and _route is not None and logging is not None:
        logging.getLogger().removeHandler(_route)


def sinks():
    return list(_sinks)


class Logger:
    """The part of logging.Logger the daemon uses."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def isEnabledFor(self, levelno):
        logging = _std()
        if logging is not None:
            return logging.getLogger(self.name).isEnabledFor(levelno)
        return levelno >= _level

    def log(self, levelno, msg, *args, exc_info=False):
        logging = _std()
        if logging is not None:
            logging.getLogger(self.name).log(levelno, msg, *args, exc_info=exc_info, stacklevel=3)
            return
        if levelno < _level:
            return
        exc = None
        if exc_info:
            import traceback  # only when there is one to show

            exc = traceback.format_exc().rstrip("\n")
        if _sinks:
            deliver(time.time(), levelno, self.name, render(msg, args), exc)
        elif levelno >= WARNING:
            # nothing set up (the CLI, a library user): warnings and errors still reach stderr, bare,
            # as the logging package's last-resort handler prints them
            try:
                sys.stderr.write(render(msg, args) + ("\n" + exc if exc else "") + "\n")
            except (OSError, ValueError, AttributeError):
                pass

    def debug(self, msg, *args):
        self.log(DEBUG, msg, *args)

    def info(self, msg, *args):
        self.log(INFO, msg, *args)

    def warning(self, msg, *args):
        self.log(WARNING, msg, *args)

    def error(self, msg, *args, exc_info=False):
        self.log(ERROR, msg, *args, exc_info=exc_info)

    def exception(self, msg, *args):
        self.log(ERROR, msg, *args, exc_info=True)

    def critical(self, msg, *args):
        self.log(CRITICAL, msg, *args)


def getLogger(name):  # noqa: N802 - the logging package's name, so that the call reads the same
    logger = _loggers.get(name)
    if logger is None:
        logger = _loggers[name] = Logger(name)
    return logger
