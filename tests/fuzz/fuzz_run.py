"""`make fuzz`: generated inputs into every surface (tests/fuzz/fuzz_surfaces.py); prints what each surface did with them.

    python tests/fuzz/fuzz_run.py [--examples N] [--seed S] [--surface NAME ...]

N inputs per surface (default FUZZ_EXAMPLES or 20000 for each surface in tests/fuzz_surfaces.SURFACES); a random seed unless
given (printed, so a run can be repeated). Exit status 1 when any surface crashed, hung or answered
unexpectedly; the smallest input that did it is printed.

Then the stateful runs (tests/fuzz/fuzz_restart.py, surface `restarts`): FUZZ_RESTARTS sequences (default 2000)
of what a central system, a meter and a damaged disk do to a station, each ended by a restart of the daemon;
one in FUZZ_SUBPROCESS_EVERY (default 20) against the daemon as a real process. FUZZ_SHRINK=1 shrinks a failing
sequence (slow: every step of it restarts daemons).
"""

import argparse
import logging
import os
import random
import resource
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
sys.path[:0] = [HERE, TESTS, os.path.dirname(TESTS)]  # fuzz/, tests/ (support), the repository (bridge)
os.environ.setdefault("TR069_CHECK_OUTPUT", "1")

from hypothesis import HealthCheck, Phase, given, seed as with_seed, settings  # noqa: E402

import fuzz_surfaces  # noqa: E402
from fuzz_surfaces import Hang, Tracebacks, Unexpected  # noqa: E402

HANG_AFTER = 5.0  # seconds one input may take


def _alarm(signum, frame):
    raise Hang("no answer within %.0f s" % HANG_AFTER)


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_face(face_cls, examples, seed=None, shrink=True):
    """{surface, inputs, crashes, hangs, unexpected, first failure, seconds, rss start/end (KiB)}"""
    surface = face_cls()
    traces = Tracebacks()
    logging.getLogger().addHandler(traces)
    rig = surface.start()
    report = {"surface": surface.name, "inputs": 0, "crashes": 0, "hangs": 0, "unexpected": 0, "failure": None,
              "rss_start": rss_kib()}
    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, _alarm)

    def prop(x):
        report["inputs"] += 1
        signal.setitimer(signal.ITIMER_REAL, HANG_AFTER)
        try:
            rig.check(x)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        logged = traces.take()
        if logged:
            raise AssertionError("traceback logged: %s" % logged[0].getMessage())

    phases = [Phase.generate] + ([Phase.shrink] if shrink else [])
    test = settings(max_examples=examples, database=None, deadline=None, derandomize=False, phases=phases,
                    suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
                    print_blob=False)(given(surface.strategy)(prop))
    test = with_seed(seed if seed is not None else random.getrandbits(32))(test)
    try:
        test()
    except Unexpected as e:
        report["unexpected"], report["failure"] = 1, "%s" % e
    except Hang as e:
        report["hangs"], report["failure"] = 1, "%s" % e
    except Exception as e:  # noqa: BLE001 - whatever escaped the surface is a crash
        report["crashes"], report["failure"] = 1, "%s: %s" % (type(e).__name__, e)
    finally:
        signal.signal(signal.SIGALRM, previous)
        logging.getLogger().removeHandler(traces)
        rig.close()
    report["seconds"] = time.monotonic() - started
    report["rss_end"] = rss_kib()
    return report


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=int(os.environ.get("FUZZ_EXAMPLES", "20000")))
    ap.add_argument("--seed", type=int, default=int(os.environ["FUZZ_SEED"]) if os.environ.get("FUZZ_SEED") else None)
    ap.add_argument("--surface", action="append", choices=[f.name for f in fuzz_surfaces.SURFACES] + ["restarts"])
    ap.add_argument("--restarts", type=int, default=int(os.environ.get("FUZZ_RESTARTS", "2000")))
    ap.add_argument("--subprocess-every", type=int, default=int(os.environ.get("FUZZ_SUBPROCESS_EVERY", "20")))
    opts = ap.parse_args(argv)
    seed = opts.seed if opts.seed is not None else random.getrandbits(32)
    logging.basicConfig(level=logging.CRITICAL)  # the surfaces' own log lines are not the report
    surfaces = [f for f in fuzz_surfaces.SURFACES if not opts.surface or f.name in opts.surface]
    print("fuzz: %d inputs per surface, seed %d (FUZZ_SEED=%d repeats this run)" % (opts.examples, seed, seed))
    print("%-12s %9s %8s %6s %11s %8s %14s" % ("surface", "inputs", "crashes", "hangs", "unexpected", "seconds",
                                               "RSS KiB start>end"))
    total = {"inputs": 0, "crashes": 0, "hangs": 0, "unexpected": 0}
    failures = []
    t0 = time.monotonic()
    for surface in surfaces:
        r = run_face(surface, opts.examples, seed)
        for k in total:
            total[k] += r[k]
        print("%-12s %9d %8d %6d %11d %8.1f %8d>%d" % (r["surface"], r["inputs"], r["crashes"], r["hangs"],
                                                      r["unexpected"], r["seconds"], r["rss_start"], r["rss_end"]),
              flush=True)
        if r["failure"]:
            failures.append((r["surface"], r["failure"]))
    if not opts.surface or "restarts" in opts.surface:
        import fuzz_restart

        r = fuzz_restart.run(opts.restarts, seed, opts.subprocess_every, shrink=bool(os.environ.get("FUZZ_SHRINK")))
        print("%-12s %9d %8d %6d %11d %8.1f   sequences; %d restarts (%d of them a real process)"
              % (r["surface"], r["inputs"], r["crashes"], r["hangs"], r["unexpected"], r["seconds"], r["restarts"],
                 r["subprocess"]), flush=True)
        if r["failure"]:
            failures.append((r["surface"], r["failure"]))
    print("%-12s %9d %8d %6d %11d %8.1f" % ("total", total["inputs"], total["crashes"], total["hangs"],
                                           total["unexpected"], time.monotonic() - t0))
    for name, failure in failures:
        print("\n%s: %s" % (name, failure[:2000]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
