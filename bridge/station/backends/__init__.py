"""The station's hardware backends. What they share is here: a source that is not Modbus (the board's
thermal sensors) raises the same error as a meter, and neither it nor the sensors component loads the
Modbus code for that while no meter is configured."""


class ModbusError(Exception):
    """A source that cannot be read; `kind` is what the meter counts: "timeout", "exception" (the device
    answered an exception code), "frame" (short, corrupt or CRC-failing reply), "unit" (a reply from
    another unit id), "io"."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
