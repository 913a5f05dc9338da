"""The lines of a system log that fall in a period (GetFile Syslog with startTime/stopTime).

Two line formats carry their time at the start, both in local time: OpenWrt's logread
("Tue Dec  1 15:21:47 2026 daemon.info tr069-bridge[123]: ...") and the host backend's log file
("2026-12-01 15:21:47,123 INFO ..."). A line without a time of its own (a traceback's continuation)
belongs to the line before it. Without a period every line is kept.
"""

import re
import time

_LOGREAD = re.compile(r"^[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4}) ")
_ISO = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)")
_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                                       "Dec"), 1)}


def line_time(line):
    """Epoch seconds of a line's leading local time, None when it has none."""
    m = _LOGREAD.match(line)
    if m:
        month = _MONTHS.get(m.group(1))
        if month is None:
            return None
        fields = (int(m.group(6)), month, int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)))
    else:
        m = _ISO.match(line)
        if not m:
            return None
        fields = tuple(int(g) for g in m.groups())
    try:
        return time.mktime(fields + (0, 0, -1))
    except (OverflowError, ValueError):
        return None


def write_period(text, start, stop, out):
    """Write the lines of `text` whose time is in [start, stop] (either may be None) to out."""
    keep = start is None and stop is None
    for line in text.splitlines(True):
        if start is not None or stop is not None:
            t = line_time(line)
            if t is not None:
                # a local time has no fractions: a line stamped in the first second of start belongs
                keep = (start is None or t >= int(start)) and (stop is None or t <= stop)
        if keep:
            out.write(line)
