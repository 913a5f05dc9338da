"""The OpenWrt packages: the .ipk files package/build_ipk.py writes (what `make ipk` runs) from the feed
Makefiles, the procd init script, the UCI defaults, and the python3-* dependencies against what bridge/
imports. Installing, upgrading and removing them: tests/packaging/test_offline_install.py.

The split of the standard library into python3-* packages below is OpenWrt 24.10's
(openwrt/packages, branch openwrt-24.10, lang/python/python3/files/python3-package-*.mk).
"""

import ast
import gzip
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time

import pytest

import bridge
from bridge import config, schema, uci
from support.paths import ROOT
INIT = os.path.join(ROOT, "files", "etc", "init.d", "tr069-bridge")
LAUNCHER = os.path.join(ROOT, "files", "usr", "bin", "tr069-bridge")
NTP_HOTPLUG = os.path.join(ROOT, "files", "etc", "hotplug.d", "ntp", "60-tr069-bridge")
UCI_DEFAULTS = os.path.join(ROOT, "files", "etc", "config", "tr069")

_spec = importlib.util.spec_from_file_location("build_ipk", os.path.join(ROOT, "package", "build_ipk.py"))
build_ipk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_ipk)
MAKEFILES = {os.path.basename(m.dir): m for m in build_ipk.feed_makefiles()}
PACKAGES = {p.name: p for m in MAKEFILES.values() for p in build_ipk.packages_of(m)}
PKG = PACKAGES["tr069-bridge"]
SITE = build_ipk.PYTHON3_PKG_DIR
SCHEMA_DIR = MAKEFILES["tr069-bridge"].get("SCHEMA_DIR")
HOST_ONLY = {"devtools", "tests"}  # top-level trees of the repository that never ship

# OpenWrt 24.10: python3-* package -> the top-level standard-library modules it holds
# (python3-light holds the rest; None: in no package at all)
OPENWRT_SPLIT = {
    "python3-asyncio": ("asyncio",),
    "python3-cgi": ("cgi",),
    "python3-cgitb": ("cgitb",),
    "python3-codecs": ("_codecs_cn", "_codecs_hk", "_codecs_iso2022", "_codecs_jp", "_codecs_kr",
                       "_codecs_tw", "unicodedata"),
    "python3-ctypes": ("ctypes", "_ctypes"),
    "python3-dbm": ("dbm", "_dbm", "_gdbm"),
    "python3-decimal": ("decimal", "_decimal"),
    "python3-distutils": ("distutils",),
    "python3-email": ("email",),
    "python3-lib2to3": ("lib2to3",),
    "python3-logging": ("logging",),
    "python3-lzma": ("lzma", "_lzma"),
    "python3-multiprocessing": ("multiprocessing", "_multiprocessing"),
    "python3-ncurses": ("curses", "_curses", "_curses_panel"),
    "python3-openssl": ("_hashlib", "_ssl"),
    "python3-pydoc": ("doctest", "pydoc", "pydoc_data"),
    "python3-readline": ("readline",),
    "python3-sqlite3": ("sqlite3", "_sqlite3"),
    "python3-unittest": ("unittest",),
    "python3-urllib": ("urllib",),
    "python3-uuid": ("uuid", "_uuid"),
    "python3-venv": ("ensurepip", "venv"),
    "python3-xml": ("xml", "xmlrpc", "_elementtree", "pyexpat"),
    None: ("idlelib", "tkinter", "turtledemo", "webbrowser", "_osx_support"),
}
# feed packages that are not part of the interpreter -> the module they provide
THIRD_PARTY = {"python3-websocket-client": "websocket", "python3-requests": "requests"}


def open_ipk(path):
    with open(path, "rb") as f:
        raw = f.read()
    outer = tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz")
    members = {m.name: outer.extractfile(m).read() for m in outer.getmembers()}
    return {
        "path": path,
        "raw": raw,
        "order": [m.name for m in outer.getmembers()],
        "members": members,
        "control": tarfile.open(fileobj=io.BytesIO(members["./control.tar.gz"]), mode="r:gz"),
        "data": tarfile.open(fileobj=io.BytesIO(members["./data.tar.gz"]), mode="r:gz"),
    }


@pytest.fixture(scope="module")
def ipks(tmp_path_factory):
    built = build_ipk.build(str(tmp_path_factory.mktemp("ipk")))
    return {name: open_ipk(path) for name, path in built.items()}


@pytest.fixture(scope="module")
def ipk(ipks):
    return ipks["tr069-bridge"]


def test_docs_package_figures_are_what_make_ipk_builds(ipk):
    """docs/router.md's size, installed size and entry count stay within 20 % of the package built now
    (rounded on purpose: every change moves them a little; `make ipk` prints the exact figures)."""
    with open(os.path.join(ROOT, "docs", "router.md"), encoding="utf-8") as f:
        readme = f.read()
    m = re.search(r"The package is about (\d+) KB, ([\d.]+) MB installed, about (\d+) entries", readme)
    assert m, "docs/router.md: the package figures sentence is missing"
    size, installed, entries = build_ipk.summary(ipk["path"])
    for stated, actual, what in ((int(m.group(1)) * 1000, size, "KB"), (float(m.group(2)) * 1e6, installed, "MB"),
                                 (int(m.group(3)), entries, "entries")):
        assert abs(actual - stated) <= 0.2 * actual, "docs/router.md says about %s %s; make ipk: %s" % (
            stated, what, build_ipk.describe(ipk["path"]))
    assert re.search(r"e\.g\. `[\d,]+ bytes; [\d.]+ MB installed, \d+ entries`", readme)


def control_fields(ipk):
    text = ipk["control"].extractfile("./control").read().decode()
    fields, last = {}, None
    for line in text.splitlines():
        if line.startswith(" ") and last:
            fields[last] += "\n" + line
        else:
            last, _, value = line.partition(": ")
            fields[last] = value
    return fields


def data_members(ipk):
    # tarfile drops the trailing "/" of directories: "./usr/bin" -> "/usr/bin", "." -> "/"
    return {"/" + m.name[2:] if m.name.startswith("./") else "/": m for m in ipk["data"].getmembers()}


def source_files(top, suffix=""):
    out = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        out += [os.path.relpath(os.path.join(dirpath, f), ROOT) for f in filenames if f.endswith(suffix)]
    return sorted(out)


# --- the archives ----------------------------------------------------------------------------

def test_make_ipk_builds_the_three_packages_of_the_feed(ipks):
    assert sorted(ipks) == ["luci-app-tr069", "tr069-bridge", "tr069-bridge-src"]
    assert sorted(MAKEFILES) == ["luci-app-tr069", "tr069-bridge"]
    assert MAKEFILES["tr069-bridge"].kind == "py3" and MAKEFILES["luci-app-tr069"].kind == "luci"


@pytest.mark.parametrize("name", ["tr069-bridge", "tr069-bridge-src", "luci-app-tr069"])
def test_outer_archive_is_what_opkg_reads(ipks, name):
    ipk = ipks[name]
    # the version the SDK writes: PKG_VERSION-rPKG_RELEASE, so the two builds upgrade each other
    assert os.path.basename(ipk["path"]) == "%s_%s-r1_all.ipk" % (name, bridge.__version__)
    assert ipk["raw"][:2] == b"\x1f\x8b"  # gzip, not the ar of a .deb
    assert ipk["order"] == ["./debian-binary", "./data.tar.gz", "./control.tar.gz"]
    assert ipk["members"]["./debian-binary"] == b"2.0\n"
    f = control_fields(ipk)
    assert (f["Package"], f["Version"], f["Architecture"]) == (name, bridge.__version__ + "-r1", "all")
    # as ipkg-build computes it: the size of the uncompressed data tar
    assert int(f["Installed-Size"]) == len(gzip.decompress(ipk["members"]["./data.tar.gz"]))
    assert f["License"] == "Apache-2.0" and f["LicenseFiles"] == "LICENSE"
    assert os.path.isfile(os.path.join(ROOT, "LICENSE"))
    assert re.fullmatch(r"[^<>]+ <[^@\s<>]+@[^@\s<>]+\.[a-z]+>", f["Maintainer"]), f["Maintainer"]
    assert f["Description"].strip() and f["Depends"].split(", ")[0] == "libc"


def test_control_fields(ipks):
    f = control_fields(ipks["tr069-bridge"])
    depends = f["Depends"].split(", ")
    assert depends[:2] == ["libc", "python3-light"]
    assert {"python3-websocket-client", "python3-requests", "python3-logging", "python3-openssl"} <= set(depends)
    assert len(depends) == len(set(depends))
    assert f["Conflicts"] == "icwmp"  # both register the ubus object tr069
    assert f["Section"] == "net"
    for words in ("tr069 ubus object", "OS3P", "streetlight", "MV fault indicators", "Modbus meter"):
        assert words in " ".join(f["Description"].split()), words
    src = control_fields(ipks["tr069-bridge-src"])
    assert src["Depends"] == "libc" and "Conflicts" not in src
    assert src["Description"].splitlines()[-1] == " This package contains the Python source files for tr069-bridge."
    luci = control_fields(ipks["luci-app-tr069"])
    assert luci["Depends"] == "libc, tr069-bridge" and luci["Section"] == "luci"
    assert "URL" not in luci  # luci.mk's default URL is LuCI's own repository


def test_conffiles_and_scripts(ipks):
    ipk = ipks["tr069-bridge"]
    names = ipk["control"].getnames()
    assert ipk["control"].extractfile("./conffiles").read().decode().split() == ["/etc/config/tr069"]
    for pkg, script in (("tr069-bridge", "postinst"), ("tr069-bridge", "prerm"), ("tr069-bridge", "postinst-pkg"),
                        ("tr069-bridge-src", "postrm"), ("luci-app-tr069", "postinst-pkg")):
        control = ipks[pkg]["control"]
        m = control.getmember("./" + script)
        assert m.mode == 0o755
        text = control.extractfile(m).read().decode()
        assert text.startswith("#!/bin/sh\n")
        assert "$$" not in text  # make's escaping undone
        r = subprocess.run(["sh", "-n"], input=text, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, (script, r.stderr)
    # the byte-code package leaves nothing behind to clean: no postrm deletes the package directory
    assert "./postrm" not in names
    postinst = ipk["control"].extractfile("./postinst").read().decode()
    assert "default_postinst $0 $@" in postinst  # enables and starts the init script on a device
    pkg_postinst = ipk["control"].extractfile("./postinst-pkg").read().decode()
    assert 'chmod 0600 "${IPKG_INSTROOT}/etc/config/tr069"' in pkg_postinst


def test_the_sources_postrm_respects_upgrade(ipks, tmp_path):
    """opkg runs the old postrm with `upgrade <version>` before it unpacks the new files: the cache stays;
    with `remove` it goes, with the directories left empty."""
    text = ipks["tr069-bridge-src"]["control"].extractfile("./postrm").read().decode()
    script = tmp_path / "postrm"
    script.write_text(text)
    cache = tmp_path / ("root" + SITE) / "bridge" / "os3p" / "__pycache__"
    cache.mkdir(parents=True)
    (cache / "calls.cpython-311.pyc").write_bytes(b"")
    env = dict(os.environ, IPKG_INSTROOT=str(tmp_path / "root"))
    for args, stays in ((["upgrade", "0.1.1-r1"], True), (["remove"], False)):
        r = subprocess.run(["sh", str(script)] + args, env=env, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert cache.exists() == stays
    assert not (tmp_path / ("root" + SITE) / "bridge").exists()


@pytest.mark.parametrize("name", ["tr069-bridge", "tr069-bridge-src", "luci-app-tr069"])
def test_file_modes_and_owners(ipks, name):
    files = data_members(ipks[name])
    if name == "tr069-bridge":
        assert files["/etc/config/tr069"].mode == 0o600
        assert files["/etc/init.d/tr069-bridge"].mode == 0o755
        assert files["/usr/bin/tr069-bridge"].mode == 0o755
    for path, m in files.items():
        assert (m.uid, m.gid, m.uname, m.gname) == (0, 0, "", ""), path
        if m.isdir():
            assert m.mode == 0o755, path
        else:
            assert m.isfile(), path
            assert m.mode in (0o644, 0o755, 0o600), path
        assert m.mtime == files["/"].mtime, path


def test_contents(ipks):
    files = data_members(ipks["tr069-bridge"])
    site = SITE + "/bridge/"
    expected = {os.path.relpath(p, "bridge")[:-3] for p in source_files("bridge", ".py")}
    # Py3Package: byte-code next to where the sources would be (compileall -b), no sources, no cache
    assert {n[len(site):-4] for n in files if n.startswith(site) and n.endswith(".pyc")} == expected
    src = data_members(ipks["tr069-bridge-src"])
    assert {n[len(site):-3] for n in src if n.startswith(site) and n.endswith(".py")} == expected
    assert all(m.isdir() or n.endswith(".py") for n, m in src.items())
    assert site + "jsonrpc/www/index.html" in files  # data files stay with the byte-code
    for p in source_files("schemas", ".json"):
        assert SCHEMA_DIR + "/" + os.path.relpath(p, "schemas") in files, p
    assert not [n for n in files if n.endswith(".md")]  # DEVIATIONS.md is for the source tree
    # everything under files/ (init script, config, launcher, rpcd ACL, the documented defaults), in place
    for p in source_files("files"):
        assert "/" + os.path.relpath(p, "files") in files, p
    for name in files:
        assert "__pycache__" not in name and not name.endswith((".py", ".pyo")), name
        assert "/tests/" not in name and not name.startswith("/tests"), name
        assert name == "/" or name.startswith(("/etc/", "/usr/")) or name in ("/etc", "/usr"), name
    # the LuCI app: luci.mk puts htdocs/ at /www and root/ at /
    luci = {n for n, m in data_members(ipks["luci-app-tr069"]).items() if m.isfile()}
    app = os.path.join("package", "luci-app-tr069")
    expected = {"/www/" + os.path.relpath(p, os.path.join(app, "htdocs")) for p in source_files(app + "/htdocs")}
    expected |= {"/" + os.path.relpath(p, os.path.join(app, "root")) for p in source_files(app + "/root")}
    assert luci == expected and "/www/luci-static/resources/view/tr069/status.js" in luci


def test_the_bytecode_is_compiled_as_python3_package_mk_compiles_it(ipks):
    import importlib.util
    import marshal

    data = ipks["tr069-bridge"]["data"]
    raw = data.extractfile("." + SITE + "/bridge/cli.pyc").read()
    assert raw[:4] == importlib.util.MAGIC_NUMBER  # OpenWrt 24.10's Python 3.11, as the host's
    assert int.from_bytes(raw[4:8], "little") == 0b11  # checked hash: no source mtime inside
    assert marshal.loads(raw[16:]).co_filename == SITE + "/bridge/cli.py"  # compileall -d /


def test_another_python_is_refused_with_a_reason():
    assert build_ipk.check_python((3, 11, 7)) is None
    why = build_ipk.check_python((3, 12, 1))
    assert "Python 3.12" in why and "OpenWrt 24.10 runs Python 3.11" in why and "PYTHON=python3.11" in why


def test_host_only_tools_are_not_imported_by_shipped_code(ipks):
    site = SITE + "/"
    src = ipks["tr069-bridge-src"]
    for m in src["data"].getmembers():
        name = m.name[1:]
        if not (name.startswith(site) and name.endswith(".py")):
            continue
        tree = ast.parse(src["data"].extractfile(m).read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not [a.name for a in node.names if a.name.split(".")[0] in HOST_ONLY], name
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                assert node.module.split(".")[0] not in HOST_ONLY, name


def test_build_is_reproducible(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a = build_ipk.build(str(tmp_path / "a"))
    b = build_ipk.build(str(tmp_path / "b"))
    assert sorted(a) == sorted(b)
    for name in a:
        with open(a[name], "rb") as fa, open(b[name], "rb") as fb:
            assert fa.read() == fb.read(), name


def test_feed_makefile_agrees_with_the_tree():
    assert PKG.conffiles == ["/etc/config/tr069"]
    assert SCHEMA_DIR == schema.INSTALLED_SCHEMA_DIR
    assert SITE == "/usr/lib/python3.%d/site-packages" % sys.version_info[1]  # 24.10: 3.11, as the venv
    # every release of the daemon is a release of its view
    assert {m.get("PKG_VERSION") for m in MAKEFILES.values()} == {bridge.__version__}
    assert {m.get("PKG_RELEASE") for m in MAKEFILES.values()} == {"1"}


def test_a_line_build_ipk_cannot_carry_out_stops_the_build(tmp_path):
    tree = tmp_path / "tree"
    for part in ("bridge", "schemas", "files", "package"):
        shutil.copytree(os.path.join(ROOT, part), tree / part, ignore=shutil.ignore_patterns("__pycache__"))
    makefile = tree / "package" / "tr069-bridge" / "Makefile"
    makefile.write_text(makefile.read_text().replace(
        "\t$(INSTALL_BIN) $(PKG_BUILD_DIR)/files/usr/bin/tr069-bridge $(1)/usr/bin/\n",
        "\t$(INSTALL_BIN) $(PKG_BUILD_DIR)/files/usr/bin/tr069-bridge $(1)/usr/bin/\n\t$(LN) x $(1)/usr/bin/y\n"))
    with pytest.raises(SystemExit, match=r"does not know how to carry out: \$\(LN\) x"):
        build_ipk.build(str(tmp_path / "out"), root=str(tree))


def test_the_translation_template_holds_every_string_of_the_view():
    with open(build_ipk.POT, encoding="utf-8") as f:
        assert f.read() == build_ipk.pot(), "run: python3 package/build_ipk.py --pot"
    assert 'msgid "Inform now"' in build_ipk.pot()


# --- the init script and the launcher --------------------------------------------------------

def shellcheck():
    for candidate in (os.path.join(os.path.dirname(sys.executable), "shellcheck"), shutil.which("shellcheck")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@pytest.mark.parametrize("path", [INIT, LAUNCHER, NTP_HOTPLUG], ids=["init", "launcher", "ntp-hotplug"])
def test_shell_syntax(path):
    r = subprocess.run(["sh", "-n", path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    tool = shellcheck()
    if tool is None:
        pytest.skip("shellcheck is not installed (sh -n passed)")
    r = subprocess.run([tool, "-s", "sh", path], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout


# stand-ins for procd.sh's functions: each call printed as one JSON array of its arguments
PROCD_STUBS = """
_rec() { printf '%s' "[\\"$1\\""; shift; for a in "$@"; do printf ', "%s"' "$a"; done; printf ']\\n'; }
procd_open_instance() { _rec open_instance "$@"; }
procd_close_instance() { _rec close_instance "$@"; }
procd_set_param() { _rec set_param "$@"; }
procd_add_reload_trigger() { _rec add_reload_trigger "$@"; }
procd_send_signal() { _rec send_signal "$@"; }
service_running() { [ -n "$RUNNING" ]; }
start() { _rec start "$@"; }
"""


def run_init(function, prog="true", returncode=0, running=True):
    """Call one function of the init script with procd stubbed; PROG (the launcher) is `prog`; procd says
    an instance runs (running) or not. (tests/daemon/test_init_script.py runs it under rc.common + procd.)"""
    script = PROCD_STUBS + '. "$1"\nPROG="$3"\n"$2"\n'
    r = subprocess.run(["sh", "-c", script, "sh", INIT, function, prog], capture_output=True, text=True,
                       timeout=30, env=dict(os.environ, RUNNING="1" if running else ""))
    assert r.returncode == returncode, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_init_script_checks_the_config_first(tmp_path):
    """A config the check refuses: the service does not start (no instance) and the reason is on stderr."""
    argv_file = tmp_path / "argv"
    fake = tmp_path / "tr069-bridge"
    fake.write_text('#!/bin/sh\necho "$@" > %s\necho "/etc/config/tr069:3: tr069.acs.url: bad" >&2\nexit 1\n'
                    % argv_file)
    fake.chmod(0o755)
    logger = tmp_path / "logger"
    logger.write_text("#!/bin/sh\nexit 0\n")
    logger.chmod(0o755)
    script = PROCD_STUBS + '. "$1"\nPROG="$2"\nstart_service\n'
    r = subprocess.run(["sh", "-c", script, "sh", INIT, str(fake)], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, PATH=str(tmp_path) + ":" + os.environ.get("PATH", "")))
    assert r.returncode == 1 and r.stdout == ""
    assert "tr069.acs.url: bad" in r.stderr
    assert argv_file.read_text().split() == ["check", "--backend", "ubus", "--quiet", "--log"]


def test_shipped_config_passes_check():
    from bridge.config import examine

    sections, problems = examine(UCI_DEFAULTS)
    assert sections and problems == []


def test_init_script_start_service():
    calls = run_init("start_service")
    assert calls[0] == ["open_instance"] and calls[-1] == ["close_instance"]
    params = {c[1]: c[2:] for c in calls if c[0] == "set_param"}
    # one fixed argv: nothing from the configuration reaches the command line
    assert params["command"] == ["/usr/bin/python3", "-m", "bridge.daemon", "--backend", "ubus"]
    assert params["env"] == ["TR069_SCHEMA_DIR=" + SCHEMA_DIR]
    assert params["respawn"] == []  # procd fills in system.@service[0]'s thresholds
    assert params["stdout"] == ["1"] and params["stderr"] == ["1"]
    assert params["file"] == ["/etc/config/tr069"]


def test_init_script_triggers_and_reload():
    assert run_init("service_triggers") == [["add_reload_trigger", "tr069"]]
    assert run_init("reload_service") == [["send_signal", "tr069-bridge", "*", "HUP"]]
    assert run_init("reload_service", running=False) == [["start"]]  # nothing runs: a reload starts it
    assert run_init("reload_service", prog="false", returncode=1) == []  # a refused config: nothing sent


def test_init_script_header_and_no_built_strings():
    with open(INIT) as f:
        text = f.read()
    assert text.startswith("#!/bin/sh /etc/rc.common\n")
    lines = [line.split("#", 1)[0] for line in text.splitlines()[1:]]
    assert "USE_PROCD=1" in lines and "START=99" in lines
    code = "\n".join(lines)
    for construct in ("eval", "sh -c", "`", "$(", "config_get", "uci ", "xargs"):
        assert construct not in code, construct


def test_launcher():
    with open(LAUNCHER) as f:
        text = f.read()
    assert text.startswith("#!/bin/sh\n")
    assert 'exec python3 -m bridge.cli "$@"' in text.splitlines()


# --- the UCI defaults ------------------------------------------------------------------------

def test_the_documented_defaults_survive_a_save():
    """LuCI's Save and `uci commit` rewrite /etc/config/tr069 without comments; the same file with them
    ships as /usr/share/tr069-bridge/tr069.defaults (a data file, never rewritten), and says so."""
    with open(UCI_DEFAULTS) as a, open(os.path.join(ROOT, "files", "usr", "share", "tr069-bridge",
                                                    "tr069.defaults")) as b:
        shipped, kept = a.read(), b.read()
    assert shipped == kept
    assert "/usr/share/tr069-bridge/tr069.defaults" in shipped.split("\n\n")[0]
    documented = {line.split()[1] for line in kept.splitlines() if line.startswith("config ")}
    assert documented >= {"acs", "cpe", "os3p", "station", "streetlights"}


def test_uci_defaults_are_the_built_in_defaults():
    sections = uci.load(UCI_DEFAULTS)
    assert sections
    seen = 0
    for s in sections:
        assert not s[".anonymous"], s[".name"]
        for option, value in s.items():
            if option.startswith("."):
                continue
            name = "%s.%s" % (s[".name"], option)
            assert name in config.KEYS, name
            key = config.KEYS[name]
            assert key.section == s[".name"] and key.option == option and s[".type"] == key.section, name
            assert config.Config.convert(key, value) == key.default, name
            seen += 1
    assert seen >= 10
    # on a device uhttpd + rpcd serve /ubus: the shim runs only when the file turns it on
    assert uci.find(sections, "jsonrpc") is None


# --- what the device must install: OpenWrt's python3-* split against bridge's imports -----------

IMPORT_PROBE = r"""
import ast, importlib, json, sys, types
blocked, stubs, files = json.loads(sys.argv[1])
preloaded = sorted(n for n in sys.modules if n.split(".")[0] in blocked)
if preloaded:
    print(json.dumps({"preloaded": preloaded})); sys.exit(0)

class Absent:
    # a module of a python3-* package the device does not install
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError("No module named %r" % name, name=name)
        return None

sys.meta_path.insert(0, Absent())
def _stub_attr(a):
    if a.startswith("__"):
        raise AttributeError(a)
    return type(a, (Exception,), {})
for s in stubs:  # feed packages with their own dependencies
    m = types.ModuleType(s); m.__getattr__ = _stub_attr; sys.modules[s] = m

def guarded(tree):
    # imports inside `try: ... except ImportError` are optional by design
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                h.type is None or any(n in ast.dump(h.type) for n in ("ImportError", "ModuleNotFoundError", "'Exception'"))
                for h in node.handlers):
            for sub in node.body:
                out.update(id(n) for n in ast.walk(sub))
    return out

wanted = []
for module, path in files:
    wanted.append(module)
    tree = ast.parse(open(path, "rb").read())
    skip = guarded(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            wanted += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            wanted.append(node.module)
failed = {}
for name in wanted:
    try:
        importlib.import_module(name)
    except ImportError as e:
        failed[name] = str(e)
print(json.dumps({"failed": failed}))
"""


def shipped_modules(ipk):
    """(module, source path) of every module the packages ship (the -src package names them all)."""
    site = SITE + "/"
    out = []
    for m in ipk["data"].getmembers():
        name = m.name[1:]
        if name.startswith(site) and name.endswith(".py"):
            rel = name[len(site):]
            module = rel[:-3].replace("/", ".")
            if module.endswith(".__init__"):
                module = module[: -len(".__init__")]
            out.append((module, os.path.join(ROOT, rel)))
    return out


def probe(ipk, absent_packages):
    blocked = sorted(m for p, mods in OPENWRT_SPLIT.items() if p in absent_packages for m in mods)
    stubs = sorted(THIRD_PARTY[p] for p in PYTHON_DEPENDS if p in THIRD_PARTY)
    # -S: no site-packages, as on a device where only the declared packages are installed
    r = subprocess.run([sys.executable, "-S", "-c", IMPORT_PROBE, json.dumps([blocked, stubs, shipped_modules(ipk)])],
                       cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert "preloaded" not in out, out
    return out["failed"]


PYTHON_DEPENDS = [d for d in PKG.depends if d != "libc"]  # libc: every package's, added by the SDK


def test_depends_cover_every_python_package_bridge_imports(ipks):
    assert set(PYTHON_DEPENDS) <= set(OPENWRT_SPLIT) | set(THIRD_PARTY) | {"python3-light"}
    absent = set(OPENWRT_SPLIT) - set(PYTHON_DEPENDS)
    assert probe(ipks["tr069-bridge-src"], absent) == {}


def test_every_declared_python3_package_is_needed(ipks):
    absent = set(OPENWRT_SPLIT) - set(PYTHON_DEPENDS)
    for package in sorted(set(PYTHON_DEPENDS) & set(OPENWRT_SPLIT)):
        failed = probe(ipks["tr069-bridge-src"], absent | {package})
        assert failed, "%s is declared but nothing bridge/ imports needs it" % package


# --- the installed tree runs (the byte-code package alone) ---------------------------------

@pytest.fixture(scope="module")
def installed(ipk, tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    ipk["data"].extractall(str(root), filter="data")
    bindir = tmp_path_factory.mktemp("bin")
    os.symlink(sys.executable, str(bindir / "python3"))  # the launcher runs `python3` from PATH
    env = {k: v for k, v in os.environ.items() if not k.startswith("TR069_")}
    env.update(PATH="%s:%s" % (bindir, os.environ.get("PATH", "/usr/bin:/bin")),
               PYTHONPATH=str(root) + SITE, PYTHONDONTWRITEBYTECODE="1")
    return {"root": root, "env": env, "launcher": str(root / "usr" / "bin" / "tr069-bridge")}


def test_installed_tree_imports_itself_and_finds_its_schemas(installed, tmp_path):
    code = "import bridge, bridge.schema as s; print(bridge.__file__); print(s.SCHEMA_DIR)"
    r = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=installed["env"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    module_file, schema_dir = r.stdout.split()
    assert module_file == str(installed["root"]) + SITE + "/bridge/__init__.pyc"
    # nothing sits beside the installed package: the fallback is where the package puts the schemas
    assert schema_dir == SCHEMA_DIR == schema.INSTALLED_SCHEMA_DIR
    r = subprocess.run([installed["launcher"], "--version"], cwd=str(tmp_path), env=installed["env"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout.split()[:2] == ["tr069-bridge", bridge.__version__], r.stderr


def test_installed_daemon_runs_answers_and_reloads(installed, tmp_path):
    state = tmp_path / "state"
    (state / "config").mkdir(parents=True, mode=0o700)
    conf = state / "config" / "tr069"
    conf.write_text("config jsonrpc 'jsonrpc'\n\toption port '0'\nconfig acs 'acs'\n"
                    "\toption periodic_inform_enable '0'\n")
    conf.chmod(0o600)
    env = dict(installed["env"], TR069_SCHEMA_DIR=str(installed["root"]) + SCHEMA_DIR)
    launcher = installed["launcher"]
    proc = subprocess.Popen([launcher, "daemon", "--backend", "host", "--state-dir", str(state)],
                            cwd=str(tmp_path), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not (state / "cli.url").exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the daemon did not start"
            time.sleep(0.05)

        def call(*args):
            return subprocess.run([launcher, "call", "--state-dir", str(state)] + list(args), cwd=str(tmp_path),
                                  env=env, capture_output=True, text=True, timeout=30)

        r = call("status")
        assert r.returncode == 0, r.stderr
        assert schema.errors_at(schema.load("tr069"), "#/properties/status/properties/output",
                                json.loads(r.stdout)) == []
        # the daemon validates against the installed schemas: an unknown argument is Invalid argument
        r = call("inform", '{"bogus": 1}')
        assert (r.returncode, r.stderr.splitlines()) == (254, [
            'Command failed: ubus call tr069 inform {"bogus": 1} (Invalid argument)', "reason: /bogus is not allowed"])
        proc.send_signal(signal.SIGHUP)  # what reload_service sends
        r = call("status")
        assert r.returncode == 0, r.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
