"""Board temperature from Linux: thermal zones (/sys/class/thermal/thermal_zone*/temp) and hwmon
(/sys/class/hwmon/hwmon*/temp*_input), both in millidegrees Celsius.

The board's temperature is the hottest sensor found: the one that matters for a cabinet's alarm. A
sensor that fails to read (a zone whose driver answers EIO or ENODATA) is skipped; none at all is an
error the sampler counts like a meter that does not answer.
"""

import os

from . import ModbusError


def _matching(folder, prefix, suffix=""):
    """The names in folder that start with prefix and end with suffix, as a shell glob would list
    them (glob itself costs a router fnmatch and its regular expressions for two patterns)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [n for n in names if n.startswith(prefix) and n.endswith(suffix) and not n.startswith(".")
            and len(n) >= len(prefix) + len(suffix)]


def sensor_files(root="/sys"):
    zones = os.path.join(root, "class", "thermal")
    hwmon = os.path.join(root, "class", "hwmon")
    files = [os.path.join(zones, z, "temp") for z in _matching(zones, "thermal_zone")
             if os.path.exists(os.path.join(zones, z, "temp"))]
    for h in _matching(hwmon, "hwmon"):
        files += [os.path.join(hwmon, h, t) for t in _matching(os.path.join(hwmon, h), "temp", "_input")]
    return sorted(files)


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
