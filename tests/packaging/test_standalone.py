"""The repository stands alone: a clone with nothing beside it collects and reads its own test data.

A clean `git clone` (the committed tree, as CI and a new user get it) is made in an empty directory, and
the modules that read recorded transcripts are collected and run there (the whole `make test` in such a
clone is what CI does).
"""

import os
import re
import shutil
import subprocess
import sys

import pytest

from support.paths import ROOT

# a tracked file must not point at a directory beside the repository
OUTSIDE = re.compile(r"\.\./shared|shared/(fixtures|specs)/")


def tracked_files():
    out = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], capture_output=True, check=True).stdout
    return [p for p in out.decode().split("\0") if p]


needs_git = pytest.mark.skipif(
    shutil.which("git") is None or not os.path.exists(os.path.join(ROOT, ".git")), reason="not a git checkout")


@needs_git
def test_no_tracked_file_points_outside_the_repository():
    found = []
    for path in tracked_files():
        full = os.path.join(ROOT, path)
        if path == "tests/packaging/test_standalone.py" or not os.path.isfile(full):
            continue
        with open(full, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        found += ["%s:%d" % (path, text.count("\n", 0, m.start()) + 1) for m in OUTSIDE.finditer(text)]
    assert found == []


def test_ubus_transcripts_are_in_the_repository():
    from support.paths import UBUS_FIXTURES

    assert os.path.commonpath([UBUS_FIXTURES, ROOT]) == ROOT
    for name in ("README.md", "object-transcript.json", "caller-transcripts.json", "uci-transcripts.json",
                 "event-listener-transcript.json"):
        assert os.path.isfile(os.path.join(UBUS_FIXTURES, name)), name


@needs_git
def test_a_lonely_clone_reads_its_own_data(tmp_path):
    """The modules that read recorded transcripts at import (collection) and at run time, in a clone."""
    clone = tmp_path / "lonely" / "x"
    subprocess.run(["git", "clone", "-q", "--shared", ROOT, str(clone)], check=True, capture_output=True)
    assert sorted(os.listdir(tmp_path / "lonely")) == ["x"]
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "test_ubus_blob",
                          "tests/ubus/test_ubus_blob.py", "tests/ubus/test_ubus_replay.py", "tests/device/test_ubus_backend.py"],
                         cwd=clone, env=env, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert re.search(r"\d+ passed, \d+ deselected", ran.stdout), ran.stdout[-500:]
