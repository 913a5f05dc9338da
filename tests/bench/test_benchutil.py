"""`make bench` rows: aligned columns, headings and skipped rows without a number."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import benchutil  # noqa: E402


def test_rows_are_aligned_whatever_the_figure():
    figures = [(12345.6, "calls/s", "12346"), (11.04, "MiB", "11"), (0.000123, "s", "0.000123"), (42, "modules", "42")]
    rows = [benchutil.format_row("label %d" % i, value, unit, "note") for i, (value, unit, _) in enumerate(figures)]
    value_end = 2 + benchutil.LABEL_WIDTH + 1 + benchutil.VALUE_WIDTH
    for row, (_, unit, text) in zip(rows, figures):
        assert row[value_end - len(text):value_end] == text and row[value_end - len(text) - 1] == " "
        assert row[value_end + 1:].split() == [unit, "note"]
        assert row[value_end + 1 + benchutil.UNIT_WIDTH + 1:] == "note"


def test_skipped_rows_and_headings_print_no_number():
    out = []
    benchutil.skipped(lambda *a: out.append(benchutil.format_row(*a)), "real uhttpd", "set TR069_UHTTPD")
    benchutil.heading(lambda *a: out.append(benchutil.format_row(*a)), "server: lean", "median of 5 rounds")
    assert out == ["  %-64s skipped: set TR069_UHTTPD" % "real uhttpd",
                   "  %-64s median of 5 rounds" % "server: lean"]


def test_every_bench_module_reports_through_the_helper():
    here = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(os.listdir(here)):
        if name.startswith("bench_") and name.endswith(".py"):
            with open(os.path.join(here, name)) as f:
                text = f.read()
            assert ', 0, "", "skipped' not in text and ', 0.0, "", ' not in text, name
            assert "print(\"  %-" not in text and "print(\"%-" not in text, name
