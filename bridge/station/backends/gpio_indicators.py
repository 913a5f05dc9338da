"""MV fault indicators wired to GPIO lines (bridge/station/backends/gpio.py: sysfs or character device).

    config indicator 'MV1'
        option overcurrent '17'       # input lines, sysfs numbers or gpiochipN:offset
        option ground '18'            # optional
        option selffault 'gpiochip0:5'
        option test '20'              # output lines, pulsed
        option reset '21'
        option active_low '0'         # for all of the group's lines

Inputs are read by polling (a latched indicator output changes seldom; a poll every few hundred ms costs a
pread per line), so no watcher descriptor is needed on the loop.
"""

from . import gpio
from ..indicators import GROUND, OVERCURRENT, SELFFAULT, Group

OUTPUTS = ("test", "reset")


class GpioIndicators:
    def __init__(self, sections, root=gpio.SYSFS, dev=gpio.DEV):
        self.inputs, self.outputs, self.groups = {}, {}, []
        try:
            for s in sections:
                name = s[".name"]
                low = s.get("active_low", "0") == "1"
                kinds = []
                for kind in (OVERCURRENT, GROUND, SELFFAULT):
                    if s.get(kind):
                        self.inputs[(name, kind)] = gpio.open_input(s[kind], low, root=root, dev=dev)
                        kinds.append(kind)
                if OVERCURRENT not in kinds:
                    raise ValueError("indicator %s: option overcurrent (an input line) is missing" % name)
                for out in OUTPUTS:
                    if s.get(out):
                        self.outputs[(name, out)] = gpio.open_output(s[out], low, root=root, dev=dev)
                self.groups.append(Group(name, kinds))
        except BaseException:
            self.close()
            raise

    def read(self):
        return {key: line.get() for key, line in self.inputs.items()}

    def output(self, group, name, on):
        line = self.outputs.get((group, name))
        if line is not None:
            line.set(on)

    def close(self):
        for line in list(self.inputs.values()) + list(self.outputs.values()):
            line.close()
