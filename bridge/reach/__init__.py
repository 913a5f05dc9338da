"""Reachability: what the station knows of its modem and its uplinks, and who is told when it changes.

modem.py      what a modem backend yields (ModemInfo), one shape for every backend
backends/     the backends, one table (BACKENDS): ModemManager, uqmi, uqmid, umbim, host simulation, none
state.py      the reachability state (data / sms / disconnected), debounced; the weak-signal hysteresis
camara.py     the CAMARA subscription API's validation, errors and CloudEvents (no I/O)
store.py      the subscriptions on disk (write, fsync, rename)
delivery.py   CloudEvents POSTed to the sinks: bounded per sink, retried with the shared backoff
service.py    the shell on the daemon's loop: refreshes, netifd events, timers, the HTTP routes
"""
