"""The device-operations interface the core and the OS3P actions use."""


class NotFound(LookupError):
    """A config, section or option that does not exist (ubus NOT_FOUND)."""


class DeviceError(RuntimeError):
    """An operation the device refused or failed."""


class NotSupported(DeviceError):
    """An operation this device cannot do at all: the facility it needs is missing (found at start)."""


class Device:
    backend = "abstract"
    uci_is_files = False  # True: UCI is plain files under config_path() and nothing else edits them for us

    def config_path(self, config):
        """Where the UCI file of `config` lives (for messages and file-based configs)."""
        raise NotImplementedError

    def missing(self):
        """{facility: what goes without it} for what this device lacks (found once, at start)."""
        return {}

    def supports(self, op):
        """None when operation `op` (reboot, sysupgrade, validate_firmware, logread) can be done here,
        else a description of what is missing, for an immediate refusal."""
        return None

    def board(self):
        """{vendor, model, serial, firmware_version, hostname}"""
        raise NotImplementedError

    def uci_sections(self, config):
        """All sections of `config` in file order, as bridge.uci.parse gives them ([] if none)."""
        raise NotImplementedError

    def uci_apply(self, config, changes):
        """Write only `changes` ((section, type, option, value) as bridge.uci.apply takes them) and
        commit, on top of the config as it is now: what others changed meanwhile is kept."""
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

    def boot_id(self, kernel_boot_id):
        """What tells one boot from the next (the OS3P client reports a reboot nobody asked for): the
        kernel's random boot id here; the host backend adds its simulated reboots."""
        return kernel_boot_id

    def validate_firmware(self, image_path):
        """None if the image may be flashed; raises DeviceError (or NotSupported) saying why not."""
        raise NotImplementedError

    def sysupgrade(self, image_path, keep_settings=True):
        raise NotImplementedError

    def logread(self, lines=None):
        raise NotImplementedError
