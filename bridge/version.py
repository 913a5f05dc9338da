"""What this copy of the daemon is: its version as the package manager installed it, and the Python
running it (`tr069-bridge --version`).

On a device the package version is opkg's record of the installed package
(<root>/usr/lib/opkg/info/tr069-bridge.control, "0.1.0-r1": the release the feed built); run from a
source tree it is bridge.__version__ and the tree's path.
"""

import os
import sys

from . import __version__

PACKAGE = "tr069-bridge"
SITE_TAIL = os.path.join("usr", "lib", "python%d.%d" % sys.version_info[:2], "site-packages", "bridge")


def package_version(here=None):
    """The installed package's Version field, or None when this is not an opkg install."""
    here = os.path.dirname(os.path.abspath(here or __file__))
    if not here.endswith(os.sep + SITE_TAIL):
        return None
    root = here[: -len(SITE_TAIL)]
    try:
        with open(os.path.join(root, "usr", "lib", "opkg", "info", PACKAGE + ".control"), encoding="utf-8") as f:
            for line in f:
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip() or None
    except OSError:
        pass
    return None


def describe(here=None):
    """'tr069-bridge 0.1.0-r1 (package, byte-code), Python 3.11.7' or '... 0.1.0 (source tree DIR), ...'"""
    here = os.path.abspath(here or __file__)
    installed = package_version(here)
    form = "byte-code" if here.endswith(".pyc") else "sources"
    if installed:
        where = "package, %s" % form
    else:
        where = "source tree %s" % os.path.dirname(os.path.dirname(here)) if form == "sources" else form
    return "%s %s (%s), Python %s" % (PACKAGE, installed or __version__, where, sys.version.split()[0])
