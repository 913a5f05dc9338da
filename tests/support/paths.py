"""The repository's paths, for tests and tools wherever they sit below tests/."""

import os

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TESTS)
DATA = os.path.join(TESTS, "data")

# the recorded ubusd transcripts are test data of this repository (tests/data/ubus/README.md: provenance)
UBUS_FIXTURES = os.path.join(DATA, "ubus")
