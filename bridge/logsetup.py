"""Logging: syslog on a device, stderr (and a bounded file logread can show) on the host."""

import logging
import os

LEVELS = {"error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO, "debug": logging.DEBUG}


def setup(backend, level="info", log_file=None):
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    if backend == "ubus" and os.path.exists("/dev/log"):
        from logging.handlers import SysLogHandler

        handler = SysLogHandler(address="/dev/log", facility=SysLogHandler.LOG_DAEMON)
        handler.setFormatter(logging.Formatter("tr069-bridge[%d]: %%(name)s: %%(message)s" % os.getpid()))
        root.addHandler(handler)
    else:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        if log_file:
            from logging.handlers import RotatingFileHandler

            fh = RotatingFileHandler(log_file, maxBytes=256 * 1024, backupCount=1)
            fh.setFormatter(handler.formatter)
            root.addHandler(fh)
    set_level(level)


def set_level(level):
    logging.getLogger().setLevel(LEVELS.get(level, logging.INFO))
