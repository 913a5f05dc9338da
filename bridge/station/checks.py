"""The station's UCI sections the KEYS table cannot describe (one per device: a contactor, an indicator
group, a meter and its registers, a threshold), each kind with its checker, in one table the configuration
reads (bridge/config.py: Config(section_checks=...), examine(path, section_checks)). A checker is
sections -> [(section name, option or None, why)]; each imports its module only when such a section exists,
so a station without contactors never loads the streetlights. Their problems are warnings: the daemon runs,
that device is not used."""


def _contactors(sections):
    from .streetlights import check_contactors

    return check_contactors(sections)


def _indicators(sections):
    from .backends.gpio_indicators import check_indicators

    return check_indicators(sections)


def _meter(sections):
    from .meter import check_meter  # its register sections too

    return check_meter(sections)


def _thresholds(sections):
    from .alarms import threshold_problems

    return threshold_problems(sections)


SECTION_CHECKS = {
    "contactor": _contactors,
    "indicator": _indicators,
    "meter": _meter,
    "threshold": _thresholds,
}
