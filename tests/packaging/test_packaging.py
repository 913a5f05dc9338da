"""The OpenWrt package: the .ipk that package/build_ipk.py writes (what `make ipk` runs), the procd
init script, the UCI defaults, and the python3-* dependencies against what bridge/ imports.

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
PKG = build_ipk.Package()
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


@pytest.fixture(scope="module")
def ipk(tmp_path_factory):
    path = build_ipk.build(str(tmp_path_factory.mktemp("ipk")))
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


def test_readme_package_figures_are_what_make_ipk_builds(ipk):
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


# --- the archive -----------------------------------------------------------------------------

def test_outer_archive_is_what_opkg_reads(ipk):
    assert os.path.basename(ipk["path"]) == "tr069-bridge_%s_all.ipk" % bridge.__version__
    assert ipk["raw"][:2] == b"\x1f\x8b"  # gzip, not the ar of a .deb
    assert ipk["order"] == ["./debian-binary", "./data.tar.gz", "./control.tar.gz"]
    assert ipk["members"]["./debian-binary"] == b"2.0\n"


def test_control_fields(ipk):
    f = control_fields(ipk)
    assert f["Package"] == "tr069-bridge"
    assert f["Version"] == bridge.__version__
    assert f["Architecture"] == "all"
    depends = [d.strip() for d in f["Depends"].split(",")]
    assert depends[0] == "python3-light"
    assert {"python3-websocket-client", "python3-requests", "python3-logging", "python3-openssl"} <= set(depends)
    assert len(depends) == len(set(depends))
    # as ipkg-build computes it: the size of the uncompressed data tar
    assert int(f["Installed-Size"]) == len(gzip.decompress(ipk["members"]["./data.tar.gz"]))
    assert f["Description"].strip()


def test_conffiles_and_scripts(ipk):
    names = ipk["control"].getnames()
    assert ipk["control"].extractfile("./conffiles").read().decode().split() == ["/etc/config/tr069"]
    for script in ("postinst", "prerm", "postinst-pkg", "postrm"):
        assert "./" + script in names
        m = ipk["control"].getmember("./" + script)
        assert m.mode == 0o755
        text = ipk["control"].extractfile(m).read().decode()
        assert text.startswith("#!/bin/sh\n")
        r = subprocess.run(["sh", "-n"], input=text, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, (script, r.stderr)
    postinst = ipk["control"].extractfile("./postinst").read().decode()
    assert "default_postinst $0 $@" in postinst  # enables and starts the init script on a device
    pkg_postinst = ipk["control"].extractfile("./postinst-pkg").read().decode()
    assert 'chmod 0600 "${IPKG_INSTROOT}/etc/config/tr069"' in pkg_postinst
    assert "$$" not in pkg_postinst  # make's escaping undone


def test_file_modes_and_owners(ipk):
    files = data_members(ipk)
    assert files["/etc/config/tr069"].mode == 0o600
    assert files["/etc/init.d/tr069-bridge"].mode == 0o755
    assert files["/usr/bin/tr069-bridge"].mode == 0o755
    for name, m in files.items():
        assert (m.uid, m.gid, m.uname, m.gname) == (0, 0, "", ""), name
        if m.isdir():
            assert m.mode == 0o755, name
        else:
            assert m.isfile(), name
            assert m.mode in (0o644, 0o755, 0o600), name
        assert m.mtime == files["/"].mtime, name


def test_contents(ipk):
    files = data_members(ipk)
    site = PKG.site + "/bridge/"
    shipped_py = {n[len(site):] for n in files if n.startswith(site) and n.endswith(".py")}
    expected_py = {os.path.relpath(p, "bridge") for p in source_files("bridge", ".py")}
    assert shipped_py == expected_py  # the package tree is what ships: nothing stripped at packaging time
    for p in source_files("schemas", ".json"):
        assert PKG.schema_dir + "/" + os.path.relpath(p, "schemas") in files, p
    # everything under files/ (init script, config, launcher, the rpcd ACL and LuCI files), in place
    for p in source_files("files"):
        assert "/" + os.path.relpath(p, "files") in files, p
    for name in files:
        assert "__pycache__" not in name and not name.endswith((".pyc", ".pyo")), name
        assert "/tests/" not in name and not name.startswith("/tests"), name
        assert name == "/" or name.startswith(("/etc/", "/usr/", "/www/")) or name in ("/etc", "/usr", "/www"), name


def test_host_only_tools_are_not_imported_by_shipped_code(ipk):
    site = PKG.site + "/"
    for m in ipk["data"].getmembers():
        name = m.name[1:]
        if not (name.startswith(site) and name.endswith(".py")):
            continue
        tree = ast.parse(ipk["data"].extractfile(m).read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not [a.name for a in node.names if a.name.split(".")[0] in HOST_ONLY], name
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                assert node.module.split(".")[0] not in HOST_ONLY, name


def test_build_is_reproducible(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a = build_ipk.build(str(tmp_path / "a"))
    b = build_ipk.build(str(tmp_path / "b"))
    with open(a, "rb") as fa, open(b, "rb") as fb:
        assert fa.read() == fb.read()


def test_feed_makefile_agrees_with_the_tree():
    assert PKG.name == "tr069-bridge"
    assert PKG.modes == {"/etc/init.d/tr069-bridge": 0o755, "/usr/bin/tr069-bridge": 0o755,
                         "/etc/config/tr069": 0o600}
    assert PKG.conffiles == ["/etc/config/tr069"]
    assert PKG.schema_dir == schema.INSTALLED_SCHEMA_DIR
    assert PKG.site == "/usr/lib/python3.%d/site-packages" % sys.version_info[1]  # 24.10: 3.11, as the venv


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
"""


def run_init(function, prog="true", returncode=0):
    """Call one function of the init script with procd stubbed; PROG (the launcher) is `prog`."""
    script = PROCD_STUBS + '. "$1"\nPROG="$3"\n"$2"\n'
    r = subprocess.run(["sh", "-c", script, "sh", INIT, function, prog], capture_output=True, text=True,
                       timeout=30)
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
    assert argv_file.read_text().split() == ["check", "--backend", "ubus", "--quiet"]


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
    assert params["env"] == ["TR069_SCHEMA_DIR=" + PKG.schema_dir]
    assert params["respawn"] == []  # procd fills in system.@service[0]'s thresholds
    assert params["stdout"] == ["1"] and params["stderr"] == ["1"]
    assert params["file"] == ["/etc/config/tr069"]


def test_init_script_triggers_and_reload():
    assert run_init("service_triggers") == [["add_reload_trigger", "tr069"]]
    assert run_init("reload_service") == [["send_signal", "tr069-bridge", "*", "HUP"]]


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
    site = PKG.site + "/"
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
    stubs = sorted(THIRD_PARTY[p] for p in PKG.depends if p in THIRD_PARTY)
    # -S: no site-packages, as on a device where only the declared packages are installed
    r = subprocess.run([sys.executable, "-S", "-c", IMPORT_PROBE, json.dumps([blocked, stubs, shipped_modules(ipk)])],
                       cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert "preloaded" not in out, out
    return out["failed"]


def test_depends_cover_every_python_package_bridge_imports(ipk):
    assert set(PKG.depends) <= set(OPENWRT_SPLIT) | set(THIRD_PARTY) | {"python3-light"}
    absent = set(OPENWRT_SPLIT) - set(PKG.depends)
    assert probe(ipk, absent) == {}


def test_every_declared_python3_package_is_needed(ipk):
    absent = set(OPENWRT_SPLIT) - set(PKG.depends)
    for package in sorted(set(PKG.depends) & set(OPENWRT_SPLIT)):
        failed = probe(ipk, absent | {package})
        assert failed, "%s is declared but nothing bridge/ imports needs it" % package


# --- the installed tree runs ---------------------------------------------------------------

@pytest.fixture(scope="module")
def installed(ipk, tmp_path_factory):
    root = tmp_path_factory.mktemp("root")
    ipk["data"].extractall(str(root), filter="data")
    bindir = tmp_path_factory.mktemp("bin")
    os.symlink(sys.executable, str(bindir / "python3"))  # the launcher runs `python3` from PATH
    env = {k: v for k, v in os.environ.items() if not k.startswith("TR069_")}
    env.update(PATH="%s:%s" % (bindir, os.environ.get("PATH", "/usr/bin:/bin")),
               PYTHONPATH=str(root) + PKG.site, PYTHONDONTWRITEBYTECODE="1")
    return {"root": root, "env": env, "launcher": str(root / "usr" / "bin" / "tr069-bridge")}


def test_installed_tree_imports_itself_and_finds_its_schemas(installed, tmp_path):
    code = "import bridge, bridge.schema as s; print(bridge.__file__); print(s.SCHEMA_DIR)"
    r = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=installed["env"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    module_file, schema_dir = r.stdout.split()
    assert module_file.startswith(str(installed["root"]) + PKG.site + "/bridge/")
    # nothing sits beside the installed package: the fallback is where the package puts the schemas
    assert schema_dir == PKG.schema_dir == schema.INSTALLED_SCHEMA_DIR
    r = subprocess.run([installed["launcher"], "--version"], cwd=str(tmp_path), env=installed["env"],
                       capture_output=True, text=True, timeout=30)
    assert (r.returncode, r.stdout.strip()) == (0, bridge.__version__), r.stderr


def test_installed_daemon_runs_answers_and_reloads(installed, tmp_path):
    state = tmp_path / "state"
    (state / "config").mkdir(parents=True, mode=0o700)
    conf = state / "config" / "tr069"
    conf.write_text("config jsonrpc 'jsonrpc'\n\toption port '0'\nconfig acs 'acs'\n"
                    "\toption periodic_inform_enable '0'\n")
    conf.chmod(0o600)
    env = dict(installed["env"], TR069_SCHEMA_DIR=str(installed["root"]) + PKG.schema_dir)
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
        assert (r.returncode, r.stderr.strip()) == (254, "Command failed: ubus call tr069 inform "
                                                         '{"bogus": 1} (Invalid argument)')
        proc.send_signal(signal.SIGHUP)  # what reload_service sends
        r = call("status")
        assert r.returncode == 0, r.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
