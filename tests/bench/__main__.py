"""`make bench`: every surface's figures, each against peers measured in the same run.

Each module tests/bench/bench_<surface>.py has run(report). Machines are noisy:
read the ratios, not the absolute times. Nothing here asserts on timing.
"""

import importlib
import os
import sys
import time
import traceback

from benchpath import HERE  # first: the repository and tests/ on sys.path

ORDER = ["bench_core", "bench_ubus", "bench_jsonrpc", "bench_os3p"]


from benchutil import print_row as report  # (one aligned row format: benchutil.format_row)


def main(names):
    found = sorted(f[:-3] for f in os.listdir(HERE) if f.startswith("bench_") and f.endswith(".py"))
    names = names or [n for n in ORDER if n in found] + [n for n in found if n not in ORDER]
    failed = 0
    for name in names:
        print("== %s" % name[len("bench_"):], flush=True)
        t = time.monotonic()
        try:
            importlib.import_module(name).run(report)
        except Exception:
            failed += 1
            traceback.print_exc()
        print("   (%.1f s)" % (time.monotonic() - t), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
