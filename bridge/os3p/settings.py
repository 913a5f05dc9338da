"""What the OS3P core reads of the configuration: one named property per setting, read live (a reload or a
ChangeConfiguration takes effect at the next read). The core is given this, never the config itself, so
what it depends on is listed here."""


class Settings:
    def __init__(self, config):
        self._get = config.get

    @property
    def acs_url(self):
        return self._get("acs.url")

    @property
    def reconnect_min(self):
        return self._get("os3p.reconnect_min")

    @property
    def reconnect_max(self):
        return self._get("os3p.reconnect_max")

    @property
    def connect_timeout(self):
        return self._get("os3p.connect_timeout")

    @property
    def call_timeout(self):
        return self._get("os3p.call_timeout")

    @property
    def stable_after(self):
        return self._get("os3p.stable_after")

    @property
    def ping_interval(self):
        return self._get("os3p.ping_interval")

    @property
    def heartbeat_interval(self):
        """Seconds between two periodic sessions (the Heartbeat): acs.periodic_inform_interval."""
        return self._get("acs.periodic_inform_interval")

    @property
    def heartbeat_enabled(self):
        return bool(self._get("acs.periodic_inform_enable"))
