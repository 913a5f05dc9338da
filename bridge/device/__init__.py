"""Device operations behind one narrow interface; the backend is chosen at start-up."""

BACKENDS = {
    "host": "bridge.device.host:HostDevice",
    "ubus": "bridge.device.ubus_backend:UbusDevice",
}


def open_device(backend, state_dir, **options):
    import importlib

    module, _, cls = BACKENDS[backend].partition(":")
    return getattr(importlib.import_module(module), cls)(state_dir=state_dir, **options)


def default_backend():
    """The real device when ubusd runs here, the host backend everywhere else."""
    import os

    return "ubus" if os.path.exists("/etc/openwrt_release") and os.path.exists("/var/run/ubus/ubus.sock") else "host"
