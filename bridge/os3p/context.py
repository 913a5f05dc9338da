"""What an action handler, a transfer or a message producer may use: the narrow context.

Handlers never see the client or the protocol core. They get config and device, the outbox (notify), the
transfers (firmware, files), the central system's clock, and named requests (request_boot, trigger,
expect_reboot, config_changed). A new feature that needs more adds a named method here, so that what
handlers can do stays listed in one place.
"""

from . import messages


class Context:
    def __init__(self, core, config, device, loop, directory, sensors=None, streetlights=None,
                 config_changed=None, model=None):
        """config_changed(name): what makes every part of the daemon take up a key changed in memory (the
        composition root's; raises when one cannot, and the handler takes the value back); model: the
        TR-181 parameter model (bridge/model/component.py), None when it does not run."""
        self.model = model
        self._core = core
        self._config_changed = config_changed or core.config_changed
        self.sensors = sensors  # bridge/station/sensors.py (indicators, meter), None when not running
        self.streetlights = streetlights  # bridge/station/streetlights.py, None without contactors
        self.model = model  # the TR-181 parameter model (bridge/model/component.py), None when not running
        self.config = config
        self.device = device
        self.loop = loop  # for workers: call_soon_threadsafe back onto the loop, call_later
        self.dir = directory  # where this client keeps its files
        self.state = core.state  # state.json (bridge.os3p.state.State)
        self._firmware = self._files = None

    # transfers are imported when first needed: a router's RAM is counted in MiB
    @property
    def firmware(self):
        if self._firmware is None:
            from .firmware import Firmware

            self._firmware = Firmware(self)
        return self._firmware

    @property
    def files(self):
        if self._files is None:
            from .logupload import LogUpload

            self._files = LogUpload(self)
        return self._files

    def notify(self, action, payload):
        """Queue a notification in the persistent outbox; it goes out when its turn comes."""
        return self._core.notify(action, payload)

    def trigger(self, action, payload):
        """Send a message a TriggerMessage asked for (direct, allowed while Pending)."""
        self._core.trigger(action, payload)

    def request_boot(self):
        self._core.request_boot()

    def expect_reboot(self):
        """Before any reboot we cause: the next start must not report it as unexpected."""
        self._core.expect_reboot()

    def reboot_cancelled(self):
        """The reboot announced will not happen after all (nothing was attempted)."""
        self._core.reboot_cancelled()

    def reboot_failed(self, reason):
        """A reboot was attempted and failed (call on the loop thread)."""
        self._core.reboot_failed(reason)

    def config_changed(self, name):
        """A key changed in memory (ChangeConfiguration): every part that uses it takes it up now."""
        self._config_changed(name)

    def firmware_status(self):
        """The firmware transfer's FirmwareStatusNotification content, None while none was ever loaded
        (the transfer module stays out of memory until an UpdateFirmware needs it)."""
        return self._firmware.status() if self._firmware is not None else None

    def value_changes(self):
        """A DataModelNotification's payload of the parameter model's changes waiting to be sent (taken
        out of the model), None when none wait or no model runs."""
        params = self.model.value_changes() if self.model is not None else None
        if not params:
            return None
        return {"event": "4 VALUE CHANGE", "timestamp": self.now_iso(), "parameterList": params}

    def unsent(self, action, payload):
        """An accumulating notification the outbox refused: what it carried waits for the next one."""
        if action == "DataModelNotification" and self.model is not None:
            self.model.restore(payload["parameterList"])

    def now(self):
        return self._core.now()

    def now_iso(self):
        return self._core.now_iso()

    def station_status(self):
        """The station's current StatusNotification content: its latest active error, or Ok."""
        if self.sensors is not None:
            return self.sensors.status_snapshot()
        return {"status": "Ok", "errorCode": "NoError", "timestamp": self.now_iso()}

    def boot_fields(self):
        return self._core.boot_fields()

    def snapshot(self, action):
        """The current payload of a message (messages.PRODUCERS), None when there is nothing to report."""
        produce = messages.PRODUCERS.get(action)
        return produce(self) if produce is not None else None

    def stop(self):
        for transfer in (self._firmware, self._files):
            if transfer is not None:
                transfer.stop()
