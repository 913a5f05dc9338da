"""Reachability: what the station knows of its modem and its uplinks, and who is told when it changes.

modem.py      what a modem backend yields (ModemInfo), one shape for every backend
backends/     the backends, one table (BACKENDS): ModemManager, uqmi, uqmid, umbim, host simulation, none
state.py      the reachability state (data / sms / disconnected), debounced; the weak-signal hysteresis
camara.py     the CAMARA subscription API's validation, errors and CloudEvents (no I/O)
store.py      the subscriptions on disk (write, fsync, rename)
delivery.py   CloudEvents POSTed to the sinks: bounded per sink, retried with the shared backoff
service.py    the shell on the daemon's loop: refreshes, netifd events, timers, the HTTP routes
api.py        the CAMARA API's routes and tokens, built at its first connection

A station nobody subscribes from never runs the subscriptions' code: `camara` is bound here as a module
whose code is loaded on its first use (importlib's LazyLoader; `from . import camara` gives it), the
deliveries are made at the first notification (service.py), and the API at its first connection. What
the root needs to listen before that, the API's path, is here.
"""

import importlib.util
import sys

API = "device-reachability-status-subscriptions"
VERSION = "v0.7"
BASE = "/%s/%s" % (API, VERSION)  # the API's path


def _on_first_use(name):
    """Module `name`, its code run when one of its names is first looked up (on the loop thread only)."""
    spec = importlib.util.find_spec(name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


camara = sys.modules.get(__name__ + ".camara") or _on_first_use(__name__ + ".camara")
