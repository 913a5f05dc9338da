import os
import sys

# the tests import the package from the source tree, whatever is installed
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# every reply the tr069 object builds is checked against its schema, here and in daemon subprocesses
os.environ.setdefault("TR069_CHECK_OUTPUT", "1")

# the recorded ubusd transcripts are test data of this repository (tests/data/ubus/README.md: provenance)
UBUS_FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "ubus")
