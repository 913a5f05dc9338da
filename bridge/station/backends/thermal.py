"""Board temperature from Linux: thermal zones (/sys/class/thermal/thermal_zone*/temp) and hwmon
(/sys/class/hwmon/hwmon*/temp*_input), both in millidegrees Celsius.

The board's temperature is the hottest sensor found: the one that matters for a cabinet's alarm. A
sensor that fails to read (a zone whose driver answers EIO or ENODATA) is skipped; none at all is an
error the sampler counts like a meter that does not answer.
"""

import glob
import os

from .modbus import ModbusError


def sensor_files(root="/sys"):
    return sorted(glob.glob(os.path.join(root, "class", "thermal", "thermal_zone*", "temp"))
                  + glob.glob(os.path.join(root, "class", "hwmon", "hwmon*", "temp*_input")))


class BoardTemperature:
    def __init__(self, root="/sys"):
        self.root = root
        self.files = sensor_files(root)

    def describe(self):
        return "board temperature (%d sensors)" % len(self.files)

    def read(self):
        values = []
        for path in self.files:
            try:
                with open(path, "rb") as f:
                    values.append(int(f.read().strip()) / 1000.0)
            except (OSError, ValueError):
                continue
        if not values:
            raise ModbusError("io", "no temperature sensor could be read")
        return [("BoardTemperature", "", "Celsius", round(max(values), 1))]

    def close(self):
        pass
