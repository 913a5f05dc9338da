import os
import sys

# the tests import the package from the source tree, whatever is installed
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# every reply the tr069 object builds is checked against its schema, here and in daemon subprocesses
os.environ.setdefault("TR069_CHECK_OUTPUT", "1")

# the recorded ubusd transcripts live in the shared directory beside the repository
UBUS_FIXTURES = os.environ.get("TR069_UBUS_FIXTURES") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "shared", "fixtures", "ubus")
