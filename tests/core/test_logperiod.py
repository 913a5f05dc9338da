"""The lines of a log in a period: logread's and the host log's formats, continuation lines."""

import io
import time

from bridge.logperiod import line_time, write_period

LOG = """Tue Dec  1 10:00:00 2026 daemon.info tr069-bridge[1]: before
Tue Dec  1 10:05:00 2026 daemon.err tr069-bridge[1]: inside
Traceback (most recent call last):
  File "x.py", line 1
Tue Dec  1 10:10:00 2026 daemon.info tr069-bridge[1]: the last second of it
2026-12-01 10:10:01,500 INFO bridge: after, host format
"""


def local(text):
    return time.mktime(time.strptime(text, "%Y-%m-%d %H:%M:%S"))


def test_both_formats_carry_their_local_time():
    assert line_time(LOG.splitlines()[0]) == local("2026-12-01 10:00:00")
    assert line_time(LOG.splitlines()[5]) == local("2026-12-01 10:10:01")
    assert line_time("  File \"x.py\", line 1") is None
    assert line_time("Tue Xyz  1 10:00:00 2026 nonsense") is None


def test_only_the_period_with_continuation_lines():
    out = io.StringIO()
    write_period(LOG, local("2026-12-01 10:01:00"), local("2026-12-01 10:10:00"), out)
    assert out.getvalue().splitlines() == LOG.splitlines()[1:5]
    out = io.StringIO()
    write_period(LOG, None, None, out)
    assert out.getvalue() == LOG
    out = io.StringIO()
    write_period(LOG, local("2026-12-01 10:10:01") + 0.7, None, out)  # fractions of the start's second
    assert out.getvalue().splitlines() == LOG.splitlines()[5:]
