"""What the OS3P core reads of the configuration: one table, setting -> the config key it is, read live (a
reload or a ChangeConfiguration takes effect at the next read). The core is given this, never the config
itself, so what it depends on is listed here and nowhere else."""

KEYS = {
    "acs_url": "acs.url",
    "reconnect_min": "os3p.reconnect_min",
    "reconnect_max": "os3p.reconnect_max",
    "connect_timeout": "os3p.connect_timeout",
    "call_timeout": "os3p.call_timeout",
    "stable_after": "os3p.stable_after",
    "ping_interval": "os3p.ping_interval",
    "heartbeat_interval": "acs.periodic_inform_interval",  # seconds between two periodic sessions
    "heartbeat_enabled": "acs.periodic_inform_enable",
}


class Settings:
    __slots__ = ("_get",)

    def __init__(self, config):
        self._get = config.get

    def __getattr__(self, name):
        key = KEYS.get(name)
        if key is None:
            raise AttributeError("the OS3P core reads no setting %r (os3p/settings.py KEYS)" % name)
        return self._get(key)
