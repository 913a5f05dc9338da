"""The device-operations interface the core and the OS3P actions use."""


class NotFound(LookupError):
    """A config, section or option that does not exist (ubus NOT_FOUND)."""


class DeviceError(RuntimeError):
    """An operation the device refused or failed."""


class Device:
    backend = "abstract"

    def config_path(self, config):
        """Where the UCI file of `config` lives (read directly: cheaper than a ubus round trip)."""
        raise NotImplementedError

    def board(self):
        """{vendor, model, serial, firmware_version, hostname}"""
        raise NotImplementedError

    def uci_get(self, config, section=None, option=None):
        """Like `ubus call uci get`: all sections, one section's values, or one option's value."""
        raise NotImplementedError

    def uci_set(self, config, section, values):
        raise NotImplementedError

    def uci_commit(self, config):
        raise NotImplementedError

    def reboot(self):
        raise NotImplementedError

    def sysupgrade(self, image_path, keep_settings=True):
        raise NotImplementedError

    def logread(self, lines=None):
        raise NotImplementedError
