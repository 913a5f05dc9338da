"""The feed's packages installed, upgraded and removed in an offline root, as opkg lays them out
(tests/support/opkg_offline.py), and the daemon imported and run from the byte-code alone."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest

import bridge
from support import paths
from support.opkg_offline import OfflineRoot, OpkgError, read_ipk

ROOT = paths.ROOT
_spec = importlib.util.spec_from_file_location("build_ipk", os.path.join(ROOT, "package", "build_ipk.py"))
build_ipk = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_ipk)
SITE = build_ipk.PYTHON3_PKG_DIR
# what the device has installed before ours: libc and the python3-* the daemon depends on
BASE = ("libc", "python3-light", "python3-logging", "python3-email", "python3-urllib", "python3-openssl",
        "python3-websocket-client", "python3-requests")


def release_tree(tmp, release):
    """A copy of what the packages are built from, with PKG_RELEASE set to `release`."""
    tree = tmp / ("r%d" % release)
    for part in ("bridge", "schemas", "files", "package"):
        shutil.copytree(os.path.join(ROOT, part), tree / part,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for makefile in (tree / "package").glob("*/Makefile"):
        makefile.write_text(makefile.read_text().replace("PKG_RELEASE:=1", "PKG_RELEASE:=%d" % release))
    return tree


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("feed")
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1700000000")
    first = build_ipk.build(str(tmp / "out1"), root=str(release_tree(tmp, 1)))
    second = build_ipk.build(str(tmp / "out2"), root=str(release_tree(tmp, 2)))
    return first, second


@pytest.fixture
def device(tmp_path):
    root = OfflineRoot(tmp_path / "root", base=BASE)
    root.functions_sh()
    return root


def test_three_packages_with_the_sdk_version(builds):
    first, second = builds
    assert sorted(first) == ["luci-app-tr069", "tr069-bridge", "tr069-bridge-src"]
    for name, path in first.items():
        assert os.path.basename(path) == "%s_%s-r1_all.ipk" % (name, bridge.__version__)
        assert read_ipk(path)[0]["Version"] == bridge.__version__ + "-r1"
    assert read_ipk(second["tr069-bridge"])[0]["Version"] == bridge.__version__ + "-r2"


def test_install_lays_out_what_opkg_lays_out(builds, device):
    first, _ = builds
    for name in ("tr069-bridge", "tr069-bridge-src", "luci-app-tr069"):
        device.install(first[name])
    info = os.path.join(device.root, "usr", "lib", "opkg", "info")
    assert {"tr069-bridge.control", "tr069-bridge.list", "tr069-bridge.conffiles", "tr069-bridge.postinst",
            "tr069-bridge.postinst-pkg", "tr069-bridge.prerm", "tr069-bridge-src.postrm",
            "luci-app-tr069.postinst-pkg"} <= set(os.listdir(info))
    assert set(device.conffiles_of("tr069-bridge")) == {"/etc/config/tr069"}
    # the postinst ran (as the image builder runs it): the config is private, the service enabled
    assert os.stat(device.path("/etc/config/tr069")).st_mode & 0o777 == 0o600
    assert os.readlink(device.path("/etc/rc.d/S99tr069-bridge")) == "../init.d/tr069-bridge"
    assert [s[:3] for s in device.scripts_run] == [("tr069-bridge", "postinst", "configure"),
                                                   ("tr069-bridge-src", "postinst", "configure"),
                                                   ("luci-app-tr069", "postinst", "configure")]
    files = device.files()
    assert "/www/luci-static/resources/view/tr069/status.js" in files
    assert "/usr/share/rpcd/acl.d/luci-app-tr069.json" in files and "/usr/share/luci/menu.d/luci-app-tr069.json" in files
    # the byte-code and the sources side by side, each from its own package
    main, src = set(device.files_of("tr069-bridge")), set(device.files_of("tr069-bridge-src"))
    assert SITE + "/bridge/daemon.pyc" in main and SITE + "/bridge/daemon.py" in src
    assert not [f for f in main if f.endswith(".py")] and all(f.endswith(".py") for f in src)
    assert not main & src


def test_dependencies_and_conflicts_are_refused(builds, tmp_path):
    first, _ = builds
    bare = OfflineRoot(tmp_path / "bare", base=BASE)
    with pytest.raises(OpkgError, match="missing dependencies tr069-bridge"):
        bare.install(first["luci-app-tr069"])
    # icwmp registers the same ubus object: the two never run side by side
    with_icwmp = OfflineRoot(tmp_path / "icwmp", base=BASE + ("icwmp",))
    with pytest.raises(OpkgError, match="conflict with tr069-bridge: icwmp"):
        with_icwmp.install(first["tr069-bridge"])


def test_upgrade_keeps_the_edited_config_and_refuses_a_downgrade(builds, device):
    first, second = builds
    for name in ("tr069-bridge", "tr069-bridge-src"):
        device.install(first[name])
    conf = device.path("/etc/config/tr069")
    with open(conf, "a") as f:
        f.write("\tlist edited 'by hand'\n")
    edited = open(conf).read()
    cache = device.path(SITE + "/bridge/__pycache__")
    os.makedirs(cache)
    open(os.path.join(cache, "cli.cpython-311.pyc"), "w").close()
    device.scripts_run.clear()
    device.install(second["tr069-bridge"])
    device.install(second["tr069-bridge-src"])
    assert open(conf).read() == edited
    assert os.path.exists(conf + "-opkg")  # the new default, beside it
    assert os.stat(conf).st_mode & 0o777 == 0o600
    # the old -src postrm ran with "upgrade <version>" before the new files came, and kept the cache
    assert ("tr069-bridge-src", "postrm", "upgrade", bridge.__version__ + "-r2") in device.scripts_run
    assert os.path.exists(os.path.join(cache, "cli.cpython-311.pyc"))
    assert device.status["tr069-bridge"]["Version"] == bridge.__version__ + "-r2"
    with pytest.raises(OpkgError, match="Not downgrading"):
        device.install(first["tr069-bridge"])


def test_remove_leaves_only_the_edited_config(builds, device):
    first, _ = builds
    for name in ("tr069-bridge", "tr069-bridge-src", "luci-app-tr069"):
        device.install(first[name])
    with pytest.raises(OpkgError, match="needed by luci-app-tr069"):
        device.remove("tr069-bridge")
    conf = device.path("/etc/config/tr069")
    with open(conf, "a") as f:
        f.write("\toption edited '1'\n")
    os.makedirs(device.path(SITE + "/bridge/os3p/__pycache__"))
    open(device.path(SITE + "/bridge/os3p/__pycache__/calls.cpython-311.pyc"), "w").close()
    for name in ("luci-app-tr069", "tr069-bridge-src", "tr069-bridge"):
        device.remove(name)
    assert device.files() == ["/etc/config/tr069"]
    assert not os.path.exists(device.path(SITE + "/bridge/os3p/__pycache__"))
    assert not os.path.exists(device.path("/etc/rc.d/S99tr069-bridge"))
    assert set(device.status) == set(BASE)


def test_the_daemon_runs_from_byte_code_alone(builds, device, tmp_path):
    """Only tr069-bridge (no sources): every module of the package imports from its .pyc, the launcher
    answers --version, and `python3 -m bridge.daemon` starts, answers and stops."""
    first, _ = builds
    device.install(first["tr069-bridge"])
    site = device.path(SITE)
    assert not [f for f in device.files() if f.endswith(".py")]
    modules = sorted(f[len(SITE) + 1:-4].replace("/", ".").replace(".__init__", "")
                     for f in device.files_of("tr069-bridge") if f.endswith(".pyc"))
    assert "bridge.daemon" in modules and "bridge.os3p.client" in modules
    # -I -S: no environment, no site-packages, no current directory: only the installed tree
    probe = ("import importlib, json, sys; sys.path.insert(0, %r); out = {}\n"
             "for m in json.loads(sys.argv[1]):\n"
             "    try: out[m] = importlib.import_module(m).__file__\n"
             "    except ImportError as e: out[m] = 'ImportError: %%s' %% e\n"
             "print(json.dumps(out))" % site)
    r = subprocess.run([sys.executable, "-I", "-S", "-c", probe, json.dumps(modules)], cwd=str(tmp_path),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    found = json.loads(r.stdout)
    # the third-party ones (websocket-client, requests: their own python3-* packages) are absent here
    failed = {m: f for m, f in found.items() if f.startswith("ImportError")}
    assert all("websocket" in f or "requests" in f for f in failed.values()), failed
    assert "bridge.daemon" not in failed and "bridge.cli" not in failed
    assert all(f.startswith(site + "/bridge/") and f.endswith(".pyc") for f in found.values()
               if not f.startswith("ImportError"))
    env = {"PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin", "PYTHONPATH": site, "HOME": str(tmp_path)}
    r = subprocess.run(["sh", device.path("/usr/bin/tr069-bridge"), "--version"], cwd=str(tmp_path), env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:2] == ["tr069-bridge", bridge.__version__ + "-r1"], r.stdout
