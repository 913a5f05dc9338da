"""MV fault indicators wired to lines: GPIO (bridge/station/backends/gpio.py: sysfs or character device),
or behind another daemon's ubus object (backends/ubuslines.py: its get/set methods).

    config indicator 'MV1'
        option overcurrent '17'       # input lines, sysfs numbers or gpiochipN:offset
        option ground '18'            # optional
        option selffault 'gpiochip0:5'
        option test '20'              # output lines, pulsed
        option reset '21'
        option active_low '0'         # for all of the group's lines
        option backend 'gpio'         # gpio | ubus (then option object: the ubus object with get/set)

Inputs are read by polling (a latched indicator output changes seldom; a poll every few hundred ms costs a
pread per line), so no watcher descriptor is needed on the loop. A ubus line costs a round trip through
ubusd, so groups behind ubus are polled at most once a second (UBUS_POLL).
"""

from . import gpio
from ..indicators import GROUND, OVERCURRENT, SELFFAULT, Group

OUTPUTS = ("test", "reset")
UBUS_POLL = 1.0


def check_indicators(sections):
    """For `tr069-bridge check` (config.SECTION_CHECKS): what GpioIndicators would refuse, found
    without opening a line: [(section name, option or None, why)]."""
    rows = []
    for s in sections:
        if s[".type"] != "indicator":
            continue
        name, kind = s[".name"], s.get("backend", "gpio")
        if kind not in ("gpio", "ubus"):
            rows.append((name, "backend", "backend %r: gpio or ubus" % (kind,)))
            continue
        if kind == "ubus" and not s.get("object"):
            rows.append((name, None, "the ubus backend needs option object (the ubus object with get/set)"))
        if not s.get(OVERCURRENT):
            rows.append((name, None, "option overcurrent (an input line) is missing"))
        if s.get("active_low", "0") not in ("0", "1"):
            rows.append((name, "active_low", "active_low %r: 0 or 1" % (s["active_low"],)))
        if kind == "gpio":
            for option in (OVERCURRENT, GROUND, SELFFAULT) + OUTPUTS:
                if s.get(option):
                    try:
                        gpio.parse_name(s[option])
                    except ValueError as e:
                        rows.append((name, option, str(e)))
    return rows


def _opener(section, root, dev, socket_path):
    """-> open_line(name, output, active_low) for the group's backend."""
    kind = section.get("backend", "gpio")
    if kind == "gpio":
        return lambda name, output, low: gpio.open_line(name, output, low, root=root, dev=dev)
    if kind == "ubus":
        from . import ubuslines

        obj = section.get("object", "")
        return lambda name, output, low: ubuslines.open_line(name, output, low, obj=obj, socket_path=socket_path)
    raise ValueError("indicator %s: backend %r: gpio or ubus" % (section[".name"], kind))


class GpioIndicators:
    def __init__(self, sections, root=gpio.SYSFS, dev=gpio.DEV, socket_path=None):
        self.inputs, self.outputs, self.groups = {}, {}, []
        self.min_poll = 0.0
        try:
            for s in sections:
                name = s[".name"]
                low = s.get("active_low", "0") == "1"
                open_line = _opener(s, root, dev, socket_path)
                if s.get("backend") == "ubus":
                    self.min_poll = UBUS_POLL
                kinds = []
                for kind in (OVERCURRENT, GROUND, SELFFAULT):
                    if s.get(kind):
                        self.inputs[(name, kind)] = open_line(s[kind], False, low)
                        kinds.append(kind)
                if OVERCURRENT not in kinds:
                    raise ValueError("indicator %s: option overcurrent (an input line) is missing" % name)
                for out in OUTPUTS:
                    if s.get(out):
                        self.outputs[(name, out)] = open_line(s[out], True, low)
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
