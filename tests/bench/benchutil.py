"""What several bench modules measure the same way."""


def rss_kib(pid):
    """Resident set size of a process, KiB (0 when it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# --- the rows `make bench` prints ---------------------------------------------------------------------
LABEL_WIDTH = 64
VALUE_WIDTH = 12
UNIT_WIDTH = 8


def shown(value):
    """A figure as printed: 3 significant digits below 100, whole numbers above; None prints nothing."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "%.3g" % value if abs(value) < 100 else "%.0f" % value
    return str(value)


def format_row(label, value, unit="", note=""):
    """One aligned row. value None: a heading, or a skipped row (note "skipped: why"), with no number."""
    if value is None and not unit:
        return ("  %-*s %s" % (LABEL_WIDTH, label, note)).rstrip()
    return ("  %-*s %*s %-*s %s" % (LABEL_WIDTH, label, VALUE_WIDTH, shown(value), UNIT_WIDTH, unit, note)).rstrip()


def print_row(label, value, unit="", note=""):
    """The report function every bench module's run(report) gets (and uses when run alone)."""
    print(format_row(label, value, unit, note), flush=True)


def skipped(report, label, why):
    """A row that could not be measured here: says why, prints no number."""
    report(label, None, "", "skipped: " + why)


def heading(report, label, note=""):
    report(label, None, "", note)
